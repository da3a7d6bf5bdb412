//! The XRF pipeline: excitation → resolution → SNIP background → peak search →
//! candidate families → joint non-negative linear fit (escape in every template,
//! Rayleigh/Compton scatter, pile-up) → pruning by significance and line-family
//! consistency → FP quantification in the estimated matrix → refit with matrix-correct
//! line ratios → detection limits.
//!
//! [`run_quick`] is the same identification for the batch triage, an order of magnitude
//! faster: no line-shape refinement, continuum re-stripping or matrix-specific line
//! ratios, channels binned to ≥ 30 eV, templates kept per instrument set-up, primary-only FP.

use super::excitation::{resolve_excitation, ExcitationInfo};
use super::fp::{quantify_cached, scatter, MatrixModel, Measured, PrimaryCache, Quantified, Setup};
use super::identify::{
    candidates_for_peak, family_is_real, local_line, universe, ClusterEvidence, LineTest, LocalLine,
};
use super::model::{
    compton_peaks, excitation_groups, family_lines, rayleigh_peaks, DrawPeak, FamilyLines, Region,
    Shape,
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

/// Rock-forming elements bound as oxides/silicates in ores, sands and ceramics.
const LITHOPHILE: [&str; 8] = ["Na", "Mg", "Al", "Si", "P", "K", "Ca", "Ba"];

/// Systematic share of other components counted against a family in its window
/// (shape/calibration imperfection of big neighbours).
const SYSTEMATIC: f64 = 0.004;

/// Share of the area of big neighbours (±3 FWHM) counted as systematic uncertainty.
const NEIGHBOUR_SYSTEMATIC: f64 = 1.5e-4;

/// Amplitude × template value at region channel `i` (0 outside the template).
fn template_at(t: &Template, i: usize, amp: f64) -> f64 {
    if i >= t.start && i < t.end() {
        amp * t.values[i - t.start]
    } else {
        0.0
    }
}

/// Compton scattering angles spanned by the Compton templates (degrees).
const COMPTON_ANGLES: [f64; 6] = [75.0, 90.0, 105.0, 120.0, 135.0, 150.0];
/// … and by the quick analysis's: the same span in steps of 37.5° (the Compton peaks
/// of Rh Kα at successive angles lie ~0.3 keV apart, within the ~0.25 keV Doppler σ;
/// those of the Rh L lines coincide).
const QUICK_COMPTON_ANGLES: [f64; 3] = [75.0, 112.5, 150.0];

/// Estimate the detector resolution from the strongest isolated peaks below 10 keV:
/// the log of a Gaussian is a parabola, ln y = a + b x + c x², σ² = −1/(2c)
/// (H.P. Klug-style three-point estimate, least squares over the top of the peak).
pub fn estimate_resolution(net: &[f64], cal: &Calibration, peaks: &[Peak]) -> Detector {
    let default = Detector::default();
    let mut est: Vec<f64> = Vec::new();
    let mut sorted: Vec<&Peak> = peaks
        .iter()
        .filter(|p| {
            let e = cal.energy_kev(p.channel);
            (2.5..10.0).contains(&e) && p.significance > 30.0
        })
        .collect();
    sorted.sort_by(|a, b| b.area.total_cmp(&a.area));
    for p in sorted.into_iter().take(4) {
        let c = p.channel.round() as usize;
        let h = net.get(c).copied().unwrap_or(0.0);
        if h <= 0.0 {
            continue;
        }
        let (mut sx, mut sx2, mut sx3, mut sx4, mut sy, mut sxy, mut sx2y, mut n) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let half = (p.fwhm_channels * 0.6).ceil() as usize + 1;
        let lo = c.saturating_sub(half);
        let hi = (c + half).min(net.len() - 1);
        for (k, &y) in net.iter().enumerate().take(hi + 1).skip(lo) {
            if y < 0.35 * h {
                continue;
            }
            let x = k as f64 - c as f64;
            let w = y; // weight ∝ counts (σ of ln y ≈ 1/√y)
            let ly = y.ln();
            sx += w * x;
            sx2 += w * x * x;
            sx3 += w * x * x * x;
            sx4 += w * x * x * x * x;
            sy += w * ly;
            sxy += w * x * ly;
            sx2y += w * x * x * ly;
            n += w;
        }
        let m = nalgebra::Matrix3::new(n, sx, sx2, sx, sx2, sx3, sx2, sx3, sx4);
        let r = nalgebra::Vector3::new(sy, sxy, sx2y);
        let Some(sol) = m.lu().solve(&r) else {
            continue;
        };
        let cq = sol[2];
        if cq >= 0.0 {
            continue;
        }
        let sigma_ch = (-0.5 / cq).sqrt();
        let fwhm = sigma_ch * FWHM_PER_SIGMA * cal.gain_kev;
        let e = cal.energy_kev(p.channel);
        let stat = FWHM_PER_SIGMA.powi(2) * default.fano * 0.00385 * e;
        let noise2 = fwhm * fwhm - stat;
        if noise2 > 0.0 {
            est.push(noise2.sqrt());
        }
    }
    if est.is_empty() {
        return default;
    }
    // unresolved multiplets only broaden: the narrowest estimate is the detector's
    let noise = est
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .clamp(0.04, 0.2);
    Detector {
        noise_kev: noise,
        ..default
    }
}

/// What a fit component is.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Family(Arc<FamilyLines>),
    Rayleigh(Vec<(f64, f64)>),
    Compton,
    PileUp(Vec<(f64, f64)>),
    Background,
    Tail,
    /// The long tail or the step of a strong family (free, like its short tail).
    LongTail(Shape),
    /// Kβ lines alone: frees a strong K family's Kβ/Kα ratio (see [`KB_FREEDOM`]).
    KbExcess,
}

/// How far below the tabulated ratio a strong K family's Kβ/Kα may go: its family
/// template carries (1 − this) of the Kβ lines and a Kβ-only component adds back what
/// the data hold. Tabulated Kβ/Kα ratios are uncertain by a few per cent, the window,
/// air path and detector efficiency change them again by a few per cent, and on a line
/// of 10⁶ counts 2 % is 10⁴ counts — more than a trace element's whole family (PyMca's
/// Steel.cfg fits Fe Kα and Fe Kβ as separate groups for this reason).
const KB_FREEDOM: f64 = 0.2;

#[derive(Debug, Clone)]
struct Component {
    kind: Kind,
    template: Template,
}

/// What depends on the current matrix: family lines per (Z, family), and their fit
/// components (templates) per (Z, family, free tail) for one region.
#[derive(Default)]
struct LinesCache {
    lines: Vec<((usize, Family), SharedLines)>,
    region: Option<Region>,
    /// Keyed by (Z, family, free tail, lines masked: see [`Work::masked_lines`]).
    components: rustc_hash::FxHashMap<(usize, Family, bool, u64), Vec<Component>>,
    scatter: Option<Vec<Component>>,
    /// The last pile-up lines and their component.
    pileup: Option<PileUpCache>,
    /// FP primary-excitation tables of the set-up (independent of matrix and region).
    fp: PrimaryCache,
    /// Which components were positive in each fit of the last scan, in the order of its
    /// fits (the same fit of the next scan starts its NNLS there; see
    /// [`LinearFitter::start_from`] and [`Work::start_where_the_last_scan_ended`]).
    fit_positive: Vec<rustc_hash::FxHashMap<ComponentKey, bool>>,
    /// Continuum-correction splines of the last region and knot spacing.
    splines: Option<(Region, f64, Vec<Template>)>,
}

/// A family's lines in the current matrix, shared by the cache and the components
/// (none when the family has no line in range).
type SharedLines = Option<Arc<FamilyLines>>;

/// Strong lines (energy, counts) and the pile-up component drawn from them.
type PileUpCache = (Vec<(f64, f64)>, Option<Component>);

impl LinesCache {
    /// The continuum-correction splines of `region` on knots `spacing_kev` apart.
    fn splines(&mut self, region: Region, spacing_kev: f64) -> Vec<Template> {
        match &self.splines {
            Some((r, s, t)) if *r == region && *s == spacing_kev => t.clone(),
            _ => {
                let t = region.background_splines(spacing_kev);
                self.splines = Some((region, spacing_kev, t.clone()));
                t
            }
        }
    }

    fn clear(&mut self) {
        self.lines.clear();
        self.components.clear();
    }

    /// Forget the templates when the region (calibration, resolution, tail) changed.
    fn use_region(&mut self, region: Region) {
        if self.region != Some(region) {
            self.region = Some(region);
            self.components.clear();
            self.scatter = None;
            self.pileup = None;
        }
    }
}

/// Work state of one analysis.
struct Work<'a> {
    counts: &'a [f64],
    bg: Vec<f64>,
    region: Region,
    exc: ExcitationInfo,
    matrix: Mixture,
    splines: Vec<Template>,
    /// Strong families drawn as Gaussians with a free tail template.
    free_tail: Vec<(usize, Family)>,
    /// The free-tail families also carry a free long tail and step (chosen by χ², see
    /// [`LONG_TAIL_MIN_CHI2_DROP`]).
    long_tails: bool,
    /// The quick analysis's dominant lines (see [`buried_families`]): lines of other
    /// elements' families are left out near these ([`Work::masked_lines`]).
    dominant: Vec<Dominant>,
    /// FP intensities (primary + secondary) of the matrix elements.
    fluor: Vec<super::fp::ElementIntensity>,
    /// Family lines computed in the current matrix.
    lines_cache: std::cell::RefCell<LinesCache>,
    /// The quick analysis (see [`run_quick`]).
    quick: bool,
    /// Which components were positive in the last fit (NNLS start of the next).
    last_positive: std::cell::RefCell<rustc_hash::FxHashMap<ComponentKey, bool>>,
    /// Fits done so far (the quick analysis's index into [`LinesCache::fit_positive`]).
    fits_done: std::cell::Cell<usize>,
    /// Energy the line shape is refined around (see [`shape_anchor`]).
    shape_anchor: std::cell::Cell<Option<f64>>,
    /// Gram entries of the templates fitted so far (all fits share the data weights).
    gram_memo: std::cell::RefCell<GramMemo>,
}

/// What a component is, across fits: its kind and its element family, or its place
/// among the components of its kind (scatter, splines).
type ComponentKey = (u8, usize);

fn component_keys(comps: &[Component]) -> Vec<ComponentKey> {
    let mut ordinal = [0usize; 9];
    let mut family = 0;
    comps
        .iter()
        .map(|c| {
            let (tag, id) = match &c.kind {
                Kind::Family(fl) => {
                    family = 4 * fl.z + fl.family as usize;
                    (0, family)
                }
                Kind::Tail => (1, family),
                Kind::Rayleigh(_) => (2, ordinal[2]),
                Kind::Compton => (3, ordinal[3]),
                Kind::PileUp(_) => (4, 0),
                Kind::Background => (5, ordinal[5]),
                Kind::KbExcess => (6, family),
                Kind::LongTail(Shape::StepOnly) => (8, family),
                Kind::LongTail(_) => (7, family),
            };
            ordinal[tag as usize] += 1;
            (tag, id)
        })
        .collect()
}

