//! The forensic record of one tested item: what a laboratory files (ISO/IEC 17025:2017
//! §7.8.2 and §7.8.6): unique id, date, item, inputs with their SHA-256, method and
//! reference data, results with expanded uncertainty, the decision rule and its outcome,
//! and the fits that produced every number. [`super::html`] and [`super::json`] render it.
//!
//! The decision rule is the 17025 §7.8.6 / ILAC-G8:09/2019 guard-banded rule with
//! U = k·u, k = 2: result − U > limit → above the limit; result + U < limit → below it;
//! otherwise inconclusive.

use super::lab::{LabRecord, Particulars};
use super::plot::style::greek_peak;
use crate::screen::{ScreeningResult, Verdict};
use crate::spectrum::Metadata;
use crate::tables::is_rare_earth;
use crate::xrd::XrdPeak;
use crate::xrf::{Artefact, CalibrationReport, FittedPeak, NotDetected};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// The usual coverage factor of the expanded uncertainty (≈95 % for a normal distribution).
pub const COVERAGE_K: f64 = 2.0;

/// The 17025 statement every report carries.
pub const ITEM_STATEMENT: &str = "The results relate only to the item tested, as received \
     (the input files identified by their SHA-256 under \"Inputs and chain of custody\").";

/// Id of the XRF fit in the report's traceability section.
pub const XRF_FIT_ID: &str = "XRF-1";
/// Id of the XRD fit in the report's traceability section.
pub const XRD_FIT_ID: &str = "XRD-1";

/// When, under which id and by whom the report is issued. Inject a fixed time and id for
/// reproducible output (tests, re-issue of a report).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportContext {
    /// Issue time.
    pub generated_at: DateTime<Utc>,
    /// Report id; `None` derives one from the input hashes and the issue time.
    pub report_id: Option<String>,
    /// Laboratory, customer, dates and signatory (ISO/IEC 17025 §7.8.2.1); the default
    /// has no laboratory and makes an unsigned draft.
    pub particulars: Particulars,
}

impl ReportContext {
    /// Now, with a derived id.
    pub fn now() -> Self {
        ReportContext {
            generated_at: Utc::now(),
            report_id: None,
            particulars: Particulars::default(),
        }
    }

    /// A fixed time and id.
    pub fn fixed(generated_at: DateTime<Utc>, report_id: impl Into<String>) -> Self {
        ReportContext {
            generated_at,
            report_id: Some(report_id.into()),
            particulars: Particulars::default(),
        }
    }

    /// The same, issued by the laboratory, for the customer and on the dates `p` gives.
    pub fn with_particulars(self, p: Particulars) -> Self {
        ReportContext {
            particulars: p,
            ..self
        }
    }
}

/// One input file as received (chain of custody).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputFile {
    /// "XRF" or "XRD".
    pub technique: String,
    /// Path as given on the command line.
    pub file: String,
    /// SHA-256 of the exact bytes analysed.
    pub sha256: String,
    /// Size, bytes.
    pub size_bytes: Option<u64>,
    /// Format, instrument and acquisition metadata read from the file.
    pub metadata: Option<Metadata>,
}

/// A reference data set the method relies on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceData {
    /// What it provides.
    pub name: String,
    /// Version (crate version, file hash, …).
    pub version: String,
    /// Where it comes from (citation).
    pub source: String,
}

/// The rules (commodity profiles, thresholds) the verdict was decided with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesRecord {
    /// "built-in" or the `--rules` path.
    pub source: String,
    /// SHA-256 of the rules text.
    pub sha256: String,
}

/// A limit to judge a quantity against with the decision rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limit {
    /// Name of the quantity ("Nd", "ΣREE").
    pub quantity: String,
    /// Elements summed to make the quantity (wt %, σ in quadrature).
    pub symbols: Vec<String>,
    /// The limit, wt %.
    pub limit_wt_pct: f64,
    /// Where the limit comes from (rules key, regulation).
    pub source: String,
}

