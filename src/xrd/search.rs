//! Search-match: which library phases explain a measured pattern, and how much of each.
//!
//! Works on d-spacings through [`Geometry`], so Cu/Co/Mo tubes and energy-dispersive
//! patterns use the same library. Steps (the strategy of Hanawalt-type search-match as
//! refined in HighScore/Match!, Degen et al., Powder Diffr. 29 (2014) S13):
//! 1. SNIP background (on low-count patterns clipped from counts averaged over a few
//!    channels, `SearchSettings::background_smoothing`), peak list, peak widths
//!    Γ² = W + U·tan²θ measured from the peaks (bounded to a plausible growth over the
//!    scan, `bounded_width`);
//! 2. every phase scored by a figure of merit (`score_at`) over the peak list; for
//!    the first phase at every mount geometry (zero shift and specimen displacement,
//!    `aligned_geometries`) that puts one of its strong lines on the target peak;
//! 3. iterative identification: the strongest peak not explained by the accepted phases
//!    picks its best candidates, each is refitted together with the accepted phases as
//!    whole-pattern profiles (non-negative linear scale factors, [`LinearFitter`]), the
//!    one that lowers χ² most is accepted when the drop is significant; stop when no
//!    significant residual peak is left;
//! 4. insignificant phases are pruned, zero shift and displacement refined; on
//!    low-count patterns (portable instruments) phases too weak for the peak list are
//!    searched on the whole profile (`profile_search`: matched-filter χ² drop against
//!    the residual, joint refit, own lines observed as integrated Poisson-significant
//!    intensity, a shift test against chance alignment, stricter for rare-earth
//!    phases) and rare-earth phases of one structure type are decided by the
//!    whole-profile χ²; phases whose own lines are not observed are dropped (a first
//!    phase too: noise gives no phase; on low-count patterns, or where its strongest
//!    lines sit unresolved on a host peak's shoulder, a phase of the peak list may
//!    show its lines by the profile evidence instead, `stands_on_profile`), and
//!    weight fractions follow from the scale factors, the profiles being per unit
//!    weight fraction (RIR method, Chung, J. Appl. Cryst. 7 (1974) 519). The
//!    thresholds are the fields of [`SearchSettings`].

use super::library::{Library, Phase};
use super::pattern::Geometry;
use super::peaks::{background, find_peaks, ObservedPeak};
use super::profile::{
    displacement_factor, kalpha2_of, lines, render, Instrument, Line, LineTable, Width, KA2_RATIO,
};
use crate::signal::linear::{LinearFitter, LinearOptions, Template};
use crate::spectrum::{Axis, Spectrum};
use crate::{Error, Result};
use std::collections::HashMap;

/// A pattern prepared for matching.
#[derive(Debug, Clone)]
pub struct Observed {
    /// Axis values (degrees 2θ or keV).
    pub xs: Vec<f64>,
    /// Counts.
    pub counts: Vec<f64>,
    /// SNIP background.
    pub background: Vec<f64>,
    /// Geometry.
    pub geometry: Geometry,
    /// Kα2 wavelength when the Kα1 wavelength is a known tube's.
    pub kalpha2: Option<f64>,
    /// Observed peaks, strongest first.
    pub peaks: Vec<ObservedPeak>,
    /// Variance of each channel (`noise_variance`).
    pub var: Vec<f64>,
    /// Measured scatter of the counts relative to Poisson (`overdispersion`); 1 for
    /// counting data.
    pub noise: f64,
    /// Measured width model.
    pub width: Width,
    /// Mean step (axis units).
    pub step: f64,
    /// Cached line lists.
    pub line_cache: LineCache,
    /// The search's thresholds.
    pub settings: SearchSettings,
}

/// Peaks and predicted lines count when this many σ above the noise (the default of
/// [`SearchSettings::significance`]; the refinement's own-line test uses it too).
pub(crate) const SIGNIFICANCE: f64 = 5.0;

/// The thresholds of the search, in one place. [`Default`] gives the values the
/// search was calibrated with (laboratory and portable patterns of the independent
/// corpus, the real patterns of `tests/xrd_real.rs`); no environment variable changes
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// Peaks and predicted lines count when this many σ above the noise.
    pub significance: f64,
    /// Counts scattered more widely than Poisson statistics allow (a φ above this,
    /// `overdispersion`) are not raw counts: their measured scatter sets the noise.
    pub overdispersed: f64,
    /// Largest ratio of the FWHM at the top of a Bragg–Brentano pattern's range to the
    /// FWHM at its bottom that the width model may take (`bounded_width`).
    pub max_width_ratio: f64,
    /// Largest zero shift searched: ± this (degrees 2θ for a mis-set goniometer zero,
    /// keV for an energy-dispersive detector's offset).
    pub zero_range: f64,
    /// Smallest figure of merit of a candidate phase for the peak-list search.
    pub min_fom: f64,
    /// The same for a rare-earth phase: a false rare-earth call is the costly error.
    pub min_fom_rare_earth: f64,
    /// Smallest position agreement ([`Score::position`]) of a rare-earth candidate.
    pub min_position_rare_earth: f64,
    /// A χ² drop is significant when it exceeds this multiple of m², the misfit of the
    /// accepted phases on their own peaks (`significant`, `model_misfit`).
    pub drop_misfit_factor: f64,
    /// ... and this fraction of the current χ².
    pub drop_fraction: f64,
    /// Peaks a phase found by the peak list must dominate to be reported.
    pub min_matched_peaks: usize,
    /// Share of a phase's expected lines that must be observed (`confirmed`,
    /// `profile_evidence`).
    pub observed_share: f64,
    /// The same for a rare-earth phase.
    pub observed_share_rare_earth: f64,
    /// Largest probability that a rare-earth phase's observed lines are a chance
    /// coincidence with the pattern's peaks (`confirmed`).
    pub chance_alpha: f64,
    /// Predicted height, in standard deviations of the counts, from which a line takes
    /// part in the chance test of `confirmed`.
    pub chance_sigma: f64,
    /// The strongest peak of a pattern below this Poisson significance marks low counts
    /// (portable instruments: a few hundred counts on the strongest peak, where lines of
    /// a few % of it do not stand out as peaks channel by channel): the profile search
    /// (`profile_search`) then runs. Laboratory patterns (thousands of counts and more
    /// on the strongest peak) are left to the peak list.
    pub low_count_sigma: f64,
    /// The matched-filter drop of a rare-earth phase found by the profile (or replacing
    /// another) must exceed this multiple of the largest drop its own profile gives
    /// displaced by a few FWHM (`by_chance_alignment`).
    pub null_ratio: f64,
    /// The same for a host (not rare-earth) phase found by the profile: a phase with
    /// many lines (feldspars, micas) otherwise joins wherever hosts not yet fitted leave
    /// misfit, and then takes the lines of the phases that are there.
    pub host_null_ratio: f64,
    /// Shifts (multiples of the FWHM at 40° 2θ or at the middle of an energy axis) at
    /// which `by_chance_alignment` takes the null drops.
    pub null_shifts: [f64; 4],
    /// Most phases `profile_search` adds.
    pub profile_max_added: usize,
    /// Most rounds of `profile_search`.
    pub profile_max_rounds: usize,
    /// Phases of `profile_search` refitted jointly per round, best matched-filter drops
    /// first.
    pub profile_candidates: usize,
    /// Integrated significance (σ of the summed counts) from which a line counts as
    /// observed by `profile_evidence`.
    pub line_sigma: f64,
    /// Rare-earth rivals of `best_rare_earth_rivals` whose geometry is refined, lowest
    /// χ² first.
    pub rivals_refined: usize,
    /// A channel discriminates a rare-earth phase from its rival (`discriminating_lines`)
    /// where the rival, and the other phases, put less than this share of the phase's
    /// own intensity there.
    pub discriminating_overlap: f64,
    /// ... and the phase's profile stands above this share of its peak (its far tails
    /// say nothing).
    pub discriminating_floor: f64,
    /// The local level of the residual under a discriminating line is taken from the
    /// channels within this many FWHM of it where no phase predicts intensity.
    pub discriminating_flank: f64,
    /// On a low-count pattern the SNIP background is clipped from the counts averaged
    /// over ± this many channels (a moving average; 2 = ± 0.1° at a portable
    /// instrument's 0.05° steps, under half its FWHM): clipped from the raw counts it
    /// follows the minima of the Poisson noise and runs one to two standard deviations
    /// below the mean background, and every candidate's profile then finds that offset
    /// as intensity (Morháč et al., Nucl. Instrum. Methods A401 (1997) 113, smooth
    /// before clipping).
    pub background_smoothing: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            significance: SIGNIFICANCE,
            overdispersed: 1.5,
            max_width_ratio: 2.0,
            zero_range: 0.3,
            min_fom: 0.6,
            min_fom_rare_earth: 0.78,
            min_position_rare_earth: 0.7,
            drop_misfit_factor: 25.0,
            drop_fraction: 0.005,
            min_matched_peaks: 3,
            observed_share: 0.5,
            observed_share_rare_earth: 0.6,
            chance_alpha: 1e-3,
            chance_sigma: 3.0,
            low_count_sigma: 40.0,
            null_ratio: 2.0,
            host_null_ratio: 1.5,
            null_shifts: [-4.0, -2.5, 2.5, 4.0],
            profile_max_added: 5,
            profile_max_rounds: 8,
            profile_candidates: 6,
            line_sigma: 3.0,
            rivals_refined: 3,
            discriminating_overlap: 0.25,
            discriminating_floor: 0.02,
            discriminating_flank: 2.0,
            background_smoothing: 2,
        }
    }
}

impl SearchSettings {
    /// Share of expected lines that must be observed for `phase`.
    fn observed_share(&self, phase: &Phase) -> f64 {
        if phase.rare_earth {
            self.observed_share_rare_earth
        } else {
            self.observed_share
        }
    }
}

impl Observed {
    /// Prepare a diffraction spectrum: axis, background, peaks, widths, with the
    /// default [`SearchSettings`].
    ///
    /// # Errors
    /// [`Error::Invalid`] when the spectrum is not a diffraction pattern or too short.
    pub fn new(spectrum: &Spectrum) -> Result<Self> {
        Self::with_settings(spectrum, SearchSettings::default())
    }

