//! `reescan report`: the forensic report a laboratory files for one sample.
//!
//! Reads the XRF and/or XRD file, screens it exactly as `scan` does, and writes one
//! self-contained HTML page (inline CSS and SVG plots, nothing fetched, prints to PDF):
//! report id and date, the item, every input's SHA-256 and instrument metadata, the method
//! with software and reference-data versions and the rules' hash, the verdict with the
//! ISO/IEC 17025 decision rule (U = k·u, k = 2) applied to the declared commodity's limits,
//! element and phase tables, the plots, the reasons, and the fits behind every number.
//! `--format json` writes the same record as JSON. The output is written to a temporary
//! file beside OUT and renamed, so a failed run never leaves half a report.
//!
//! The ISO/IEC 17025 §7.8.2.1 items the files cannot tell (laboratory, customer, dates of
//! receipt and measurement, the person authorising the report) come from `--lab FILE` and
//! the flags that override it (`reescan::report::lab` lists which item comes from where).
//! Without `--lab` the report is an unsigned draft and says so on every page.
//!
//! Exit 0 when the report was written (whatever the verdict); 2 for bad input.

use crate::cli::args::{LabArgs, ReportArgs};
use crate::cli::input as cli_input;
use anyhow::Context;
use reescan::report::forensic::{ForensicReport, ReportContext, ReportInputs};
use reescan::report::lab::{Authoriser, Customer, LabProfile, Particulars, ReportStatus};
use reescan::report::{html, json, provenance};
use std::path::Path;
use std::process::ExitCode;