/// Everything the report is built from.
#[derive(Debug, Clone)]
pub struct ReportInputs<'a> {
    /// The screened item.
    pub result: &'a ScreeningResult,
    /// The XRF file as received; one record per beam for a multi-beam scan.
    pub xrf_files: Vec<InputFile>,
    /// The XRD file as received.
    pub xrd_file: Option<InputFile>,
    /// Rules used.
    pub rules: RulesRecord,
    /// Limits to apply the decision rule to.
    pub limits: Vec<Limit>,
    /// Reference data beyond the X-ray line tables (e.g. the XRD phase library).
    pub reference_data: Vec<ReferenceData>,
    /// Coverage factor k of the expanded uncertainty (the rules' `decision.coverage_k`,
    /// normally [`COVERAGE_K`]).
    pub coverage_k: f64,
}

/// The item tested.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Scan id.
    pub scan_id: String,
    /// Declared commodity (the customer's declaration).
    pub declared: String,
    /// The item as the customer describes it (`--sample`).
    pub description: Option<String>,
}

/// How the results were obtained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    /// Software name.
    pub software: String,
    /// Software version.
    pub version: String,
    /// XRF procedure in one sentence.
    pub xrf_procedure: String,
    /// XRD procedure in one sentence.
    pub xrd_procedure: String,
    /// Reference data sets.
    pub reference_data: Vec<ReferenceData>,
    /// Rules file.
    pub rules: RulesRecord,
}

pub use crate::screen::conformity::Outcome;

/// One application of the decision rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conformity {
    /// Quantity.
    pub quantity: String,
    /// Result, wt %.
    pub result_wt_pct: f64,
    /// Standard uncertainty u (1σ), wt %.
    pub u_wt_pct: f64,
    /// Expanded uncertainty U = k·u, wt %.
    pub expanded_u_wt_pct: f64,
    /// Limit, wt %.
    pub limit_wt_pct: f64,
    /// Where the limit comes from.
    pub limit_source: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Fit that produced the result.
    pub fit: String,
}

/// The decision rule and its applications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRule {
    /// The rule in words.
    pub rule: String,
    /// Coverage factor.
    pub k: f64,
    /// Applications to the limits of the declared commodity.
    pub assessments: Vec<Conformity>,
}

/// One row of the element table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementRow {
    /// Symbol.
    pub symbol: String,
    /// Sc, Y or a lanthanide.
    pub rare_earth: bool,
    /// Mass fraction, wt %.
    pub wt_pct: f64,
    /// Standard uncertainty (1σ), wt %.
    pub u_wt_pct: f64,
    /// Expanded uncertainty U = k·σ, wt %.
    pub expanded_u_wt_pct: f64,
    /// 3σ detection limit, wt %.
    pub lod_wt_pct: f64,
    /// Lines carrying the evidence.
    pub lines: Vec<String>,
    /// Fit that produced it.
    pub fit: String,
}

/// One row of the phase table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseRow {
    /// Phase name as in `reescan phases`.
    pub name: String,
    /// Semi-quantitative mass fraction, wt %.
    pub wt_pct: f64,
    /// Figure of merit 0..1.
    pub fom: f64,
    /// Observed peaks explained.
    pub matched_peaks: usize,
    /// Fit that produced it.
    pub fit: String,
}

/// The XRF fit every XRF number comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XrfFit {
    /// Id referenced by the tables.
    pub id: String,
    /// File fitted.
    pub file: String,
    /// χ²/ν of the final fit.
    pub reduced_chi2: f64,
    /// First and last channel fitted.
    pub channels: (usize, usize),
    /// Number of channels fitted.
    pub channels_used: usize,
    /// Energy range fitted, keV.
    #[serde(rename = "energy_range_keV")]
    pub energy_range_kev: (f64, f64),
    /// Calibration used.
    pub calibration: CalibrationReport,
    /// Live time, s.
    pub live_time_s: Option<f64>,
    /// Tube voltage, kV.
    pub tube_kv: Option<f64>,
    /// The excitation the fundamental-parameters model assumed.
    pub excitation: String,
    /// Fitted peaks, one per resolved line cluster.
    pub peaks: Vec<FittedPeak>,
    /// The same peaks, one row per line group ("La Kα" for Kα1 and Kα2).
    pub line_groups: Vec<LineGroup>,
}

