//! X-ray diffraction: reference patterns from crystal structures, search-match phase
//! identification and semi-quantitative wt %. The result types here are the SPEC's
//! `xrd` JSON object.

pub mod cif;
pub mod crystal;
pub mod library;
pub mod pattern;
pub mod peaks;
pub mod profile;
pub mod refine;
pub mod search;
pub mod synth;

pub use library::{builtin, Library, Phase};
pub use synth::{synth, Radiation, SynthOptions};

use crate::{Result, Spectrum};
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
    /// Mass fraction, wt %: from the whole-pattern refinement's scales (ZMV), else
    /// the search-match's (RIR).
    pub wt_pct: f64,
    /// Standard uncertainty of `wt_pct` from the refinement's covariance (SPEC
    /// extension); 0 when the pattern was not refined.
    pub wt_pct_sigma: f64,
    /// Figure of merit 0..1 (1 = perfect match).
    pub fom: f64,
    /// Observed peaks explained by this phase.
    pub matched_peaks: usize,
}

/// Where an analysis' wavelength came from. Serialised as `"stated"`,
/// `"inferred:<anode>"` (e.g. `"inferred:Co"`) or `"default"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WavelengthSource {
    /// Stated by the file (wavelength or tube anode) or by the caller
    /// (`--wavelength`), or a synthetic pattern's own.
    #[default]
    Stated,
    /// Not stated: the tube anode whose Kα fits the whole pattern best.
    Inferred(&'static str),
    /// Not stated and no anode explains the pattern: Cu Kα1 assumed.
    Default,
}

impl Serialize for WavelengthSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            WavelengthSource::Stated => s.serialize_str("stated"),
            WavelengthSource::Inferred(anode) => s.serialize_str(&format!("inferred:{anode}")),
            WavelengthSource::Default => s.serialize_str("default"),
        }
    }
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

/// How well the refined phases describe the whole pattern (SPEC extension). All
/// `None`/empty when the pattern was not refined (energy-dispersive patterns).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FitQuality {
    /// Weighted profile R factor of the whole-pattern refinement.
    pub r_wp: Option<f64>,
    /// Expected R factor (counting statistics).
    pub r_exp: Option<f64>,
    /// Goodness of fit χ²/(N − P).
    pub gof: Option<f64>,
    /// Share of the net diffracted intensity in residual peaks that no accepted phase
    /// explains (unidentified crystalline material).
    pub unexplained_fraction: Option<f64>,
    /// d-spacings (Å) of the strongest unexplained residual peaks, strongest first.
    #[serde(rename = "unexplained_d_A")]
    pub unexplained_d_a: Vec<f64>,
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
    /// Refined specimen displacement, mm, on a goniometer of
    /// [`profile::GONIOMETER_RADIUS_MM`] (SPEC extension): lines move by
    /// −2·s·cosθ/R on top of the zero shift.
    pub displacement_mm: f64,
    /// Where the wavelength came from (SPEC extension).
    pub wavelength_source: WavelengthSource,
    /// Observed peaks.
    pub peaks: Vec<XrdPeak>,
    /// Identified phases, strongest first.
    pub phases: Vec<PhaseResult>,
    /// Indices into `peaks` of the observed peaks that the identified phases do not
    /// explain: the fitted phase profiles give less than half the peak's net height (a
    /// pattern read with the wrong wavelength, or holding a phase the library lacks,
    /// leaves many).
    pub unexplained_peaks: Vec<usize>,
    /// Whole-pattern refinement figures (SPEC extension, flattened into `xrd`:
    /// `r_wp`, `r_exp`, `gof`, `unexplained_fraction`, `unexplained_d_A`).
    #[serde(flatten)]
    pub fit: FitQuality,
    /// Curves for plots.
    #[serde(skip)]
    pub curves: PatternCurves,
}

/// Identify the phases in a diffraction pattern with the embedded library plus
/// `opts.extra_phase_dir`.
///
/// # Errors
/// [`Error::Invalid`] when the spectrum is not a diffraction pattern; CIF errors from
/// the extra phase directory.
pub fn analyze(spectrum: &Spectrum, opts: &XrdOptions) -> Result<XrdAnalysis> {
    let lib = library::with_extra(opts.extra_phase_dir.as_deref())?;
    analyze_with(spectrum, &lib)
}

/// [`analyze`] against a given library.
///
/// # Errors
/// [`Error::Invalid`] when the spectrum is not a diffraction pattern.
pub fn analyze_with(spectrum: &Spectrum, lib: &Library) -> Result<XrdAnalysis> {
    if !spectrum.meta.wavelength_defaulted {
        let obs = search::Observed::new(spectrum)?;
        let id = search::identify(&obs, lib);
        return Ok(build_analysis(
            spectrum,
            &obs,
            &id,
            lib,
            WavelengthSource::Stated,
        ));
    }
    // A tube anode named by the file fixes the wavelength.
    let named = spectrum.meta.anode.as_deref().and_then(|a| {
        profile::TUBE_ANODES
            .iter()
            .find(|(sym, _)| sym.eq_ignore_ascii_case(a.trim()))
    });
    if let Some(&(_, (ka1, _))) = named {
        let s = with_wavelength(spectrum, ka1);
        let obs = search::Observed::new(&s)?;
        let id = search::identify(&obs, lib);
        return Ok(build_analysis(&s, &obs, &id, lib, WavelengthSource::Stated));
    }
    // No wavelength stated: every tube anode is tried and the one whose identified
    // phases fit the whole pattern best (lowest χ²) is taken; Cu Kα1 when none
    // identifies anything.
    let mut best: Option<(
        f64,
        &'static str,
        Spectrum,
        search::Observed,
        search::Identification,
    )> = None;
    for &(anode, (ka1, _)) in &profile::TUBE_ANODES {
        let s = with_wavelength(spectrum, ka1);
        let obs = search::Observed::new(&s)?;
        let id = search::identify(&obs, lib);
        if id.phases.is_empty() || best.as_ref().is_some_and(|b| b.0 <= id.chi2) {
            continue;
        }
        best = Some((id.chi2, anode, s, obs, id));
    }
    match best {
        Some((_, anode, s, obs, id)) => Ok(build_analysis(
            &s,
            &obs,
            &id,
            lib,
            WavelengthSource::Inferred(anode),
        )),
        None => {
            let obs = search::Observed::new(spectrum)?;
            let id = search::identify(&obs, lib);
            Ok(build_analysis(
                spectrum,
                &obs,
                &id,
                lib,
                WavelengthSource::Default,
            ))
        }
    }
}