impl Work<'_> {
    fn y(&self) -> &[f64] {
        &self.counts[self.region.first..self.region.first + self.region.len]
    }
    fn bg(&self) -> &[f64] {
        &self.bg[self.region.first..self.region.first + self.region.len]
    }
    fn fwhm_kev(&self, e: f64) -> f64 {
        self.region.detector.fwhm_kev(e)
    }
    fn lo_kev(&self) -> f64 {
        self.region.calibration.energy_kev(self.region.first as f64)
    }
    fn hi_kev(&self) -> f64 {
        self.region
            .calibration
            .energy_kev((self.region.first + self.region.len) as f64 - 1.0)
    }

    fn set_matrix(&mut self, mix: &[(String, f64)]) {
        self.matrix = mixture(mix);
        self.fluor = super::fp::fluorescence(&self.exc.setup, &self.matrix, true);
        self.lines_cache.borrow_mut().clear();
    }

    /// The lines of a family in the current matrix (computed once per matrix, shared).
    fn lines_of(&self, z: usize, f: Family) -> SharedLines {
        let cache = &self.lines_cache;
        if let Some((_, v)) = cache.borrow().lines.iter().find(|(k, _)| *k == (z, f)) {
            return v.clone();
        }
        let v = self.compute_lines(z, f).map(Arc::new);
        cache.borrow_mut().lines.push(((z, f), v.clone()));
        v
    }

    fn compute_lines(&self, z: usize, f: Family) -> Option<FamilyLines> {
        let cached = self
            .fluor
            .iter()
            .find(|e| e.element.z == z && e.mass_fraction > 1e-4)
            .and_then(|e| super::model::family_lines_from(e, f, 0.004));
        cached.or_else(|| family_lines(element(z)?, f, &self.exc.setup, &self.matrix, 0.004))
    }

    /// [`Work::cached_components`] appended to `out`.
    fn extend_with_components(&self, z: usize, f: Family, free: bool, out: &mut Vec<Component>) {
        out.extend_from_slice(&self.cached_components(z, f, free));
    }

    /// The fit components of a family, with (`free`) or without a free tail: drawn once
    /// per region and matrix into the cache, and borrowed from it.
    fn cached_components(
        &self,
        z: usize,
        f: Family,
        free: bool,
    ) -> std::cell::Ref<'_, [Component]> {
        // a free family is never masked: its key's mask says whether it has long tails
        let mask = if free {
            u64::from(self.long_tails)
        } else {
            self.masked_lines(z, f)
        };
        let key = (z, f, free, mask);
        let missing = {
            let mut cache = self.lines_cache.borrow_mut();
            cache.use_region(self.region);
            !cache.components.contains_key(&key)
        };
        if missing {
            // drawn outside the borrow: drawing looks up the family's lines in the cache
            let c = self.draw_family(z, f, free, if free { 0 } else { mask });
            self.lines_cache.borrow_mut().components.insert(key, c);
        }
        std::cell::Ref::map(self.lines_cache.borrow(), |c| {
            c.components.get(&key).map_or(&[][..], |v| v.as_slice())
        })
    }

    /// Which lines of a family (bit i: line i) lie within [`MASK_FWHM`] of a dominant
    /// line ([`Work::dominant`]); none unless the family's principal line lies within a
    /// FWHM of a burying one ([`BURYING_SHARE`]).
    fn masked_lines(&self, z: usize, f: Family) -> u64 {
        if self.dominant.is_empty() {
            return 0;
        }
        let Some(fl) = self.lines_of(z, f) else {
            return 0;
        };
        // a family is never buried by its own lines
        let near = |e: f64, share: f64, fwhms: f64| {
            self.dominant.iter().any(|d| {
                d.z != z
                    && d.share >= share
                    && (d.energy_kev - e).abs() < fwhms * self.fwhm_kev(d.energy_kev)
            })
        };
        let Some(principal) = fl.lines.iter().max_by(|a, b| a.2.total_cmp(&b.2)) else {
            return 0;
        };
        if !near(principal.1, BURYING_SHARE, 1.0) {
            return 0;
        }
        fl.lines
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, l)| near(l.1, 0.0, MASK_FWHM))
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    fn draw_family(&self, z: usize, f: Family, free: bool, mask: u64) -> Vec<Component> {
        let Some(mut fl) = self.lines_of(z, f) else {
            return Vec::new();
        };
        if mask != 0 {
            // the family's other lines, at their share of the whole family (the
            // amplitude stays the family's counts)
            let mut masked = (*fl).clone();
            let mut i = 0;
            masked.lines.retain(|_| {
                i += 1;
                i > 64 || mask & (1 << (i - 1)) == 0
            });
            fl = Arc::new(masked);
        }
        let shape = if free { Shape::Gauss } else { Shape::Line };
        // the full analysis frees the Kβ/Kα ratio of the strongest K families
        let kb_free = free && !self.quick && f == Family::K;
        let peaks = if kb_free {
            fl.scaled_where(|label| label.starts_with("Kb"), 1.0 - KB_FREEDOM)
                .draw_peaks_with(shape)
        } else {
            fl.draw_peaks_with(shape)
        };
        let t = self.region.template(&peaks);
        if t.values.is_empty() || t.sum() <= 0.05 {
            return Vec::new();
        }
        let mut out = Vec::new();
        if kb_free {
            let kb = fl.scaled_where(|label| !label.starts_with("Kb"), 0.0);
            let tb = self.region.template(&kb.draw_peaks_with(shape));
            if tb.sum() > 0.05 * KB_FREEDOM {
                out.push(Component {
                    kind: Kind::KbExcess,
                    template: tb,
                });
            }
        }
        if free {
            let tt = self.region.template(&fl.tail_peaks());
            if tt.sum() > 0.05 {
                out.push(Component {
                    kind: Kind::Tail,
                    template: tt,
                });
            }
            if self.long_tails {
                for shape in [Shape::LongTailOnly, Shape::StepOnly] {
                    let t = self.region.template(&fl.shaped_peaks(shape));
                    if t.sum() > 0.05 {
                        out.push(Component {
                            kind: Kind::LongTail(shape),
                            template: t,
                        });
                    }
                }
            }
        }
        out.insert(
            0,
            Component {
                kind: Kind::Family(fl),
                template: t,
            },
        );
        out
    }

    /// The pile-up component of the given strong lines (cached for the last lines and
    /// region).
    fn pileup_component(&self, lines: &[(f64, f64)]) -> Option<Component> {
        let mut cache = self.lines_cache.borrow_mut();
        cache.use_region(self.region);
        match &cache.pileup {
            Some((l, c)) if l.as_slice() == lines => return c.clone(),
            _ => {}
        }
        let c = self.draw_pileup(lines);
        cache.pileup = Some((lines.to_vec(), c.clone()));
        c
    }

    fn draw_pileup(&self, lines: &[(f64, f64)]) -> Option<Component> {
        let g = pileup_group(lines, 8);
        let peaks: Vec<DrawPeak> = g
            .lines
            .iter()
            .map(|l| DrawPeak {
                energy_kev: l.energy_kev,
                area: l.intensity,
                extra_sigma_kev: self.region.detector.sigma_kev(l.energy_kev) * 0.5,
                shape: Shape::Gauss,
            })
            .collect();
        let t = self.region.template(&peaks);
        (t.sum() > 0.05).then(|| Component {
            kind: Kind::PileUp(lines.to_vec()),
            template: t,
        })
    }

    /// Rayleigh and Compton components of the tube lines (cached for the region).
    fn scatter_components(&self) -> Vec<Component> {
        let mut cache = self.lines_cache.borrow_mut();
        cache.use_region(self.region);
        cache
            .scatter
            .get_or_insert_with(|| self.draw_scatter())
            .clone()
    }

    fn draw_scatter(&self) -> Vec<Component> {
        let mut out = Vec::new();
        for g in excitation_groups(&self.exc.setup) {
            let t = self.region.template(&rayleigh_peaks(&g));
            if t.sum() > 0.05 {
                out.push(Component {
                    kind: Kind::Rayleigh(g.clone()),
                    template: t,
                });
            }
            for &a in self.compton_angles(&g) {
                let t = self.region.template(&compton_peaks(&g, a));
                if t.sum() > 0.05 {
                    out.push(Component {
                        kind: Kind::Compton,
                        template: t,
                    });
                }
            }
        }
        out
    }

    /// The scattering angles of the Compton templates of the tube-line group `g`: the
    /// quick analysis draws fewer ([`QUICK_COMPTON_ANGLES`]), and one for a group whose
    /// Compton peaks across the angles lie within a quarter FWHM (the Rh L lines: 16 eV).
    fn compton_angles(&self, g: &[(f64, f64)]) -> &'static [f64] {
        if !self.quick {
            return &COMPTON_ANGLES;
        }
        let top = g.iter().map(|l| l.0).fold(0.0, f64::max);
        let [widest, .., narrowest] = QUICK_COMPTON_ANGLES;
        let spread = super::physics::compton_energy(top, widest)
            - super::physics::compton_energy(top, narrowest);
        if spread < 0.25 * self.fwhm_kev(top) {
            &QUICK_COMPTON_ANGLES[1..2]
        } else {
            &QUICK_COMPTON_ANGLES
        }
    }

    /// Joint fit of `comps` on the continuum (the fit's fixed part, so its `model` is
    /// continuum + Σ aₖtₖ over the region's channels).
    fn fit(&self, comps: &[Component]) -> Option<LinearFit> {
        let templates: Vec<Template> = comps.iter().map(|c| c.template.clone()).collect();
        // the buffers of this thread's last fitter serve the next fit (no allocation)
        thread_local! {
            static SPARE: std::cell::RefCell<Option<LinearFitter>> = const { std::cell::RefCell::new(None) };
        }
        let n = self.region.len;
        let mut f = match SPARE.with(|s| s.borrow_mut().take()) {
            Some(old) => old.recycle(n, templates),
            None => LinearFitter::new(n, templates),
        }
        .ok()?;
        // start from the components that were positive in the previous fit (the fits of
        // one analysis share most components): same optimum, fewer NNLS steps
        let keys = component_keys(comps);
        let stage = self.fits_done.get();
        if self.quick {
            self.start_where_the_last_scan_ended(stage);
        }
        {
            let last = self.last_positive.borrow();
            if !last.is_empty() {
                let start: Vec<bool> = keys
                    .iter()
                    .map(|k| last.get(k).copied().unwrap_or(true))
                    .collect();
                f.start_from(&start);
            }
        }
        // the 1σ are all the identification and quantification use
        let opts = LinearOptions {
            covariance: false,
            ..LinearOptions::default()
        };
        let fit = f
            .fit_with_memo(
                self.y(),
                Some(self.bg()),
                &opts,
                &mut self.gram_memo.borrow_mut(),
            )
            .ok()?;
        *self.last_positive.borrow_mut() = keys
            .into_iter()
            .zip(&fit.amplitudes)
            .map(|(k, a)| (k, *a > 0.0))
            .collect();
        if self.quick {
            let mut cache = self.lines_cache.borrow_mut();
            if cache.fit_positive.len() <= stage {
                cache.fit_positive.resize_with(stage + 1, Default::default);
            }
            cache.fit_positive[stage].clone_from(&self.last_positive.borrow());
        }
        self.fits_done.set(stage + 1);
        SPARE.with(|s| *s.borrow_mut() = Some(f));
        Some(fit)
    }

    /// The quick analysis's NNLS start for fit number `stage`: what the previous fit of
    /// this scan left positive, overridden where the same fit of the instrument's last
    /// scan (the library's record) knows the component. Scans of one instrument and
    /// commodity end their fits with nearly the same passive sets, so the NNLS needs a
    /// few steps instead of one per component that changes sign; the optimum and its
    /// bits are the same from any start (see [`LinearFitter::start_from`]).
    fn start_where_the_last_scan_ended(&self, stage: usize) {
        let cache = self.lines_cache.borrow();
        let Some(known) = cache.fit_positive.get(stage) else {
            return;
        };
        let mut last = self.last_positive.borrow_mut();
        last.extend(known.iter().map(|(k, v)| (*k, *v)));
    }

    /// Window (region channels) of ±`half_fwhm` FWHM around `e`.
    fn window(&self, e: f64, half_fwhm: f64) -> std::ops::Range<usize> {
        let cal = &self.region.calibration;
        let w = half_fwhm * self.fwhm_kev(e);
        let a = cal.channel(e - w).round() - self.region.first as f64;
        let b = cal.channel(e + w).round() - self.region.first as f64 + 1.0;
        let n = self.region.len as f64;
        (a.clamp(0.0, n) as usize)..(b.clamp(0.0, n) as usize)
    }

    fn evidence(
        &self,
        comp: &Component,
        amp: f64,
        model: &[f64],
        fl: &FamilyLines,
    ) -> Vec<ClusterEvidence> {
        let y = self.y();
        let bg = self.bg();
        let t = &comp.template;
        let fw = self.fwhm_kev(fl.principal_kev());
        fl.clusters(0.9 * fw)
            .into_iter()
            .take(4)
            .map(|(e, _)| {
                let w = self.window(e, 0.7);
                let (mut p, mut o, mut v, mut others) = (0.0, 0.0, 0.0, 0.0);
                for i in w {
                    let ti = template_at(t, i, amp);
                    p += ti;
                    o += y[i] - model[i] + ti;
                    v += y[i].max(1.0);
                    others += (model[i] - ti - bg[i]).max(0.0) + 0.3 * bg[i];
                }
                // big neighbours within ±3 FWHM: their shape is known to ~1e-4 of their area
                let neighbours: f64 = self
                    .window(e, 3.0)
                    .map(|i| (model[i] - template_at(t, i, amp) - bg[i]).max(0.0))
                    .sum();
                ClusterEvidence {
                    energy_kev: e,
                    predicted: p,
                    observed: o,
                    variance: v
                        + (SYSTEMATIC * others).powi(2)
                        + (NEIGHBOUR_SYSTEMATIC * neighbours).powi(2),
                    others,
                }
            })
            .collect()
    }
}