/// The fitted peaks that carry one label (Kα1 and Kα2 of an element, resolved at high
/// energy, both "Kα"), as one row. The members come from one fitted line-family
/// amplitude scaled by tabulated ratios, so their areas and their σ add linearly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineGroup {
    /// "La Kα".
    pub label: String,
    /// Centroids of the resolved members, ascending, keV.
    #[serde(rename = "energies_keV")]
    pub energies_kev: Vec<f64>,
    /// Net area, counts.
    pub area: f64,
    /// 1σ of the area, counts.
    pub sigma: f64,
    /// FWHM of the strongest member, keV.
    #[serde(rename = "fwhm_keV")]
    pub fwhm_kev: f64,
}

/// The XRD fit every XRD number comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XrdFit {
    /// Id referenced by the tables.
    pub id: String,
    /// File fitted.
    pub file: String,
    /// Wavelength, Å.
    #[serde(rename = "wavelength_A")]
    pub wavelength_a: f64,
    /// Refined zero shift, ° 2θ.
    pub zero_shift_deg: f64,
    /// 2θ range of the pattern, degrees.
    pub two_theta_range_deg: Option<(f64, f64)>,
    /// Number of pattern points.
    pub points: usize,
    /// Observed peaks.
    pub peaks: Vec<XrdPeak>,
}

/// The fits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fits {
    /// XRF.
    pub xrf: Option<XrfFit>,
    /// XRD.
    pub xrd: Option<XrdFit>,
}

/// The complete forensic record (the `--format json` output; the HTML shows the same).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForensicReport {
    /// Unique report id.
    pub report_id: String,
    /// Issue time, RFC 3339 UTC.
    pub generated_at: String,
    /// Laboratory, customer, dates, signatory: the ISO/IEC 17025 §7.8.2.1 items.
    pub lab: LabRecord,
    /// The item tested.
    pub item: Item,
    /// The input files (chain of custody).
    pub inputs: Vec<InputFile>,
    /// Method.
    pub method: Method,
    /// Verdict.
    pub verdict: Verdict,
    /// Risk 0..1.
    pub risk: f64,
    /// Total rare earths, wt %, with its 1σ.
    pub ree_wt_pct: Option<f64>,
    /// Sentences explaining the verdict.
    pub reasons: Vec<String>,
    /// Composition findings against the declaration.
    pub mismatch: Vec<String>,
    /// Decision rule and its applications.
    pub decision_rule: DecisionRule,
    /// Elements detected.
    pub elements: Vec<ElementRow>,
    /// Elements looked for and not detected.
    pub not_detected: Vec<NotDetected>,
    /// Peaks explained by detector or source.
    pub artefacts: Vec<Artefact>,
    /// Phases identified.
    pub phases: Vec<PhaseRow>,
    /// The fits behind every number.
    pub fits: Fits,
    /// "Results relate only to the item tested."
    pub statement: String,
}