/// Run `reescan report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let input = &args.input;
    let ctx = context(&args)?;
    let screener = cli_input::screener(input)?;
    let spectra = cli_input::load_inputs(input)?;
    let scan_id = args.scan_id.clone().unwrap_or_else(|| {
        spectra
            .xrf_files
            .first()
            .map(std::path::PathBuf::as_path)
            .or(input.xrd.as_deref())
            .and_then(Path::file_stem)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let result = screener
        .screen_beams(
            &scan_id,
            &input.declared,
            &spectra.xrf,
            spectra.xrd.as_ref(),
        )
        .map_err(crate::cli::classify)?;
    let rules = &screener.rules;
    let mut reference_data = Vec::new();
    if let Some(p) = input.instrument.as_deref() {
        reference_data
            .push(provenance::instrument_reference(p).map_err(cli_input::lib_input_error)?);
    }
    if spectra.xrd.is_some() {
        reference_data.push(
            provenance::phase_library_reference(input.phases.as_deref())
                .map_err(cli_input::lib_input_error)?,
        );
    }
    let inputs = ReportInputs {
        result: &result,
        xrf_files: xrf_inputs(&spectra.xrf_files, &spectra.xrf),
        xrd_file: zip_input("XRD", input.xrd.as_deref(), spectra.xrd.as_ref()),
        rules: provenance::rules_record(input.rules.as_deref(), rules)
            .map_err(cli_input::lib_input_error)?,
        limits: provenance::commodity_limits(rules, &input.declared, &result),
        reference_data,
        coverage_k: rules.decision.coverage_k,
    };
    let report = ForensicReport::build(&inputs, &ctx);
    let text = match args.format.as_str() {
        "json" => json::render(&report)?,
        _ => html::render(&report, &html::plots_for(&result)?),
    };
    write_atomically(&args.out, text.as_bytes())
        .with_context(|| format!("writing report {}", args.out.display()))?;
    let status = match report.lab.status {
        ReportStatus::Draft => "  (unsigned draft: no --lab profile)".to_string(),
        ReportStatus::Incomplete => format!("  (incomplete: {})", report.lab.missing.join("; ")),
        ReportStatus::ForAuthorisation => String::new(),
    };
    crate::cli::cmd::scan::print_out(&format!(
        "{}  report {}  → {}{status}\n",
        result.verdict,
        report.report_id,
        args.out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// One input record per XRF beam: "XRF" for a single spectrum, "XRF beam i of n" for
/// the beams of a multi-beam scan (a `.pdz` holding several beams gives one record per
/// beam, each with the file's hash and that beam's excitation).
fn xrf_inputs(
    files: &[std::path::PathBuf],
    spectra: &[reescan::Spectrum],
) -> Vec<reescan::report::forensic::InputFile> {
    let n = spectra.len();
    files
        .iter()
        .zip(spectra)
        .enumerate()
        .map(|(i, (p, s))| {
            let technique = if n > 1 {
                format!("XRF beam {} of {n}", i + 1)
            } else {
                "XRF".to_string()
            };
            provenance::input_file(&technique, p, s)
        })
        .collect()
}

fn zip_input(
    technique: &str,
    path: Option<&Path>,
    spectrum: Option<&reescan::Spectrum>,
) -> Option<reescan::report::forensic::InputFile> {
    Some(provenance::input_file(technique, path?, spectrum?))
}

/// Issue time and id from `--issued-at` / `--report-id`, else now and a derived id.
fn context(args: &ReportArgs) -> anyhow::Result<ReportContext> {
    let at = match &args.issued_at {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| {
                cli_input::input_error(anyhow::anyhow!(
                    "--issued-at {t}: {e} (expected RFC 3339, e.g. 2026-11-23T12:00:00Z)"
                ))
            })?,
        None => chrono::Utc::now(),
    };
    Ok(ReportContext {
        generated_at: at,
        report_id: args.report_id.clone(),
        particulars: particulars(&args.lab)?,
    })
}

/// The laboratory profile with the per-report flags over it.
fn particulars(args: &LabArgs) -> anyhow::Result<Particulars> {
    let mut p = match &args.lab {
        Some(path) => Particulars::from_profile(
            LabProfile::from_path(path).map_err(cli_input::lib_input_error)?,
        ),
        None => Particulars::default(),
    };
    if let Some(name) = text("--customer", args.customer.as_deref())? {
        p.customer = Some(Customer {
            name,
            contact: None,
        });
    }
    if let Some(contact) = text("--customer-contact", args.customer_contact.as_deref())? {
        match p.customer.as_mut() {
            Some(c) => c.contact = Some(contact),
            None => {
                return Err(cli_input::input_error(anyhow::anyhow!(
                    "--customer-contact: no customer to attach it to (give --customer NAME or \
                     a [customer] in the --lab profile)"
                )))
            }
        }
    }
    if let (Some(name), Some(role)) = (
        text("--authoriser", args.authoriser.as_deref())?,
        text("--authoriser-role", args.authoriser_role.as_deref())?,
    ) {
        p.authorised_by = Some(Authoriser { name, role });
    }
    if let Some(loc) = text("--location", args.location.as_deref())? {
        p.location = Some(loc);
    }
    p.sample_description = text("--sample", args.sample.as_deref())?;
    p.received = date("--received", &args.received)?;
    p.measured = date("--measured", &args.measured)?;
    for d in &args.deviation {
        p.deviations.extend(text("--deviation", Some(d))?);
    }
    Ok(p)
}

/// A flag's text, refused when blank.
fn text(flag: &str, v: Option<&str>) -> anyhow::Result<Option<String>> {
    match v.map(str::trim) {
        Some("") => Err(cli_input::input_error(anyhow::anyhow!(
            "{flag}: empty (give a value or leave the flag out)"
        ))),
        other => Ok(other.map(str::to_string)),
    }
}

/// A flag's calendar date, YYYY-MM-DD.
fn date(flag: &str, v: &Option<String>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    v.as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|e| {
                cli_input::input_error(anyhow::anyhow!("{flag} {d}: {e} (expected YYYY-MM-DD)"))
            })
        })
        .transpose()
}

/// Write `bytes` to `out` through a temporary file in the same folder and a rename.
fn write_atomically(out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, out).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