/// `spectrum` with its angle axis at wavelength `wavelength_a` (Kα1, Å).
fn with_wavelength(spectrum: &Spectrum, wavelength_a: f64) -> Spectrum {
    let mut s = spectrum.clone();
    if let crate::Axis::TwoTheta {
        wavelength_a: w, ..
    } = &mut s.axis
    {
        *w = wavelength_a;
    }
    s
}

/// Wavelength (Å) reported for an energy-dispersive pattern's equivalent 2θ.
const EDXRD_REPORT_WAVELENGTH_A: f64 = library::CU_KA1_A;

fn build_analysis(
    spectrum: &Spectrum,
    obs: &search::Observed,
    id: &search::Identification,
    lib: &Library,
    wavelength_source: WavelengthSource,
) -> XrdAnalysis {
    let refined = refine::refine(obs, lib, id, &refine::RefineConfig::default());
    let instrument = refined.as_ref().map_or(id.instrument, |r| r.instrument);
    let (wavelength_a, zero_shift_deg, displacement_mm) = match obs.geometry {
        pattern::Geometry::BraggBrentano { wavelength_a } => (
            wavelength_a,
            instrument.zero_shift,
            profile::displacement_mm(instrument.displacement, profile::GONIOMETER_RADIUS_MM),
        ),
        pattern::Geometry::EnergyDispersive { .. } => (EDXRD_REPORT_WAVELENGTH_A, 0.0, 0.0),
    };
    let report_tt = |d: f64| crate::spectrum::bragg_two_theta(d, wavelength_a).unwrap_or(f64::NAN);
    let peaks = obs
        .peaks
        .iter()
        .map(|p| {
            let d = obs.geometry.d_at(p.x - instrument.shift(p.x));
            XrdPeak {
                two_theta_deg: report_tt(d),
                d_a: d,
                intensity: p.height,
            }
        })
        .collect();
    let search_phase = |index: usize| id.phases.iter().find(|a| a.index == index);
    let phases: Vec<PhaseResult> = match &refined {
        Some(r) => r
            .phases
            .iter()
            .map(|p| PhaseResult {
                name: lib.phases[p.index].name.clone(),
                wt_pct: p.wt_pct,
                wt_pct_sigma: p.wt_pct_sigma,
                fom: search_phase(p.index).map_or(0.0, |a| a.score.fom),
                matched_peaks: search_phase(p.index).map_or(0, |a| a.matched_peaks),
            })
            .collect(),
        None => id
            .phases
            .iter()
            .map(|a| PhaseResult {
                name: lib.phases[a.index].name.clone(),
                wt_pct: a.wt_pct,
                wt_pct_sigma: 0.0,
                fom: a.score.fom,
                matched_peaks: a.matched_peaks,
            })
            .collect(),
    };
    let sticks = phases
        .iter()
        .filter_map(|p| lib.get(&p.name))
        .map(|phase| {
            let (lo, hi) = (obs.xs[0], obs.xs[obs.xs.len() - 1]);
            let single = profile::Instrument {
                kalpha2: None,
                ..instrument
            };
            let ls = profile::lines(&phase.reflections, &single, (lo, hi), 1.0, None);
            let max = ls.iter().map(|l| l.area).fold(0.0, f64::max).max(1e-300);
            (
                phase.name.clone(),
                ls.iter().map(|l| (l.x, 100.0 * l.area / max)).collect(),
            )
        })
        .collect();
    let (model, background) = match &refined {
        Some(r) => (r.model.clone(), r.background.clone()),
        None => (id.model.clone(), obs.background.clone()),
    };
    // A peak is unexplained when the fitted phases give less than half its net height
    // (its height measured above the SNIP background, the model's net above the
    // refined one).
    let unexplained_peaks = obs
        .peaks
        .iter()
        .enumerate()
        .filter(|(_, p)| model[p.channel] - background[p.channel] < 0.5 * p.height)
        .map(|(i, _)| i)
        .collect();
    let fit = refined
        .as_ref()
        .map(|r| FitQuality {
            r_wp: Some(r.r_wp),
            r_exp: Some(r.r_exp),
            gof: Some(r.gof),
            unexplained_fraction: Some(r.unexplained_fraction),
            unexplained_d_a: r.unexplained_d_a.clone(),
        })
        .unwrap_or_default();
    XrdAnalysis {
        file: spectrum
            .meta
            .source_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        sha256: spectrum.meta.sha256.clone(),
        wavelength_a,
        zero_shift_deg,
        displacement_mm,
        wavelength_source,
        peaks,
        phases,
        unexplained_peaks,
        fit,
        curves: PatternCurves {
            two_theta_deg: obs.xs.clone(),
            counts: obs.counts.clone(),
            background,
            model,
            sticks,
        },
    }
}
