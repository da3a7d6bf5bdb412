//! The XRF pipeline: excitation → resolution → SNIP background → peak search →
//! candidate families → joint non-negative linear fit (escape in every template,
//! Rayleigh/Compton scatter, pile-up) → pruning by significance and line-family
//! consistency → FP quantification in the estimated matrix → refit with matrix-correct
//! line ratios → detection limits.
//!
//! [`run_quick`] is the same identification for the batch triage, an order of magnitude
//! faster: no line-shape refinement, continuum re-stripping or matrix-specific line
//! ratios, channels binned to ≥ 30 eV, templates kept per instrument set-up, primary-only FP.
//!
//! This module holds the two sequences of stages ([`run`], [`run_quick`]) and what they
//! start from; each stage lives in a module of its concern: `work` (the state of one
//! analysis), `templates` (detector response drawn as fit components), `shape`
//! (resolution and line-shape refinement), `background` (the continuum), `fit` (the
//! joint linear fit), `candidates`, `evidence` and `prune` (identification),
//! `quantify`, `limits` (detection limits), `report`, and what the triage alone
//! does: `quick` and its template `library`.
//!
//! The stages both sequences share differ by the fields of a `Plan` (`plan`), one for
//! the full analysis and one for the triage, and read their numeric thresholds from one
//! documented type, [`XrfThresholds`] (`thresholds`).

mod background;
mod candidates;
mod evidence;
mod fit;
mod library;
mod limits;
mod plan;
mod prune;
mod quantify;
mod quick;
mod report;
mod shape;
mod source;
mod templates;
mod thresholds;
mod work;

use super::excitation::{resolve_excitation, ExcitationInfo};
use super::fp::{quantify_cached, scatter, MatrixModel, Measured, PrimaryCache, Quantified, Setup};
use super::identify::{
    candidates_for_peak, family_is_real, local_line, universe, ClusterEvidence, LineTest, LocalLine,
};
use super::model::{
    compton_peaks, excitation_groups, family_lines_cached, rayleigh_peaks, DrawPeak, FamilyLines,
    Region, Shape,
};
use super::physics::{element, element_by_symbol, mixture, Family, Mixture};
use super::{
    Artefact, CalibrationReport, ElementResult, FitCurves, FittedPeak, NotDetected, XrfAnalysis,
    XrfOptions,
};
use crate::signal::detector::{Detector, FWHM_PER_SIGMA, SI_KA_KEV};
use crate::signal::group::pileup_group;
use crate::signal::linear::{GramMemo, LinearFit, LinearFitter, LinearOptions, Template};
use crate::signal::peaks::{Peak, PeakSearchOptions, PeakSearcher};
use crate::signal::snip::{snip_in_place, SnipOptions};
use crate::{Calibration, Error, Result, Spectrum};
use std::sync::Arc;

use background::*;
use candidates::*;
use fit::*;
use limits::*;
use plan::Plan;
use prune::*;
use quantify::*;
use quick::*;
use report::*;
use shape::*;
use source::*;
use work::*;

pub use background::edge_ramp_span;
pub use thresholds::XrfThresholds;

/// Elements whose detection limit is always reported when not found.
pub const LOD_ELEMENTS: [&str; 18] = [
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
    "Th", "U",
];

/// Argon (Z 18) is a gas: its K lines come from the air between tube, sample and
/// detector (0.9 vol % Ar), as every handheld analyser shows them, not from a solid
/// cargo sample. It stays in the fit (its peak must be explained) but is reported as
/// an `air` artefact, and it takes no part in the quantification.
const ARGON: usize = 18;

/// Run `f` with this thread's peak searcher: its buffers and filter kernels serve every
/// spectrum the thread analyses.
fn with_searcher<T>(f: impl FnOnce(&mut PeakSearcher) -> T) -> T {
    thread_local! {
        static SEARCHER: std::cell::RefCell<PeakSearcher> = std::cell::RefCell::new(PeakSearcher::new());
    }
    SEARCHER.with(|s| f(&mut s.borrow_mut()))
}

