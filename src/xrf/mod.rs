//! X-ray fluorescence: element identification and quantification from an energy
//! spectrum. The result types here are the SPEC's `xrf` JSON object.

pub mod analyze;
pub mod beams;
pub mod excitation;
pub mod fp;
pub mod identify;
pub mod instrument;
pub mod model;
pub mod physics;
pub mod synth;

#[allow(unused_imports)]
use crate::{Error, Result, Spectrum};
use serde::Serialize;

/// Options for an XRF analysis.
#[derive(Debug, Clone, Default)]
pub struct XrfOptions {
    /// Tube voltage (kV) if the file does not carry it.
    pub tube_kv: Option<f64>,
    /// Tube anode element if known (defaults to Rh, the handheld standard).
    pub anode: Option<String>,
    /// Monochromatic excitation energy (keV), overriding the tube model.
    pub excitation_kev: Option<f64>,
    /// Force the unseen-matrix model (default: chosen from the Rayleigh/Compton ratio).
    pub matrix: Option<fp::MatrixModel>,
    /// The whole tube (anode, kV, window, beam filter) when the instrument's
    /// configuration is known, as in a PyMca `.cfg`; overrides `tube_kv` and `anode`.
    pub tube: Option<physics::Tube>,
    /// Detector window, air path and crystal (default: a handheld SDD).
    pub detector: Option<physics::DetectorEfficiency>,
}

/// Energy calibration and resolution as used by the fit (SPEC `xrf.calibration`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct CalibrationReport {
    /// Energy of channel 0, keV.
    #[serde(rename = "offset_keV")]
    pub offset_kev: f64,
    /// keV per channel.
    #[serde(rename = "gain_keV")]
    pub gain_kev: f64,
    /// FWHM at Mn Kα (5.895 keV), eV.
    #[serde(rename = "fwhm_mn_ka_eV")]
    pub fwhm_mn_ka_ev: f64,
}

/// One fitted peak (SPEC `xrf.peaks[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedPeak {
    /// Centroid, keV.
    #[serde(rename = "energy_keV")]
    pub energy_kev: f64,
    /// Net area, counts.
    pub area: f64,
    /// 1σ of the area, counts.
    pub sigma: f64,
    /// FWHM, keV.
    #[serde(rename = "fwhm_keV")]
    pub fwhm_kev: f64,
    /// What explains it ("Fe Ka", "Nd La1"), or "unidentified".
    pub label: String,
}

/// A peak explained by the detector or the source rather than the sample
/// (SPEC `xrf.artefacts[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Artefact {
    /// Position, keV.
    #[serde(rename = "energy_keV")]
    pub energy_kev: f64,
    /// "escape", "pileup", "rayleigh", "compton", "instrument".
    pub kind: String,
    /// The line that causes it ("Fe Ka", "Fe Ka+Fe Ka", "Rh Ka").
    pub parent: String,
}

/// A detected element (SPEC `xrf.elements[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementResult {
    /// Element symbol.
    pub symbol: String,
    /// Mass fraction, wt %.
    pub wt_pct: f64,
    /// 1σ of the mass fraction from the counts and the fit, wt %: what decides whether
    /// the element is detected.
    pub sigma_wt_pct: f64,
    /// 1σ of the mass fraction from an excitation that was estimated or assumed rather
    /// than stated (the tube kV), wt %: a scale uncertainty, so it widens every
    /// decision on the value ([`ElementResult::total_sigma_wt_pct`]) but not detection.
    pub excitation_sigma_wt_pct: f64,
    /// 3σ detection limit in this matrix, wt %.
    pub lod_wt_pct: f64,
    /// Lines that carry the evidence ("Ka1", "La1", "Lb1").
    pub lines: Vec<String>,
}

impl ElementResult {
    /// 1σ of the mass fraction, counting and excitation terms together, wt %.
    pub fn total_sigma_wt_pct(&self) -> f64 {
        self.sigma_wt_pct.hypot(self.excitation_sigma_wt_pct)
    }
}

/// An element looked for and not found (SPEC `xrf.not_detected[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotDetected {
    /// Element symbol.
    pub symbol: String,
    /// 3σ detection limit, wt %.
    pub lod_wt_pct: f64,
}

/// Curves of the fit, for plots and reports (not part of the JSON contract).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FitCurves {
    /// Energy of each channel in the fitted region, keV.
    pub energy_kev: Vec<f64>,
    /// Measured counts.
    pub counts: Vec<f64>,
    /// Fitted background (continuum).
    pub background: Vec<f64>,
    /// Total model (background + all peaks).
    pub model: Vec<f64>,
}