    /// [`Observed::new`] with the given thresholds.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the spectrum is not a diffraction pattern or too short.
    pub fn with_settings(spectrum: &Spectrum, settings: SearchSettings) -> Result<Self> {
        let counts = spectrum.counts_slice().to_vec();
        Spectrum::validate_counts(&counts)?;
        let (xs, geometry) = match &spectrum.axis {
            Axis::TwoTheta {
                two_theta_deg,
                wavelength_a,
            } => (
                two_theta_deg.clone(),
                Geometry::BraggBrentano {
                    wavelength_a: *wavelength_a,
                },
            ),
            Axis::EnergyDispersive { two_theta_deg, .. } => (
                spectrum.x_values(),
                Geometry::EnergyDispersive {
                    two_theta_deg: *two_theta_deg,
                },
            ),
            _ => {
                return Err(Error::Invalid {
                    what: "XRD pattern",
                    message: "the spectrum has an energy (XRF) axis, not 2θ or EDXRD".into(),
                })
            }
        };
        if xs.len() < 50 || xs.len() != counts.len() || xs.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::Invalid {
                what: "XRD pattern",
                message: format!(
                    "{} points; need ≥ 50 with a strictly increasing axis",
                    xs.len()
                ),
            });
        }
        let step = (xs[xs.len() - 1] - xs[0]) / (xs.len() - 1) as f64;
        let kalpha2 = match geometry {
            Geometry::BraggBrentano { wavelength_a } => kalpha2_of(wavelength_a),
            Geometry::EnergyDispersive { .. } => None,
        };
        // Clipping window ≈ 1.5° of 2θ or 3 keV: wider than any peak cluster of interest.
        let span = match geometry {
            Geometry::BraggBrentano { .. } => 1.5,
            Geometry::EnergyDispersive { .. } => 3.0,
        };
        let clip = (span / step).ceil() as usize;
        let hw = ((0.05 * span) / step).round().max(2.0) as usize;
        let (noise, var) = noise_variance(&counts, settings.overdispersed);
        let peaks_over = |bg: &[f64]| {
            let net: Vec<f64> = counts.iter().zip(bg).map(|(c, b)| c - b).collect();
            find_peaks(&xs, &net, &var, hw, settings.significance, 0.003)
        };
        let mut bg = background(&counts, clip);
        let mut peaks = peaks_over(&bg);
        // Low counts (`low_count_pattern`): the clip follows the minima of the noise and
        // runs a standard deviation or two below the mean counts; it is taken on the
        // counts averaged over ± `background_smoothing` channels instead.
        if low_count_pattern(noise, &peaks, &settings) {
            bg = background(&boxcar(&counts, settings.background_smoothing), clip);
            peaks = peaks_over(&bg);
        }
        let width = bounded_width(
            measure_width(&peaks, geometry, step),
            geometry,
            (xs[0], xs[xs.len() - 1]),
            settings.max_width_ratio,
        );
        Ok(Self {
            xs,
            counts,
            background: bg,
            geometry,
            kalpha2,
            peaks,
            var,
            noise,
            width,
            step,
            line_cache: LineCache::default(),
            settings,
        })
    }

    fn x_range(&self) -> (f64, f64) {
        (self.xs[0], self.xs[self.xs.len() - 1])
    }

    /// Index of the channel nearest `x`.
    fn channel(&self, x: f64) -> usize {
        let i = self.xs.partition_point(|&v| v < x);
        i.min(self.xs.len() - 1)
    }
}

/// A low-count pattern (portable instruments): counting data whose strongest peak
/// stands less than [`SearchSettings::low_count_sigma`] above the noise.
fn low_count_pattern(noise: f64, peaks: &[ObservedPeak], settings: &SearchSettings) -> bool {
    noise == 1.0
        && peaks
            .first()
            .is_some_and(|p| p.significance < settings.low_count_sigma)
}

/// Moving average of `y` over ± `hw` channels (fewer at the ends).
fn boxcar(y: &[f64], hw: usize) -> Vec<f64> {
    if hw == 0 {
        return y.to_vec();
    }
    let mut prefix = Vec::with_capacity(y.len() + 1);
    prefix.push(0.0);
    for &v in y {
        prefix.push(prefix[prefix.len() - 1] + v);
    }
    (0..y.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(hw), (i + hw + 1).min(y.len()));
            (prefix[b] - prefix[a]) / (b - a) as f64
        })
        .collect()
}

/// Robust variance (1.4826 · median |x|)² of values centred on zero.
fn robust_var(mut x: Vec<f64>) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let mid = x.len() / 2;
    let median = x
        .select_nth_unstable_by(mid, |a, b| a.abs().total_cmp(&b.abs()))
        .1
        .abs();
    (1.4826 * median).powi(2)
}

/// Scatter of the counts about their neighbours relative to Poisson: φ = var z with
/// z = (cᵢ − (cᵢ₋₁ + cᵢ₊₁)/2) / √(1.5 cᵢ), robustly estimated; 1 for counting data
/// (peaks wider than a few steps barely contribute and the median ignores them).
fn overdispersion(counts: &[f64]) -> f64 {
    robust_var(
        counts
            .windows(3)
            .map(|w| (w[1] - 0.5 * (w[0] + w[2])) / (1.5 * w[1].max(1.0)).sqrt())
            .collect(),
    )
}

/// The noise of a pattern: φ (`overdispersion`) and the variance of each channel.
/// Counting data (φ ≤ `overdispersed`, [`SearchSettings::overdispersed`]): Poisson, max(c, 1). Otherwise the counts
/// are not raw counts (processed, rescaled, or random numbers): the variance is the
/// measured scatter σ² = var(cᵢ − (cᵢ₋₁ + cᵢ₊₁)/2)/1.5, or the counts where larger.
/// Uniform random counts then hold no significant peak.
fn noise_variance(counts: &[f64], overdispersed: f64) -> (f64, Vec<f64>) {
    let phi = if counts.len() < 3 {
        1.0
    } else {
        overdispersion(counts)
    };
    if phi <= overdispersed {
        return (1.0, counts.iter().map(|c| c.max(1.0)).collect());
    }
    let sigma2 = robust_var(
        counts
            .windows(3)
            .map(|w| w[1] - 0.5 * (w[0] + w[2]))
            .collect(),
    ) / 1.5;
    (phi, counts.iter().map(|c| c.max(sigma2).max(1.0)).collect())
}

/// Γ² = W + U·t² from the widths of the stronger peaks (t = tanθ or E), robust to
/// unresolved doublets (widths above twice the median are dropped).
fn measure_width(peaks: &[ObservedPeak], geometry: Geometry, step: f64) -> Width {
    let tmax = peaks.first().map_or(0.0, |p| p.height);
    let t_of = |x: f64| match geometry {
        Geometry::BraggBrentano { .. } => (0.5 * x).to_radians().tan(),
        Geometry::EnergyDispersive { .. } => x,
    };
    let mut pts: Vec<(f64, f64)> = peaks
        .iter()
        .filter(|p| p.height > 0.05 * tmax && p.fwhm.is_finite() && p.fwhm > step)
        .take(30)
        .map(|p| (t_of(p.x), p.fwhm))
        .collect();
    let default = 3.0 * step;
    if pts.is_empty() {
        return Width::Empirical {
            w: default * default,
            u: 0.0,
            eta: 0.5,
        };
    }
    let mut ws: Vec<f64> = pts.iter().map(|p| p.1).collect();
    ws.sort_by(f64::total_cmp);
    let median = ws[ws.len() / 2];
    pts.retain(|p| p.1 < 1.6 * median);
    // Least squares of Γ² on t² (two parameters), falling back to a constant.
    let n = pts.len() as f64;
    let (sx, sy) = pts
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 * p.0, a.1 + p.1 * p.1));
    let (sxx, sxy) = pts.iter().fold((0.0, 0.0), |a, p| {
        let x = p.0 * p.0;
        (a.0 + x * x, a.1 + x * p.1 * p.1)
    });
    let den = n * sxx - sx * sx;
    let (mut w, mut u) = (median * median, 0.0);
    if pts.len() >= 4 && den.abs() > 1e-12 {
        let u_fit = (n * sxy - sx * sy) / den;
        let w_fit = (sy - u_fit * sx) / n;
        if u_fit >= 0.0 && w_fit > 0.0 {
            (w, u) = (w_fit, u_fit);
        }
    }
    Width::Empirical { w, u, eta: 0.5 }
}

/// `width` with its angle term u limited so that the FWHM grows at most `max_ratio`
/// times ([`SearchSettings::max_width_ratio`]) over the axis range `(lo, hi)`
/// (Bragg–Brentano only).
/// Instrumental Caglioti widths and size/strain broadening grow by less over the few
/// tens of degrees a scan covers; a steeper width model is the signature of overlapped
/// peaks measured as one (a biased width measurement) or of a single phase's profile
/// widening to absorb lines of phases not yet fitted, and it then hides those lines.
fn bounded_width(width: Width, geometry: Geometry, (lo, hi): (f64, f64), max_ratio: f64) -> Width {
    let (Width::Empirical { w, u, eta }, Geometry::BraggBrentano { .. }) = (width, geometry) else {
        return width;
    };
    let t2 = |x: f64| (0.5 * x).to_radians().tan().powi(2);
    let r2 = max_ratio * max_ratio;
    let den = t2(hi) - r2 * t2(lo);
    if den <= 0.0 {
        return width;
    }
    Width::Empirical {
        w,
        u: u.min((r2 - 1.0) * w / den),
        eta,
    }
}

/// Height per unit area of a pseudo-Voigt of FWHM Γ and mixing η.
pub(crate) fn pv_height_per_area(fwhm: f64, eta: f64) -> f64 {
    eta * 2.0 / (std::f64::consts::PI * fwhm) + (1.0 - eta) * 0.939_437 / fwhm
}

/// The figure of merit of one phase against the peak list.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Score {
    /// Overall FOM 0..1: 0.5·observed fraction + 0.25·position + 0.25·intensity.
    pub fom: f64,
    /// Fraction of the lines expected above the detection limit that are observed.
    pub observed_fraction: f64,
    /// Position agreement 1 − mean(|Δx|/tolerance), weighted by predicted height.
    pub position: f64,
    /// Intensity agreement exp(−mean |ln(ratio/median ratio)|).
    pub intensity: f64,
    /// Zero shift used.
    pub zero_shift: f64,
    /// Specimen-displacement coefficient used (degrees 2θ, [`Instrument::displacement`]).
    pub displacement: f64,
    /// Lines expected observable.
    pub expected: usize,
}

/// Kα1 lines of a phase, lines closer than 0.3 Γ merged, at the instrument's zero
/// shift and specimen displacement. The unshifted list is computed once per phase and
/// width model (cached in [`Observed`]): shifts only move it.
fn merged_lines(phase: &Phase, obs: &Observed, inst: &Instrument) -> Vec<Line> {
    let key = match inst.width {
        Width::Empirical { w, u, eta } => Some((
            phase.name.clone(),
            [w.to_bits(), u.to_bits(), eta.to_bits()],
        )),
        Width::Tch { .. } => None,
    };
    let unshifted = Instrument {
        zero_shift: 0.0,
        displacement: 0.0,
        ..*inst
    };
    let base = match key {
        Some(key) => {
            let cached = obs
                .line_cache
                .0
                .lock()
                .ok()
                .and_then(|c| c.get(&key).cloned());
            match cached {
                Some(b) => b,
                None => {
                    let b = std::sync::Arc::new(merged_lines_uncached(phase, obs, &unshifted));
                    if let Ok(mut c) = obs.line_cache.0.lock() {
                        c.insert(key, b.clone());
                    }
                    b
                }
            }
        }
        None => std::sync::Arc::new(merged_lines_uncached(phase, obs, &unshifted)),
    };
    let (lo, hi) = obs.x_range();
    base.iter()
        .map(|(l, factor)| Line {
            x: l.x + inst.shift_at(*factor),
            area: l.area,
        })
        .filter(|l| l.x >= lo && l.x <= hi)
        .collect()
}