/// What every analysis starts from: the first peak list, the excitation, the SNIP
/// continuum and the fit region (1.2 keV … highest excitation) with the resolution
/// estimated from the peaks.
struct Prepared {
    peaks0: Vec<Peak>,
    exc: ExcitationInfo,
    bg: Vec<f64>,
    /// The fit region (the quick analysis's: see [`quick_range`]).
    region: Region,
    /// Energy (keV) of the last channel of the whole region: peaks up to it propose
    /// their families, also above a quick range.
    peak_hi_kev: f64,
}

fn prepare(spectrum: &Spectrum, opts: &XrfOptions, th: &XrfThresholds) -> Result<Prepared> {
    prepare_with(spectrum, opts, &Plan::FULL, th)
}

/// [`prepare`] as `plan` says: with [`Plan::end_below_tube_lines`], the region ends
/// where the quick analysis's does ([`quick_range`]), and the continuum is stripped only
/// as far as it needs (see [`snip_continuum_below`]).
fn prepare_with(
    spectrum: &Spectrum,
    opts: &XrfOptions,
    plan: &Plan,
    th: &XrfThresholds,
) -> Result<Prepared> {
    let cal = *spectrum
        .axis
        .calibration()
        .ok_or(Error::MissingCalibration)?;
    let counts = spectrum.counts_slice();
    Spectrum::validate_counts(counts)?;
    if counts.len() < 64 {
        return Err(Error::Invalid {
            what: "XRF spectrum",
            message: format!("{} channels (need at least 64)", counts.len()),
        });
    }
    let n = counts.len();
    // first pass peak search with the default resolution, full spectrum
    let det0 = Detector::default();
    let fwhm_ch0 = |c: f64| det0.fwhm_kev(cal.energy_kev(c).max(0.5)) / cal.gain_kev;
    let lo_ch = cal.channel(1.2).ceil().max(0.0) as usize;
    let peaks0 = with_searcher(|s| {
        s.search(
            counts,
            lo_ch.min(n)..n,
            fwhm_ch0,
            &PeakSearchOptions::default(),
        )
    });
    let peak_list: Vec<(f64, f64)> = peaks0
        .iter()
        .map(|p| (cal.energy_kev(p.channel), p.area))
        .collect();
    let exc = resolve_excitation(spectrum, opts, &cal, &peak_list)?;
    // region: 1.2 keV … highest excitation + margin
    let hi_kev = (exc.max_kev + 1.0).min(cal.energy_kev(n as f64 - 1.0));
    let first = lo_ch.min(n - 1);
    let last = (cal.channel(hi_kev).floor().max(0.0) as usize).min(n - 1);
    if last <= first + 16 {
        return Err(Error::Invalid {
            what: "XRF spectrum",
            message: format!(
                "no usable energy range (1.2 keV to {hi_kev:.2} keV with this calibration)"
            ),
        });
    }
    let mut region = Region {
        calibration: cal,
        detector: det0,
        first,
        len: last - first + 1,
        tail: 2,
    };
    let peak_hi_kev = cal.energy_kev((first + region.len) as f64 - 1.0);
    // the quick range does not depend on the resolution, estimated on the continuum
    let end = if plan.end_below_tube_lines {
        region = quick_range(region, &peaks0, &exc, th);
        region.first + region.len
    } else {
        n
    };
    let bg = snip_continuum_below(counts.to_vec(), &cal, end);
    let net: Vec<f64> = counts.iter().zip(&bg).map(|(y, b)| y - b).collect();
    region.detector = estimate_resolution(&net, &cal, &peaks0);
    Ok(Prepared {
        peaks0,
        exc,
        bg,
        region,
        peak_hi_kev,
    })
}