/// The complete XRF result (SPEC `xrf`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XrfAnalysis {
    /// File analysed.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Live time, s.
    pub live_time_s: Option<f64>,
    /// Tube voltage used for the physics, kV.
    pub tube_kv: Option<f64>,
    /// The excitation the fundamental-parameters model assumed, in words ("Rh tube,
    /// 50 kV"; "monochromatic beam, 16.00 keV"): a result is only as good as this.
    pub excitation: String,
    /// Probe, anode and kV with where each comes from (stated, Duane–Hunt estimate,
    /// recognised, default), and whether the weight fractions are quantified: see
    /// [`excitation::ExcitationBasis`].
    pub excitation_basis: excitation::ExcitationBasis,
    /// Calibration actually used.
    pub calibration: CalibrationReport,
    /// Fitted peaks.
    pub peaks: Vec<FittedPeak>,
    /// Escape, pile-up, scatter peaks.
    pub artefacts: Vec<Artefact>,
    /// Detected elements, strongest first.
    pub elements: Vec<ElementResult>,
    /// Elements looked for and not found, with detection limits.
    pub not_detected: Vec<NotDetected>,
    /// χ²/ν of the final fit.
    pub reduced_chi2: f64,
    /// First and last channel of the fitted region.
    pub fit_channels: (usize, usize),
    /// Energies of the spectrum's first and last channel, keV: the lines the analysis
    /// could see at all (the screening asks that the rare-earth lines lie inside).
    #[serde(rename = "energy_range_keV")]
    pub energy_range_kev: (f64, f64),
    /// Counts in the whole spectrum (the screening asks for enough of them).
    pub total_counts: f64,
    /// Mean counts per fitted channel (per bin in the quick analysis): with
    /// `reduced_chi2`, the size of the misfit relative to the counts.
    pub fit_mean_counts: f64,
    /// Fit curves (for plots/reports).
    #[serde(skip)]
    pub curves: FitCurves,
    /// The quick analysis only: rare-earth, Th and U families its joint fit held at
    /// 3σ or more that it does not report — rejected by its line tests (La Lα on the Fe
    /// Kα escape peak, whose other lines the unrefined line shape does not confirm), or
    /// hidden below the detection limit of a window that a big neighbour fills (Dy Lα
    /// 95 eV above Fe Kα), or reported only by their free lines while that window's
    /// limit is above what is reported — with what they would amount to if real (in
    /// place of what is reported). A quick CLEAR stands
    /// only when it holds with them counted; otherwise the full analysis judges. Always
    /// empty from the full analysis.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unconfirmed: Vec<Unconfirmed>,
    /// What reading or analysing changed or assumed beyond the file, in words (e.g. the
    /// zero-peak residue taken as zero); empty when nothing was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A family the quick fit holds and the quick analysis does not report (see
/// [`XrfAnalysis::unconfirmed`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unconfirmed {
    /// Element symbol.
    pub symbol: String,
    /// Line family ("K", "L", "M").
    pub family: String,
    /// Fitted amplitude over its 1σ.
    pub significance: f64,
    /// The element's mass fraction if the family is real (fitted area over the FP
    /// sensitivity in the quick analysis' matrix), wt %.
    pub wt_pct: f64,
}

impl XrfAnalysis {
    /// Total rare earths (Sc, Y, La–Lu), wt %, with its 1σ (quadrature sum).
    pub fn ree_total_wt_pct(&self) -> (f64, f64) {
        let ree = self
            .elements
            .iter()
            .filter(|e| crate::tables::is_rare_earth(&e.symbol));
        let (sum, var) = ree.fold((0.0, 0.0), |(s, v), e| {
            (s + e.wt_pct, v + e.total_sigma_wt_pct().powi(2))
        });
        (sum, var.sqrt())
    }

    /// The detected element with this symbol.
    pub fn element(&self, symbol: &str) -> Option<&ElementResult> {
        self.elements.iter().find(|e| e.symbol == symbol)
    }
}

/// Identify and quantify the elements in an XRF energy spectrum.
///
/// No element list is needed: see [`analyze::run`] for the pipeline.
///
/// # Errors
/// [`Error::MissingCalibration`] for an uncalibrated spectrum, [`Error::Invalid`] for
/// bad counts or an unusable energy range, [`Error::Numerical`] if the fit fails.
pub fn analyze(spectrum: &Spectrum, opts: &XrfOptions) -> Result<XrfAnalysis> {
    analyze::run(spectrum, opts)
}

/// The quick analysis for screening archives: the same identification and FP
/// quantification on 30-eV bins, up to the last fluorescence peak (below the tube's
/// scattered lines), for a screening element list, without line-shape
/// refinement, continuum re-stripping or matrix-specific line ratios, its family
/// templates kept per instrument set-up between scans. Sensitive but less specific
/// than [`analyze`]: a scan it does not clear is analysed in full (see
/// `screen::Screener`).
pub fn analyze_quick(spectrum: &Spectrum, opts: &XrfOptions) -> Result<XrfAnalysis> {
    analyze::run_quick(spectrum, opts)
}