impl Work<'_> {
    /// The local line test ([`local_line`]) of a fitted family's cluster at `e` keV:
    /// the data less every other component, in ±[`LineTest::window_fwhm`] around it,
    /// fitted with the family's own profile shifted by up to
    /// ±[`LineTest::max_shift_fwhm`] and a free straight baseline. `None` when the
    /// window is too short to judge.
    fn local_line_at(
        &self,
        comp: &Component,
        amp: f64,
        model: &[f64],
        e: f64,
    ) -> Option<LocalLine> {
        let test = LineTest::default();
        let w = self.window(e, test.window_fwhm);
        let max_shift_ch =
            test.max_shift_fwhm * self.fwhm_kev(e) / self.region.calibration.gain_kev;
        let m = max_shift_ch.ceil().max(1.0) as usize;
        let y = self.y();
        let t = &comp.template;
        let residual: Vec<f64> = w
            .clone()
            .map(|i| y[i] - model[i] + template_at(t, i, amp))
            .collect();
        let variance: Vec<f64> = w.clone().map(|i| y[i].max(1.0)).collect();
        let profile: Vec<f64> = (w.start as i64 - m as i64..w.end as i64 + m as i64)
            .map(|i| usize::try_from(i).map_or(0.0, |i| template_at(t, i, amp)))
            .collect();
        local_line(&residual, &variance, &profile, max_shift_ch)
    }

    /// Every cluster of the family that should show clearly (expected significance ≥
    /// [`LineTest::min_expected`], and always the clearest one) and lies beside a
    /// bigger line of another element (its window holds [`LineTest::min_neighbour_ratio`]
    /// times the cluster's counts of other elements' lines, their tails, Kβ excess,
    /// pile-up or scatter) holds the local line test ([`LocalLine::holds`]): at its
    /// energy, a peak of its own. A window too short to judge does not reject.
    fn lines_hold(
        &self,
        comp: &Component,
        amp: f64,
        evidence: &[ClusterEvidence],
        comps: &[Component],
        fit: &LinearFit,
    ) -> bool {
        let test = LineTest::default();
        let systematic_ch = test.systematic_kev / self.region.calibration.gain_kev;
        let clearest = evidence
            .iter()
            .map(ClusterEvidence::expected_significance)
            .fold(0.0, f64::max);
        let model = &fit.model;
        // counts of the lines and detector response of every element other than the
        // rare earths (and of the scattered tube lines) in a window
        // (a family's free tail, long tail, step and Kβ excess follow it in `comps` and
        // belong to its element)
        let mut of_ree = false;
        let ree_part: Vec<bool> = comps
            .iter()
            .map(|c| match &c.kind {
                Kind::Family(fl) => {
                    of_ree = crate::tables::is_rare_earth(fl.symbol);
                    of_ree
                }
                Kind::Tail | Kind::LongTail(_) | Kind::KbExcess => of_ree,
                _ => false,
            })
            .collect();
        let neighbours = |e: f64| -> f64 {
            let w = self.window(e, test.window_fwhm);
            comps
                .iter()
                .zip(&fit.amplitudes)
                .zip(&ree_part)
                .filter(|((c, a), ree)| **a > 0.0 && !**ree && !matches!(c.kind, Kind::Background))
                .map(|(c, _)| c)
                .map(|(c, a)| {
                    w.clone()
                        .map(|i| template_at(&c.template, i, *a))
                        .sum::<f64>()
                })
                .sum()
        };
        // the family's clearest cluster is a peak of its own at its table energy (what
        // lets a sister buried beside a far bigger line go untested)
        let anchored = || {
            evidence
                .iter()
                .max_by(|a, b| {
                    a.expected_significance()
                        .total_cmp(&b.expected_significance())
                })
                .and_then(|c| self.local_line_at(comp, amp, model, c.energy_kev))
                .is_some_and(|l| l.holds(&test, systematic_ch))
        };
        // no line of the family is contradicted by the data: what the rest of the model
        // leaves in a cluster's window is not far below what the family puts there
        // (Gd Lα beside Cr Kβ with −5.8σ of room, held by lines elsewhere), whatever
        // the window's σ
        let contradicted = evidence
            .iter()
            .any(|c| c.observed < 0.25 * c.predicted - 3.0 * c.variance.sqrt());
        !contradicted
            && evidence
                .iter()
                .filter(|c| {
                    let x = c.expected_significance();
                    let n = neighbours(c.energy_kev);
                    (x >= test.min_expected || x >= clearest)
                        && n >= test.min_neighbour_ratio * c.predicted
                        && (x >= clearest
                            || n <= test.max_sister_neighbour_ratio * c.predicted
                            || !anchored())
                })
                .all(|c| {
                    self.local_line_at(comp, amp, model, c.energy_kev)
                        .is_none_or(|l| l.holds(&test, systematic_ch))
                })
    }
}

/// Elements the quick analysis never proposes (Z), as a handheld analyser's mining or
/// soil mode leaves them out of its element list: Ru–Cd, In, Te, I, Cs and Re–Tl
/// (platinum-group, noble and volatile elements that no ore, sand or ceramic
/// carries at percent level). A peak of one of them in an archived scan is left to the
/// other families: the rest of the fit (a rare earth included) absorbs it, the scan is
/// not cleared quickly and the full analysis, which proposes every element, decides.
const NOT_SCREENED: [usize; 16] = [
    44, 45, 46, 47, 48, 49, 52, 53, 55, 75, 76, 77, 78, 79, 80, 81,
];

fn screening_element(z: usize) -> bool {
    !NOT_SCREENED.contains(&z)
}

/// Families proposed by a list of peak energies.
fn propose(work: &Work, energies: &[f64], into: &mut Vec<(usize, Family)>) {
    propose_from(work, energies, work.hi_kev(), into);
}

/// [`propose`] from peaks up to `peak_hi_kev`, which may lie above the fitted region
/// (the quick analysis's La K peak at 33 keV brings La L, in its range, along).
fn propose_from(work: &Work, energies: &[f64], peak_hi_kev: f64, into: &mut Vec<(usize, Family)>) {
    let (lo, hi) = (work.lo_kev(), work.hi_kev());
    let anode = element_by_symbol(&work.exc.source).map(|d| d.z);
    for &e in energies {
        let tol = (0.6 * work.fwhm_kev(e)).max(0.05);
        for n in candidates_for_peak(e, tol, work.exc.max_kev, lo, peak_hi_kev) {
            if Some(n.z) == anode || (work.quick && !screening_element(n.z)) {
                continue;
            }
            // the element's other families in range come along (cross-family check);
            // the universe is in order of Z
            let u = universe();
            let same_z = u.partition_point(|m| m.z < n.z)..u.partition_point(|m| m.z <= n.z);
            for m in &u[same_z] {
                let in_range = m.edge_kev < work.exc.max_kev
                    && m.lines
                        .iter()
                        .any(|l| l.1 >= 0.999 && l.0 >= lo && l.0 <= hi);
                if in_range && !into.contains(&(m.z, m.family)) {
                    into.push((m.z, m.family));
                }
            }
        }
    }
}

/// Joint fit of the scatter, pile-up and the given families; returns the components
/// and the fit.
fn fit_families(
    work: &Work,
    fams: &[(usize, Family)],
    pileup: Option<&[(f64, f64)]>,
) -> Option<(Vec<Component>, LinearFit)> {
    let mut comps = work.scatter_components();
    comps.extend(work.splines.iter().map(|t| Component {
        kind: Kind::Background,
        template: t.clone(),
    }));
    if let Some(lines) = pileup {
        comps.extend(work.pileup_component(lines));
    }
    for &(z, f) in fams {
        work.extend_with_components(z, f, work.free_tail.contains(&(z, f)), &mut comps);
    }
    let fit = work.fit(&comps)?;
    Some((comps, fit))
}

/// Strong lines with their fitted counts (for pile-up).
fn strong_lines(_work: &Work, comps: &[Component], fit: &LinearFit) -> Vec<(f64, f64)> {
    fitted_lines(comps, fit)
        .into_iter()
        .filter(|l| l.1 > 0.0)
        .map(|(e, n, _)| (e, n))
        .collect()
}

/// The fitted fluorescence and scattered tube lines: (energy keV, counts, Z of the
/// element whose line it is, 0 for a scattered tube line).
fn fitted_lines(comps: &[Component], fit: &LinearFit) -> Vec<(f64, f64, usize)> {
    let mut out = Vec::new();
    for (c, &a) in comps.iter().zip(&fit.amplitudes) {
        match &c.kind {
            Kind::Family(fl) => out.extend(fl.lines.iter().map(|l| (l.1, l.2 * a, fl.z))),
            Kind::Rayleigh(r) => out.extend(r.iter().map(|&(e, n)| (e, n * a, 0))),
            _ => {}
        }
    }
    out
}

