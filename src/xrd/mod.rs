//! X-ray diffraction: reference patterns from crystal structures, search-match phase
//! identification and semi-quantitative wt %. The result types here are the SPEC's
//! `xrd` JSON object.

pub mod cif;
pub mod crystal;
pub mod library;
pub mod pattern;
pub mod profile;
pub mod synth;

use crate::{Error, Result, Spectrum};
use serde::Serialize;

/// Options for an XRD analysis.
#[derive(Debug, Clone, Default)]
pub struct XrdOptions {
    /// Extra phase CIFs (`--phases DIR`).
    pub extra_phase_dir: Option<std::path::PathBuf>,
}

/// One observed diffraction peak (SPEC `xrd.peaks[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XrdPeak {
    /// Position, degrees 2θ (for EDXRD: the equivalent 2θ at the reported wavelength).
    pub two_theta_deg: f64,
    /// d-spacing, Å.
    #[serde(rename = "d_A")]
    pub d_a: f64,
    /// Net intensity (counts above background).
    pub intensity: f64,
}

/// One identified phase (SPEC `xrd.phases[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseResult {
    /// Phase name as in `reescan phases`.
    pub name: String,
    /// Semi-quantitative mass fraction, wt %.
    pub wt_pct: f64,
    /// Figure of merit 0..1 (1 = perfect match).
    pub fom: f64,
    /// Observed peaks explained by this phase.
    pub matched_peaks: usize,
}

/// Curves of the whole-pattern fit (not part of the JSON contract).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternCurves {
    /// 2θ of each point, degrees.
    pub two_theta_deg: Vec<f64>,
    /// Measured counts.
    pub counts: Vec<f64>,
    /// Background.
    pub background: Vec<f64>,
    /// Total model.
    pub model: Vec<f64>,
    /// Stick positions (2θ) and relative intensities of each identified phase.
    pub sticks: Vec<(String, Vec<(f64, f64)>)>,
}

/// The complete XRD result (SPEC `xrd`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XrdAnalysis {
    /// File analysed.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Wavelength, Å.
    #[serde(rename = "wavelength_A")]
    pub wavelength_a: f64,
    /// Refined zero shift, degrees 2θ.
    pub zero_shift_deg: f64,
    /// Observed peaks.
    pub peaks: Vec<XrdPeak>,
    /// Identified phases, strongest first.
    pub phases: Vec<PhaseResult>,
    /// Curves for plots.
    #[serde(skip)]
    pub curves: PatternCurves,
}

/// Identify the phases in a diffraction pattern.
pub fn analyze(spectrum: &Spectrum, opts: &XrdOptions) -> Result<XrdAnalysis> {
    let _ = (spectrum, opts);
    Err(Error::Numerical("XRD analysis is not built yet".into()))
}