impl<'a> Work<'a> {
    /// The work state of a prepared spectrum, in the generic starting matrix, for the
    /// stages of `plan`.
    fn new(
        counts: &'a [f64],
        p: Prepared,
        mut lines_cache: LinesCache,
        plan: Plan,
        th: XrfThresholds,
    ) -> Self {
        Work {
            counts,
            bg: p.bg,
            region: p.region,
            source: Source::of(&p.exc.setup),
            exc: p.exc,
            matrix: mixture(&[("Si".into(), 0.3), ("O".into(), 0.5), ("Fe".into(), 0.2)]),
            splines: lines_cache.splines(p.region, plan.spline_spacing_kev),
            free_tail: Vec::new(),
            edge_ramp_memo: Default::default(),
            free_l: Vec::new(),
            long_tails: false,
            long_tail_slope: crate::xrf::model::DEFAULT_LONG_TAIL_SLOPE,
            dominant: Vec::new(),
            fluor: Vec::new(),
            lines_cache: std::cell::RefCell::new(lines_cache),
            th,
            plan,
            last_positive: Default::default(),
            fits_done: Default::default(),
            shape_anchor: Default::default(),
            gram_memo: Default::default(),
        }
    }

    /// Candidate families (with lines in the region) from the first peak list, its
    /// peaks up to `peak_hi_kev`.
    fn first_candidates(&self, peaks0: &[Peak], peak_hi_kev: f64) -> Vec<(usize, Family)> {
        let cal = self.region.calibration;
        let peaks: Vec<f64> = peaks0
            .iter()
            .map(|p| cal.energy_kev(p.channel))
            .filter(|e| *e >= self.lo_kev() && *e <= peak_hi_kev)
            .collect();
        let mut fams = Vec::new();
        propose_from(self, &peaks, peak_hi_kev, &mut fams);
        fams
    }
}

/// Identify and quantify: the body of [`super::analyze`].
pub fn run(spectrum: &Spectrum, opts: &XrfOptions) -> Result<XrfAnalysis> {
    let th = XrfThresholds::default();
    let mut p = prepare(spectrum, opts, &th)?;
    let peaks0 = std::mem::take(&mut p.peaks0);
    let peak_hi_kev = p.peak_hi_kev;
    let mut work = Work::new(
        spectrum.counts_slice(),
        p,
        LinesCache::default(),
        Plan::FULL,
        th,
    );
    let fams = work.first_candidates(&peaks0, peak_hi_kev);
    identify_loop(&mut work, fams, spectrum, opts)
}

/// The quick analysis (body of [`super::analyze_quick`]): channels summed into bins of
/// at least 30 eV, the fit ending after the last fluorescence peak, below the tube's
/// scattered lines (`quick_range`; peaks above still propose their families), the
/// line shape as estimated (no refinement), continuum corrections on 2-keV knots, family
/// templates from the instrument's library (drawn once per set-up in the generic
/// starting matrix, see [`library`]), one loose and a few strict pruning
/// rounds, one primary-only FP quantification; no matrix-specific line ratios.
pub fn run_quick(spectrum: &Spectrum, opts: &XrfOptions) -> Result<XrfAnalysis> {
    let file = spectrum;
    let th = XrfThresholds::default();
    let binned = binned_channels(spectrum, th.quick_bin_kev);
    let spectrum = binned.as_ref().unwrap_or(spectrum);
    let mut p = prepare_with(spectrum, opts, &Plan::TRIAGE, &th)?;
    let unquantised = p.region.calibration;
    p.region = library::quantised(p.region);
    let key = library::Key::new(&p.region, &p.exc);
    let peaks0 = std::mem::take(&mut p.peaks0);
    // peaks above the quick range still propose the families they belong to
    let peak_hi_kev = p.peak_hi_kev;
    let mut work = Work::new(
        spectrum.counts_slice(),
        p,
        library::take(&key),
        Plan::TRIAGE,
        th,
    );
    let fams = work.first_candidates(&peaks0, peak_hi_kev);
    let result = quick_loop(&mut work, fams, spectrum);
    let used = work.region.calibration;
    // the library's FP tables serve the set-up of its key: a scan whose air path was
    // measured leaves tables of another set-up
    let measured_path = work.exc.basis.air_path_mm.is_some();
    let mut cache = work.lines_cache.into_inner();
    if measured_path {
        cache.fp = PrimaryCache::default();
    }
    library::put(key, cache);
    let mut a = result?;
    if binned.is_some() {
        // report on the file's channel scale: its gain, its offset moved by what the
        // library grid moved the bins' offset, the fitted range in file channels
        if let Some(c) = file.axis.calibration() {
            let m = quick_bin_factor(c.gain_kev, th.quick_bin_kev);
            a.calibration.offset_kev = c.offset_kev + (used.offset_kev - unquantised.offset_kev);
            a.calibration.gain_kev = c.gain_kev;
            a.fit_channels = (a.fit_channels.0 * m, a.fit_channels.1 * m + m - 1);
        }
    }
    Ok(a)
}