/// Merged unshifted lines, each with its [`displacement_factor`].
fn merged_lines_uncached(phase: &Phase, obs: &Observed, inst: &Instrument) -> Vec<(Line, f64)> {
    let single = Instrument {
        kalpha2: None,
        ..*inst
    };
    let (lo, hi) = obs.x_range();
    let mut ls = lines(&phase.reflections, &single, (lo - 1.0, hi + 1.0), 1.0, None);
    ls.sort_by(|a, b| a.x.total_cmp(&b.x));
    let mut out: Vec<Line> = Vec::with_capacity(ls.len());
    for l in ls {
        let (fwhm, _) = inst.width.fwhm_eta(inst.geometry, l.x);
        match out.last_mut() {
            Some(p) if l.x - p.x < 0.3 * fwhm => {
                let a = p.area + l.area;
                p.x = (p.x * p.area + l.x * l.area) / a.max(1e-300);
                p.area = a;
            }
            _ => out.push(l),
        }
    }
    out.into_iter()
        .map(|l| (l, displacement_factor(inst.geometry, l.x)))
        .collect()
}

/// Cache key: phase name and the bit patterns of the Caglioti widths.
type LineKey = (String, [u64; 3]);

/// Per-analysis cache of unshifted line lists: (phase name, width bits) → lines, each
/// with its [`displacement_factor`] (cosθ, tabulated once: every trial geometry of the
/// search moves the same lines).
#[derive(Default)]
pub struct LineCache(std::sync::Mutex<HashMap<LineKey, LineList>>);

/// Unshifted lines with their displacement factors, shared between cache and callers.
type LineList = std::sync::Arc<Vec<(Line, f64)>>;

impl Clone for LineCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for LineCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineCache")
    }
}

/// Score `phase` against the observed peaks (sorted by position in `by_x`) at the
/// instrument's geometry.
fn score_at(phase: &Phase, obs: &Observed, by_x: &[ObservedPeak], inst: &Instrument) -> Score {
    let ls = merged_lines(phase, obs, inst);
    // Predicted height per unit scale of each line, strongest 25 above 3 % kept.
    let mut strong: Vec<(f64, f64, f64)> = ls
        .iter()
        .map(|l| {
            let (fwhm, eta) = inst.width.fwhm_eta(inst.geometry, l.x);
            (l.x, l.area * pv_height_per_area(fwhm, eta) * obs.step, fwhm)
        })
        .collect();
    let hmax = strong.iter().map(|s| s.1).fold(0.0, f64::max);
    if hmax <= 0.0 {
        return Score::default();
    }
    strong.retain(|s| s.1 >= 0.03 * hmax);
    strong.sort_by(|a, b| b.1.total_cmp(&a.1));
    strong.truncate(25);
    // Match each to the nearest observed peak within tolerance.
    let matches: Vec<Option<(f64, f64)>> = strong
        .iter()
        .map(|&(x, hp, fwhm)| {
            let tol = match_tolerance(obs, fwhm);
            nearest(by_x, x)
                .filter(|p| (p.x - x).abs() <= tol)
                .map(|p| (p.height / hp, (p.x - x).abs() / tol))
        })
        .collect();
    let mut ratios: Vec<f64> = matches.iter().take(6).flatten().map(|m| m.0).collect();
    if ratios.is_empty() {
        return Score::default();
    }
    ratios.sort_by(f64::total_cmp);
    // Scale from the lower side of the ratios: overlaps only ever add intensity.
    let k = ratios[(ratios.len() - 1) * 3 / 10];
    let (mut expected, mut observed, mut hidden, mut pos_sum, mut pos_w) =
        (0usize, 0usize, 0usize, 0.0, 0.0);
    let mut log_dev = Vec::new();
    for (&(x, hp, _), m) in strong.iter().zip(&matches) {
        let ch = obs.channel(x);
        let limit = obs.settings.significance * obs.var[ch].sqrt();
        if k * hp < limit {
            continue;
        }
        expected += 1;
        if let Some((r, pe)) = m {
            observed += 1;
            // Stronger lines weigh more: weak ones are often pulled by overlaps.
            pos_sum += pe * hp;
            pos_w += hp;
            log_dev.push((r / k).ln().abs());
        } else if obs.counts[ch] - obs.background[ch] >= 0.7 * k * hp {
            // Hidden in the flank of a stronger peak: not contradicted, counts as seen.
            hidden += 1;
        }
    }
    if expected == 0 || observed == 0 {
        return Score::default();
    }
    // Fewer than 3 expected lines is weak evidence: count as if 3 were expected.
    let observed_fraction = (observed + hidden) as f64 / expected.max(3) as f64;
    let position = 1.0 - pos_sum / pos_w.max(1e-300);
    let intensity = (-log_dev.iter().sum::<f64>() / log_dev.len() as f64).exp();
    Score {
        fom: 0.5 * observed_fraction + 0.25 * position + 0.25 * intensity,
        observed_fraction,
        position,
        intensity,
        zero_shift: inst.zero_shift,
        displacement: inst.displacement,
        expected,
    }
}

/// Position tolerance of a line match: ¾ of the local FWHM, at least two steps and,
/// for angle-dispersive data, 0.08° (natural cells differ from the library's).
fn match_tolerance(obs: &Observed, fwhm: f64) -> f64 {
    let floor = match obs.geometry {
        Geometry::BraggBrentano { .. } => 0.08,
        Geometry::EnergyDispersive { .. } => 0.0,
    };
    (0.75 * fwhm).max(2.0 * obs.step).max(floor)
}

fn nearest(by_x: &[ObservedPeak], x: f64) -> Option<&ObservedPeak> {
    let i = by_x.partition_point(|p| p.x < x);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| by_x.get(j))
        .min_by(|a, b| (a.x - x).abs().total_cmp(&(b.x - x).abs()))
}

/// One accepted phase of an identification.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// Index into the library.
    pub index: usize,
    /// Scale factor (∝ weight fraction).
    pub amplitude: f64,
    /// Weight %, normalised over the accepted phases.
    pub wt_pct: f64,
    /// Figure of merit.
    pub score: Score,
    /// Observed peaks whose fitted intensity is mostly this phase's.
    pub matched_peaks: usize,
}

/// The result of [`identify`].
#[derive(Debug, Clone)]
pub struct Identification {
    /// Phases, largest weight fraction first.
    pub phases: Vec<Accepted>,
    /// Instrument as refined (zero shift, Kα2, widths).
    pub instrument: Instrument,
    /// Fitted model (background included).
    pub model: Vec<f64>,
    /// Weighted χ² of the final fit.
    pub chi2: f64,
}

impl Identification {
    /// (library index, scale) of every accepted phase but `index`: the model a phase's
    /// own evidence is judged against.
    fn scales_except(&self, index: usize) -> Vec<(usize, f64)> {
        self.phases
            .iter()
            .filter(|o| o.index != index)
            .map(|o| (o.index, o.amplitude))
            .collect()
    }
}

/// Templates [`Fitter`] keeps (a few MB at most) before it starts afresh.
const TEMPLATE_CACHE_LIMIT: usize = 512;

/// The bit patterns of every number of an instrument: the template cache's key.
type InstrumentKey = [u64; 12];

fn instrument_key(inst: &Instrument) -> InstrumentKey {
    let (g0, g1) = match inst.geometry {
        Geometry::BraggBrentano { wavelength_a } => (0, wavelength_a.to_bits()),
        Geometry::EnergyDispersive { two_theta_deg } => (1, two_theta_deg.to_bits()),
    };
    let (k1, k2) = inst
        .kalpha2
        .map_or((u64::MAX, u64::MAX), |(l, r)| (l.to_bits(), r.to_bits()));
    let (tag, w) = match inst.width {
        Width::Tch { u, v, w, x, y } => (0, [u, v, w, x, y]),
        Width::Empirical { w, u, eta } => (1, [w, u, eta, 0.0, 0.0]),
    };
    let w = w.map(f64::to_bits);
    [
        g0,
        g1,
        k1,
        k2,
        tag,
        w[0],
        w[1],
        w[2],
        w[3],
        w[4],
        inst.zero_shift.to_bits(),
        inst.displacement.to_bits(),
    ]
}

/// Fits of phase sets, with templates cached per instrument and phase.
struct Fitter<'a> {
    obs: &'a Observed,
    lib: &'a Library,
    inst: Instrument,
    cache: HashMap<(InstrumentKey, usize), Template>,
    /// Line tables per phase, for the tube of `inst` (rebuilt when the tube changes).
    tables: HashMap<usize, LineTable>,
}

struct FitResult {
    amplitudes: Vec<f64>,
    chi2: f64,
}

impl<'a> Fitter<'a> {
    fn new(obs: &'a Observed, lib: &'a Library, inst: Instrument) -> Self {
        Self {
            obs,
            lib,
            inst,
            cache: HashMap::new(),
            tables: HashMap::new(),
        }
    }

    /// Lines of phase `index` under `inst` on the pattern's range padded by 2 (axis
    /// units), per unit weight, from the phase's [`LineTable`] for the tube.
    fn lines(&mut self, index: usize, inst: &Instrument) -> Vec<Line> {
        let phase = &self.lib.phases[index];
        let table = self
            .tables
            .entry(index)
            .or_insert_with(|| LineTable::new(&phase.reflections, inst.geometry, inst.kalpha2));
        if !table.fits(inst) {
            *table = LineTable::new(&phase.reflections, inst.geometry, inst.kalpha2);
        }
        let (lo, hi) = self.obs.x_range();
        let pad = 2.0;
        table.lines(inst, (lo - pad, hi + pad), phase.weight_scale(), None)
    }

    /// Fits that follow use `inst`. Templates rendered for other instruments stay
    /// cached: the geometry and shape refinements try a variant and come back.
    fn set_instrument(&mut self, inst: Instrument) {
        self.inst = inst;
    }

    fn template(&mut self, index: usize) -> Template {
        let (obs, inst) = (self.obs, self.inst);
        if self.cache.len() >= TEMPLATE_CACHE_LIMIT {
            self.cache.clear();
        }
        let key = (instrument_key(&inst), index);
        if let Some(t) = self.cache.get(&key) {
            return t.clone();
        }
        let ls = self.lines(index, &inst);
        let t = render(&ls, &inst, &obs.xs, 6.0, 1e-4);
        self.cache.insert(key, t.clone());
        t
    }