impl ForensicReport {
    /// Assemble the record.
    pub fn build(inputs: &ReportInputs<'_>, ctx: &ReportContext) -> ForensicReport {
        let r = inputs.result;
        let k = if inputs.coverage_k.is_finite() && inputs.coverage_k > 0.0 {
            inputs.coverage_k
        } else {
            COVERAGE_K
        };
        let report_id = ctx
            .report_id
            .clone()
            .unwrap_or_else(|| derive_report_id(r, &ctx.generated_at));
        let files = input_records(inputs);
        ForensicReport {
            report_id,
            generated_at: ctx.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            lab: LabRecord::build(&ctx.particulars, &files, &inputs.rules, &ctx.generated_at),
            item: Item {
                scan_id: r.scan_id.clone(),
                declared: r.declared.clone(),
                description: ctx.particulars.sample_description.clone(),
            },
            inputs: files,
            method: method(inputs),
            verdict: r.verdict,
            risk: r.risk,
            ree_wt_pct: r.ree_wt_pct,
            reasons: r.reasons.clone(),
            mismatch: r.mismatch.clone(),
            decision_rule: decision_rule(r, &inputs.limits, k),
            elements: element_rows(r, k),
            not_detected: r
                .xrf
                .as_ref()
                .map(|x| x.not_detected.clone())
                .unwrap_or_default(),
            artefacts: r
                .xrf
                .as_ref()
                .map(|x| x.artefacts.clone())
                .unwrap_or_default(),
            phases: phase_rows(r),
            fits: Fits {
                xrf: r.xrf.as_ref().map(xrf_fit),
                xrd: r.xrd.as_ref().map(xrd_fit),
            },
            statement: ITEM_STATEMENT.to_string(),
        }
    }
}

/// "RS-20261123-1a2b3c4d5e6f": date, then 12 hex digits of SHA-256 over the input
/// hashes, the item and the issue time to the nanosecond.
pub fn derive_report_id(r: &ScreeningResult, at: &DateTime<Utc>) -> String {
    let seed = format!(
        "{}|{}|{}|{}|{}",
        r.scan_id,
        r.declared,
        r.xrf_sha256.as_deref().unwrap_or("-"),
        r.xrd_sha256.as_deref().unwrap_or("-"),
        at.to_rfc3339_opts(SecondsFormat::Nanos, true)
    );
    let hash = crate::formats::sha256_hex(seed.as_bytes());
    format!("RS-{}-{}", at.format("%Y%m%d"), &hash[..12])
}

fn input_records(inputs: &ReportInputs<'_>) -> Vec<InputFile> {
    let r = inputs.result;
    let fallback = |technique: &str, file: Option<&str>, sha: &Option<String>| {
        sha.as_ref().map(|s| InputFile {
            technique: technique.into(),
            file: file.unwrap_or("").into(),
            sha256: s.clone(),
            size_bytes: None,
            metadata: None,
        })
    };
    let xrf: Vec<InputFile> = if inputs.xrf_files.is_empty() {
        fallback(
            "XRF",
            r.xrf.as_ref().map(|a| a.file.as_str()),
            &r.xrf_sha256,
        )
        .into_iter()
        .collect()
    } else {
        inputs.xrf_files.clone()
    };
    let xrd = inputs.xrd_file.clone().or_else(|| {
        fallback(
            "XRD",
            r.xrd.as_ref().map(|a| a.file.as_str()),
            &r.xrd_sha256,
        )
    });
    xrf.into_iter().chain(xrd).collect()
}

/// The versions of the crate and of the X-ray data it embeds.
pub fn software_reference_data() -> Vec<ReferenceData> {
    vec![ReferenceData {
        name: "X-ray emission lines, absorption edges, fluorescence yields, attenuation".into(),
        version: format!(
            "xraydb crate {}",
            locked_version(CARGO_LOCK, "xraydb").unwrap_or("unknown")
        ),
        source: "Elam, Ravel & Sieber, Radiat. Phys. Chem. 63 (2002) 121 (via xraydb)".into(),
    }]
}

static CARGO_LOCK: &str = include_str!("../../Cargo.lock");

/// The version of `name` pinned in a Cargo.lock text.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    let len = lock[start..].find('"')?;
    Some(&lock[start..start + len])
}

