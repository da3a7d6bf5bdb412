//! `reescan scan`: the checkpoint command — one shipment, verdict first.
//!
//! Reads the XRF and/or XRD file, analyses them, judges them against the declared
//! commodity's rules on the scan date, and prints the verdict, the reasons an officer can
//! read aloud, and the numbers behind them. `--json` prints the same as one JSON object
//! (SPEC result fields plus the XRF/XRD detail). Exit 0 whatever the verdict, unless
//! `--fail-on inspect|hold` is given and met (exit 3); exit 2 for bad input.

use crate::cli::args::ScanArgs;
use crate::cli::input as cli_input;
use anyhow::Context;
use reescan::screen::names::pct;
use reescan::screen::{Screener, ScreeningResult, Verdict};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status when `--fail-on` is met.
pub const EXIT_FAIL_ON: u8 = 3;

/// Run `reescan scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let input = &args.input;
    let screener = cli_input::screener(input)?;
    if let Some(out) = &args.plot {
        reescan::report::PlotFormat::from_path(out).map_err(cli_input::lib_input_error)?;
    }
    let spectra = cli_input::load_inputs(input)?;
    let scan_id = spectra
        .xrf_files
        .first()
        .map(PathBuf::as_path)
        .or(input.xrd.as_deref())
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let result = screener
        .screen_beams(
            &scan_id,
            &input.declared,
            &spectra.xrf,
            spectra.xrd.as_ref(),
        )
        .map_err(crate::cli::classify)?;
    if let Some(out) = &args.plot {
        write_plot(&result, out).with_context(|| format!("writing plot {}", out.display()))?;
    }
    let mut text = if args.json {
        serde_json::to_string_pretty(&result)? + "\n"
    } else {
        render(&result, &screener)
    };
    if !args.json {
        text.push_str("\nInputs\n");
        for s in spectra.xrf.iter().chain(&spectra.xrd) {
            for line in cli_input::summary(s).lines() {
                let _ = writeln!(text, "  {line}");
            }
            text.push('\n');
        }
    }
    print_out(&text)?;
    Ok(exit_code(result.verdict, args.fail_on.as_deref()))
}

/// Write to stdout; a closed pipe (`reescan scan ... | head`) is not an error.
///
/// # Errors
/// Other I/O failures.
pub fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// 0, or [`EXIT_FAIL_ON`] when the verdict is at least as severe as `fail_on`.
pub fn exit_code(verdict: Verdict, fail_on: Option<&str>) -> ExitCode {
    let level = match fail_on {
        Some("inspect") => Verdict::Inspect,
        Some("hold") => Verdict::Hold,
        _ => return ExitCode::SUCCESS,
    };
    if verdict >= level && verdict != Verdict::Error {
        ExitCode::from(EXIT_FAIL_ON)
    } else {
        ExitCode::SUCCESS
    }
}

/// The plain report: verdict first, then reasons, then the numbers.
pub fn render(r: &ScreeningResult, screener: &Screener) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}  (risk {:.2})  declared: {}  scan: {}",
        r.verdict, r.risk, r.declared, r.scan_id
    );
    let _ = writeln!(s);
    for reason in &r.reasons {
        let _ = writeln!(s, "  * {reason}");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Evidence");
    if let Some(total) = r.ree_wt_pct {
        let _ = writeln!(s, "  rare earths (XRF)   {} wt % total", pct(total));
    }
    if !r.controlled_elements.is_empty() {
        let _ = writeln!(
            s,
            "  controlled on {}  {}",
            screener.date,
            r.controlled_elements.join(", ")
        );
    }
    if !r.mismatch.is_empty() {
        let _ = writeln!(s, "  mismatch            {}", r.mismatch.join("; "));
    }
    if let Some(x) = &r.xrf {
        let _ = writeln!(
            s,
            "  XRF {}  (sha256 {}…, live {} s, {} kV, χ²/ν {:.2})",
            x.file,
            &x.sha256.get(..12).unwrap_or(&x.sha256),
            x.live_time_s.map_or("?".into(), |t| format!("{t:.1}")),
            x.tube_kv.map_or("?".into(), |t| format!("{t:.0}")),
            x.reduced_chi2
        );
        if !x.excitation.is_empty() && r.xrf_beams.is_none() {
            let _ = writeln!(s, "      excitation: {}", x.excitation);
        }
        for b in r.xrf_beams.iter().flat_map(|m| &m.beams) {
            let _ = writeln!(
                s,
                "      {}  (sha256 {}…, χ²/ν {:.2})",
                b.description,
                b.sha256.get(..12).unwrap_or(&b.sha256),
                b.reduced_chi2
            );
        }
        let beam_of = |sym: &str| {
            r.xrf_beams
                .iter()
                .flat_map(|m| &m.elements)
                .find(|e| e.symbol == sym)
                .map(|e| format!("; beam {}", e.beam))
                .unwrap_or_default()
        };
        for e in &x.elements {
            let _ = writeln!(
                s,
                "      {:<3} {:>8} ± {:<7} wt %  (LOD {}; {}{})",
                e.symbol,
                pct(e.wt_pct),
                pct(e.total_sigma_wt_pct()),
                pct(e.lod_wt_pct),
                e.lines.join(" "),
                beam_of(&e.symbol)
            );
        }
        let nd: Vec<String> = x
            .not_detected
            .iter()
            .filter(|n| reescan::tables::is_rare_earth(&n.symbol))
            .map(|n| format!("{} < {}", n.symbol, pct(n.lod_wt_pct)))
            .collect();
        if !nd.is_empty() {
            let _ = writeln!(s, "      not detected: {}", nd.join(", "));
        }
    }
    if let Some(d) = &r.xrd {
        let _ = writeln!(
            s,
            "  XRD {}  (sha256 {}…, λ {:.4} Å, {} peaks)",
            d.file,
            &d.sha256.get(..12).unwrap_or(&d.sha256),
            d.wavelength_a,
            d.peaks.len()
        );
        for p in &d.phases {
            let _ = writeln!(
                s,
                "      {:<18} {:>6} wt %  (FOM {:.2}, {} peaks matched)",
                p.name,
                pct(p.wt_pct),
                p.fom,
                p.matched_peaks
            );
        }
    }
    s
}

/// Write a plot of the evidence (PNG or SVG by extension): the verdict banner over
/// the XRF and XRD panels (`report::render_screening`).
///
/// # Errors
/// An unsupported extension or a rendering/writing failure.
pub fn write_plot(r: &ScreeningResult, out: &Path) -> anyhow::Result<()> {
    reescan::report::render_screening(r, &reescan::report::PlotOptions::default(), out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_levels() {
        assert_eq!(exit_code(Verdict::Hold, Some("inspect")), ExitCode::from(3));
        assert_eq!(exit_code(Verdict::Inspect, Some("hold")), ExitCode::SUCCESS);
        assert_eq!(exit_code(Verdict::Hold, None), ExitCode::SUCCESS);
        assert_eq!(
            exit_code(Verdict::Clear, Some("inspect")),
            ExitCode::SUCCESS
        );
    }
}