    fn fit(&mut self, set: &[usize]) -> Option<FitResult> {
        let templates: Vec<Template> = set.iter().map(|&i| self.template(i)).collect();
        if templates.iter().any(|t| t.values.is_empty()) {
            return None;
        }
        let mut f = LinearFitter::new(self.obs.xs.len(), templates).ok()?;
        let fit = f
            .fit(
                &self.obs.counts,
                Some(&self.obs.background),
                &LinearOptions::default(),
            )
            .ok()?;
        // The fitter weighs by Poisson variance; data that are not counts take χ² on
        // their measured noise.
        let chi2 = if self.obs.noise == 1.0 {
            fit.chi2
        } else {
            let mut m = self.obs.background.clone();
            for (&i, &a) in set.iter().zip(&fit.amplitudes) {
                self.template(i).add_to(a, &mut m);
            }
            (0..m.len())
                .map(|i| (self.obs.counts[i] - m[i]).powi(2) / self.obs.var[i])
                .sum()
        };
        Some(FitResult {
            amplitudes: fit.amplitudes,
            chi2,
        })
    }

    fn model(&mut self, set: &[usize], amplitudes: &[f64]) -> Vec<f64> {
        let mut m = self.obs.background.clone();
        for (&i, &a) in set.iter().zip(amplitudes) {
            self.template(i).add_to(a, &mut m);
        }
        m
    }
}

/// χ² of the background alone.
fn chi2_background(obs: &Observed) -> f64 {
    obs.counts
        .iter()
        .zip(&obs.background)
        .zip(&obs.var)
        .map(|((c, b), v)| (c - b).powi(2) / v)
        .sum()
}

/// A χ² drop is significant when it exceeds [`SearchSettings::drop_misfit_factor`]·m²
/// (25) and [`SearchSettings::drop_fraction`] (0.5 %) of the current χ², m² being
/// the misfit of the accepted phases on their own peaks ([`model_misfit`]): systematic
/// misfit of real patterns (natural cells, shapes) must not admit phases.
fn significant(s: &SearchSettings, chi2_before: f64, chi2_after: f64, misfit2: f64) -> bool {
    let drop = chi2_before - chi2_after;
    drop > s.drop_misfit_factor * misfit2 && drop > s.drop_fraction * chi2_before
}

/// χ² per channel where the model has peaks (net model > 3σ), at least 1, from the
/// channels the model over-predicts (doubled): how well the accepted phases fit their
/// own lines, unaffected by peaks of phases not yet accepted.
fn model_misfit(obs: &Observed, model: &[f64]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (((c, m), b), &var) in obs
        .counts
        .iter()
        .zip(model)
        .zip(&obs.background)
        .zip(&obs.var)
    {
        if m - b > 3.0 * var.sqrt() {
            // Only over-prediction: phases not yet accepted can only add counts.
            sum += 2.0 * (c - m).min(0.0).powi(2) / var;
            n += 1;
        }
    }
    if n < 10 {
        1.0
    } else {
        (sum / n as f64).max(1.0)
    }
}

/// Identify the phases of `obs` from `lib`. When the phase that explained the strongest
/// peak fails on its own (its own lines are not observed), the search is run once more
/// without it: a short scan with few peaks can align a wrong phase first, and giving up
/// then would hide the phase that is there.
pub fn identify(obs: &Observed, lib: &Library) -> Identification {
    match identify_excluding(obs, lib, None) {
        (_, Some(failed)) => identify_excluding(obs, lib, Some(failed)).0,
        (id, None) => id,
    }
}

/// [`identify`] without library phase `excluded`; also returns the lone phase that
/// failed confirmation, when that emptied the result.
fn identify_excluding(
    obs: &Observed,
    lib: &Library,
    excluded: Option<usize>,
) -> (Identification, Option<usize>) {
    let mut by_x = obs.peaks.clone();
    by_x.sort_by(|a, b| a.x.total_cmp(&b.x));
    let base = Instrument {
        geometry: obs.geometry,
        kalpha2: None,
        width: obs.width,
        zero_shift: 0.0,
        displacement: 0.0,
    };
    let mut fitter = Fitter::new(obs, lib, base);
    let mut accepted: Vec<usize> = Vec::new();
    let mut scores: HashMap<usize, Score> = HashMap::new();
    let mut chi2 = chi2_background(obs);
    let mut amplitudes: Vec<f64> = Vec::new();
    let mut rejected_targets: Vec<f64> = Vec::new();
    for _round in 0..8 {
        let model = fitter.model(&accepted, &amplitudes);
        let residual: Vec<f64> = obs.counts.iter().zip(&model).map(|(c, m)| c - m).collect();
        let hw = (0.1 / obs.step).round().max(2.0) as usize;
        // Misfit of real patterns (lattice, shape) scales the noise: residual peaks
        // must stand out by SIGNIFICANCE·(χ²_red)^¼, and not be a small remainder on a
        // strongly modelled peak.
        let net_max = obs.peaks.first().map_or(0.0, |p| p.height);
        let misfit2 = model_misfit(obs, &model);
        let misfit = misfit2.powf(0.25);
        let targets: Vec<ObservedPeak> = find_peaks(
            &obs.xs,
            &residual,
            &obs.var,
            hw,
            obs.settings.significance * misfit,
            0.0,
        )
        .into_iter()
        .filter(|p| p.height > 0.004 * net_max)
        .filter(|p| model[p.channel] - obs.background[p.channel] < 2.0 * p.height)
        .filter(|p| {
            !rejected_targets
                .iter()
                .any(|&x| (x - p.x).abs() < 2.0 * obs.step)
        })
        .take(3)
        .collect();
        if targets.is_empty() {
            break;
        }
        let mut progress = false;
        for target in &targets {
            let step = try_explain(
                &mut fitter,
                obs,
                lib,
                &by_x,
                &accepted,
                excluded,
                target,
                chi2,
                misfit2,
            );
            match step {
                Some((index, score, fit, inst)) => {
                    fitter.set_instrument(inst);
                    accepted.push(index);
                    scores.insert(index, score);
                    chi2 = fit.chi2;
                    amplitudes = fit.amplitudes;
                    if accepted.len() == 1 {
                        refine_shape(&mut fitter, &accepted, &mut chi2, &mut amplitudes);
                    }
                    progress = true;
                    break;
                }
                None => rejected_targets.push(target.x),
            }
        }
        if !progress && targets.len() < 3 {
            break;
        }
    }
    // Prune phases whose removal costs no significant χ². The first phase, which
    // explained the strongest peak, stays.
    let anchor = accepted.first().copied();
    let mut pruned = true;
    while pruned && accepted.len() > 1 {
        pruned = false;
        let full = fitter.model(&accepted, &amplitudes);
        let misfit2 = model_misfit(obs, &full);
        for k in 1..accepted.len() {
            let mut without = accepted.clone();
            without.remove(k);
            if let Some(f) = fitter.fit(&without) {
                if !significant(&obs.settings, f.chi2, chi2, misfit2) {
                    accepted = without;
                    chi2 = f.chi2;
                    amplitudes = f.amplitudes;
                    pruned = true;
                    break;
                }
            }
        }
    }
    refine_geometry(&mut fitter, &accepted, &mut chi2, &mut amplitudes);
    // Phases too weak for the peak list (broad, low-count patterns) are searched on the
    // whole profile at the refined geometry.
    let low_counts = low_count_pattern(obs.noise, &obs.peaks, &obs.settings);
    let mut by_profile = if accepted.is_empty() || !low_counts {
        Vec::new()
    } else {
        profile_search(
            &mut fitter,
            obs,
            lib,
            excluded,
            &mut accepted,
            &mut amplitudes,
            &mut chi2,
        )
    };
    if low_counts {
        best_rare_earth_rivals(
            &mut fitter,
            lib,
            excluded,
            &mut accepted,
            &mut amplitudes,
            &mut chi2,
            &mut by_profile,
        );
    }
    // A phase that is the main contributor to fewer than 3 observed peaks, or whose
    // own strong lines are not observed, is not credible evidence (it only reshapes
    // other phases' peaks, or fits noise): drop and refit. On a low-count pattern a
    // phase of the peak list may stand instead on the evidence asked of the profile
    // search's phases (`stands_on_profile`): broad peaks of a few hundred counts hide
    // its weaker lines from the peak list. So may, on any pattern, a phase whose lines
    // are observed peaks but fewer than two of its three strongest (the others sit
    // unresolved on the shoulders of host peaks). The first phase is kept while others
    // lean on it, and dropped last when it fails alone.
    loop {
        let id = finish(
            &mut fitter,
            obs,
            accepted.clone(),
            amplitudes.clone(),
            scores.clone(),
            chi2,
        );
        let weak = id
            .phases
            .iter()
            .filter(|p| Some(p.index) != anchor)
            .filter(|p| {
                if by_profile.contains(&p.index) {
                    let others = id.scales_except(p.index);
                    return !profile_evidence(&mut fitter, obs, lib, p.index, p.amplitude, &others);
                }
                let matched = p.matched_peaks >= obs.settings.min_matched_peaks;
                let support = if matched {
                    confirmed(&lib.phases[p.index], p.amplitude, obs, &fitter.inst, &by_x)
                } else {
                    PeakSupport::Refused
                };
                let on_profile = low_counts || support == PeakSupport::StrongestUnresolved;
                !(support == PeakSupport::Confirmed
                    || (on_profile && stands_on_profile(&mut fitter, obs, lib, &id, p)))
            })
            .min_by_key(|p| p.matched_peaks);
        let Some(weak) = weak.filter(|_| accepted.len() > 1) else {
            // A lone phase needs its own lines observed (a short scan may hold only two
            // of them, so the matched-peak count is not asked of it).
            let lone_fails = id.phases.len() == 1
                && id.phases.iter().any(|p| {
                    confirmed(&lib.phases[p.index], p.amplitude, obs, &fitter.inst, &by_x)
                        != PeakSupport::Confirmed
                });
            if lone_fails {
                let failed = id.phases.first().map(|p| p.index);
                let empty = finish(
                    &mut fitter,
                    obs,
                    Vec::new(),
                    Vec::new(),
                    scores,
                    chi2_background(obs),
                );
                return (empty, failed);
            }
            return (id, None);
        };
        accepted.retain(|&i| i != weak.index);
        match fitter.fit(&accepted) {
            Some(f) => {
                chi2 = f.chi2;
                amplitudes = f.amplitudes;
            }
            None => return (id, None),
        }
    }
}