fn quick_loop(
    work: &mut Work,
    mut fams: Vec<(usize, Family)>,
    spectrum: &Spectrum,
) -> Result<XrfAnalysis> {
    let fail = || Error::Numerical("XRF joint fit failed".into());
    let (comps, fit) = fit_families(work, &fams, None).ok_or_else(fail)?;
    let pile = strong_lines(work, &comps, &fit);
    fams = surviving(work, &comps, &fit, false);
    // the strongest lines get a free tail, as in the full analysis: without the refined
    // line shape, what the Fe K tail leaves would otherwise be fitted as Tb or Eu L lines
    work.free_tail = strongest_families(&comps, &fit, 4);
    work.free_l = dominant_l_families(work, &comps, &fit);
    // what the first fit held and its lines confirm: a rare earth the free tails of the
    // next fit absorb (La L under the Fe K tail) is still a family the quick analysis
    // leaves undecided
    let mut held = confirmed_rare_earths(work, &comps, &fit);
    let buried = buried_families(work, &comps, &fit);
    // a buried family's fit-1 amplitude is the dominant line's misfit, not a strong
    // family's
    work.free_tail.retain(|f| !buried.contains(f));
    for b in buried {
        if !fams.contains(&b) {
            fams.push(b);
        }
    }
    let (mut comps, mut fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    let rejected = prune(work, &mut fams, &mut comps, &mut fit, &pile, 3)?;
    held.extend(rejected);
    // an alloy shows none of the rock-forming elements every ore, sand and ceramic has
    let lithophile = fams
        .iter()
        .any(|&(z, _)| element(z).is_some_and(|d| LITHOPHILE.contains(&d.symbol)));
    let model = if lithophile {
        MatrixModel::Oxides
    } else {
        MatrixModel::Metal
    };
    let quant = quant_families(work, &comps, &fit);
    if work.plan.air_path_from_argon {
        work.measure_air_path(&comps, &fit, &quant);
    }
    let q = quantify_fit(work, &quant, model, false);
    let mut a = report(work, &comps, &fit, &quant, &q, spectrum);
    a.unconfirmed = unconfirmed(work, &held, &comps, &fit, &q, &a);
    if !a.excitation_basis.quantified {
        // electron excitation: no weight fraction (see `ExcitationInfo::qualify`)
        a.unconfirmed.iter_mut().for_each(|u| u.wt_pct = f64::NAN);
    }
    Ok(a)
}

fn identify_loop(
    work: &mut Work,
    mut fams: Vec<(usize, Family)>,
    spectrum: &Spectrum,
    opts: &XrfOptions,
) -> Result<XrfAnalysis> {
    let fail = || Error::Numerical("XRF joint fit failed".into());
    // 0: line shape from a fit with every candidate; each pass moves the resolution by
    // at most ±12 %, so repeat while it still runs into the edge of that grid (a first
    // estimate from unresolved L multiplets can be 30 % too broad)
    refine_shape_converged(work, &fams, &[]);
    refine_gain(work, &fams, &[]);
    // 1: all candidates, loose pruning by significance
    let (comps, fit) = fit_families(work, &fams, None).ok_or_else(fail)?;
    fams = surviving(work, &comps, &fit, false);
    // 2: continuum under the fitted lines, matrix estimate, pile-up, line tail
    let (comps, fit) = fit_families(work, &fams, None).ok_or_else(fail)?;
    restrip_background(work, &comps, &fit);
    let (comps, fit) = fit_families(work, &fams, None).ok_or_else(fail)?;
    let quant = quant_families(work, &comps, &fit);
    let q = quantify_fit(work, &quant, MatrixModel::Oxides, false);
    work.set_matrix(&q.mixture);
    let pile = strong_lines(work, &comps, &fit);
    refine_shape_near(work, &fams, &pile);
    work.free_tail = strongest_families(&comps, &fit, 4);
    work.free_l = dominant_l_families(work, &comps, &fit);
    // 3: what the model leaves unexplained, with the strong lines' long tails and steps
    // where the data show them
    let (_, mut fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    choose_long_tail(work, &fams, &pile, &mut fit);
    let extra = residual_peaks(work, &fit.model, work.th.residual_peak_sigma);
    propose(work, &extra, &mut fams);
    // 4: strict pruning until stable
    let (mut comps, mut fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    prune(work, &mut fams, &mut comps, &mut fit, &pile, 8)?;
    // 5: the air path on the Ar K lines the pruning kept, matrix model, quantify,
    // rebuild templates in the estimated matrix, refit
    let quant = quant_families(work, &comps, &fit);
    if work.plan.air_path_from_argon {
        work.measure_air_path(&comps, &fit, &quant);
    }
    let (model_kind, q) = choose_matrix(work, &comps, &fit, &quant, opts);
    let pile = strong_lines(work, &comps, &fit);
    // matrix-dependent line ratios only where they describe the data better (a thin
    // or unknown sample keeps the generic ratios): model selection by χ²
    let before = (
        work.matrix.clone(),
        std::mem::take(&mut work.fluor),
        fit.chi2,
        work.lines_cache.get_mut().take_matrix_part(),
    );
    work.set_matrix(&q.mixture);
    let (c2, f2) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    if f2.chi2 <= before.2 {
        (comps, fit) = (c2, f2);
    } else {
        work.matrix = before.0;
        work.fluor = before.1;
        work.lines_cache.get_mut().restore_matrix_part(before.3);
        (comps, fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    }
    prune(work, &mut fams, &mut comps, &mut fit, &pile, 4)?;
    let quant = quant_families(work, &comps, &fit);
    let q = quantify_fit(work, &quant, model_kind, true);
    Ok(report(work, &comps, &fit, &quant, &q, spectrum))
}

#[cfg(test)]
mod tests {
    use super::super::excitation::{mono, tube_info};
    use super::super::physics::{DetectorEfficiency, Tube};
    use super::*;

    /// The quick analysis's bin width (keV).
    fn bin() -> f64 {
        XrfThresholds::default().quick_bin_kev
    }

    #[test]
    fn binned_channels_sum_counts_at_the_bin_centre_energies() {
        let cal = crate::Calibration {
            offset_kev: -0.02,
            gain_kev: 0.01,
            quad_kev: 1e-7,
        };
        let counts: Vec<f64> = (0..4097).map(|i| (i % 7) as f64).collect();
        let s = Spectrum {
            counts: counts.clone().into(),
            axis: crate::spectrum::Axis::Energy(cal),
            meta: Default::default(),
        };
        let b = binned_channels(&s, bin()).expect("10-eV channels are binned");
        let bc = *b.axis.calibration().unwrap();
        assert_eq!(
            b.len(),
            1365,
            "10-eV channels in threes, the trailing two dropped"
        );
        for k in [0usize, 1, 700, 1364] {
            let (c0, c1, c2) = (3 * k, 3 * k + 1, 3 * k + 2);
            assert_eq!(b.counts[k], counts[c0] + counts[c1] + counts[c2]);
            let mid = [c0, c1, c2]
                .iter()
                .map(|&c| cal.energy_kev(c as f64))
                .sum::<f64>()
                / 3.0;
            assert!((bc.energy_kev(k as f64) - mid).abs() < 1e-12, "channel {k}");
        }
        assert_eq!(quick_bin_factor(0.005, bin()), 6);
        assert_eq!(quick_bin_factor(0.015, bin()), 2);
        // 30-eV channels are left alone
        let coarse = Spectrum {
            axis: crate::spectrum::Axis::Energy(crate::Calibration {
                gain_kev: 0.03,
                ..cal
            }),
            ..s
        };
        assert!(binned_channels(&coarse, bin()).is_none());
    }

    /// The quick analysis fits 10-eV channels in threes but reports on the file's scale:
    /// its gain, and the fitted range in file channels.
    #[test]
    fn quick_analysis_reports_calibration_and_range_in_file_channels() {
        use crate::tables::materials::Commodity;
        let mut scan = super::super::synth::generate(Commodity::IronOre, None, 0.0, &[], 5)
            .expect("synthetic scan");
        let file_cal = *scan.spectrum.axis.calibration().unwrap();
        if quick_bin_factor(file_cal.gain_kev, bin()) < 2 {
            // make it a 10-eV spectrum: split each channel in two halves
            let c: Vec<f64> = scan
                .spectrum
                .counts_slice()
                .iter()
                .flat_map(|v| [0.5 * v, 0.5 * v])
                .collect();
            scan.spectrum = Spectrum {
                counts: c.into(),
                axis: crate::spectrum::Axis::Energy(crate::Calibration {
                    offset_kev: file_cal.offset_kev - 0.25 * file_cal.gain_kev,
                    gain_kev: 0.5 * file_cal.gain_kev,
                    quad_kev: 0.0,
                }),
                meta: scan.spectrum.meta.clone(),
            };
        }
        let cal = *scan.spectrum.axis.calibration().unwrap();
        assert!(
            quick_bin_factor(cal.gain_kev, bin()) >= 2,
            "gain {}",
            cal.gain_kev
        );
        let q = run_quick(&scan.spectrum, &XrfOptions::default()).unwrap();
        let full = run(&scan.spectrum, &XrfOptions::default()).unwrap();
        assert_eq!(q.calibration.gain_kev, cal.gain_kev);
        assert!((q.calibration.offset_kev - cal.offset_kev).abs() < cal.gain_kev * 2.0);
        // both fit from 1.2 keV up: the same first channel within one bin
        let m = quick_bin_factor(cal.gain_kev, bin());
        assert!(
            q.fit_channels.0.abs_diff(full.fit_channels.0) < m,
            "{:?} {:?}",
            q.fit_channels,
            full.fit_channels
        );
        // the quick fit of an iron ore ends at the foot of the Rh Kα Compton peak,
        // above Sr, Y and Zr K, before the tube's scattered K lines and the pile-up
        // sums beyond them
        assert!(q.fit_channels.1 < scan.spectrum.len());
        assert!(q.fit_channels.1 <= full.fit_channels.1 + m);
        let end_kev = cal.energy_kev(q.fit_channels.1 as f64);
        assert!((17.8..19.0).contains(&end_kev), "{end_kev} keV");
    }

    /// SNIP cut short above a channel gives the same continuum below it, bit for bit,
    /// as SNIP over the whole spectrum.
    #[test]
    fn snip_cut_short_is_exact_below_its_end() {
        use crate::tables::materials::Commodity;
        let scan = super::super::synth::generate(Commodity::Zirconium, None, 0.0, &[], 3)
            .expect("synthetic scan");
        let counts = scan.spectrum.counts_slice().to_vec();
        let cal = *scan.spectrum.axis.calibration().unwrap();
        let whole = snip_continuum(counts.clone(), &cal);
        for end in [200, 700, 1500] {
            let cut = snip_continuum_below(counts.clone(), &cal, end);
            assert_eq!(cut[..end], whole[..end], "end {end}");
        }
        // near the spectrum's end, the whole spectrum is stripped
        let n = counts.len();
        assert_eq!(snip_continuum_below(counts.clone(), &cal, n - 10), whole);
    }

    /// The quick analysis's element list leaves gold out (see [`NOT_SCREENED`]): it
    /// never reports it, and the Au L lines it does not fit are not taken for a rare
    /// earth (Au Lα 9.71 keV lies among the Lγ lines of Yb and Lu); the full analysis
    /// finds the gold.
    #[test]
    fn the_quick_analysis_leaves_gold_out_without_taking_it_for_a_rare_earth() {
        use crate::tables::materials::{draw_sample, Commodity};
        use rand::SeedableRng;
        assert!(!screening_element(79) && screening_element(26) && screening_element(66));
        let mut truth = draw_sample(Commodity::IronOre, None, 0.0, &[], 7).unwrap();
        for e in &mut truth.elements {
            e.1 *= 0.98;
        }
        truth.elements.push(("Au".into(), 2.0));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let opts = super::super::synth::SynthOptions::draw(&mut rng);
        let spectrum = super::super::synth::render(&truth, &opts, &mut rng);
        let q = run_quick(&spectrum, &XrfOptions::default()).unwrap();
        assert!(q.element("Au").is_none());
        let rare: Vec<&str> = q
            .elements
            .iter()
            .map(|e| e.symbol.as_str())
            .filter(|s| LOD_ELEMENTS.contains(s))
            .collect();
        assert!(rare.is_empty(), "quick analysis reports {rare:?}");
        let full = run(&spectrum, &XrfOptions::default()).unwrap();
        let au = full
            .element("Au")
            .expect("the full analysis finds Au")
            .wt_pct;
        assert!(au > 0.5, "Au {au} wt %");
    }

    /// The quick fit ends at the foot of the Compton peak of the lowest tube line above
    /// the last fluorescence peak of at least `quick_end_min_sigma`: tube lines and
    /// pile-up sums do not count, weaker peaks above do not move it. With no tube line
    /// above, it ends `quick_end_margin_kev` above that peak, rounded up to a
    /// `quick_end_step_kev` step, never past the region.
    #[test]
    fn the_quick_range_ends_below_the_scattered_tube_lines() {
        let cal = crate::Calibration::linear(0.0, 0.03).unwrap();
        let region = Region {
            calibration: cal,
            detector: Detector::default(),
            first: 40,
            len: 1300,
            tail: 2,
        };
        let peak = |kev: f64, significance: f64, area: f64| Peak {
            channel: cal.channel(kev),
            height: 1.0,
            area,
            significance,
            fwhm_channels: 5.0,
        };
        let end = |r: Region| cal.energy_kev((r.first + r.len - 1) as f64);
        let rh = tube_info(&Tube::rh(50.0), DetectorEfficiency::default());
        // Fe Kα, its sum with itself and with Rh Kα, Rh Kα and its Compton peak, and a
        // weak peak at 30 keV: the fit ends at 0.92 × 20.07 − 0.3 keV
        let ore = [
            peak(6.4, 500.0, 1e6),
            peak(12.8, 8.0, 1e3),
            peak(20.2, 50.0, 5e4),
            peak(19.4, 40.0, 4e4),
            peak(26.6, 7.0, 500.0),
            peak(30.0, 4.0, 100.0),
        ];
        let r = quick_range(region, &ore, &rh, &XrfThresholds::default());
        assert!((end(r) - 18.16).abs() < 0.03, "{}", end(r));
        // a strong Zr Kβ line at 17.67 keV: at least 0.8 keV above it
        let zr = [peak(15.75, 900.0, 1e6), peak(17.67, 300.0, 2e5)];
        assert!(
            (end(quick_range(region, &zr, &rh, &XrfThresholds::default())) - 18.5).abs() < 0.03
        );
        // a La Kα peak at 33.4 keV (no pair of strong lines sums to it), above the tube
        // lines: 33.4 + 1.5 → 36 keV
        let la = [peak(4.65, 300.0, 1e5), peak(33.4, 20.0, 3e3)];
        assert!(
            (end(quick_range(region, &la, &rh, &XrfThresholds::default())) - 36.0).abs() < 0.03
        );
        // a 16-keV monochromatic beam, its scatter peak seen: the foot of its Compton
        // peak, 0.92 × 16 − 0.3 keV
        let beam = mono(16.0, DetectorEfficiency::default());
        let r = quick_range(
            region,
            &[peak(6.4, 500.0, 1e6), peak(16.0, 9.0, 1e3)],
            &beam,
            &XrfThresholds::default(),
        );
        assert!((end(r) - 14.42).abs() < 0.03, "{}", end(r));
        assert_eq!(
            quick_range(
                region,
                &[peak(39.0, 10.0, 1e3)],
                &rh,
                &XrfThresholds::default()
            )
            .len,
            1300
        );
        assert_eq!(
            quick_range(region, &[], &rh, &XrfThresholds::default()).len,
            1300
        );
    }
}