/// Families that survive. `strict`: significant, consistent within the family and
/// with the element's other families; otherwise significance only.
fn surviving(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
    strict: bool,
) -> Vec<(usize, Family)> {
    let model = &fit.model;
    // (z, family, amplitude, σ, sensitivity, passes own tests)
    let mut fams: Vec<(usize, Family, f64, f64, f64, bool)> = Vec::new();
    let mut lines: Vec<&FamilyLines> = Vec::new();
    for (k, c) in comps.iter().enumerate() {
        let Kind::Family(fl) = &c.kind else { continue };
        lines.push(fl);
        let a = fit.amplitudes[k];
        let sig = if fit.sigmas[k] > 0.0 {
            a / fit.sigmas[k]
        } else {
            0.0
        };
        let ok = if a <= 0.0 {
            false
        } else if strict {
            let ev = work.evidence(c, a, model, fl);
            family_is_real(&ev, sig)
                && (work.quick
                    || !crate::tables::is_rare_earth(fl.symbol)
                    || work.lines_hold(c, a, &ev, comps, fit))
        } else {
            sig >= 3.0
        };
        fams.push((
            fl.z,
            fl.family,
            a.max(0.0),
            fit.sigmas[k],
            fl.sensitivity,
            ok,
        ));
    }
    let mut keep = Vec::new();
    // Strong families that fail are removed one at a time (the weakest first) within a
    // group of overlapping lines, so that one wrong removal cannot cascade through the
    // group; failures whose lines overlap no weaker failure's go in the same round.
    let strong_fail =
        |f: &(usize, Family, f64, f64, f64, bool)| !f.5 && f.3 > 0.0 && f.2 / f.3 >= 8.0;
    let mut order: Vec<usize> = (0..fams.len())
        .filter(|&i| strict && strong_fail(&fams[i]))
        .collect();
    order.sort_by(|&a, &b| (fams[a].2 / fams[a].3).total_cmp(&(fams[b].2 / fams[b].3)));
    let overlap = |a: &FamilyLines, b: &FamilyLines| {
        a.lines.iter().filter(|l| l.2 >= 0.02).any(|la| {
            b.lines
                .iter()
                .filter(|l| l.2 >= 0.02)
                .any(|lb| (la.1 - lb.1).abs() < 2.0 * work.fwhm_kev(la.1))
        })
    };
    let total_family_counts: f64 = fams.iter().map(|f| f.2).sum();
    let mut inconsistent: Vec<(usize, Family)> = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        if !order[..n].iter().any(|&j| overlap(lines[i], lines[j])) {
            removed.push(i);
        }
    }
    for (i, f) in fams.iter().enumerate() {
        // the quick analysis keeps every strong family: its line shape is not refined,
        // and a misfit must not remove a real element (the full analysis judges)
        let strong_kept = strict && strong_fail(f) && (work.quick || !removed.contains(&i));
        if !(f.5 || strong_kept) {
            continue;
        }
        if strict && f.5 {
            // every sibling family the FP model predicts to be visible must be there;
            // a soft sibling cannot veto a family that dominates the spectrum (its
            // predicted size hangs on the path, window and beam filter, which a file
            // may not state, while no coincidence makes a family that big)
            let dominant = f.2 >= SIBLING_VETO_MAX_SHARE * total_family_counts;
            let consistent = fams
                .iter()
                .enumerate()
                .filter(|(_, g)| g.0 == f.0 && g.1 != f.1)
                .all(|(j, g)| {
                    if f.4 <= 0.0
                        || (dominant && principal_line_kev(lines[j]) < SIBLING_VETO_MIN_KEV)
                    {
                        return true;
                    }
                    let predicted = f.2 * g.4 / f.4;
                    predicted < 10.0 * g.3 || g.2 >= 0.1 * predicted - 3.0 * g.3
                });
            if !consistent {
                inconsistent.push((f.0, f.1));
                continue;
            }
        }
        keep.push((f.0, f.1));
    }
    // keep siblings of kept elements in the model (they may be weak but are real), even
    // at zero amplitude: the next strict round must see that the sibling the FP model
    // predicts is absent (a K family made of one coincident peak, e.g. a pile-up sum,
    // has no L family), not lose the check because the sibling was dropped first; a
    // family far stronger than its kept sibling allows is not real and stays out
    let kept: Vec<usize> = keep.iter().map(|k| k.0).collect();
    for f in &fams {
        if kept.contains(&f.0) && !keep.contains(&(f.0, f.1)) && !inconsistent.contains(&(f.0, f.1))
        {
            keep.push((f.0, f.1));
        }
    }
    keep
}

/// χ² the strong lines' free long tails and steps (two parameters for each of at most
/// four families) must remove to enter the model: on spectra of detectors whose lines
/// have them (incomplete charge collection; the independent corpus) they remove
/// up to 7,000, on spectra drawn without them 0–50, where they would only fit noise and
/// lend counts to the rare-earth L lines beside Fe Kα.
const LONG_TAIL_MIN_CHI2_DROP: f64 = 100.0;

/// Below this energy (keV) a sibling family's predicted size depends on the beam path,
/// detector window and beam filter more than on the element (Zr L at 2 keV behind a Cu
/// filter in air is ~100× below what an unfiltered vacuum model predicts from Zr K), so
/// it may not veto a dominant family.
const SIBLING_VETO_MIN_KEV: f64 = 4.0;
/// A family holding at least this share of all fitted line counts is dominant: pile-up
/// sums and escape coincidences stay near 1 % of their parents.
const SIBLING_VETO_MAX_SHARE: f64 = 0.05;

/// Energy of a family's strongest line (keV).
fn principal_line_kev(fl: &FamilyLines) -> f64 {
    fl.lines
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map_or(0.0, |l| l.1)
}

/// Residual peaks (data − model) above `min_sig`.
fn residual_peaks(work: &Work, model: &[f64], min_sig: f64) -> Vec<f64> {
    let y = work.y();
    // search on data with the model's excess removed: y - (model - bg)
    let resid: Vec<f64> = y
        .iter()
        .zip(model)
        .zip(work.bg())
        .map(|((y, m), b)| (y - m + b).max(0.0))
        .collect();
    let cal = work.region.calibration;
    let first = work.region.first as f64;
    let det = work.region.detector;
    let opts = PeakSearchOptions {
        min_significance: min_sig,
        ..PeakSearchOptions::default()
    };
    let fwhm = |c: f64| det.fwhm_kev(cal.energy_kev(c + first)) / cal.gain_kev;
    with_searcher(|s| s.search(&resid, 0..resid.len(), fwhm, &opts))
        .into_iter()
        .map(|p| cal.energy_kev(p.channel + first))
        .collect()
}

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

fn prepare(spectrum: &Spectrum, opts: &XrfOptions) -> Result<Prepared> {
    prepare_with(spectrum, opts, false)
}