/// A phase of identification `id` meets what [`profile_search`] asks of the phases it
/// adds, against the other phases at their fitted scales: its own lines are observed
/// ([`profile_evidence`]) and its profile beats the same profile displaced
/// ([`by_chance_alignment`], by [`SearchSettings::null_ratio`] for a rare-earth phase,
/// [`SearchSettings::host_null_ratio`] for a host).
fn stands_on_profile(
    fitter: &mut Fitter,
    obs: &Observed,
    lib: &Library,
    id: &Identification,
    phase: &Accepted,
) -> bool {
    let others = id.scales_except(phase.index);
    if !profile_evidence(fitter, obs, lib, phase.index, phase.amplitude, &others) {
        return false;
    }
    let mut model = obs.background.clone();
    for &(i, a) in &others {
        fitter.template(i).add_to(a, &mut model);
    }
    let resid = weighted_residual(obs, &model);
    let null_ratio = if lib.phases[phase.index].rare_earth {
        obs.settings.null_ratio
    } else {
        obs.settings.host_null_ratio
    };
    !by_chance_alignment(fitter, obs, phase.index, &resid, null_ratio)
}

/// Profile search: phases whose lines are too weak or too broad for the peak list
/// (portable instruments: a few hundred counts on the strongest peak, FWHM up to
/// 0.35°) are scored on the whole profile, at the geometry and widths refined with the
/// accepted phases. Each library phase's rendered profile t is scored against the
/// residual r of the current model by its matched-filter χ² drop, (Σ r t / σ²)² /
/// Σ t² / σ² with Poisson variances (the drop of a single added scale), a cheap
/// bound for the joint fit; the best few are refitted with the accepted phases
/// (non-negative scales) and the one that lowers χ² most joins when the drop is
/// [`significant`], its own lines are observed
/// ([`profile_evidence`]) and its profile beats the same profile displaced
/// ([`by_chance_alignment`]; by [`SearchSettings::null_ratio`] for a rare-earth phase,
/// [`SearchSettings::host_null_ratio`] for a host). When all of a round's candidates are refused the next
/// ones in line are tried; once a phase joins, refused phases are tried again on the
/// new residual (a rare-earth phase often stands out only once the hosts are fitted).
/// At most [`SearchSettings::profile_max_added`] phases join, in at most [`SearchSettings::profile_max_rounds`]
/// rounds. Returns the phases added.
fn profile_search(
    fitter: &mut Fitter,
    obs: &Observed,
    lib: &Library,
    excluded: Option<usize>,
    accepted: &mut Vec<usize>,
    amplitudes: &mut Vec<f64>,
    chi2: &mut f64,
) -> Vec<usize> {
    let mut added = Vec::new();
    let mut refused: Vec<usize> = Vec::new();
    let mut rounds = 0;
    let set = &obs.settings;
    while added.len() < set.profile_max_added && rounds < set.profile_max_rounds {
        rounds += 1;
        let model = fitter.model(accepted, amplitudes);
        let misfit2 = model_misfit(obs, &model);
        let resid = weighted_residual(obs, &model);
        let mut ranked: Vec<(usize, f64)> = (0..lib.phases.len())
            .filter(|i| !accepted.contains(i) && Some(*i) != excluded && !refused.contains(i))
            .map(|i| (i, matched_drop(&fitter.template(i), &resid, &obs.var)))
            .filter(|&(_, drop)| drop > set.drop_misfit_factor * misfit2)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(set.profile_candidates);
        if ranked.is_empty() {
            break;
        }
        let mut best: Option<(usize, FitResult)> = None;
        for &(i, _) in &ranked {
            let mut phases = accepted.clone();
            phases.push(i);
            let Some(fit) = fitter.fit(&phases) else {
                continue;
            };
            if fit.amplitudes.last().is_none_or(|&a| a <= 0.0)
                || !significant(set, *chi2, fit.chi2, misfit2)
            {
                refused.push(i);
                continue;
            }
            let others: Vec<(usize, f64)> = accepted
                .iter()
                .copied()
                .zip(fit.amplitudes.iter().copied())
                .collect();
            let amp = fit.amplitudes[fit.amplitudes.len() - 1];
            let null_ratio = if lib.phases[i].rare_earth {
                set.null_ratio
            } else {
                set.host_null_ratio
            };
            if !profile_evidence(fitter, obs, lib, i, amp, &others)
                || by_chance_alignment(fitter, obs, i, &resid, null_ratio)
            {
                refused.push(i);
                continue;
            }
            if best.as_ref().is_none_or(|b| fit.chi2 < b.1.chi2) {
                best = Some((i, fit));
            }
        }
        // All refused: the next candidates in line are tried.
        let Some((i, fit)) = best else { continue };
        // The residual changed: phases refused against the old one are tried again.
        refused.clear();
        accepted.push(i);
        added.push(i);
        *chi2 = fit.chi2;
        *amplitudes = fit.amplitudes;
    }
    added
}

/// The residual of `model` over the variance, channel by channel: what
/// [`matched_drop`] correlates a candidate's profile with.
fn weighted_residual(obs: &Observed, model: &[f64]) -> Vec<f64> {
    obs.counts
        .iter()
        .zip(model)
        .zip(&obs.var)
        .map(|((c, m), v)| (c - m) / v)
        .collect()
}

/// Σ r·t and Σ t²/σ² of template `t` over the channels of `resid` (residual /
/// variance) and `var`.
fn projection_sums(t: &Template, resid: &[f64], var: &[f64]) -> (f64, f64) {
    let (mut rt, mut tt) = (0.0, 0.0);
    for (k, &v) in t.values.iter().enumerate() {
        let ch = t.start + k;
        if ch >= resid.len() {
            break;
        }
        rt += resid[ch] * v;
        tt += v * v / var[ch];
    }
    (rt, tt)
}

/// Matched-filter χ² drop of template `t` against `resid` (residual / variance).
fn matched_drop(t: &Template, resid: &[f64], var: &[f64]) -> f64 {
    let (rt, tt) = projection_sums(t, resid, var);
    if rt > 0.0 && tt > 0.0 {
        rt * rt / tt
    } else {
        0.0
    }
}

/// Matched-filter χ² drop of template `t` against `resid` (residual / variance) once
/// the part of `t` along `own` is projected out (weighted by 1/σ²): t′ = t − β·own,
/// β = Σ t·own/σ² / Σ own²/σ², drop (Σ r t′)² / Σ t′²/σ². A displaced copy of a
/// phase's profile that overlaps the profile itself is scored only for what it adds.
fn orthogonal_drop(t: &Template, own: &Template, resid: &[f64], var: &[f64]) -> f64 {
    let (mut rt, mut tt, mut to) = (0.0, 0.0, 0.0);
    for (k, &v) in t.values.iter().enumerate() {
        let ch = t.start + k;
        if ch >= resid.len() {
            break;
        }
        let o = template_at(own, ch);
        rt += resid[ch] * v;
        tt += v * v / var[ch];
        to += v * o / var[ch];
    }
    let (ro, oo) = projection_sums(own, resid, var);
    if oo <= 0.0 {
        return 0.0;
    }
    let beta = to / oo;
    let (r, q) = (rt - beta * ro, tt - beta * to);
    if r > 0.0 && q > 0.0 {
        r * r / q
    } else {
        0.0
    }
}

/// True when a phase's profile explains the residual hardly better than the same
/// profile displaced by a few FWHM: a phase with many lines on a pattern holding
/// unexplained peaks and misfit finds intensity anywhere, and its drop then says nothing
/// about its presence (a shift test of the null hypothesis). The displaced profile is
/// scored for what it explains beyond the phase's own profile ([`orthogonal_drop`]): a
/// phase with lines closer than the shifts (Nd2Fe14B, monazite) otherwise finds its
/// own lines at the displaced positions and fails the test because it is there.
fn by_chance_alignment(
    fitter: &mut Fitter,
    obs: &Observed,
    index: usize,
    resid: &[f64],
    null_ratio: f64,
) -> bool {
    let inst = fitter.inst;
    let own_t = fitter.template(index);
    let own = matched_drop(&own_t, resid, &obs.var);
    let (lo, hi) = obs.x_range();
    let mid = match obs.geometry {
        Geometry::BraggBrentano { .. } => 40.0,
        Geometry::EnergyDispersive { .. } => 0.5 * (lo + hi),
    };
    let (fwhm, _) = inst.width.fwhm_eta(inst.geometry, mid);
    let null = obs
        .settings
        .null_shifts
        .iter()
        .map(|&k| {
            let trial = Instrument {
                zero_shift: inst.zero_shift + k * fwhm,
                ..inst
            };
            let ls = fitter.lines(index, &trial);
            let displaced = render(&ls, &trial, &obs.xs, 6.0, 1e-4);
            orthogonal_drop(&displaced, &own_t, resid, &obs.var)
        })
        .fold(0.0, f64::max);
    own < null_ratio * null
}

