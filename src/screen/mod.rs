//! Screening: a declaration plus XRF/XRD results in, a verdict with its evidence out.

use crate::xrd::XrdAnalysis;
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
}
