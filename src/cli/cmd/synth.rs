//! `reescan synth` (SPEC.md "Commands"): a labelled synthetic cargo scan.
//!
//! Draws a sample of the declared commodity (optionally blended with a rare-earth
//! carrier and/or explicit rare earths), renders a physics-based handheld-XRF spectrum
//! (`reescan::xrf::synth`) and writes it as EMSA/MAS (`.msa`) or Amptek `.mca`, with the
//! truth beside it in `OUT.truth.json`. Deterministic per `--seed`.

use crate::cli::args::SynthArgs;
use anyhow::Context;
use reescan::tables::materials::{parse_ree_list, Carrier, Commodity};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run `reescan synth`.
pub fn run(args: SynthArgs) -> anyhow::Result<ExitCode> {
    let commodity: Commodity = args.commodity.parse()?;
    let carrier: Option<Carrier> = args.carrier.as_deref().map(str::parse).transpose()?;
    let ree = args
        .ree
        .as_deref()
        .map(parse_ree_list)
        .transpose()?
        .unwrap_or_default();
    let fraction = match (carrier, args.fraction) {
        (Some(_), None) => anyhow::bail!("--carrier needs --fraction F (mass fraction 0..1)"),
        (_, f) => f.unwrap_or(0.0),
    };
    if args.xrf.is_none() && args.xrd.is_none() {
        anyhow::bail!("nothing to write: give --xrf OUT.msa|OUT.mca (and/or --xrd OUT.xy)");
    }
    if let Some(out) = &args.xrf {
        write_xrf(out, commodity, carrier, fraction, &ree, args.seed)?;
    }
    if let Some(out) = &args.xrd {
        write_xrd(out, commodity, carrier, fraction, &ree, args.seed)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_xrf(
    out: &Path,
    commodity: Commodity,
    carrier: Option<Carrier>,
    fraction: f64,
    ree: &[(String, f64)],
    seed: u64,
) -> anyhow::Result<()> {
    let scan = reescan::xrf::synth::generate(commodity, carrier, fraction, ree, seed)?;
    reescan::formats::write_path(out, &scan.spectrum)
        .with_context(|| format!("writing {}", out.display()))?;
    let truth = truth_path(out);
    let json = serde_json::to_string_pretty(&scan.truth_label())?;
    std::fs::write(&truth, json).with_context(|| format!("writing {}", truth.display()))?;
    println!(
        "{}: {} ({}), total REE {:.3} wt %, {} kV, {:.0} s; truth in {}",
        out.display(),
        scan.truth.commodity,
        scan.truth.variant,
        scan.truth.ree_total_wt_pct(),
        scan.options.kv,
        scan.options.live_time_s,
        truth.display()
    );
    Ok(())
}

/// `OUT.msa` → `OUT.truth.json`.
fn truth_path(out: &Path) -> PathBuf {
    out.with_extension("truth.json")
}

/// The XRD pattern (Cu Kα1+2, 5–90° 2θ) of the same drawn sample as the XRF spectrum
/// (`reescan::xrd::synth::sample_pattern`), written as `.xy`.
fn write_xrd(
    out: &Path,
    commodity: Commodity,
    carrier: Option<Carrier>,
    fraction: f64,
    ree: &[(String, f64)],
    seed: u64,
) -> anyhow::Result<()> {
    let sample = reescan::tables::materials::draw_sample(commodity, carrier, fraction, ree, seed)?;
    let pattern =
        reescan::xrd::synth::sample_pattern(&sample.phases, reescan::xrd::Radiation::Cu, seed)?;
    reescan::formats::write_path(out, &pattern)
        .with_context(|| format!("writing {}", out.display()))?;
    let phases: Vec<String> = sample
        .phases
        .iter()
        .map(|(p, w)| format!("{p} {w:.2} wt %"))
        .collect();
    println!("{}: XRD Cu Kα, {}", out.display(), phases.join(", "));
    Ok(())
}