/// Rare-earth phases of one structure type share their strongest lines (fluorite-type
/// CeO2 or Pr6O11 and the fluorite subcell of a C-type oxide; the isostructural
/// fluorides, hydroxides, monazites), and on a low-count pattern the peak list cannot
/// tell them apart. Each accepted rare-earth phase is replaced by the library's
/// rare-earth phase that fits the whole profile best with the other accepted phases
/// (lowest χ², the [`SearchSettings::rivals_refined`] closest at their own refined
/// geometry), so that the weak superstructure lines one predicts and the other does
/// not decide between them, when that rival's profile beats its own displaced profile
/// on the residual of the other phases ([`by_chance_alignment`]): a rival with many
/// lines that only fills misfit does not replace a phase. The χ² is overruled by the
/// lines only one of the pair (the phase and its lowest-χ² rival) predicts
/// ([`discriminating_lines`]): the rival is taken when the phase's own lines are
/// contradicted and the rival's are not, and refused when the phase's are observed and
/// the rival's contradicted.
fn best_rare_earth_rivals(
    fitter: &mut Fitter,
    lib: &Library,
    excluded: Option<usize>,
    accepted: &mut [usize],
    amplitudes: &mut Vec<f64>,
    chi2: &mut f64,
    by_profile: &mut [usize],
) {
    let obs = fitter.obs;
    for k in 0..accepted.len() {
        let current = accepted[k];
        if !lib.phases[current].rare_earth {
            continue;
        }
        let mut rivals: Vec<(usize, FitResult)> = Vec::new();
        for j in 0..lib.phases.len() {
            if !lib.phases[j].rare_earth || accepted.contains(&j) || Some(j) == excluded {
                continue;
            }
            let mut set = accepted.to_vec();
            set[k] = j;
            let Some(fit) = fitter.fit(&set) else {
                continue;
            };
            if fit.amplitudes[k] > 0.0 {
                rivals.push((j, fit));
            }
        }
        rivals.sort_by(|a, b| a.1.chi2.total_cmp(&b.1.chi2));
        // The lowest-χ² rival at the current geometry is the one the discriminating
        // lines are asked about.
        let contender = rivals.first().map(|(j, f)| (*j, f.amplitudes.clone()));
        // The closest rivals are compared at their own geometry: isostructural phases
        // differ by a few tenths of a percent in cell size, and the geometry refined with
        // the current phase would favour it.
        rivals.truncate(obs.settings.rivals_refined);
        let inst = fitter.inst;
        let mut best: Option<(usize, FitResult, Instrument)> = None;
        for (j, mut fit) in rivals {
            let mut set = accepted.to_vec();
            set[k] = j;
            refine_geometry(fitter, &set, &mut fit.chi2, &mut fit.amplitudes);
            if fit.amplitudes[k] > 0.0 && fit.chi2 < best.as_ref().map_or(*chi2, |b| b.1.chi2) {
                best = Some((j, fit, fitter.inst));
            }
            fitter.set_instrument(inst);
        }
        // The lines one of the pair predicts and the other does not overrule the χ²
        // (`discriminating_lines`): the current phase is replaced by the contender when
        // its own lines are contradicted and the contender's are not, and kept when its
        // own lines are observed and the contender's contradicted.
        let verdicts = contender.as_ref().map(|(j, amps)| {
            let cur = discriminating_lines(fitter, accepted, amplitudes, k, *j, amps[k]);
            let mut set = accepted.to_vec();
            set[k] = *j;
            let riv = discriminating_lines(fitter, &set, amps, k, current, amplitudes[k]);
            (*j, cur, riv)
        });
        match verdicts {
            Some((j, LineVerdict::Contradicted, riv))
                if riv != LineVerdict::Contradicted && best.as_ref().is_none_or(|b| b.0 != j) =>
            {
                let mut set = accepted.to_vec();
                set[k] = j;
                best = fitter.fit(&set).and_then(|mut fit| {
                    refine_geometry(fitter, &set, &mut fit.chi2, &mut fit.amplitudes);
                    let at = fitter.inst;
                    fitter.set_instrument(inst);
                    (fit.amplitudes[k] > 0.0).then_some((j, fit, at))
                });
            }
            Some((j, LineVerdict::Supported, LineVerdict::Contradicted))
                if best.as_ref().is_some_and(|b| b.0 == j) =>
            {
                best = None;
            }
            _ => {}
        }
        if let Some(b) = &best {
            fitter.set_instrument(b.2);
        }
        // The rival must stand on its own against the residual of the other phases.
        let stands = best.as_ref().is_some_and(|(j, _, _)| {
            let others: Vec<usize> = accepted.iter().copied().filter(|&i| i != current).collect();
            let mut model = obs.background.clone();
            if let Some(f) = fitter.fit(&others) {
                model = fitter.model(&others, &f.amplitudes);
            }
            let resid = weighted_residual(obs, &model);
            !by_chance_alignment(fitter, obs, *j, &resid, obs.settings.null_ratio)
        });
        if !stands {
            fitter.set_instrument(inst);
        }
        if let Some((j, fit, _)) = best.filter(|_| stands) {
            accepted[k] = j;
            *chi2 = fit.chi2;
            *amplitudes = fit.amplitudes;
            for p in by_profile.iter_mut().filter(|p| **p == current) {
                *p = j;
            }
        }
    }
}

/// What the lines one phase predicts and its rival does not say of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineVerdict {
    /// They are observed: at least half the predicted intensity, and significant.
    Supported,
    /// They are predicted significantly and not observed (less than half).
    Contradicted,
    /// Too weak to tell.
    Undecided,
}

/// The discriminating lines of phase `set[k]` fitted with the other phases of `set` at
/// `amplitudes`, against a rival of library index `rival` at scale `rival_amplitude`:
/// the channels where the phase's profile stands (above
/// [`SearchSettings::discriminating_floor`] of its peak) and the rival and the other
/// phases each put less than [`SearchSettings::discriminating_overlap`] of its intensity
/// (the superstructure lines of a C-type oxide against a fluorite-type one, such as its
/// (211), (431) and (611), absent from fluorite). The phase's scale is estimated on those
/// channels alone by weighted least squares of r on its profile t (weights 1/σ²), r the
/// counts less the background and the other phases. A line is a peak above its local
/// level, not the level itself: each run of consecutive discriminating channels is
/// fitted as â·t plus a constant, the constant fixed by the quiet channels within
/// [`SearchSettings::discriminating_flank`] FWHM of the run (where no phase predicts
/// half a standard deviation; â = Σ (r − r̄)(t − t̄)/σ² / Σ (t − t̄)²/σ² over the run and
/// those flanks). On a low-count pattern the SNIP background runs below the mean
/// counts by a standard deviation or two (it follows the noise's minima), and glass
/// humps and the tails of unfitted lines raise the residual further; without the local
/// level that offset reads as intensity on every line. A run without quiet flanks is
/// fitted without the constant. The estimate is taken less the mean estimate of the
/// same profile displaced by [`SearchSettings::null_shifts`] FWHM (what the residual
/// gives any profile there: misfit of the hosts), read on the residual less the phase's
/// own fitted profile (a phase with dense lines would otherwise find itself at the
/// displaced positions), and compared with the fitted scale a:
/// the lines are observed when â ≥ a/2 and â is
/// [`SearchSettings::line_sigma`]σ above zero, contradicted when â < a/2 and a − â
/// exceeds that. This is the comparison a Rietveld user makes between isostructural
/// candidates: their shared lines fit either (and carry the texture and microabsorption
/// scatter that makes a whole-profile χ² between them unreliable), the lines only one of
/// them has decide.
fn discriminating_lines(
    fitter: &mut Fitter,
    set: &[usize],
    amplitudes: &[f64],
    k: usize,
    rival: usize,
    rival_amplitude: f64,
) -> LineVerdict {
    let obs = fitter.obs;
    let a = amplitudes[k];
    if a <= 0.0 {
        return LineVerdict::Undecided;
    }
    let rival_t = fitter.template(rival);
    let mut others = vec![0.0; obs.xs.len()];
    for (i, (&p, &amp)) in set.iter().zip(amplitudes).enumerate() {
        if i != k {
            fitter.template(p).add_to(amp, &mut others);
        }
    }
    let (overlap, floor) = (
        obs.settings.discriminating_overlap,
        obs.settings.discriminating_floor,
    );
    // Matched-filter scale of a profile on its discriminating channels: (â, Σ t²/σ²).
    let n = obs.xs.len();
    let (fwhm_mid, _) = fitter
        .inst
        .width
        .fwhm_eta(fitter.inst.geometry, 0.5 * (obs.xs[0] + obs.xs[n - 1]));
    let flank = (obs.settings.discriminating_flank * fwhm_mid / obs.step).round() as usize;
    let scale_on = |own: &Template, fitted: Option<&Template>| {
        let peak = own.values.iter().fold(0.0, |m: f64, &v| m.max(v));
        let v_at = |ch: usize| template_at(own, ch);
        let rival_at = |ch: usize| rival_amplitude.max(0.0) * template_at(&rival_t, ch);
        let chosen = |ch: usize| {
            let v = v_at(ch);
            v > floor * peak && rival_at(ch) < overlap * a * v && others[ch] < overlap * a * v
        };
        // A channel where no phase predicts intensity (under half a standard deviation):
        // what the residual is there is its local level.
        let quiet = |ch: usize| {
            !chosen(ch) && others[ch] + rival_at(ch) + a * v_at(ch) < 0.5 * obs.var[ch].sqrt()
        };
        let (mut rt, mut tt) = (0.0, 0.0);
        let mut ch = own.start;
        let end = (own.start + own.values.len()).min(n);
        while ch < end {
            if !chosen(ch) {
                ch += 1;
                continue;
            }
            let first = ch;
            while ch < end && chosen(ch) {
                ch += 1;
            }
            // Run [first, ch): regressed on the profile with a constant level taken
            // from its quiet flanks, when it has some.
            let flanks = (first.saturating_sub(flank)..first)
                .chain(ch..(ch + flank).min(n))
                .filter(|&c| quiet(c));
            let mut sums = [0.0; 5];
            let mut add = |c: usize| {
                let own_fit = fitted.map_or(0.0, |t| a * template_at(t, c));
                let r = obs.counts[c] - obs.background[c] - others[c] - own_fit;
                let v = v_at(c);
                let w = 1.0 / obs.var[c];
                sums[0] += w;
                sums[1] += w * r;
                sums[2] += w * v;
                sums[3] += w * r * v;
                sums[4] += w * v * v;
            };
            let n_flank = flanks.map(&mut add).count();
            (first..ch).for_each(&mut add);
            if n_flank > 0 {
                rt += sums[3] - sums[1] * sums[2] / sums[0];
                tt += sums[4] - sums[2] * sums[2] / sums[0];
            } else {
                rt += sums[3];
                tt += sums[4];
            }
        }
        (if tt > 0.0 { rt / tt } else { 0.0 }, tt)
    };
    let fitted = fitter.template(set[k]);
    let (found, tt) = scale_on(&fitted, None);
    if tt <= 0.0 {
        return LineVerdict::Undecided;
    }
    // The same profile displaced by a few FWHM measures what the residual gives any
    // profile there (background left under broad peaks, misfit of the hosts); the
    // estimate is taken above that level.
    let inst = fitter.inst;
    let (lo, hi) = obs.x_range();
    let (fwhm, _) = inst.width.fwhm_eta(inst.geometry, 0.5 * (lo + hi));
    let mut null = 0.0;
    for &shift in &obs.settings.null_shifts {
        fitter.set_instrument(Instrument {
            zero_shift: inst.zero_shift + shift * fwhm,
            ..inst
        });
        null += scale_on(&fitter.template(set[k]), Some(&fitted)).0;
    }
    fitter.set_instrument(inst);
    let estimate = found - null / obs.settings.null_shifts.len() as f64;
    let sigma = (1.25 / tt).sqrt();
    let sigmas = obs.settings.line_sigma;
    if estimate >= 0.5 * a && estimate >= sigmas * sigma {
        LineVerdict::Supported
    } else if estimate < 0.5 * a && a - estimate >= sigmas * sigma {
        LineVerdict::Contradicted
    } else {
        LineVerdict::Undecided
    }
}