/// [`prepare`]; `quick`: the region ends where the quick analysis's does
/// ([`quick_range`]), and the continuum is stripped only as far as it needs (see
/// [`snip_continuum_below`]).
fn prepare_with(spectrum: &Spectrum, opts: &XrfOptions, quick: bool) -> Result<Prepared> {
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
    let end = if quick {
        region = quick_range(region, &peaks0, &exc);
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
    /// The work state of a prepared spectrum, in the generic starting matrix; `quick`:
    /// for the quick analysis.
    fn new(counts: &'a [f64], p: Prepared, mut lines_cache: LinesCache, quick: bool) -> Self {
        // the continuum is smooth on keV scales: the quick fit makes do with half the
        // spline corrections
        let spline_spacing_kev = if quick { 2.0 } else { 1.0 };
        Work {
            counts,
            bg: p.bg,
            region: p.region,
            exc: p.exc,
            matrix: mixture(&[("Si".into(), 0.3), ("O".into(), 0.5), ("Fe".into(), 0.2)]),
            splines: lines_cache.splines(p.region, spline_spacing_kev),
            free_tail: Vec::new(),
            long_tails: false,
            dominant: Vec::new(),
            fluor: Vec::new(),
            lines_cache: std::cell::RefCell::new(lines_cache),
            quick,
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
    let mut p = prepare(spectrum, opts)?;
    let peaks0 = std::mem::take(&mut p.peaks0);
    let peak_hi_kev = p.peak_hi_kev;
    let mut work = Work::new(spectrum.counts_slice(), p, LinesCache::default(), false);
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
    let binned = binned_channels(spectrum);
    let spectrum = binned.as_ref().unwrap_or(spectrum);
    let mut p = prepare_with(spectrum, opts, true)?;
    let unquantised = p.region.calibration;
    p.region = library::quantised(p.region);
    let key = library::Key::new(&p.region, &p.exc);
    let peaks0 = std::mem::take(&mut p.peaks0);
    // peaks above the quick range still propose the families they belong to
    let peak_hi_kev = p.peak_hi_kev;
    let mut work = Work::new(spectrum.counts_slice(), p, library::take(&key), true);
    let fams = work.first_candidates(&peaks0, peak_hi_kev);
    let result = quick_loop(&mut work, fams, spectrum);
    let used = work.region.calibration;
    library::put(key, work.lines_cache.into_inner());
    let mut a = result?;
    if binned.is_some() {
        // report on the file's channel scale: its gain, its offset moved by what the
        // library grid moved the bins' offset, the fitted range in file channels
        if let Some(c) = file.axis.calibration() {
            let m = quick_bin_factor(c.gain_kev);
            a.calibration.offset_kev = c.offset_kev + (used.offset_kev - unquantised.offset_kev);
            a.calibration.gain_kev = c.gain_kev;
            a.fit_channels = (a.fit_channels.0 * m, a.fit_channels.1 * m + m - 1);
        }
    }
    Ok(a)
}

/// The quick fit ends this far (keV) above the highest peak found.
const QUICK_END_MARGIN_KEV: f64 = 1.5;
/// … above the highest peak of at least this significance (σ): a 3σ peak search over
/// a thousand channels finds a few noise peaks, and the bend of the continuum at the
/// tube voltage looks like one
const QUICK_END_MIN_SIGMA: f64 = 6.0;
/// … rounded up to a multiple of this (keV), so that the scans of one instrument share
/// a few regions, and with them the template library.
const QUICK_END_STEP_KEV: f64 = 4.0;
/// The Compton peak of a tube line E lies above this fraction of E (Rh Kα scattered
/// through 90°: 0.962; 135°: 0.948), its Doppler-broadened foot ~0.5 keV lower.
const COMPTON_LOW: f64 = 0.92;

/// `region` ended above its highest fluorescence peak: above the last line the spectrum
/// holds the continuum, the tube's scattered lines and pile-up sums, and nothing a
/// screening fit needs. Scattered tube lines (Rayleigh at the line, Compton down to ~8 %
/// below it) and sums of two peaks each ten times stronger do not count as
/// fluorescence peaks, and when the fluorescence ends below the tube's lines the fit
/// stops at the foot of their Compton peaks: an honest iron ore under a 50 kV Rh tube
/// is fitted to 18 keV instead of past its Rh Kβ + Fe Kα pile-up (29 keV). Y K, Zr K,
/// Th L and U L, which trace levels leave below 6σ, all lie below; a rare earth's K
/// lines (La Kα 33 keV), when they show, lie above the tube's lines and keep the range
/// going past them.
fn quick_range(region: Region, peaks: &[Peak], exc: &ExcitationInfo) -> Region {
    let cal = region.calibration;
    let strong: Vec<(f64, f64)> = peaks
        .iter()
        .filter(|p| p.significance >= QUICK_END_MIN_SIGMA)
        .map(|p| (cal.energy_kev(p.channel), p.area))
        .collect();
    let tube_lines: Vec<f64> = exc.setup.excitation.lines.iter().map(|l| l.0).collect();
    let scattered = |e: f64| {
        tube_lines
            .iter()
            .any(|&t| e > COMPTON_LOW * t - 0.1 && e < t + 0.15)
    };
    let pile_up = |(e, area): (f64, f64)| {
        let parents: Vec<f64> = strong
            .iter()
            .filter(|p| p.1 >= 10.0 * area)
            .map(|p| p.0)
            .collect();
        parents
            .iter()
            .any(|a| parents.iter().any(|b| (a + b - e).abs() < 0.1))
    };
    let Some(top) = strong
        .iter()
        .copied()
        .filter(|&(e, _)| !scattered(e))
        .filter(|&p| !pile_up(p))
        .map(|p| p.0)
        .reduce(f64::max)
    else {
        return region;
    };
    let step_up = |e: f64, step: f64| (e / step).ceil() * step;
    // the lowest tube line above the fluorescence: stop at the foot of its Compton
    // peak, but not within a FWHM or so of the last fluorescence line
    let end_kev = match tube_lines
        .iter()
        .copied()
        .filter(|&t| t > top)
        .reduce(f64::min)
    {
        Some(t) => (COMPTON_LOW * t - 0.3).max(step_up(top + 0.8, 0.5)),
        None => step_up(top + QUICK_END_MARGIN_KEV, QUICK_END_STEP_KEV),
    };
    let last = cal.channel(end_kev).floor().max(0.0) as usize;
    let len = (last + 1)
        .saturating_sub(region.first)
        .clamp(17, region.len);
    Region { len, ..region }
}

/// The quick analysis sums adjacent channels into bins of at least this width (keV)
/// when the spectrum's channels are finer: a screening fit needs no more than ~5 bins
/// per FWHM (140 eV at Mn Kα over 30 eV), and every per-channel cost falls with the
/// channel count.
const QUICK_BIN_KEV: f64 = 0.03;

/// Channels per quick-analysis bin for channels `gain_kev` wide.
fn quick_bin_factor(gain_kev: f64) -> usize {
    ((QUICK_BIN_KEV / gain_kev) * (1.0 + 1e-9)).floor().max(1.0) as usize
}

/// `spectrum` with every `m` adjacent channels summed (mk … mk + m − 1 → k, trailing
/// channels that fill no bin dropped) when its channels are finer than
/// [`QUICK_BIN_KEV`]; the calibration is that of the bin centres.
fn binned_channels(spectrum: &Spectrum) -> Option<Spectrum> {
    let cal = *spectrum.axis.calibration()?;
    let m = quick_bin_factor(cal.gain_kev);
    if m < 2 || spectrum.len() < 64 * m {
        return None;
    }
    let c = spectrum.counts_slice();
    let counts: Vec<f64> = c.chunks_exact(m).map(|p| p.iter().sum()).collect();
    // E(c) = o + g·c + q·c²; the mean of E(mk + j), j = 0 … m − 1, is
    // (o + g(m − 1)/2 + q(m − 1)(2m − 1)/6) + (gm + qm(m − 1))·k + qm²·k²
    let (o, g, q) = (cal.offset_kev, cal.gain_kev, cal.quad_kev);
    let mf = m as f64;
    let binned = crate::Calibration {
        offset_kev: o + 0.5 * g * (mf - 1.0) + q * (mf - 1.0) * (2.0 * mf - 1.0) / 6.0,
        gain_kev: g * mf + q * mf * (mf - 1.0),
        quad_kev: q * mf * mf,
    };
    Some(Spectrum {
        counts: counts.into(),
        axis: crate::spectrum::Axis::Energy(binned),
        meta: spectrum.meta.clone(),
    })
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
    let q = quantify_fit(work, &quant, model, false);
    let mut a = report(work, &comps, &fit, &quant, &q, spectrum);
    a.unconfirmed = unconfirmed(work, &held, &comps, &fit, &q, &a);
    if !a.excitation_basis.quantified {
        // electron excitation: no weight fraction (see `ExcitationInfo::qualify`)
        a.unconfirmed.iter_mut().for_each(|u| u.wt_pct = f64::NAN);
    }
    Ok(a)
}

/// A dominant line of the quick analysis (see [`buried_families`]).
#[derive(Debug, Clone, Copy)]
struct Dominant {
    energy_kev: f64,
    /// Of the strongest line's counts.
    share: f64,
    /// The element whose line it is (0: the scattered tube line).
    z: usize,
}

/// Lines carrying at least this share of the strongest line's counts are dominant
/// (Fe Kβ, 17 % of Fe Kα1, among them).
const DOMINANT_SHARE: f64 = 0.1;
/// Dominant lines with at least this share bury a family whose principal line lies
/// within their FWHM: Fe Kα1 and Kα2, not Fe Kβ (Er and Tm Lα beside Fe Kβ are resolved
/// by the joint fit; read without its Lα, Tm would rest on its Lβ1 at 8.10 keV, where
/// the Fe Kα + Si Kα pile-up and Cu Kα lie).
const BURYING_SHARE: f64 = 0.3;
/// A buried family's lines within this many FWHM of any dominant line are left out
/// (Dy Lβ1, 190 eV above Fe Kβ, sits where the quick fit's tabulated Fe Kβ/Kα ratio, a
/// few per cent off, leaves ~10³ counts).
const MASK_FWHM: f64 = 1.5;

/// The rare-earth, Th and U families whose principal line lies within a FWHM of a
/// burying line (Tb Lα 130 eV below and Dy Lα 95 eV above Fe Kα). Without a refined
/// line shape, what a line of 10⁶ counts leaves within a FWHM exceeds the whole family
/// at a few 0.1 wt % (the first fit of an honest iron ore holds up to ~0.4 % of Fe Kα
/// as "Tb"), so the quick analysis draws these families without their lines near the
/// dominant ones ([`Work::masked_lines`]) and measures them by their free lines (Dy Lβ2
/// and Lγ1, 0.6 and 1.4 keV above Fe Kβ), as an analyst reads an interfered element by
/// a clean line. Sets [`Work::dominant`] from the lines of the first fit; from then on
/// every family the quick analysis draws is masked the same way when a dominant line of
/// another element buries its principal line, but only these are added to the
/// candidates.
fn buried_families(work: &mut Work, comps: &[Component], fit: &LinearFit) -> Vec<(usize, Family)> {
    let lines = fitted_lines(comps, fit);
    let top = lines.iter().map(|l| l.1).fold(0.0, f64::max);
    work.dominant = lines
        .iter()
        .filter(|l| top > 0.0 && l.1 >= DOMINANT_SHARE * top)
        .map(|l| Dominant {
            energy_kev: l.0,
            share: l.1 / top,
            z: l.2,
        })
        .collect();
    let buried: Vec<(usize, Family)> = LOD_ELEMENTS
        .iter()
        .filter_map(|s| element_by_symbol(s))
        .map(|d| (d.z, principal_family(d.z, work.exc.max_kev)))
        .filter(|&(z, f)| work.masked_lines(z, f) != 0)
        .collect();
    buried
}

/// Per-instrument template libraries of the quick analysis. Archived scans of one
/// instrument share its calibration, resolution and tube: the family templates drawn
/// for one scan serve the next, as a handheld analyser's element library does. The
/// set-up is quantised (offset to ¼ channel, electronic noise to 3 % steps) so that
/// scans of one instrument share a library; at most [`library::CAPACITY`] libraries
/// are kept, the least recently used dropped first. A library holds exactly what a
/// fresh draw would give, and where each fit of the last scan ended (the same fit of
/// the next scan starts its NNLS there; the amplitudes are recomputed from the final
/// passive set), so results do not depend on which scans came before.
mod library {
    use super::{ExcitationInfo, LinesCache, Region};
    use std::sync::Mutex;

    /// Set-ups kept.
    pub const CAPACITY: usize = 64;
    /// Noise quantisation step (relative).
    const NOISE_STEP: f64 = 0.03;

    /// What the templates depend on.
    #[derive(PartialEq)]
    pub struct Key {
        region: Region,
        source: String,
        kv: Option<f64>,
        max_kev: f64,
        /// The whole primary spectrum and detector (tube window and filter, detector
        /// window and air path): compared last, after the cheap fields.
        setup: super::Setup,
    }

    impl Key {
        pub fn new(region: &Region, exc: &ExcitationInfo) -> Self {
            Key {
                region: *region,
                source: exc.source.clone(),
                kv: exc.kv,
                max_kev: exc.max_kev,
                setup: exc.setup.clone(),
            }
        }
    }

    static LIBRARIES: Mutex<Vec<(Key, LinesCache)>> = Mutex::new(Vec::new());

    /// The region on the library grid.
    pub fn quantised(mut r: Region) -> Region {
        let cal = &mut r.calibration;
        let quarter = 0.25 * cal.gain_kev;
        cal.offset_kev = (cal.offset_kev / quarter).round() * quarter;
        let det = &mut r.detector;
        let step = (1.0 + NOISE_STEP).ln();
        det.noise_kev = ((det.noise_kev.ln() / step).round() * step).exp();
        r
    }

    /// A library of `key` (empty when none is free); the caller hands it back with
    /// [`put`].
    pub fn take(key: &Key) -> LinesCache {
        let mut libs = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
        match libs.iter().rposition(|(k, _)| k == key) {
            Some(i) => libs.remove(i).1,
            None => LinesCache::default(),
        }
    }

    /// Keep `cache` as a library of `key` (most recently used last). Threads working
    /// on scans of one instrument each hold a copy, so a key may be kept several times.
    pub fn put(key: Key, cache: LinesCache) {
        let mut libs = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
        if libs.len() >= CAPACITY {
            libs.remove(0);
        }
        libs.push((key, cache));
    }
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
    // 3: what the model leaves unexplained, with the strong lines' long tails and steps
    // where the data show them
    let (_, mut fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    work.long_tails = true;
    match fit_families(work, &fams, Some(&pile)) {
        Some((_, f)) if fit.chi2 - f.chi2 >= LONG_TAIL_MIN_CHI2_DROP => fit = f,
        _ => work.long_tails = false,
    }
    let extra = residual_peaks(work, &fit.model, 5.0);
    propose(work, &extra, &mut fams);
    // 4: strict pruning until stable
    let (mut comps, mut fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    prune(work, &mut fams, &mut comps, &mut fit, &pile, 8)?;
    // 5: matrix model, quantify, rebuild templates in the estimated matrix, refit
    let quant = quant_families(work, &comps, &fit);
    let (model_kind, q) = choose_matrix(work, &comps, &fit, &quant, opts);
    let pile = strong_lines(work, &comps, &fit);
    // matrix-dependent line ratios only where they describe the data better (a thin
    // or unknown sample keeps the generic ratios): model selection by χ²
    let before = (
        work.matrix.clone(),
        std::mem::take(&mut work.fluor),
        fit.chi2,
    );
    work.set_matrix(&q.mixture);
    let (c2, f2) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    if f2.chi2 <= before.2 {
        (comps, fit) = (c2, f2);
    } else {
        work.matrix = before.0;
        work.fluor = before.1;
        work.lines_cache.borrow_mut().clear();
        (comps, fit) = fit_families(work, &fams, Some(&pile)).ok_or_else(fail)?;
    }
    prune(work, &mut fams, &mut comps, &mut fit, &pile, 4)?;
    let quant = quant_families(work, &comps, &fit);
    let q = quantify_fit(work, &quant, model_kind, true);
    Ok(report(work, &comps, &fit, &quant, &q, spectrum))
}

/// SNIP continuum of a whole spectrum, clipping window twice the default detector's
/// FWHM at 8 keV, with the LLS (log-log-sqrt) transform.
fn snip_continuum(counts: Vec<f64>, cal: &Calibration) -> Vec<f64> {
    let n = counts.len();
    snip_continuum_below(counts, cal, n)
}

/// [`snip_continuum`], exact for the channels below `end` only: SNIP's clipping passes
/// (p = w … 1) carry what lies above a cut down by p channels each, w(w + 1)/2 in all,
/// so the passes run up to that far above `end`, and the channels beyond keep their
/// counts.
fn snip_continuum_below(mut counts: Vec<f64>, cal: &Calibration, end: usize) -> Vec<f64> {
    let fwhm8 = Detector::default().fwhm_kev(8.0) / cal.gain_kev;
    let width = ((2.0 * fwhm8).round() as usize).max(3);
    let n = counts.len();
    // the cut stays out of reach of the channels below `end`, and leaves whole
    // spectra (and the clamp of the width to the spectrum) as they were
    let reach = width * (width + 1) / 2;
    let cut = if end + reach + 2 * width + 1 < n {
        end + reach + 1
    } else {
        n
    };
    let mut scratch = vec![0.0; cut];
    snip_in_place(
        &mut counts[..cut],
        &mut scratch,
        &SnipOptions { width, lls: true },
    );
    counts
}

/// Re-estimate the continuum by SNIP on the data with the fitted lines removed.
///
/// SNIP clips peaks narrower than its window, but a dense forest of lines (the L lines
/// of several light rare earths, 4.5–6.5 keV, ~1 FWHM apart) never shows it the
/// continuum: it bridges from peak to peak and can sit at twice the true continuum,
/// which the non-negative spline corrections cannot lower. On data − fitted lines the
/// forest is gone and SNIP finds the continuum between the remaining small residuals.
fn restrip_background(work: &mut Work, comps: &[Component], fit: &LinearFit) {
    let (first, len) = (work.region.first, work.region.len);
    // the fitted lines: the model less its continuum
    let lines: Vec<f64> = fit
        .model
        .iter()
        .zip(continuum(work, comps, fit))
        .map(|(m, c)| m - c)
        .collect();
    let mut stripped = work.counts.to_vec();
    for (i, l) in lines.iter().enumerate() {
        stripped[first + i] = (stripped[first + i] - l).max(0.0);
    }
    let stripped = snip_continuum(stripped, &work.region.calibration);
    // only ever lower the continuum (the first estimate is an upper bound)
    for (b, s) in work.bg[first..first + len]
        .iter_mut()
        .zip(&stripped[first..first + len])
    {
        *b = b.min(*s);
    }
}

/// [`refine_shape`] repeated (at most four passes) while the resolution still moves by
/// the full step of its grid.
fn refine_shape_converged(work: &mut Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) {
    for _ in 0..4 {
        let before = work.region.detector.noise_kev;
        refine_shape(work, fams, pile);
        let step = (work.region.detector.noise_kev / before - 1.0).abs();
        if step < 0.1 {
            break;
        }
    }
}

/// Strict pruning until stable (at most `rounds` refits).
fn prune(
    work: &Work,
    fams: &mut Vec<(usize, Family)>,
    comps: &mut Vec<Component>,
    fit: &mut LinearFit,
    pile: &[(f64, f64)],
    rounds: usize,
) -> Result<Vec<Held>> {
    let fail = || Error::Numerical("XRF joint fit failed".into());
    let mut rejected = Vec::new();
    // families that won a model selection against a rival stay (see `rival_swap`)
    let mut won: Vec<(usize, Family)> = Vec::new();
    for _ in 0..rounds {
        let mut kept = surviving(work, comps, fit, true);
        for w in &won {
            if fams.contains(w) && !kept.contains(w) {
                kept.push(*w);
            }
        }
        if kept.len() == fams.len() {
            break;
        }
        let dropped = held_families(comps, fit, &kept);
        rejected.extend(dropped.iter().copied());
        *fams = kept;
        (*comps, *fit) = fit_families(work, fams, Some(pile)).ok_or_else(fail)?;
        if work.quick {
            continue;
        }
        for d in dropped {
            if let Some(w) = rival_swap(work, d, fams, comps, fit, pile) {
                won.push(w);
            }
        }
    }
    Ok(rejected)
}

/// Significance from which a family the quick fit holds is surely something real (the
/// unrefined line shape of honest ores leaves misfits of up to ~7σ).
const SURELY_THERE_SIGMA: f64 = 10.0;

/// What the quick analysis leaves undecided ([`super::XrfAnalysis::unconfirmed`]): the
/// rare-earth, Th and U families its fits held at ≥ 3σ that it does not report —
/// `held` by an earlier fit (confirmed in the first, dropped by the line tests of a
/// pruning round), or kept in the final fit (`comps`, `fit`) but not reported (`a`), or
/// reported only by lines away from the principal one while the detection limit of the
/// principal line's window, which a big neighbour such as Fe Kβ beside Er Lα raises far
/// above what the joint fit resolves, is above what is reported. Each comes with the
/// mass fraction its fitted area would mean (`q`'s instrument constant and the family's
/// FP sensitivity; at least the detection limit where the fit surely holds something,
/// see [`SURELY_THERE_SIGMA`], or reads a buried family by its free lines alone, see
/// [`buried_families`]), the most significant once per family. Only the family
/// that detection limits are quoted for counts (L for the rare earths, see
/// [`principal_family`]): the rare earths' K lines lie among the Zr K pile-up sums.
fn unconfirmed(
    work: &Work,
    held: &[Held],
    comps: &[Component],
    fit: &LinearFit,
    q: &Quantified,
    a: &XrfAnalysis,
) -> Vec<super::Unconfirmed> {
    // (family, still in the final fit)
    let in_final = held_families(comps, fit, &[])
        .into_iter()
        .map(|h| (h, true));
    let mut out: Vec<(Held, bool)> = Vec::new();
    for (h, in_fit) in held.iter().map(|h| (*h, false)).chain(in_final) {
        let Some(d) = element(h.z) else { continue };
        let principal = h.family == principal_family(h.z, work.exc.max_kev);
        if !principal || !LOD_ELEMENTS.contains(&d.symbol) {
            continue;
        }
        match out
            .iter_mut()
            .find(|o| (o.0.z, o.0.family) == (h.z, h.family))
        {
            Some(o) if o.0.significance >= h.significance => {}
            Some(o) => *o = (h, in_fit),
            None => out.push((h, in_fit)),
        }
    }
    out.into_iter()
        .filter_map(|(h, in_fit)| {
            let (z, f, sig) = (h.z, h.family, h.significance);
            let symbol = element(z)?.symbol.to_string();
            // a family in the final fit, or one held far above what misfits of the
            // unrefined line shape give (honest ores: ≤ 7σ), is resolved no better than
            // the detection limit of its principal line's window (a big neighbour's
            // counts)
            let lod = detection_limit_in(work, &fit.model, z, f, q, false);
            // reported, and seen by its principal line: decided; reported only by its
            // free lines (Er Lα beside Fe Kβ), which the unrefined line shape of the
            // quick fit reads no better than the principal line's window allows:
            // undecided
            if a.element(&symbol)
                .is_some_and(|e| lod.is_none_or(|lod| e.wt_pct >= lod))
            {
                return None;
            }
            let lod = lod.unwrap_or(0.0);
            let fitted = wt_pct_of_area(h.amplitude, work.lines_of(z, f)?.sensitivity, q)?;
            // a buried family, read by its free lines alone, is resolved no better than
            // their detection limit either
            let buried = work.masked_lines(z, f) != 0;
            Some(super::Unconfirmed {
                symbol,
                family: format!("{f:?}"),
                significance: sig,
                wt_pct: if in_fit || buried || sig >= SURELY_THERE_SIGMA {
                    fitted.max(lod)
                } else {
                    fitted
                },
            })
        })
        .collect()
}

/// The principal rare-earth, Th and U families of a fit held at ≥ 3σ whose line
/// clusters confirm them ([`family_is_real`]), as [`held_families`] lists them.
fn confirmed_rare_earths(work: &Work, comps: &[Component], fit: &LinearFit) -> Vec<Held> {
    let mut out = held_families(comps, fit, &[]);
    // the lines of the free-tail families (principal energy)
    let tails: Vec<f64> = comps
        .iter()
        .filter_map(|c| match &c.kind {
            Kind::Family(fl) if work.free_tail.contains(&(fl.z, fl.family)) => {
                Some(fl.principal_kev())
            }
            _ => None,
        })
        .collect();
    out.retain(|h| {
        // within a FWHM below a free-tail line the first fit (no free tail) takes the
        // tail for the family: Tb Lα 130 eV below Fe Kα
        let in_tail = tails
            .iter()
            .any(|&e| e > h.principal_kev && e - h.principal_kev < work.fwhm_kev(e));
        !in_tail
            && element(h.z).is_some_and(|d| LOD_ELEMENTS.contains(&d.symbol))
            && h.family == principal_family(h.z, work.exc.max_kev)
    });
    out.retain(|h| {
        comps.iter().any(|c| match &c.kind {
            Kind::Family(fl) if (fl.z, fl.family) == (h.z, h.family) => family_is_real(
                &work.evidence(c, h.amplitude, &fit.model, fl),
                h.significance,
            ),
            _ => false,
        })
    });
    out
}

/// A family a fit held at ≥ 3σ.
#[derive(Debug, Clone, Copy)]
struct Held {
    z: usize,
    family: Family,
    principal_kev: f64,
    /// Amplitude / σ.
    significance: f64,
    amplitude: f64,
}

/// The families the fit held at ≥ 3σ, other than those in `except` (a pruning round
/// passes the families it keeps, and gets the significant ones it dropped).
fn held_families(comps: &[Component], fit: &LinearFit, except: &[(usize, Family)]) -> Vec<Held> {
    comps
        .iter()
        .enumerate()
        .filter_map(|(k, c)| match &c.kind {
            Kind::Family(fl)
                if !except.contains(&(fl.z, fl.family))
                    && fit.sigmas[k] > 0.0
                    && fit.amplitudes[k] >= 3.0 * fit.sigmas[k] =>
            {
                Some(Held {
                    z: fl.z,
                    family: fl.family,
                    principal_kev: fl.principal_kev(),
                    significance: fit.amplitudes[k] / fit.sigmas[k],
                    amplitude: fit.amplitudes[k],
                })
            }
            _ => None,
        })
        .collect()
}

/// Two elements can explain one peak (Mn Kα 5.90 / Eu Lα 5.85 keV, half a FWHM
/// apart): each family's own evidence is judged with the other in the model, so which
/// of the two a pruning round keeps can depend on what else is still there. When a
/// dropped family's principal line is one a kept family of another element explains,
/// the two explanations are compared by the χ² of the joint fit with one or the other
/// (model selection); the better one is applied, and its family returned.
fn rival_swap(
    work: &Work,
    dropped: Held,
    fams: &mut Vec<(usize, Family)>,
    comps: &mut Vec<Component>,
    fit: &mut LinearFit,
    pile: &[(f64, f64)],
) -> Option<(usize, Family)> {
    let (z, family, e) = (dropped.z, dropped.family, dropped.principal_kev);
    let half = 0.5 * work.fwhm_kev(e);
    let rival = comps.iter().find_map(|c| match &c.kind {
        Kind::Family(fl) if fl.z != z && (fl.principal_kev() - e).abs() < half => {
            Some((fl.z, fl.family))
        }
        _ => None,
    })?;
    let mut set: Vec<(usize, Family)> = fams.iter().copied().filter(|f| *f != rival).collect();
    set.push((z, family));
    let (c, f) = fit_families(work, &set, Some(pile))?;
    if f.chi2 >= fit.chi2 {
        return None;
    }
    (*fams, *comps, *fit) = (set, c, f);
    Some((z, family))
}

/// The `n` families with the largest fitted areas.
fn strongest_families(comps: &[Component], fit: &LinearFit, n: usize) -> Vec<(usize, Family)> {
    let mut v: Vec<(usize, Family, f64)> = comps
        .iter()
        .zip(&fit.amplitudes)
        .filter_map(|(c, a)| match &c.kind {
            Kind::Family(fl) if *a > 0.0 => Some((fl.z, fl.family, *a)),
            _ => None,
        })
        .collect();
    v.sort_by(|a, b| b.2.total_cmp(&a.2));
    v.into_iter().take(n).map(|x| (x.0, x.1)).collect()
}

/// Refine the line shape (energy offset, then resolution × tail) by χ² of a local fit
/// around the strongest family's principal line.
/// [`refine_shape`] once more on a grid around the current shape (offset ±3 eV,
/// resolution ±6 %, the neighbouring tails): after the first refinement only the
/// continuum and pile-up have changed, the shape moves by less than a step.
fn refine_shape_near(work: &mut Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) {
    let t = work.region.tail;
    let last = super::model::TAIL_RATIOS.len() - 1;
    let grid = ShapeGrid {
        shifts: &[-0.003, 0.0, 0.003],
        widths: &[0.94, 1.0, 1.06],
        tails: t.saturating_sub(1)..(t + 1).min(last) + 1,
    };
    refine_shape_on(work, fams, pile, &grid);
}

/// The principal line of the strongest family, around which the line shape is refined:
/// found by a joint fit the first time, then kept (later passes and the second
/// refinement only move the shape by a grid step, which does not change which family
/// is strongest).
fn shape_anchor(work: &Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) -> Option<f64> {
    if let Some(e) = work.shape_anchor.get() {
        return Some(e);
    }
    let (comps, fit) = fit_families(work, fams, Some(pile))?;
    let strongest = comps
        .iter()
        .zip(&fit.amplitudes)
        .filter_map(|(c, a)| match &c.kind {
            Kind::Family(fl) => Some((fl.principal_kev(), *a)),
            _ => None,
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let e = strongest?.0;
    work.shape_anchor.set(Some(e));
    Some(e)
}

/// Trial values of a line-shape refinement.
struct ShapeGrid<'a> {
    /// Energy offsets, keV.
    shifts: &'a [f64],
    /// Resolution factors.
    widths: &'a [f64],
    /// Tail indices ([`super::model::TAIL_RATIOS`]).
    tails: std::ops::Range<usize>,
}

fn refine_shape(work: &mut Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) {
    let grid = ShapeGrid {
        shifts: &[-0.006, -0.003, 0.0, 0.003, 0.006],
        widths: &[0.88, 0.94, 1.0, 1.06, 1.12],
        tails: 0..super::model::TAIL_RATIOS.len(),
    };
    refine_shape_on(work, fams, pile, &grid);
}

fn refine_shape_on(
    work: &mut Work,
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
    grid: &ShapeGrid,
) {
    let Some(e) = shape_anchor(work, fams, pile) else {
        return;
    };
    let full = work.region;
    let splines = std::mem::take(&mut work.splines);
    let cal = full.calibration;
    let a = (cal.channel(e - 0.6).round().max(full.first as f64)) as usize;
    let b = (cal.channel(e + 0.6).round() as usize).min(full.first + full.len - 1);
    if b <= a + 10 {
        work.splines = splines;
        return;
    }
    work.region = Region {
        first: a,
        len: b - a + 1,
        ..full
    };
    work.splines = work.region.background_splines(1.0);
    // only the families that reach into the window take part in the local fits
    let local: Vec<(usize, Family)> = fams
        .iter()
        .copied()
        .filter(|&(z, f)| {
            !work
                .cached_components(z, f, work.free_tail.contains(&(z, f)))
                .is_empty()
        })
        .collect();
    let chi2 =
        |w: &Work| fit_families(w, &local, Some(pile)).map_or(f64::INFINITY, |(_, f)| f.chi2);
    // energy offset
    let mut best = (f64::INFINITY, 0.0);
    for &shift in grid.shifts {
        work.region.calibration.offset_kev = cal.offset_kev + shift;
        let c = chi2(work);
        if c < best.0 {
            best = (c, shift);
        }
    }
    let offset = cal.offset_kev + best.1;
    work.region.calibration.offset_kev = offset;
    // resolution × tail
    let noise0 = full.detector.noise_kev;
    let mut best = (f64::INFINITY, noise0, full.tail);
    for &f in grid.widths {
        for t in grid.tails.clone() {
            work.region.detector.noise_kev = noise0 * f;
            work.region.tail = t;
            let c = chi2(work);
            if c < best.0 {
                best = (c, noise0 * f, t);
            }
        }
    }
    work.region = full;
    work.region.calibration.offset_kev = offset;
    work.region.detector.noise_kev = best.1;
    work.region.tail = best.2;
    work.splines = splines;
}

/// Oxide or metal matrix (see [`matrix_model`]), with the quantification (secondary
/// fluorescence included) in the chosen matrix.
fn choose_matrix(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
    quant: &[(usize, Measured)],
    opts: &XrfOptions,
) -> (MatrixModel, Quantified) {
    let m = opts
        .matrix
        .unwrap_or_else(|| matrix_model(work, comps, fit, quant));
    (m, quantify_fit(work, quant, m, true))
}

/// Oxide or metal matrix, from the Rayleigh/Compton ratio of the excitation lines
/// (high-Z metallic matrices scatter coherently far more than oxides), compared with
/// the ratios predicted for the provisional (primary-only) compositions in each.
fn matrix_model(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
    quant: &[(usize, Measured)],
) -> MatrixModel {
    let quantified = |m: MatrixModel| quantify_fit(work, quant, m, false);
    let (mut r, mut c, mut vr, mut vc) = (0.0, 0.0, 0.0, 0.0);
    for (k, comp) in comps.iter().enumerate() {
        let area = fit.amplitudes[k] * comp.template.sum();
        let s = fit.sigmas[k] * comp.template.sum();
        match comp.kind {
            Kind::Rayleigh(_) => {
                r += area;
                vr += s * s;
            }
            Kind::Compton => {
                c += area;
                vc += s * s;
            }
            _ => {}
        }
    }
    if r < 5.0 * vr.sqrt() || c < 5.0 * vc.sqrt() {
        // no usable scatter: an alloy shows none of the rock-forming (lithophile)
        // elements that every ore, sand and ceramic carries
        let lithophile: f64 = quantified(MatrixModel::Metal)
            .elements
            .iter()
            .filter(|e| LITHOPHILE.contains(&e.0.as_str()))
            .map(|e| e.1)
            .sum();
        return if lithophile < 0.01 {
            MatrixModel::Metal
        } else {
            MatrixModel::Oxides
        };
    }
    let measured = (r / c).ln();
    let predicted = |q: &Quantified| {
        let mix = mixture(&q.mixture);
        let s = scatter(&work.exc.setup, &mix);
        let (rr, cc) = s
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p.rayleigh, b + p.compton));
        if rr > 0.0 && cc > 0.0 {
            (rr / cc).ln()
        } else {
            f64::NAN
        }
    };
    let po = predicted(&quantified(MatrixModel::Oxides));
    let pm = predicted(&quantified(MatrixModel::Metal));
    // metal only when the ratio is clearly on the metal side
    if measured > pm - 0.25 * (pm - po) {
        MatrixModel::Metal
    } else {
        MatrixModel::Oxides
    }
}

/// Which family of an element quantifies it: the most precise one, its precision
/// including how badly its own clusters are modelled (Σ|observed − predicted| / Σ
/// predicted over its line clusters) — an REE K family above 2 × Zr Kα sits in pile-up
/// counts the model does not fully describe, and must not outvote its clean L family.
fn quant_families(work: &Work, comps: &[Component], fit: &LinearFit) -> Vec<(usize, Measured)> {
    let model = &fit.model;
    let mut best: Vec<(usize, Measured, f64)> = Vec::new();
    for (k, c) in comps.iter().enumerate() {
        let Kind::Family(fl) = &c.kind else { continue };
        let a = fit.amplitudes[k];
        if a <= 0.0 || fl.z == ARGON {
            continue;
        }
        let ev = work.evidence(c, a, model, fl);
        let predicted: f64 = ev.iter().map(|e| e.predicted).sum();
        let misfit: f64 = ev.iter().map(|e| (e.observed - e.predicted).abs()).sum();
        let misfit_rel = if predicted > 0.0 {
            misfit / predicted
        } else {
            0.0
        };
        let rel = ((fit.sigmas[k] / a).powi(2) + misfit_rel.powi(2)).sqrt();
        let m = Measured {
            symbol: fl.symbol.to_string(),
            family: fl.family,
            area: a,
            sigma: fit.sigmas[k],
        };
        match best.iter_mut().find(|b| b.1.symbol == fl.symbol) {
            Some(b) if rel < b.2 => *b = (k, m, rel),
            Some(_) => {}
            None => best.push((k, m, rel)),
        }
    }
    best.into_iter().map(|(k, m, _)| (k, m)).collect()
}

/// FP quantification of the fitted families. `secondary`: with secondary fluorescence
/// (the reported result); without, a provisional matrix estimate (enhanced elements come
/// out a little high) at a tenth of the cost — what the intermediate matrix estimates,
/// the metal/oxide choice and the quick analysis (the safe side for a triage) use.
fn quantify_fit(
    work: &Work,
    quant: &[(usize, Measured)],
    model: MatrixModel,
    secondary: bool,
) -> Quantified {
    let measured: Vec<Measured> = quant.iter().map(|x| x.1.clone()).collect();
    let mut cache = work.lines_cache.borrow_mut();
    quantify_cached(
        &work.exc.setup,
        &measured,
        model,
        6,
        secondary,
        &mut cache.fp,
    )
}

/// Detection limit (wt %) of an element family: 3√B over the share of the family's
/// counts in a ±1 FWHM window, B the final model there, converted with the FP
/// sensitivity in the final matrix — in the window of the principal line or of another
/// of its (up to four) strongest line clusters, whichever gives the lowest limit. An
/// element whose principal line sits on a far stronger one (Dy Lα 95 eV above Fe Kα, in
/// a window of ~10⁶ Fe counts) is detected by its free lines (Dy Lβ2, Lγ), as an
/// analyst turns to an interference-free line (Pb Lβ beside As Kα); the joint fit and
/// the identification's line tests use all of them already.
fn detection_limit(work: &Work, model: &[f64], z: usize, f: Family, q: &Quantified) -> Option<f64> {
    detection_limit_in(work, model, z, f, q, true)
}

/// [`detection_limit`] in the window of the principal line alone (`all_clusters`
/// false): what a family is resolved no better than where the fit cannot tell it from
/// a big neighbour (see [`unconfirmed`]).
fn detection_limit_in(
    work: &Work,
    model: &[f64],
    z: usize,
    f: Family,
    q: &Quantified,
    all_clusters: bool,
) -> Option<f64> {
    let fl = work.lines_of(z, f)?;
    // the family's template with the line shape (as fitted where its tail is not free)
    let comps = work.cached_components(z, f, false);
    let t = &comps.first()?.template;
    let principal = fl.principal_kev();
    let mut windows = vec![principal];
    if all_clusters {
        // the strongest clusters but the principal line's own
        let fw = work.fwhm_kev(principal);
        let clusters = fl.clusters(0.9 * fw).into_iter().take(4);
        windows.extend(
            clusters
                .map(|(e, _)| e)
                .filter(|e| (e - principal).abs() > 0.9 * fw),
        );
    }
    let lod_area = windows
        .into_iter()
        .filter_map(|e| window_detection_limit(work, model, t, e))
        .reduce(f64::min)?;
    wt_pct_of_area(lod_area, fl.sensitivity, q)
}

/// 3√B / (share of the template `t` in the window), counts, for the ±1 FWHM window
/// around `e` (B: `model` summed there); `None` when the window holds none of `t`.
fn window_detection_limit(work: &Work, model: &[f64], t: &Template, e: f64) -> Option<f64> {
    let (mut b, mut frac) = (0.0, 0.0);
    for i in work.window(e, 1.0) {
        b += model[i].max(0.0);
        if i >= t.start && i < t.end() {
            frac += t.values[i - t.start];
        }
    }
    (frac > 0.0).then(|| 3.0 * b.max(1.0).sqrt() / frac)
}

/// The mass fraction (wt %) of an element whose family has fitted `area` counts, from
/// its FP `sensitivity` (counts per unit mass fraction, relative) and the quantification's
/// instrument constant; `None` when either is not positive.
fn wt_pct_of_area(area: f64, sensitivity: f64, q: &Quantified) -> Option<f64> {
    let k = q.instrument_constant;
    (sensitivity > 0.0 && k > 0.0).then(|| 100.0 * area / (k * sensitivity))
}

fn principal_family(z: usize, max_kev: f64) -> Family {
    let k_ok = element(z).is_some_and(|d| d.levels[0].edge_kev < max_kev * 0.8);
    if z <= 45 && k_ok {
        Family::K
    } else {
        Family::L
    }
}

fn short_label(label: &str) -> String {
    let base: String = label
        .split(',')
        .next()
        .unwrap_or(label)
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string();
    base
}

fn report(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
    quant: &[(usize, Measured)],
    q: &Quantified,
    spectrum: &Spectrum,
) -> XrfAnalysis {
    let model = &fit.model;
    let cont = continuum(work, comps, fit);
    let cal = work.region.calibration;
    let mut peaks = Vec::new();
    let mut artefacts = Vec::new();
    let mut elements = Vec::new();
    let mut not_detected = Vec::new();
    for (k, c) in comps.iter().enumerate() {
        let a = fit.amplitudes[k];
        let s = fit.sigmas[k];
        match &c.kind {
            Kind::Family(fl) if a > 0.0 => {
                if fl.z == ARGON && s > 0.0 && a > 3.0 * s {
                    artefacts.push(Artefact {
                        energy_kev: fl.principal_kev(),
                        kind: "air".into(),
                        parent: "Ar in the air path".into(),
                    });
                }
                for (e, r) in fl
                    .clusters(0.5 * work.fwhm_kev(fl.principal_kev()))
                    .into_iter()
                    .take(3)
                {
                    let label = fl
                        .lines
                        .iter()
                        .filter(|l| (l.1 - e).abs() < 0.5 * work.fwhm_kev(e))
                        .max_by(|x, y| x.2.total_cmp(&y.2))
                        .map_or(String::new(), |l| short_label(l.0));
                    peaks.push(FittedPeak {
                        energy_kev: e,
                        area: a * r,
                        sigma: s * r,
                        fwhm_kev: work.fwhm_kev(e),
                        label: format!("{} {}", fl.symbol, label),
                    });
                    // labelled when it would be detected: counts above 3√B of the
                    // continuum within ±1 FWHM of the escape energy
                    let f = super::model::si_escape().fraction(e);
                    let b: f64 = work.window(e - SI_KA_KEV, 1.0).map(|i| cont[i]).sum();
                    if a * r * f > 3.0 * b.max(1.0).sqrt() && e - SI_KA_KEV > work.lo_kev() {
                        artefacts.push(Artefact {
                            energy_kev: e - SI_KA_KEV,
                            kind: "escape".into(),
                            parent: format!("{} {}", fl.symbol, label),
                        });
                    }
                }
            }
            Kind::Rayleigh(lines) if a > 0.0 => {
                for &(e, _) in lines.iter().take(1) {
                    if e <= work.hi_kev() {
                        artefacts.push(Artefact {
                            energy_kev: e,
                            kind: "rayleigh".into(),
                            parent: format!("{} {e:.2} keV", work.exc.source),
                        });
                    }
                }
            }
            Kind::Compton if a > 0.0 && s > 0.0 && a > 3.0 * s => {
                if let Some(&(e, _)) = work.exc.setup.excitation.lines.first() {
                    let ec = super::physics::compton_energy(e, 90.0);
                    if !artefacts.iter().any(|x: &Artefact| x.kind == "compton")
                        && ec <= work.hi_kev()
                    {
                        artefacts.push(Artefact {
                            energy_kev: ec,
                            kind: "compton".into(),
                            parent: format!("{} {e:.2} keV", work.exc.source),
                        });
                    }
                }
            }
            Kind::PileUp(lines) if a > 0.0 && s > 0.0 && a > 3.0 * s => {
                // the three strongest resolved lines (Kα1/Kα2 count once); their sums
                // that carry ≥ 5 % of the strongest sum, one label per resolved sum
                let mut strong = lines.clone();
                strong.sort_by(|x, y| y.1.total_cmp(&x.1));
                let mut picks: Vec<(f64, f64)> = Vec::new();
                for l in &strong {
                    if picks.len() < 3
                        && picks.iter().all(|p| (p.0 - l.0).abs() > work.fwhm_kev(l.0))
                    {
                        picks.push(*l);
                    }
                }
                let top = picks.first().map_or(0.0, |p| p.1 * p.1);
                let mut sums: Vec<f64> = Vec::new();
                for (i, x) in picks.iter().enumerate() {
                    for y in picks.iter().skip(i) {
                        let e = x.0 + y.0;
                        let resolved = sums.iter().all(|s| (s - e).abs() > work.fwhm_kev(e));
                        if e <= work.hi_kev() && x.1 * y.1 >= 0.05 * top && resolved {
                            sums.push(e);
                            artefacts.push(Artefact {
                                energy_kev: e,
                                kind: "pileup".into(),
                                parent: format!("{:.2}+{:.2} keV", x.0, y.0),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (sym, c, sc) in &q.elements {
        let Some((k, m)) = quant.iter().find(|(_, m)| &m.symbol == sym) else {
            continue;
        };
        let Kind::Family(fl) = &comps[*k].kind else {
            continue;
        };
        let z = fl.z;
        let lod = detection_limit(work, model, z, m.family, q).unwrap_or(0.0);
        // below the 3σ detection limit an element is not reported as present
        if 100.0 * c < lod {
            if LOD_ELEMENTS.contains(&sym.as_str()) {
                not_detected.push(NotDetected {
                    symbol: sym.clone(),
                    lod_wt_pct: lod,
                });
            }
            continue;
        }
        let lines = fl
            .lines
            .iter()
            .filter(|l| l.2 >= 0.05)
            .map(|l| l.0.to_string())
            .collect();
        elements.push(ElementResult {
            symbol: sym.clone(),
            wt_pct: 100.0 * c,
            sigma_wt_pct: 100.0 * sc,
            lod_wt_pct: lod,
            excitation_sigma_wt_pct: 0.0,
            lines,
        });
    }
    elements.sort_by(|a, b| b.wt_pct.total_cmp(&a.wt_pct));
    for sym in LOD_ELEMENTS {
        if elements.iter().any(|e| e.symbol == sym) || not_detected.iter().any(|e| e.symbol == sym)
        {
            continue;
        }
        let Some(d) = element_by_symbol(sym) else {
            continue;
        };
        let f = principal_family(d.z, work.exc.max_kev);
        if let Some(lod) = detection_limit(work, model, d.z, f, q) {
            not_detected.push(NotDetected {
                symbol: sym.to_string(),
                lod_wt_pct: lod,
            });
        }
    }
    let energy: Vec<f64> = (0..work.region.len)
        .map(|i| cal.energy_kev((work.region.first + i) as f64))
        .collect();
    let mut analysis = XrfAnalysis {
        file: spectrum
            .meta
            .source_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        sha256: spectrum.meta.sha256.clone(),
        live_time_s: spectrum.meta.live_time_s,
        tube_kv: work.exc.kv,
        excitation: work.exc.describe(),
        excitation_basis: work.exc.basis,
        calibration: CalibrationReport {
            offset_kev: cal.offset_kev,
            gain_kev: cal.gain_kev,
            fwhm_mn_ka_ev: 1000.0 * work.region.detector.fwhm_kev(5.895),
        },
        peaks,
        artefacts,
        elements,
        not_detected,
        reduced_chi2: fit.reduced_chi2,
        fit_channels: (work.region.first, work.region.first + work.region.len - 1),
        energy_range_kev: (
            cal.energy_kev(0.0),
            cal.energy_kev(spectrum.len().saturating_sub(1) as f64),
        ),
        total_counts: spectrum.counts_slice().iter().sum(),
        fit_mean_counts: work.y().iter().sum::<f64>() / work.y().len().max(1) as f64,
        curves: FitCurves {
            energy_kev: energy,
            counts: work.y().to_vec(),
            background: cont,
            model: model.to_vec(),
        },
        unconfirmed: Vec::new(),
        notes: spectrum.meta.notes.clone(),
    };
    work.exc.qualify(&mut analysis);
    analysis
}

/// The fitted continuum: the SNIP estimate plus the fitted spline corrections.
fn continuum(work: &Work, comps: &[Component], fit: &LinearFit) -> Vec<f64> {
    let mut b = work.bg().to_vec();
    for (c, a) in comps.iter().zip(&fit.amplitudes) {
        if matches!(c.kind, Kind::Background) {
            c.template.add_to(*a, &mut b);
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::super::excitation::{mono, tube_info};
    use super::super::physics::{DetectorEfficiency, Tube};
    use super::*;

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
        let b = binned_channels(&s).expect("10-eV channels are binned");
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
        assert_eq!(quick_bin_factor(0.005), 6);
        assert_eq!(quick_bin_factor(0.015), 2);
        // 30-eV channels are left alone
        let coarse = Spectrum {
            axis: crate::spectrum::Axis::Energy(crate::Calibration {
                gain_kev: 0.03,
                ..cal
            }),
            ..s
        };
        assert!(binned_channels(&coarse).is_none());
    }

    /// The quick analysis fits 10-eV channels in threes but reports on the file's scale:
    /// its gain, and the fitted range in file channels.
    #[test]
    fn quick_analysis_reports_calibration_and_range_in_file_channels() {
        use crate::tables::materials::Commodity;
        let mut scan = super::super::synth::generate(Commodity::IronOre, None, 0.0, &[], 5)
            .expect("synthetic scan");
        let file_cal = *scan.spectrum.axis.calibration().unwrap();
        if quick_bin_factor(file_cal.gain_kev) < 2 {
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
        assert!(quick_bin_factor(cal.gain_kev) >= 2, "gain {}", cal.gain_kev);
        let q = run_quick(&scan.spectrum, &XrfOptions::default()).unwrap();
        let full = run(&scan.spectrum, &XrfOptions::default()).unwrap();
        assert_eq!(q.calibration.gain_kev, cal.gain_kev);
        assert!((q.calibration.offset_kev - cal.offset_kev).abs() < cal.gain_kev * 2.0);
        // both fit from 1.2 keV up: the same first channel within one bin
        let m = quick_bin_factor(cal.gain_kev);
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
    /// the last fluorescence peak of at least `QUICK_END_MIN_SIGMA`: tube lines and
    /// pile-up sums do not count, weaker peaks above do not move it. With no tube line
    /// above, it ends `QUICK_END_MARGIN_KEV` above that peak, rounded up to a
    /// `QUICK_END_STEP_KEV` step, never past the region.
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
        let r = quick_range(region, &ore, &rh);
        assert!((end(r) - 18.16).abs() < 0.03, "{}", end(r));
        // a strong Zr Kβ line at 17.67 keV: at least 0.8 keV above it
        let zr = [peak(15.75, 900.0, 1e6), peak(17.67, 300.0, 2e5)];
        assert!((end(quick_range(region, &zr, &rh)) - 18.5).abs() < 0.03);
        // a La Kα peak at 33.4 keV (no pair of strong lines sums to it), above the tube
        // lines: 33.4 + 1.5 → 36 keV
        let la = [peak(4.65, 300.0, 1e5), peak(33.4, 20.0, 3e3)];
        assert!((end(quick_range(region, &la, &rh)) - 36.0).abs() < 0.03);
        // a 16-keV monochromatic beam, its scatter peak seen: the foot of its Compton
        // peak, 0.92 × 16 − 0.3 keV
        let beam = mono(16.0, DetectorEfficiency::default());
        let r = quick_range(
            region,
            &[peak(6.4, 500.0, 1e6), peak(16.0, 9.0, 1e3)],
            &beam,
        );
        assert!((end(r) - 14.42).abs() < 0.03, "{}", end(r));
        assert_eq!(quick_range(region, &[peak(39.0, 10.0, 1e3)], &rh).len, 1300);
        assert_eq!(quick_range(region, &[], &rh).len, 1300);
    }
}
