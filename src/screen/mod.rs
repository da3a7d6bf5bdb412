//! Screening: a declaration plus XRF/XRD results in, a verdict with its evidence out.
//!
//! * [`rules`]: commodity profiles and export-control lists as data (`data/rules.toml`).
//! * [`decide`]: the decision logic (ISO/IEC 17025 decision rule, fingerprints, mismatch,
//!   the evidence a CLEAR needs).
//! * [`conformity`]: the decision rule and the rare-earth quantity it is applied to, shared
//!   with the forensic report.
//! * [`screen`]: the entry point that turns analyses into a [`ScreeningResult`] row.

pub mod conformity;
pub mod decide;
pub mod names;
pub mod pipeline;
pub mod rules;

pub use decide::{assess, Assessment, Finding};
pub use pipeline::{Input, Screener};
pub use rules::{parse_date, Rules};

use crate::xrd::XrdAnalysis;
use crate::xrf::beams::MultiBeam;
use crate::xrf::XrfAnalysis;
use serde::Serialize;

/// The outcome of screening one shipment (SPEC `verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Consistent with the declaration.
    Clear,
    /// An anomaly worth a closer look.
    Inspect,
    /// Rare-earth material present at levels or in forms the declaration cannot explain.
    Hold,
    /// The scan could not be analysed.
    Error,
}

impl Verdict {
    /// The SPEC spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clear => "CLEAR",
            Verdict::Inspect => "INSPECT",
            Verdict::Hold => "HOLD",
            Verdict::Error => "ERROR",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One screened shipment: the SPEC result row plus the XRF/XRD detail.
/// Field order is the SPEC's CSV column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreeningResult {
    /// Manifest scan id (or the file stem for `scan`).
    pub scan_id: String,
    /// Declared commodity.
    pub declared: String,
    /// CLEAR / INSPECT / HOLD / ERROR.
    pub verdict: Verdict,
    /// 0..1.
    pub risk: f64,
    /// Total rare earths (Sc, Y, La–Lu), wt %, from XRF; `None` without XRF.
    pub ree_wt_pct: Option<f64>,
    /// Rare earths detected, strongest first.
    pub ree_elements: Vec<String>,
    /// Detected elements controlled on the scan date, strongest first.
    pub controlled_elements: Vec<String>,
    /// Phases identified, strongest first.
    pub phases: Vec<String>,
    /// Composition findings against the declaration.
    pub mismatch: Vec<String>,
    /// Sentences an officer can read aloud.
    pub reasons: Vec<String>,
    /// SHA-256 of the XRF file.
    pub xrf_sha256: Option<String>,
    /// SHA-256 of the XRD file.
    pub xrd_sha256: Option<String>,
    /// XRF detail.
    pub xrf: Option<XrfAnalysis>,
    /// XRD detail.
    pub xrd: Option<XrdAnalysis>,
    /// A multi-beam XRF scan: every beam (excitation, file, hash, what it found) and
    /// which beam measured each element (`xrf` is then the joint result); none for a
    /// single spectrum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xrf_beams: Option<MultiBeam>,
}

/// The SPEC result columns, in order.
pub const CSV_COLUMNS: [&str; 12] = [
    "scan_id",
    "declared",
    "verdict",
    "risk",
    "ree_wt_pct",
    "ree_elements",
    "controlled_elements",
    "phases",
    "mismatch",
    "reasons",
    "xrf_sha256",
    "xrd_sha256",
];

impl ScreeningResult {
    /// An `ERROR` row: the scan could not be analysed, `reason` says why.
    pub fn error(
        scan_id: &str,
        declared: &str,
        reason: String,
        xrf_sha256: Option<String>,
        xrd_sha256: Option<String>,
    ) -> Self {
        ScreeningResult {
            scan_id: scan_id.to_string(),
            declared: declared.to_string(),
            verdict: Verdict::Error,
            risk: 0.0,
            ree_wt_pct: None,
            ree_elements: vec![],
            controlled_elements: vec![],
            phases: vec![],
            mismatch: vec![],
            reasons: vec![reason],
            xrf_sha256,
            xrd_sha256,
            xrf: None,
            xrd: None,
            xrf_beams: None,
        }
    }

    /// The SPEC CSV fields, in [`CSV_COLUMNS`] order (lists `;`-joined).
    pub fn csv_record(&self) -> [String; 12] {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.scan_id.clone(),
            self.declared.clone(),
            self.verdict.to_string(),
            format!("{:.3}", self.risk),
            self.ree_wt_pct
                .map(|v| format!("{v:.4}"))
                .unwrap_or_default(),
            self.ree_elements.join(";"),
            self.controlled_elements.join(";"),
            self.phases.join(";"),
            self.mismatch.join(";"),
            self.reasons.join(" "),
            opt(&self.xrf_sha256),
            opt(&self.xrd_sha256),
        ]
    }
}

/// Screen one shipment: judge the analyses against the declared commodity on `date`.
///
/// # Errors
/// [`crate::Error::Unknown`] when the commodity is not in the rules.
pub fn screen(
    rules: &Rules,
    scan_id: &str,
    declared: &str,
    xrf: Option<XrfAnalysis>,
    xrd: Option<XrdAnalysis>,
    date: chrono::NaiveDate,
) -> crate::Result<ScreeningResult> {
    let a = assess(rules, declared, xrf.as_ref(), xrd.as_ref(), date)?;
    Ok(ScreeningResult {
        scan_id: scan_id.to_string(),
        declared: declared.to_string(),
        verdict: a.verdict,
        risk: a.risk,
        ree_wt_pct: a.ree_wt_pct,
        ree_elements: a.ree_elements,
        controlled_elements: a.controlled_elements,
        phases: a.phases,
        mismatch: a.mismatch,
        reasons: a.reasons,
        xrf_sha256: xrf.as_ref().map(|x| x.sha256.clone()),
        xrd_sha256: xrd.as_ref().map(|x| x.sha256.clone()),
        xrf,
        xrd,
        xrf_beams: None,
    })
}