/// The own lines of a phase fitted at scale `amplitude` are observed in the profile:
/// the evidence for a phase that the peak list cannot give on broad, low-count patterns.
/// A line is the phase's own where the other phases (`others`: library index and
/// scale) put less than half as much net intensity as it does within ± ½ FWHM of its
/// position; its observed intensity is the counts there less the background and the
/// other phases, summed, with the Poisson standard deviation of the sum. Own lines
/// predicted at ≥ [`SearchSettings::line_sigma`]σ are expected; one is observed when its intensity is
/// at least half the prediction and ≥ [`SearchSettings::line_sigma`]σ. Two of the three strongest
/// expected lines (all when fewer) must be observed, and half of the expected ones (60 %
/// for rare-earth phases): a rare-earth phase needs lines of its own, not a share of
/// another phase's. A phase with a single own line above [`SearchSettings::line_sigma`]σ
/// stands on it: the rest of its pattern lies under the hosts' lines (xenotime beside
/// zircon, with which it is isostructural; quartz (101) or SmCo5 (111) beside a host
/// line at a portable instrument's FWHM), and the χ² drop the caller asked of it is the
/// rest of its evidence. None expected is no evidence.
fn profile_evidence(
    fitter: &mut Fitter,
    obs: &Observed,
    lib: &Library,
    index: usize,
    amplitude: f64,
    others: &[(usize, f64)],
) -> bool {
    let phase = &lib.phases[index];
    let inst = fitter.inst;
    let own = fitter.template(index);
    let mut other = vec![0.0; obs.xs.len()];
    for &(i, a) in others {
        fitter.template(i).add_to(a, &mut other);
    }
    let ls = merged_lines(phase, obs, &inst);
    // (predicted, observed, σ) of each own line.
    let mut expected: Vec<(f64, f64, f64)> = Vec::new();
    for l in &ls {
        let (fwhm, _) = inst.width.fwhm_eta(inst.geometry, l.x);
        let a = obs.channel(l.x - 0.5 * fwhm);
        let b = obs.channel(l.x + 0.5 * fwhm);
        if b <= a {
            continue;
        }
        let (mut pred, mut shared, mut seen, mut var) = (0.0, 0.0, 0.0, 0.0);
        for (ch, o) in other.iter().enumerate().take(b + 1).skip(a) {
            pred += amplitude * template_at(&own, ch);
            shared += o;
            seen += obs.counts[ch] - obs.background[ch] - o;
            var += obs.var[ch];
        }
        let sigma = var.sqrt();
        if shared >= 0.5 * pred || pred < obs.settings.line_sigma * sigma {
            continue;
        }
        expected.push((pred, seen, sigma));
    }
    expected.sort_by(|a, b| b.0.total_cmp(&a.0));
    let line_sigma = obs.settings.line_sigma;
    let is_seen = |e: &(f64, f64, f64)| e.1 >= 0.5 * e.0 && e.1 >= line_sigma * e.2;
    let observed = expected.iter().filter(|e| is_seen(e)).count();
    let strongest = expected.iter().take(3).filter(|e| is_seen(e)).count();
    let need = obs.settings.observed_share(phase);
    observed >= 2.min(expected.len()).max(1)
        && strongest >= 2.min(expected.len())
        && observed as f64 >= need * expected.len() as f64
}

/// What the peak list says of a fitted phase's lines ([`confirmed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeakSupport {
    /// Its lines are observed peaks, its strongest among them.
    Confirmed,
    /// As `Confirmed`, except that fewer than two of its three strongest lines are peaks
    /// of their own: on a laboratory pattern a line on the shoulder of a much stronger host
    /// peak (Nd2Fe14B beside zircon) is not resolved by the peak list, and the profile
    /// ([`stands_on_profile`]) may show it.
    StrongestUnresolved,
    /// Its lines are not observed, or only as often as chance allows.
    Refused,
}

/// The lines a fitted phase predicts above 5σ must mostly be observed peaks (half of
/// them; 60 % for rare-earth phases, at least 2), two of its three strongest among them:
/// a phase that only fills broad misfit predicts lines nobody sees.
fn confirmed(
    phase: &Phase,
    amplitude: f64,
    obs: &Observed,
    inst: &Instrument,
    by_x: &[ObservedPeak],
) -> PeakSupport {
    let ls = merged_lines(phase, obs, inst);
    // (predicted height, observed?) of the lines predicted above 5σ; of the lines
    // predicted above [`SearchSettings::chance_sigma`]σ (more lines, more power to the chance test on a
    // weak or broad pattern), how many sit within the close tolerance of
    // [`close_tolerance`] of a peak, and the sum of their chances to do so on a pattern
    // with this density of peaks.
    let mut seen: Vec<(f64, bool)> = Vec::new();
    let mut close = 0usize;
    let mut chance_lines = 0usize;
    let (lo, hi) = obs.x_range();
    let density = obs.peaks.len() as f64 / (hi - lo).max(1e-9);
    let mut chance = 0.0;
    for l in &ls {
        let (fwhm, eta) = inst.width.fwhm_eta(inst.geometry, l.x);
        let height =
            amplitude * phase.weight_scale() * l.area * pv_height_per_area(fwhm, eta) * obs.step;
        let sigma = obs.var[obs.channel(l.x)].sqrt();
        if height < obs.settings.chance_sigma * sigma {
            continue;
        }
        let off = nearest(by_x, l.x).map_or(f64::INFINITY, |p| (p.x - l.x).abs());
        let tight = close_tolerance(obs, fwhm);
        close += usize::from(off <= tight);
        chance += (2.0 * tight * density).min(1.0);
        chance_lines += 1;
        if height >= obs.settings.significance * sigma {
            seen.push((height, off <= match_tolerance(obs, fwhm)));
        }
    }
    let observed = seen.iter().filter(|s| s.1).count();
    let need = obs.settings.observed_share(phase);
    // The phase's own strongest lines must be there: two of its three strongest.
    seen.sort_by(|a, b| b.0.total_cmp(&a.0));
    let strongest = seen.iter().take(3).filter(|s| s.1).count();
    // A rare-earth phase's observed lines must not be what chance gives on a pattern
    // this crowded with peaks (lines shared with a phase the library lacks).
    let by_chance = phase.rare_earth && {
        let p = chance / chance_lines.max(1) as f64;
        binomial_tail(close, chance_lines, p) > obs.settings.chance_alpha
    };
    if observed < 2 || (observed as f64) < need * seen.len() as f64 || by_chance {
        PeakSupport::Refused
    } else if strongest < 2.min(seen.len()) {
        PeakSupport::StrongestUnresolved
    } else {
        PeakSupport::Confirmed
    }
}

/// Position tolerance of the chance test of [`confirmed`]: lines of a phase that is
/// there sit, once the geometry is refined, within ⅓ of the local FWHM (at least 1.5
/// steps) of their peaks; coincidences spread over the whole match tolerance.
fn close_tolerance(obs: &Observed, fwhm: f64) -> f64 {
    (fwhm / 3.0)
        .max(1.5 * obs.step)
        .min(match_tolerance(obs, fwhm))
}

/// P(X ≥ k) for X ~ Binomial(n, p).
fn binomial_tail(k: usize, n: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut ln_c = 0.0; // ln C(n, j), built up from j = 0
    let mut tail = 0.0;
    for j in 0..=n {
        if j > 0 {
            ln_c += ((n - j + 1) as f64).ln() - (j as f64).ln();
        }
        if j >= k {
            tail += (ln_c + j as f64 * lp + (n - j) as f64 * lq).exp();
        }
    }
    tail.min(1.0)
}

/// Specimen-displacement coefficients searched (degrees 2θ, smallest first): ± 0.35°,
/// i.e. ± 0.73 mm on a 240 mm goniometer or ± 0.44 mm on a 145 mm benchtop one, in
/// steps of 0.07° (other lines then sit within 0.02° of their best position, well
/// inside the match tolerance). None for energy-dispersive patterns.
fn displacement_grid(geometry: Geometry) -> &'static [f64] {
    match geometry {
        Geometry::BraggBrentano { .. } => &[
            0.0, -0.07, 0.07, -0.14, 0.14, -0.21, 0.21, -0.28, 0.28, -0.35, 0.35,
        ],
        Geometry::EnergyDispersive { .. } => &[0.0],
    }
}

/// Mount geometries (zero shift, displacement) at which one of the phase's lines of
/// ≥ 10 % of its strongest falls on the target peak: for each such line and each
/// displacement of [`displacement_grid`], the zero shift that puts it there, when
/// within [`SearchSettings::zero_range`]. Search cost is a few geometries per phase instead of a
/// two-dimensional grid.
fn aligned_geometries(
    phase: &Phase,
    obs: &Observed,
    inst: &Instrument,
    target: &ObservedPeak,
) -> Vec<Instrument> {
    let unshifted = Instrument {
        zero_shift: 0.0,
        displacement: 0.0,
        ..*inst
    };
    let ls = merged_lines(phase, obs, &unshifted);
    let max = ls.iter().map(|l| l.area).fold(0.0, f64::max);
    let zmax = obs.settings.zero_range;
    let grid = displacement_grid(inst.geometry);
    let dmax = grid.iter().fold(0.0, |a: f64, d| a.max(d.abs()));
    let mut out = Vec::new();
    for l in ls.iter().filter(|l| l.area >= 0.1 * max) {
        let delta = target.x - l.x;
        if delta.abs() > zmax + dmax {
            continue;
        }
        for &d in grid {
            let trial = Instrument {
                zero_shift: 0.0,
                displacement: d,
                ..*inst
            };
            let z = delta - (trial.shift(l.x));
            if z.abs() <= zmax {
                out.push(Instrument {
                    zero_shift: z,
                    ..trial
                });
            }
        }
    }
    out
}

type Explained = (usize, Score, FitResult, Instrument);

/// Find the phase that best explains `target` together with the accepted phases.
#[allow(clippy::too_many_arguments)]
fn try_explain(
    fitter: &mut Fitter,
    obs: &Observed,
    lib: &Library,
    by_x: &[ObservedPeak],
    accepted: &[usize],
    excluded: Option<usize>,
    target: &ObservedPeak,
    chi2: f64,
    misfit2: f64,
) -> Option<Explained> {
    let inst = fitter.inst;
    let first = accepted.is_empty();
    let mut candidates: Vec<(usize, Score)> = lib
        .phases
        .iter()
        .enumerate()
        .filter(|(i, _)| !accepted.contains(i) && Some(*i) != excluded)
        .filter_map(|(i, p)| {
            // Only geometries at which the phase explains the target peak count: the
            // first phase sets the mount geometry, later ones share it.
            let trials = if first {
                aligned_geometries(p, obs, &inst, target)
            } else if explains(p, obs, &inst, target) {
                vec![inst]
            } else {
                Vec::new()
            };
            // Ties go to the smallest displacement (tried first).
            let s = trials
                .iter()
                .map(|trial| score_at(p, obs, by_x, trial))
                .fold(None, |best: Option<Score>, s| match best {
                    Some(b) if b.fom >= s.fom => Some(b),
                    _ => Some(s),
                })?;
            let positions_ok = !p.rare_earth || s.position >= obs.settings.min_position_rare_earth;
            (s.fom >= min_fom(&obs.settings, p) && positions_ok).then_some((i, s))
        })
        .collect();
    candidates.sort_by(|a, b| b.1.fom.total_cmp(&a.1.fom));
    candidates.truncate(4);
    let mut best: Option<Explained> = None;
    for (index, s) in candidates {
        let mut trials = vec![Instrument {
            zero_shift: s.zero_shift,
            displacement: s.displacement,
            ..inst
        }];
        if first {
            trials = instrument_variants(obs, trials[0]);
        }
        for trial in trials {
            fitter.set_instrument(trial);
            let mut set = accepted.to_vec();
            set.push(index);
            let Some(fit) = fitter.fit(&set) else {
                continue;
            };
            if fit.amplitudes.last().is_none_or(|&a| a <= 0.0) {
                continue;
            }
            if best.as_ref().is_none_or(|b| fit.chi2 < b.2.chi2) {
                best = Some((index, s, fit, trial));
            }
        }
    }
    fitter.set_instrument(inst);
    // The first phase needs only to explain a clear share of the signal; later ones
    // must beat the misfit left by the accepted phases.
    best.filter(|b| {
        if first {
            chi2 - b.2.chi2 > 0.05 * chi2
        } else {
            significant(&obs.settings, chi2, b.2.chi2, misfit2)
        }
    })
}