fn method(inputs: &ReportInputs<'_>) -> Method {
    let mut reference_data = software_reference_data();
    reference_data.extend(inputs.reference_data.iter().cloned());
    let mut xrf_procedure: String = "Energy-dispersive XRF: peak search, element \
        identification with escape/pile-up/scatter artefacts modelled, least-squares fit of \
        line groups over a continuum, fundamental-parameter quantification; 3σ detection \
        limits."
        .into();
    if let Some(m) = &inputs.result.xrf_beams {
        let beams: Vec<&str> = m.beams.iter().map(|b| b.description.as_str()).collect();
        xrf_procedure.push_str(&format!(
            " Multi-beam assay of {} beams ({}), each analysed with its own excitation; each \
             element reported from the beam that measures it best (light elements from the \
             lowest-kV unfiltered beam, the others from the beam with the lowest detection \
             limit, K lines first), the beams checked against each other.",
            beams.len(),
            beams.join("; ")
        ));
    }
    Method {
        software: "reescan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        xrf_procedure,
        xrd_procedure: "Powder XRD: background subtraction, peak search, search-match \
            against the reference phase library, whole-pattern fit, RIR semi-quantitative wt %."
            .into(),
        reference_data,
        rules: inputs.rules.clone(),
    }
}

fn decision_rule(r: &ScreeningResult, limits: &[Limit], k: f64) -> DecisionRule {
    let assessments = match &r.xrf {
        Some(x) => limits
            .iter()
            .map(|l| {
                // the quantity and the rule the verdict is decided with
                let q = crate::screen::conformity::measure(x, &l.symbols);
                Conformity {
                    quantity: l.quantity.clone(),
                    result_wt_pct: q.wt_pct,
                    u_wt_pct: q.u_wt_pct,
                    expanded_u_wt_pct: k * q.u_wt_pct,
                    limit_wt_pct: l.limit_wt_pct,
                    limit_source: l.source.clone(),
                    outcome: q.against(l.limit_wt_pct, k),
                    fit: XRF_FIT_ID.into(),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    DecisionRule {
        rule: format!(
            "ISO/IEC 17025:2017 §7.8.6 decision rule with guard band (ILAC-G8:09/2019): \
             expanded uncertainty U = k·u with k = {k}; result − U > limit → above \
             the limit (non-conforming with the declaration); result + U < limit → below the \
             limit (conforming); otherwise inconclusive."
        ),
        k,
        assessments,
    }
}

fn element_rows(r: &ScreeningResult, k: f64) -> Vec<ElementRow> {
    let Some(x) = &r.xrf else {
        return Vec::new();
    };
    x.elements
        .iter()
        .map(|e| ElementRow {
            symbol: e.symbol.clone(),
            rare_earth: is_rare_earth(&e.symbol),
            wt_pct: e.wt_pct,
            u_wt_pct: e.total_sigma_wt_pct(),
            expanded_u_wt_pct: k * e.total_sigma_wt_pct(),
            lod_wt_pct: e.lod_wt_pct,
            lines: e.lines.clone(),
            fit: XRF_FIT_ID.into(),
        })
        .collect()
}

fn phase_rows(r: &ScreeningResult) -> Vec<PhaseRow> {
    let Some(d) = &r.xrd else {
        return Vec::new();
    };
    d.phases
        .iter()
        .map(|p| PhaseRow {
            name: p.name.clone(),
            wt_pct: p.wt_pct,
            fom: p.fom,
            matched_peaks: p.matched_peaks,
            fit: XRD_FIT_ID.into(),
        })
        .collect()
}

fn xrf_fit(a: &crate::xrf::XrfAnalysis) -> XrfFit {
    let (first, last) = a.fit_channels;
    let c = &a.calibration;
    XrfFit {
        id: XRF_FIT_ID.into(),
        file: a.file.clone(),
        reduced_chi2: a.reduced_chi2,
        channels: a.fit_channels,
        channels_used: last.saturating_sub(first) + 1,
        energy_range_kev: (
            c.offset_kev + c.gain_kev * first as f64,
            c.offset_kev + c.gain_kev * last as f64,
        ),
        calibration: a.calibration,
        live_time_s: a.live_time_s,
        tube_kv: a.tube_kv,
        excitation: a.excitation.clone(),
        peaks: a.peaks.clone(),
        line_groups: line_groups(&a.peaks),
    }
}

/// Fitted peaks merged by label, in the order of their first member; unlabelled and
/// "unidentified" peaks stay one row each.
pub fn line_groups(peaks: &[FittedPeak]) -> Vec<LineGroup> {
    let mut groups: Vec<(LineGroup, f64)> = Vec::new();
    for p in peaks {
        let label = greek_peak(p.label.trim());
        let groupable = !label.is_empty() && label != "unidentified";
        match groups
            .iter_mut()
            .find(|(g, _)| groupable && g.label == label)
        {
            Some((g, strongest)) => {
                g.energies_kev.push(p.energy_kev);
                g.area += p.area;
                g.sigma += p.sigma;
                if p.area > *strongest {
                    *strongest = p.area;
                    g.fwhm_kev = p.fwhm_kev;
                }
            }
            None => groups.push((
                LineGroup {
                    label,
                    energies_kev: vec![p.energy_kev],
                    area: p.area,
                    sigma: p.sigma,
                    fwhm_kev: p.fwhm_kev,
                },
                p.area,
            )),
        }
    }
    groups
        .into_iter()
        .map(|(mut g, _)| {
            g.energies_kev.sort_by(f64::total_cmp);
            g
        })
        .collect()
}

fn xrd_fit(a: &crate::xrd::XrdAnalysis) -> XrdFit {
    let t = &a.curves.two_theta_deg;
    XrdFit {
        id: XRD_FIT_ID.into(),
        file: a.file.clone(),
        wavelength_a: a.wavelength_a,
        zero_shift_deg: a.zero_shift_deg,
        two_theta_range_deg: t.first().zip(t.last()).map(|(a, b)| (*a, *b)),
        points: t.len(),
        peaks: a.peaks.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_rule_follows_17025_guard_band() {
        assert_eq!(Outcome::decide(1.8, 0.2, 0.1), Outcome::AboveLimit);
        assert_eq!(Outcome::decide(0.02, 0.02, 0.1), Outcome::BelowLimit);
        assert_eq!(Outcome::decide(0.12, 0.04, 0.1), Outcome::Inconclusive);
        assert_eq!(Outcome::decide(0.05, 0.06, 0.1), Outcome::Inconclusive);
    }

    #[test]
    fn resolved_ka1_and_ka2_make_one_line_group() {
        let peak = |label: &str, energy_kev: f64, area: f64| FittedPeak {
            energy_kev,
            area,
            sigma: 0.1 * area,
            fwhm_kev: 0.29 + energy_kev / 1000.0,
            label: label.into(),
        };
        let peaks = [
            peak("La Ka", 33.442, 169.0),
            peak("La Ka", 33.034, 94.0),
            peak("La Kb", 37.769, 38.0),
            peak("unidentified", 12.0, 5.0),
            peak("unidentified", 13.0, 6.0),
        ];
        let g = line_groups(&peaks);
        let labels: Vec<&str> = g.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["La Kα", "La Kβ", "unidentified", "unidentified"]);
        assert_eq!(g[0].energies_kev, [33.034, 33.442]);
        assert!((g[0].area - 263.0).abs() < 1e-9);
        assert!(
            (g[0].sigma - 26.3).abs() < 1e-9,
            "σ of one amplitude add linearly"
        );
        assert!(
            (g[0].fwhm_kev - (0.29 + 0.033442)).abs() < 1e-12,
            "strongest member"
        );
    }

    #[test]
    fn xraydb_version_is_read_from_the_lock_file() {
        let v = locked_version(CARGO_LOCK, "xraydb").expect("xraydb in Cargo.lock");
        assert!(v.starts_with("0."), "{v}");
        assert_eq!(
            locked_version("name = \"a\"\nversion = \"1.2.3\"\n", "a"),
            Some("1.2.3")
        );
        assert_eq!(locked_version("", "a"), None);
    }
}