/// Rare-earth phases must match better than common ones before they are considered:
/// a false rare-earth call is the costly error here.
fn min_fom(s: &SearchSettings, phase: &Phase) -> f64 {
    if phase.rare_earth {
        s.min_fom_rare_earth
    } else {
        s.min_fom
    }
}

/// True when one of the phase's lines (≥ 10 % of its strongest) lies on the target peak.
fn explains(phase: &Phase, obs: &Observed, inst: &Instrument, target: &ObservedPeak) -> bool {
    let ls = merged_lines(phase, obs, inst);
    let max = ls.iter().map(|l| l.area).fold(0.0, f64::max);
    ls.iter().any(|l| {
        let (fwhm, _) = inst.width.fwhm_eta(inst.geometry, l.x);
        l.area >= 0.1 * max && (l.x - target.x).abs() <= match_tolerance(obs, fwhm)
    })
}

/// Kα2 on/off (for tube wavelengths) × peak-width scale: the measured widths include
/// an unresolved Kα2 when it is present.
fn instrument_variants(obs: &Observed, inst: Instrument) -> Vec<Instrument> {
    let scaled = |f: f64| match inst.width {
        Width::Empirical { w, u, eta } => Width::Empirical {
            w: w * f * f,
            u: u * f * f,
            eta,
        },
        other => other,
    };
    let mut out = vec![inst];
    for f in [0.8, 1.2] {
        out.push(Instrument {
            width: scaled(f),
            ..inst
        });
    }
    if let Some(l2) = obs.kalpha2 {
        for f in [0.6, 0.8, 1.0] {
            out.push(Instrument {
                kalpha2: Some((l2, KA2_RATIO)),
                width: scaled(f),
                ..inst
            });
        }
    }
    out
}

/// Coordinate search of the zero shift, the profile's η and widths on χ² with the
/// first phase (the zero-shift grid is coarse; widths measured from peaks are biased
/// by overlaps; η is not measured at all).
fn refine_shape(fitter: &mut Fitter, set: &[usize], chi2: &mut f64, amplitudes: &mut Vec<f64>) {
    for _ in 0..4 {
        let mut improved = false;
        for mut trial in shape_variants(fitter.inst) {
            trial.width = bounded_width(
                trial.width,
                trial.geometry,
                fitter.obs.x_range(),
                fitter.obs.settings.max_width_ratio,
            );
            let keep = fitter.inst;
            fitter.set_instrument(trial);
            match fitter.fit(set) {
                Some(f) if f.chi2 < *chi2 => {
                    *chi2 = f.chi2;
                    *amplitudes = f.amplitudes;
                    improved = true;
                }
                _ => fitter.set_instrument(keep),
            }
        }
        if !improved {
            break;
        }
    }
}

fn shape_variants(inst: Instrument) -> Vec<Instrument> {
    let Width::Empirical { w, u, eta } = inst.width else {
        return Vec::new();
    };
    let with = |w2: f64, u2: f64, e2: f64| Instrument {
        width: Width::Empirical {
            w: w2,
            u: u2,
            eta: e2.clamp(0.0, 1.0),
        },
        ..inst
    };
    let h = match inst.geometry {
        Geometry::BraggBrentano { .. } => 0.01,
        Geometry::EnergyDispersive { .. } => 0.02,
    };
    let shifted = |dz: f64| Instrument {
        zero_shift: inst.zero_shift + dz,
        ..inst
    };
    let displaced = |dd: f64| Instrument {
        displacement: inst.displacement + dd,
        ..inst
    };
    let mut out = vec![
        shifted(-h),
        shifted(h),
        shifted(-0.3 * h),
        shifted(0.3 * h),
        with(w, u, eta - 0.15),
        with(w, u, eta + 0.15),
        with(w * 0.8, u, eta),
        with(w * 1.25, u, eta),
        with(w, u * 0.5, eta),
        with(w, u * 2.0 + 0.2 * w, eta),
    ];
    if matches!(inst.geometry, Geometry::BraggBrentano { .. }) {
        out.extend([-2.0, 2.0, -0.5, 0.5].map(|f| displaced(f * h)));
    }
    out
}

/// Parabolic refinement on χ² of the zero shift, then (Bragg–Brentano) of the
/// specimen displacement: two fits at ± one step each, the vertex taken when it lowers χ².
fn refine_geometry(fitter: &mut Fitter, set: &[usize], chi2: &mut f64, amplitudes: &mut Vec<f64>) {
    if set.is_empty() {
        return;
    }
    let h = match fitter.inst.geometry {
        Geometry::BraggBrentano { .. } => 0.01,
        Geometry::EnergyDispersive { .. } => 0.02,
    };
    let zero = |i: Instrument, d: f64| Instrument {
        zero_shift: i.zero_shift + d,
        ..i
    };
    let displaced = |i: Instrument, d: f64| Instrument {
        displacement: i.displacement + 2.0 * d,
        ..i
    };
    let mut moves: Vec<&dyn Fn(Instrument, f64) -> Instrument> = vec![&zero];
    if matches!(fitter.inst.geometry, Geometry::BraggBrentano { .. }) {
        moves.push(&displaced);
    }
    for step in moves {
        let inst = fitter.inst;
        let mut at = |d: f64| {
            fitter.set_instrument(step(inst, d));
            fitter.fit(set)
        };
        let (Some(lo), Some(hi)) = (at(-h), at(h)) else {
            fitter.set_instrument(inst);
            continue;
        };
        let den = lo.chi2 - 2.0 * *chi2 + hi.chi2;
        if den > 0.0 {
            let d = (0.5 * h * (lo.chi2 - hi.chi2) / den).clamp(-2.0 * h, 2.0 * h);
            if let Some(f) = at(d) {
                if f.chi2 < *chi2 {
                    *chi2 = f.chi2;
                    *amplitudes = f.amplitudes;
                    continue;
                }
            }
        }
        fitter.set_instrument(inst);
    }
}

fn finish(
    fitter: &mut Fitter,
    obs: &Observed,
    set: Vec<usize>,
    amplitudes: Vec<f64>,
    scores: HashMap<usize, Score>,
    chi2: f64,
) -> Identification {
    let model = fitter.model(&set, &amplitudes);
    let total: f64 = amplitudes.iter().sum();
    let templates: Vec<Template> = set.iter().map(|&i| fitter.template(i)).collect();
    let mut phases: Vec<Accepted> = set
        .iter()
        .zip(&amplitudes)
        .enumerate()
        .map(|(k, (&index, &amplitude))| {
            let matched = obs
                .peaks
                .iter()
                .filter(|p| {
                    let own = template_at(&templates[k], p.channel) * amplitude;
                    let all = model[p.channel] - obs.background[p.channel];
                    all > 0.0 && own >= 0.5 * all
                })
                .count();
            Accepted {
                index,
                amplitude,
                wt_pct: if total > 0.0 {
                    100.0 * amplitude / total
                } else {
                    0.0
                },
                score: scores.get(&index).copied().unwrap_or_default(),
                matched_peaks: matched,
            }
        })
        .collect();
    phases.sort_by(|a, b| b.wt_pct.total_cmp(&a.wt_pct));
    Identification {
        phases,
        instrument: fitter.inst,
        model,
        chi2,
    }
}

fn template_at(t: &Template, ch: usize) -> f64 {
    ch.checked_sub(t.start)
        .and_then(|i| t.values.get(i))
        .copied()
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xrd::{builtin, synth, Radiation, SynthOptions};

    /// Options of a portable instrument's pattern: Cu 10–70° at 0.05° steps, FWHM 0.25°,
    /// 300 counts on the strongest peak over 40 counts of background.
    fn portable() -> SynthOptions {
        let mut o = SynthOptions::for_radiation(Radiation::Cu);
        o.range = (10.0, 70.0);
        o.step = 0.05;
        o.width = Width::Empirical {
            w: 0.25 * 0.25,
            u: 0.0,
            eta: 0.5,
        };
        o.peak_counts = 300.0;
        o.background = 40.0;
        o
    }

    /// The background level `synth` draws (its documented level plus low-angle rise).
    fn drawn_background(x: f64, o: &SynthOptions) -> f64 {
        let t = (x - o.range.0) / (o.range.1 - o.range.0);
        o.background * (1.0 + 0.6 * (-t / 0.15).exp() + 0.1 * (1.0 - t))
    }

    #[test]
    fn low_count_background_follows_the_mean_counts() {
        let lib = builtin();
        let phases = [("quartz".to_string(), 0.7), ("hematite".to_string(), 0.3)];
        let mut o = portable();
        o.noise = false;
        let expected = synth(&lib, &phases, &o).unwrap();
        let e = expected.counts_slice().to_vec();
        for seed in 1..=3 {
            o.noise = true;
            o.seed = seed;
            let s = synth(&lib, &phases, &o).unwrap();
            let obs = Observed::new(&s).unwrap();
            assert!(low_count_pattern(obs.noise, &obs.peaks, &obs.settings));
            let raw = background(&obs.counts, (1.5 / obs.step).ceil() as usize);
            // Channels without diffracted intensity (under half a count expected).
            let (mut smoothed_bias, mut raw_bias, mut level, mut n) = (0.0, 0.0, 0.0, 0.0);
            for (i, &x) in obs.xs.iter().enumerate() {
                let b = drawn_background(x, &o);
                if e[i] - b < 0.5 {
                    smoothed_bias += b - obs.background[i];
                    raw_bias += b - raw[i];
                    level += b;
                    n += 1.0;
                }
            }
            assert!(n > 200.0, "{n} channels without diffracted intensity");
            let (smoothed_bias, raw_bias, sigma) =
                (smoothed_bias / n, raw_bias / n, (level / n).sqrt());
            // The raw clip runs about two standard deviations low, the clip of the
            // averaged counts under one.
            assert!(
                raw_bias > 1.5 * sigma && smoothed_bias < sigma && smoothed_bias < 0.5 * raw_bias,
                "seed {seed}: background {smoothed_bias:.2} counts below the drawn level \
                 (raw clip {raw_bias:.2}, σ {sigma:.2})"
            );
        }
    }
}
