//! Whole-pattern refinement of the phases that search-match accepted: a Rietveld-type
//! fit with intensities computed from the structures (as BGMN, Profex and TOPAS do for
//! quantitative phase analysis), solved by variable projection.
//!
//! Model: y(2θ) = Σ_b c_b B_b(2θ) + Σ_k S_k P_k(2θ; θ_nl), with
//! * a background of non-negative quadratic B-splines B_b (smooth on the scale of
//!   [`RefineConfig::background_spacing_deg`], so that broad clay bands are not eaten by
//!   a SNIP clip);
//! * per phase k a profile P_k per unit weight fraction: the phase's reflections at d·s_k
//!   (s_k an isotropic cell scale within ± [`RefineConfig::cell_range`]), intensities
//!   Σ|F|²·LP times a March–Dollase factor along [001] for platy (layer) phases and
//!   along the cleavage normal for cleaved ones ([`Phase::cleavage`]: feldspars,
//!   carbonates) (Dollase, J. Appl. Cryst. 19 (1986) 267), pseudo-Voigt profiles of the shared width
//!   Γ² = W + U·tan²θ (η shared) times a per-phase broadening b_k (crystallite size;
//!   turbostratic clays need several times the instrument width), Kα2 at half the Kα1
//!   intensity, the shared zero shift and specimen displacement;
//! * scale factors S_k and background coefficients c_b ≥ 0 are linear: for every
//!   trial of the non-linear parameters θ_nl they are solved exactly (non-negative
//!   least squares with Poisson weights, [`LinearFitter`]); Levenberg–Marquardt with a
//!   forward-difference Jacobian moves θ_nl within bounds (Golub & Pereyra, SIAM J.
//!   Numer. Anal. 10 (1973) 413; variable projection).
//!
//! Geometry is not taken from the search: the common shift is first scanned with every
//! library phase free ([`RefineConfig::shift_scan_deg`]), and the non-rare-earth phases
//! that carry that whole-library fit join the search's as the starting set, to be kept
//! or dropped by the F test like any other.
//!
//! Weight fractions follow from the refined scales by the ZMV relation (Hill & Howard,
//! J. Appl. Cryst. 20 (1987) 467): the profiles are per unit weight fraction, I ∝
//! w·Σ|F|²·LP/(V²ρ) = w·Σ|F|²·LP/(V·ZM/N_A) with the refined cell volume, so W_k = S_k/ΣS.
//! Their standard uncertainties come from the covariance of the scales at the optimum,
//! scaled by √GoF (the usual Rietveld practice for a fit with systematic misfit).
//!
//! Acceptance by the data: a phase stays only when taking it out raises χ² by an F ratio
//! above [`RefineConfig::f_ratio_min`] (its scale and non-linear parameters as the extra
//! degrees of freedom, χ²/(N − P) of the full fit as the noise) and its own strongest
//! lines are observed peaks. Non-rare-earth library phases that the search missed are
//! tried at the refined geometry and join above [`RefineConfig::f_ratio_add`] under the
//! same line test. Intensity no phase
//! explains is reported: residual peaks above [`RefineConfig::unexplained_sigma`]·σ·√GoF,
//! as a fraction of the net diffracted intensity and by their d-spacings.

use super::library::{Library, Phase};
use super::pattern::{Geometry, Reflection};
use super::peaks::find_peaks;
use super::profile::{march_dollase, render, Instrument, LineTable, Width, KA2_RATIO};
use super::search::{Identification, Observed, SIGNIFICANCE};
use crate::signal::linear::{GramMemo, LinearFitter, LinearOptions, Template};
use rustc_hash::FxHashMap;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

/// Thresholds and limits of the refinement (documented defaults; one place).
#[derive(Debug, Clone, PartialEq)]
pub struct RefineConfig {
    /// Largest Levenberg–Marquardt iterations per refinement.
    pub max_iterations: usize,
    /// Relative χ² decrease below which the refinement has converged.
    pub tolerance: f64,
    /// Isotropic cell scale bound: s ∈ [1 − r, 1 + r] (natural minerals differ from
    /// the library's cells by up to ~1–2 %).
    pub cell_range: f64,
    /// Per-phase broadening bounds (multiples of the shared instrument FWHM).
    /// Crystallite size and strain seldom widen an ordered phase's lines past three
    /// instrument widths; a phase let wider turns its lines into the broad bands of a
    /// clay it is not (kaolinite at five widths took the hk bands of a smectite in
    /// RockJock Mix5 and read 16 wt % for 4).
    pub broadening_range: (f64, f64),
    /// Largest broadening of swelling clays ([`Phase::swelling`]): turbostratic
    /// stacking spreads their hk reflections into bands of about ten instrument
    /// widths (RockJock's Wyoming montmorillonite, 02,11 band at 4.49 Å, refines to
    /// 9.2).
    pub swelling_broadening_max: f64,
    /// March–Dollase ratio bounds for textured phases (r < 1: plates or cleavage
    /// fragments lying flat enhance the lines of the lying plane, the usual packing of
    /// clays and feldspars in a side- or front-loaded mount).
    pub march_dollase_range: (f64, f64),
    /// Spacing of the background B-spline knots, degrees 2θ.
    pub background_spacing_deg: f64,
    /// A phase must raise χ² by this F ratio when removed ((Δχ²/Δp)/(χ²/(N−P))); the
    /// 0.1 % point of F(4, ∞) is 4.6, and systematic misfit of real patterns is already
    /// in the denominator.
    pub f_ratio_min: f64,
    /// A phase the search did not propose joins only above this F ratio: more evidence
    /// is asked of a phase found by the fit alone.
    pub f_ratio_add: f64,
    /// Residual peaks stronger than this many σ·√GoF are unexplained intensity.
    pub unexplained_sigma: f64,
    /// Profiles cut at ± this many FWHM.
    pub profile_cut_fwhm: f64,
    /// Most phases the refinement adds to the search's (non-rare-earth ones only).
    pub max_added_phases: usize,
    /// The common shift is scanned over ± this many degrees 2θ with every library phase
    /// free (zero shift and specimen displacement of real mounts, ± 0.3° each).
    pub shift_scan_deg: f64,
    /// Bin width (degrees 2θ) of the coarse shift scan: the pattern and the profiles
    /// are summed into bins this wide and moved by whole bins (a fraction of the
    /// FWHM of a laboratory pattern, ≈ 0.1°, so that no alignment falls between two
    /// trials).
    pub shift_scan_bin_deg: f64,
    /// Non-rare-earth phases carrying at least this weight fraction of the scanned
    /// whole-library fit join the search's phases as the refinement's start.
    pub scan_min_fraction: f64,
    /// Bounds of the c-vector scale of swelling clays ([`Phase::swelling`]): a basal
    /// spacing of 12.4 Å (one water layer) ranges over ≈ 9.7 Å (interlayer water
    /// lost in a dry mount: collapsed, its 001 beside illite's) to 15.5 Å (two water
    /// layers) (Brindley & Brown (1980), ch. 2).
    pub basal_range: (f64, f64),
    /// Starting broadening of layer phases (turbostratic clays: several instrument
    /// widths).
    pub layer_broadening: f64,
}

impl RefineConfig {
    /// Bounds of a phase's isotropic cell scale.
    fn cell_bounds(&self) -> (f64, f64) {
        (1.0 - self.cell_range, 1.0 + self.cell_range)
    }

    /// Bounds of a phase's broadening: a swelling clay's (refined basal spacing) reach
    /// [`Self::swelling_broadening_max`].
    fn broadening_bounds(&self, p: &PhaseParams) -> (f64, f64) {
        if p.basal.is_some() {
            (self.broadening_range.0, self.swelling_broadening_max)
        } else {
            self.broadening_range
        }
    }
}

impl Default for RefineConfig {
    fn default() -> Self {
        Self {
            max_iterations: 30,
            tolerance: 1e-4,
            cell_range: 0.02,
            broadening_range: (0.3, 3.0),
            swelling_broadening_max: 12.0,
            march_dollase_range: (0.4, 1.2),
            background_spacing_deg: 5.0,
            f_ratio_min: 10.0,
            f_ratio_add: 25.0,
            unexplained_sigma: 6.0,
            profile_cut_fwhm: 8.0,
            max_added_phases: 6,
            shift_scan_deg: 0.6,
            shift_scan_bin_deg: 0.06,
            scan_min_fraction: 0.03,
            layer_broadening: 1.0,
            basal_range: (0.78, 1.25),
        }
    }
}

/// One refined phase.
#[derive(Debug, Clone, PartialEq)]
pub struct RefinedPhase {
    /// Index into the library.
    pub index: usize,
    /// Scale factor (∝ weight fraction).
    pub scale: f64,
    /// Weight %, normalised over the refined phases.
    pub wt_pct: f64,
    /// Standard uncertainty of the weight % (covariance × √GoF).
    pub wt_pct_sigma: f64,
    /// Refined isotropic cell scale (d = d_CIF · s).
    pub cell_scale: f64,
    /// Refined broadening (multiple of the instrument FWHM).
    pub broadening: f64,
    /// Refined March–Dollase ratio (along [001] for platy phases, along the cleavage
    /// normal for cleaved ones).
    pub march_dollase: Option<f64>,
    /// Refined c-vector scale of a swelling clay (its basal spacing over the library
    /// cell's).
    pub basal: Option<f64>,
}

/// The result of [`refine`].
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    /// Phases kept, largest weight fraction first.
    pub phases: Vec<RefinedPhase>,
    /// Library indices of the search's phases that the F test removed.
    pub rejected: Vec<usize>,
    /// Refined instrument (zero shift, displacement, widths, Kα2).
    pub instrument: Instrument,
    /// Total model.
    pub model: Vec<f64>,
    /// Refined background.
    pub background: Vec<f64>,
    /// Weighted profile R factor R_wp = √(Σw(y−m)²/Σwy²), w = 1/σ².
    pub r_wp: f64,
    /// Expected R factor R_exp = √((N − P)/Σwy²).
    pub r_exp: f64,
    /// Goodness of fit χ²/(N − P) = (R_wp/R_exp)².
    pub gof: f64,
    /// Share of the net diffracted intensity in residual peaks no phase explains.
    pub unexplained_fraction: f64,
    /// d-spacings (Å) of the strongest unexplained residual peaks, strongest first.
    pub unexplained_d_a: Vec<f64>,
}

/// Most unexplained d-spacings reported.
const MAX_UNEXPLAINED_REPORTED: usize = 5;

/// Per-phase state of the non-linear parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PhaseParams {
    cell: f64,
    broadening: f64,
    po: Option<f64>,
    /// Scale of the c vector of a swelling clay (interlayer hydration), a and b kept.
    basal: Option<f64>,
}

/// Shared non-linear parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Globals {
    zero: f64,
    displacement: f64,
    w: f64,
    u: f64,
    eta: f64,
}

struct Problem<'a> {
    obs: &'a Observed,
    lib: &'a Library,
    cfg: &'a RefineConfig,
    set: Vec<usize>,
    /// Preferred-orientation axis (hkl of the lying plane) of each phase, if any.
    axes: Vec<Option<[i32; 3]>>,
    wavelength: f64,
    kalpha2: Option<f64>,
    background: Vec<Template>,
    /// Overlaps of the templates already met: the fits of one pattern share the
    /// background and most phase profiles (same Poisson weights throughout).
    memo: &'a RefCell<GramMemo>,
    /// Profiles, line tables and texture factors already drawn in this refinement.
    drawn: &'a Drawn,
}

/// Bit patterns of everything a phase profile on the pattern's axis depends on besides
/// the pattern: library index, texture axis, Kα2 wavelength, the five globals and the
/// phase's cell scale, broadening, March–Dollase ratio and basal scale.
type ProfileKey = (
    usize,
    Option<[i32; 3]>,
    Option<u64>,
    [u64; 5],
    [Option<u64>; 4],
);

/// Profiles kept before [`Drawn`] starts afresh (each a few tens of kB; the
/// [`GramMemo`] holds as many).
const DRAWN_CAPACITY: usize = 512;

/// Key of a drawn line table: (library index, cell scale bits, basal scale bits, Kα2
/// wavelength bits).
type TableKey = (usize, u64, Option<u64>, Option<u64>);
/// Key of drawn March–Dollase factors: (library index, axis, ratio bits).
type TextureKey = (usize, [i32; 3], u64);

/// What the fits of one refinement draw repeatedly with the same inputs, drawn once:
/// phase profiles (the state an optimisation ends at is drawn again by the F tests,
/// the line test, the candidates' fits and the next optimisation; one shared template
/// also lets the [`GramMemo`] find its overlaps), line tables per cell and basal
/// scale, March–Dollase factors per ratio, which library phases are platy, and the
/// pattern's σ per point.
struct Drawn {
    profiles: RefCell<FxHashMap<ProfileKey, Template>>,
    /// (library index, cell scale bits, basal scale bits, Kα2 wavelength bits).
    tables: RefCell<FxHashMap<TableKey, Rc<LineTable>>>,
    /// (library index, axis, ratio bits) → factor of each reflection.
    textures: RefCell<FxHashMap<TextureKey, Rc<[f64]>>>,
    platy: Vec<OnceCell<bool>>,
    /// √variance of each point of the pattern.
    sigma: Vec<f64>,
}

impl Drawn {
    fn new(lib: &Library, obs: &Observed) -> Self {
        Self {
            sigma: obs.var.iter().map(|v| v.sqrt()).collect(),
            profiles: RefCell::default(),
            tables: RefCell::default(),
            textures: RefCell::default(),
            platy: vec![OnceCell::new(); lib.phases.len()],
        }
    }
}

/// Parameter vector layout: 5 globals, then per phase cell, broadening, [PO].
#[derive(Debug, Clone, PartialEq)]
struct State {
    g: Globals,
    p: Vec<PhaseParams>,
}

impl State {
    fn to_vec(&self) -> Vec<f64> {
        let mut v = vec![
            self.g.zero,
            self.g.displacement,
            self.g.w,
            self.g.u,
            self.g.eta,
        ];
        for p in &self.p {
            v.push(p.cell);
            v.push(p.broadening);
            v.extend(p.po);
            v.extend(p.basal);
        }
        v
    }

    fn with_values(&self, v: &[f64]) -> State {
        let g = Globals {
            zero: v[0],
            displacement: v[1],
            w: v[2],
            u: v[3],
            eta: v[4],
        };
        let mut i = 5;
        let p = self
            .p
            .iter()
            .map(|p| {
                let cell = v[i];
                let broadening = v[i + 1];
                i += 2;
                let mut next = || {
                    i += 1;
                    v[i - 1]
                };
                let po = p.po.map(|_| next());
                let basal = p.basal.map(|_| next());
                PhaseParams {
                    cell,
                    broadening,
                    po,
                    basal,
                }
            })
            .collect();
        State { g, p }
    }

    /// Which phase (None = shared) each vector entry belongs to.
    fn owners(&self) -> Vec<Option<usize>> {
        let mut o = vec![None; 5];
        for (k, p) in self.p.iter().enumerate() {
            o.extend([Some(k), Some(k)]);
            o.extend(p.po.map(|_| Some(k)));
            o.extend(p.basal.map(|_| Some(k)));
        }
        o
    }
}

/// One evaluation: linear solve at fixed non-linear parameters.
struct Eval {
    chi2: f64,
    scales: Vec<f64>,
    sigmas_cov: Vec<f64>,
    model: Vec<f64>,
    background: Vec<f64>,
    resid: Vec<f64>,
}

impl<'a> Problem<'a> {
    fn instrument(&self, g: &Globals, cell: f64, broadening: f64) -> Instrument {
        Instrument {
            geometry: Geometry::BraggBrentano {
                wavelength_a: self.wavelength / cell,
            },
            kalpha2: self.kalpha2.map(|l2| (l2 / cell, KA2_RATIO)),
            width: Width::Empirical {
                w: g.w * broadening * broadening,
                u: g.u * broadening * broadening,
                eta: g.eta,
            },
            zero_shift: g.zero,
            displacement: g.displacement,
        }
    }

    /// Profile of phase `k` per unit weight fraction (drawn once per state, see
    /// [`Drawn`]).
    fn template(&self, k: usize, g: &Globals, p: &PhaseParams) -> Template {
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        let key: ProfileKey = (
            self.set[k],
            self.axes[k],
            bits(self.kalpha2),
            [g.zero, g.displacement, g.w, g.u, g.eta].map(f64::to_bits),
            [Some(p.cell), Some(p.broadening), p.po, p.basal].map(bits),
        );
        if let Some(t) = self.drawn.profiles.borrow().get(&key) {
            return t.clone();
        }
        let t = self.render_phase(self.set[k], self.axes[k], g, p, &self.obs.xs);
        let mut profiles = self.drawn.profiles.borrow_mut();
        if profiles.len() >= DRAWN_CAPACITY {
            profiles.clear();
        }
        profiles.insert(key, t.clone());
        t
    }

    /// Whether library phase `index` is a layer phase ([`is_platy`]), worked out once.
    fn platy(&self, index: usize) -> bool {
        *self.drawn.platy[index]
            .get_or_init(|| is_platy(&self.lib.phases[index], self.obs.geometry))
    }

    /// Preferred-orientation axis of library phase `index`: [001] for layer phases,
    /// else the library's perfect cleavage, if any.
    fn po_axis(&self, index: usize) -> Option<[i32; 3]> {
        if self.platy(index) {
            Some([0, 0, 1])
        } else {
            self.lib.phases[index].cleavage
        }
    }

    /// Line table of library phase `index` at cell scale `cell` and basal scale
    /// `basal`, with or without the Kα2 line (kept per scales, see [`Drawn`]).
    fn table(&self, index: usize, cell: f64, basal: Option<f64>, kalpha2: bool) -> Rc<LineTable> {
        let l2 = self.kalpha2.filter(|_| kalpha2);
        let key = (
            index,
            cell.to_bits(),
            basal.map(f64::to_bits),
            l2.map(f64::to_bits),
        );
        if let Some(t) = self.drawn.tables.borrow().get(&key) {
            return Rc::clone(t);
        }
        let t = Rc::new(LineTable::new(
            &swollen(&self.lib.phases[index], basal),
            Geometry::BraggBrentano {
                wavelength_a: self.wavelength / cell,
            },
            l2.map(|l2| (l2 / cell, KA2_RATIO)),
        ));
        let mut tables = self.drawn.tables.borrow_mut();
        if tables.len() >= DRAWN_CAPACITY {
            tables.clear();
        }
        tables.insert(key, Rc::clone(&t));
        t
    }

    /// March–Dollase factor of each reflection of library phase `index` along `axis`
    /// at `ratio` (kept per ratio, see [`Drawn`]).
    fn texture(&self, index: usize, axis: [i32; 3], ratio: f64) -> Rc<[f64]> {
        let key = (index, axis, ratio.to_bits());
        if let Some(f) = self.drawn.textures.borrow().get(&key) {
            return Rc::clone(f);
        }
        let phase = &self.lib.phases[index];
        let f: Rc<[f64]> = phase
            .reflections
            .iter()
            .map(|r| march_dollase(&phase.structure.cell, r, axis, ratio))
            .collect();
        let mut textures = self.drawn.textures.borrow_mut();
        if textures.len() >= DRAWN_CAPACITY {
            textures.clear();
        }
        textures.insert(key, Rc::clone(&f));
        f
    }

    /// Profile of library phase `index` per unit weight fraction, textured along `axis`,
    /// on the axis `xs` (the pattern's, or coarser for the shift scan; each point's
    /// value integrates the profile over its step).
    fn render_phase(
        &self,
        index: usize,
        axis: Option<[i32; 3]>,
        g: &Globals,
        p: &PhaseParams,
        xs: &[f64],
    ) -> Template {
        let phase = &self.lib.phases[index];
        let inst = self.instrument(g, p.cell, p.broadening);
        let (lo, hi) = (self.obs.xs[0], self.obs.xs[self.obs.xs.len() - 1]);
        let factors =
            p.po.zip(axis)
                .map(|(ratio, h)| self.texture(index, h, ratio));
        let weight = phase.weight_scale() / (p.cell.powi(3) * p.basal.unwrap_or(1.0));
        let ls = self.table(index, p.cell, p.basal, true).lines(
            &inst,
            (lo - 2.0, hi + 2.0),
            weight,
            factors.as_deref(),
        );
        render(&ls, &inst, xs, self.cfg.profile_cut_fwhm, 1e-4)
    }

    fn solve(&self, phase_templates: &[Template], covariance: bool) -> Option<Eval> {
        let n = self.obs.xs.len();
        let np = phase_templates.len();
        let mut all: Vec<Template> = phase_templates.to_vec();
        all.extend(self.background.iter().cloned());
        let mut f = LinearFitter::new(n, all).ok()?;
        let opts = LinearOptions {
            covariance,
            ..LinearOptions::default()
        };
        let fit = f
            .fit_with_memo(&self.obs.counts, None, &opts, &mut self.memo.borrow_mut())
            .ok()?;
        let mut background = vec![0.0; n];
        for (t, &a) in self.background.iter().zip(&fit.amplitudes[np..]) {
            t.add_to(a, &mut background);
        }
        let resid: Vec<f64> = (0..n)
            .map(|i| (self.obs.counts[i] - fit.model[i]) / self.drawn.sigma[i])
            .collect();
        let chi2 = resid.iter().map(|r| r * r).sum();
        let sigmas_cov = if covariance {
            // Covariance of the phase scales only (row-major, all templates).
            let m = fit.amplitudes.len();
            (0..np)
                .flat_map(|i| (0..np).map(move |j| (i, j)))
                .map(|(i, j)| fit.covariance.get(i * m + j).copied().unwrap_or(0.0))
                .collect()
        } else {
            Vec::new()
        };
        Some(Eval {
            chi2,
            scales: fit.amplitudes[..np].to_vec(),
            sigmas_cov,
            model: fit.model,
            background,
            resid,
        })
    }

    /// The phase's own strongest lines are observed: of the (up to) three strongest
    /// maxima of its fitted profile (overlapping lines summed, as a broad clay band
    /// is seen) that stand above [`SIGNIFICANCE`]·σ, two (all when fewer) have at
    /// least half the predicted height as measured net intensity (counts above the
    /// refined background) at their position. Lines are not asked to be resolved
    /// peaks: feldspars and clays overlap. A phase that predicts no detectable line is
    /// not observed either.
    fn own_lines_observed(&self, k: usize, s: &State, scale: f64, background: &[f64]) -> bool {
        let n = self.obs.xs.len();
        let mut predicted = vec![0.0; n];
        self.template(k, &s.g, &s.p[k])
            .add_to(scale, &mut predicted);
        let mut maxima: Vec<(usize, f64)> = (1..n.saturating_sub(1))
            .filter(|&i| predicted[i] >= predicted[i - 1] && predicted[i] > predicted[i + 1])
            .map(|i| (i, predicted[i]))
            .filter(|&(i, h)| h >= SIGNIFICANCE * self.drawn.sigma[i])
            .collect();
        maxima.sort_by(|a, b| b.1.total_cmp(&a.1));
        // Maxima closer than 0.1° 2θ are one line (a Kα2 shoulder, a split doublet).
        let apart = (0.1 / self.obs.step).round().max(2.0) as usize;
        let mut strong: Vec<(usize, f64)> = Vec::with_capacity(3);
        for m in maxima {
            if strong.iter().all(|s| s.0.abs_diff(m.0) > apart) {
                strong.push(m);
                if strong.len() == 3 {
                    break;
                }
            }
        }
        let seen = strong
            .iter()
            .filter(|&&(i, h)| self.obs.counts[i] - background[i] >= 0.5 * h)
            .count();
        !strong.is_empty() && seen >= 2.min(strong.len())
    }

    /// Pre-selection of a trial phase to add, before its profile is rendered: two of
    /// its three strongest lines (at the library cell, the trial's basal spacing) fall
    /// where the counts exceed the current model by 2σ — where intensity is missing.
    /// Layer phases are judged on the excess summed over the trial's FWHM around each
    /// line (their broad, overlapped bands show little excess at any one channel), and
    /// one such line suffices (their bands overlap the lines of the other phases).
    fn residual_at_strongest_lines(
        &self,
        index: usize,
        g: &Globals,
        p: &PhaseParams,
        model: &[f64],
    ) -> bool {
        let inst = Instrument {
            kalpha2: None,
            ..self.instrument(g, 1.0, 1.0)
        };
        let (lo, hi) = (self.obs.xs[0], self.obs.xs[self.obs.xs.len() - 1]);
        let mut ls = self
            .table(index, 1.0, p.basal, false)
            .lines(&inst, (lo, hi), 1.0, None);
        ls.sort_by(|a, b| b.area.total_cmp(&a.area));
        let n = self.obs.xs.len();
        let platy = self.platy(index);
        let missing = ls
            .iter()
            .take(3)
            .filter(|l| {
                let half = if platy {
                    0.5 * p.broadening * inst.width.fwhm_eta(inst.geometry, l.x).0
                } else {
                    0.0
                };
                let ch = |x: f64| self.obs.xs.partition_point(|&v| v < x).min(n - 1);
                let (a, b) = (ch(l.x - half), ch(l.x + half));
                let (a, b) = if half > 0.0 { (a, b.max(a)) } else { (b, b) };
                let excess: f64 = (a..=b).map(|i| self.obs.counts[i] - model[i]).sum();
                let var: f64 = (a..=b).map(|i| self.obs.var[i]).sum();
                excess > 2.0 * var.sqrt()
            })
            .count();
        missing >= if platy { 1 } else { 2.min(ls.len()) }
    }

    /// A phase refined to the edge of both its cell range and its broadening range: no
    /// longer its own pattern but a shape stretched over intensity its lines do not
    /// explain (a gibbsite at +2 % cell and three instrument widths taking 30 wt % of a
    /// real V2O5 + La(OH)3 + ZrO2 mixture that holds none).
    fn stretched(&self, p: &PhaseParams) -> bool {
        let near = |x: f64, edge: f64| (x - edge).abs() <= 1e-3 * edge.abs().max(1.0);
        let (lo, hi) = self.cfg.cell_bounds();
        let cell_edge = near(p.cell, lo) || near(p.cell, hi);
        cell_edge && near(p.broadening, self.cfg.broadening_bounds(p).1)
    }

    /// The same problem with phase `index` appended.
    fn with_phase(&self, index: usize) -> Problem<'a> {
        let mut set = self.set.clone();
        set.push(index);
        let mut axes = self.axes.clone();
        axes.push(self.po_axis(index));
        Problem {
            obs: self.obs,
            lib: self.lib,
            cfg: self.cfg,
            set,
            axes,
            wavelength: self.wavelength,
            kalpha2: self.kalpha2,
            background: self.background.clone(),
            memo: self.memo,
            drawn: self.drawn,
        }
    }

    fn templates(&self, s: &State) -> Vec<Template> {
        (0..self.set.len())
            .map(|k| self.template(k, &s.g, &s.p[k]))
            .collect()
    }

    fn bounds(&self, s: &State, start: &Globals) -> Vec<(f64, f64)> {
        let c = self.cfg;
        let mut b = vec![
            (start.zero - 0.15, start.zero + 0.15),
            (start.displacement - 0.3, start.displacement + 0.3),
            (1e-5, (start.w * 9.0).max(1e-3)),
            (0.0, (start.u * 9.0).max(4.0 * start.w).max(1e-3)),
            (0.0, 1.0),
        ];
        for p in &s.p {
            b.push(c.cell_bounds());
            b.push(c.broadening_bounds(p));
            if p.po.is_some() {
                b.push(c.march_dollase_range);
            }
            if p.basal.is_some() {
                b.push(c.basal_range);
            }
        }
        b
    }

    /// Levenberg–Marquardt on the non-linear parameters, the linear ones projected out.
    fn optimise(&self, mut s: State, start: &Globals, max_iter: usize) -> Option<(State, Eval)> {
        let mut tpl = self.templates(&s);
        let mut cur = self.solve(&tpl, false)?;
        let owners = s.owners();
        let bounds = self.bounds(&s, start);
        let mut lambda = 1e-2;
        for _ in 0..max_iter {
            let x = s.to_vec();
            let m = x.len();
            let n = cur.resid.len();
            // Forward-difference Jacobian of the weighted residuals; a per-phase
            // parameter re-renders only its phase.
            let mut jac = vec![0.0; n * m];
            for j in 0..m {
                let h = step(j, x[j], &bounds[j]);
                let mut xt = x.clone();
                xt[j] += h;
                let st = s.with_values(&xt);
                let t2: Vec<Template> = match owners[j] {
                    Some(k) => {
                        let mut t = tpl.clone();
                        t[k] = self.template(k, &st.g, &st.p[k]);
                        t
                    }
                    None => self.templates(&st),
                };
                let Some(e) = self.solve(&t2, false) else {
                    continue;
                };
                for i in 0..n {
                    jac[i * m + j] = (e.resid[i] - cur.resid[i]) / h;
                }
            }
            let mut jtj = nalgebra::DMatrix::<f64>::zeros(m, m);
            let mut jtr = nalgebra::DVector::<f64>::zeros(m);
            for i in 0..n {
                let row = &jac[i * m..(i + 1) * m];
                let r = cur.resid[i];
                for a in 0..m {
                    if row[a] == 0.0 {
                        continue;
                    }
                    jtr[a] += row[a] * r;
                    for b in a..m {
                        jtj[(a, b)] += row[a] * row[b];
                    }
                }
            }
            for a in 0..m {
                for b in 0..a {
                    jtj[(a, b)] = jtj[(b, a)];
                }
            }
            let mut improved = false;
            while lambda < 1e8 {
                let mut a = jtj.clone();
                for d in 0..m {
                    a[(d, d)] += lambda * jtj[(d, d)].max(1e-12);
                }
                let Some(delta) = a.cholesky().map(|c| c.solve(&(-&jtr))) else {
                    lambda *= 10.0;
                    continue;
                };
                let xn: Vec<f64> = (0..m)
                    .map(|j| (x[j] + delta[j]).clamp(bounds[j].0, bounds[j].1))
                    .collect();
                let sn = s.with_values(&xn);
                let tn = self.templates(&sn);
                match self.solve(&tn, false) {
                    Some(e) if e.chi2 < cur.chi2 => {
                        let rel = (cur.chi2 - e.chi2) / cur.chi2.max(1e-300);
                        s = sn;
                        tpl = tn;
                        cur = e;
                        lambda = (lambda / 3.0).max(1e-6);
                        improved = rel > self.cfg.tolerance;
                        break;
                    }
                    _ => lambda *= 4.0,
                }
            }
            if !improved {
                break;
            }
        }
        let e = self.solve(&tpl, true)?;
        Some((s, e))
    }
}

/// Result of [`Problem::scan_shift`].
struct ShiftScan {
    /// Best common shift, degrees 2θ.
    shift: f64,
    /// (library index, weight fraction) of every phase in the fit at that shift.
    fractions: Vec<(usize, f64)>,
}

impl Problem<'_> {
    /// Common shift (zero shift, displacement 0) at which every library phase, scales
    /// and background free (non-negative least squares), fits the pattern best: the
    /// profiles are drawn once at zero shift and moved by whole channels over ±
    /// [`RefineConfig::shift_scan_deg`]. The scan is coarse first, on the pattern summed
    /// into bins of [`RefineConfig::shift_scan_bin_deg`] and the profiles drawn on the
    /// bins, shifted by whole bins, with every library phase; then at full resolution,
    /// channel by channel within a bin of the coarse optimum, with only the phases that
    /// the coarse fits near the optimum gave a positive scale (the others carry
    /// nothing). Each fit starts from the phases positive in the one before
    /// ([`fit_screened`]). Layer
    /// phases are drawn at [`RefineConfig::layer_broadening`].
    fn scan_shift(&self, g: &Globals) -> Option<ShiftScan> {
        let n = self.obs.xs.len();
        let flat = Globals {
            zero: 0.0,
            displacement: 0.0,
            ..*g
        };
        let reach = (self.cfg.shift_scan_deg / self.obs.step).round() as isize;
        // Non-negative fit of `templates` moved by `k` channels (plus the background) to
        // `counts`: χ² and the phase scales. `positive` carries the phases with a
        // positive scale from one shift to the next (see [`fit_screened`]).
        let fit_at = |templates: &[Template],
                      k: isize,
                      counts: &[f64],
                      var: &[f64],
                      background: &[Template],
                      positive: &mut Vec<bool>|
         -> Option<(f64, Vec<f64>)> {
            let m = counts.len();
            let moved: Vec<Template> = templates.iter().map(|t| shifted(t, k, m)).collect();
            let (amplitudes, model) = fit_screened(&moved, background, counts, positive)?;
            let chi2 = (0..m)
                .map(|i| (counts[i] - model[i]).powi(2) / var[i])
                .sum();
            Some((chi2, amplitudes))
        };
        // Coarse: bins of `f` channels, shifts of whole bins.
        let f = ((self.cfg.shift_scan_bin_deg / self.obs.step).round() as usize).clamp(1, n);
        let bin = |v: &[f64]| -> Vec<f64> { v.chunks(f).map(|c| c.iter().sum()).collect() };
        let (counts_b, var_b) = (bin(&self.obs.counts), bin(&self.obs.var));
        let xs_b: Vec<f64> = self
            .obs
            .xs
            .chunks(f)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect();
        let background_b = background_basis(&xs_b, self.cfg.background_spacing_deg);
        let params = |i: usize| PhaseParams {
            cell: 1.0,
            broadening: if self.platy(i) {
                self.cfg.layer_broadening
            } else {
                1.0
            },
            po: None,
            basal: None,
        };
        let (index, drawn_b): (Vec<usize>, Vec<Template>) = (0..self.lib.phases.len())
            .map(|i| (i, self.render_phase(i, None, &flat, &params(i), &xs_b)))
            .filter(|(_, t)| t.sum() > 0.0)
            .unzip();
        if drawn_b.is_empty() {
            return None;
        }
        let reach_b = reach / f as isize;
        let mut positive = vec![true; drawn_b.len()];
        let coarse: Vec<(isize, f64, Vec<f64>)> = (-reach_b..=reach_b)
            .filter_map(|k| {
                fit_at(&drawn_b, k, &counts_b, &var_b, &background_b, &mut positive)
                    .map(|(c, a)| (k, c, a))
            })
            .collect();
        let best_b = coarse.iter().min_by(|a, b| a.1.total_cmp(&b.1))?.0;
        let kept: Vec<usize> = (0..drawn_b.len())
            .filter(|&j| {
                coarse
                    .iter()
                    .filter(|c| c.0.abs_diff(best_b) <= 1)
                    .any(|c| c.2[j] > 0.0)
            })
            .collect();
        if kept.is_empty() {
            return None;
        }
        // Fine: every channel within a bin of the coarse optimum, the kept phases only.
        let kept_drawn: Vec<Template> = kept
            .iter()
            .map(|&j| self.render_phase(index[j], None, &flat, &params(index[j]), &self.obs.xs))
            .collect();
        let centre = best_b * f as isize;
        let span = f as isize - 1;
        let mut positive = vec![true; kept_drawn.len()];
        let (k, _, a) = ((centre - span).max(-reach)..=(centre + span).min(reach))
            .filter_map(|k| {
                fit_at(
                    &kept_drawn,
                    k,
                    &self.obs.counts,
                    &self.obs.var,
                    &self.background,
                    &mut positive,
                )
                .map(|(c, a)| (k, c, a))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        let total: f64 = a.iter().sum();
        if total <= 0.0 {
            return None;
        }
        Some(ShiftScan {
            shift: k as f64 * self.obs.step,
            fractions: kept
                .iter()
                .map(|&j| index[j])
                .zip(a.iter().map(|v| v / total))
                .collect(),
        })
    }
}

/// Non-negative least squares of `counts` (Poisson weights 1/max(y, 1)) on the
/// `phases` and the `background`, solved first with only the phases marked in
/// `positive` (those with a positive scale in a neighbouring fit): the solution is the
/// full problem's when every phase left out fails the optimality (KKT) condition for
/// entering, Σ w·r·t ≤ 0 with r the residual; those that pass are added and the fit
/// repeated, the overlaps of the templates already fitted taken from the first fit's
/// ([`GramMemo`]). Returns the scale of every phase (0 for those left out) and the
/// model; `positive` is left marking the phases with a positive scale.
fn fit_screened(
    phases: &[Template],
    background: &[Template],
    counts: &[f64],
    positive: &mut [bool],
) -> Option<(Vec<f64>, Vec<f64>)> {
    let m = counts.len();
    let opts = LinearOptions {
        covariance: false,
        ..LinearOptions::default()
    };
    // The fitter's own weights, for the optimality test.
    let weight: Vec<f64> = counts.iter().map(|c| 1.0 / c.max(1.0)).collect();
    let mut memo = GramMemo::default();
    loop {
        let active: Vec<usize> = (0..phases.len()).filter(|&j| positive[j]).collect();
        let mut all: Vec<Template> = active.iter().map(|&j| phases[j].clone()).collect();
        all.extend(background.iter().cloned());
        let fit = LinearFitter::new(m, all)
            .ok()?
            .fit_with_memo(counts, None, &opts, &mut memo)
            .ok()?;
        let resid2: f64 = (0..m)
            .map(|c| weight[c] * (counts[c] - fit.model[c]).powi(2))
            .sum();
        let left_out: Vec<usize> = (0..phases.len()).filter(|&j| !positive[j]).collect();
        let mut entering = false;
        for j in left_out {
            let t = &phases[j];
            let (mut gradient, mut norm) = (0.0, 0.0);
            for (i, &v) in t.values.iter().enumerate() {
                let c = t.start + i;
                if c >= m {
                    break;
                }
                let w = weight[c];
                gradient += w * (counts[c] - fit.model[c]) * v;
                norm += w * v * v;
            }
            if norm > 0.0 && gradient > 1e-9 * (norm * resid2).sqrt() {
                positive[j] = true;
                entering = true;
            }
        }
        if !entering {
            let mut scales = vec![0.0; phases.len()];
            for (&j, &a) in active.iter().zip(&fit.amplitudes) {
                scales[j] = a;
            }
            for (p, a) in positive.iter_mut().zip(&scales) {
                *p = *a > 0.0;
            }
            return Some((scales, fit.model));
        }
    }
}

/// `t` moved by `k` channels on an axis of `n` channels (the part outside dropped).
fn shifted(t: &Template, k: isize, n: usize) -> Template {
    let start = t.start as isize + k;
    let skip = usize::try_from(-start).unwrap_or(0);
    let first = usize::try_from(start).unwrap_or(0);
    if skip >= t.values.len() || first >= n {
        return Template::new(0, Vec::new());
    }
    let len = (t.values.len() - skip).min(n - first);
    Template::new(first, t.values[skip..skip + len].to_vec())
}

/// Forward-difference step of parameter `j` (layout of [`State::to_vec`]), turned
/// backwards at an upper bound.
fn step(j: usize, x: f64, bound: &(f64, f64)) -> f64 {
    let h = match j {
        0 | 1 => 2e-3,
        2 => 0.02 * x.abs() + 1e-6,
        3 => 0.02 * x.abs() + 1e-5,
        4 => 0.02,
        _ => 1e-3 * x.abs().max(0.1),
    };
    if x + h > bound.1 {
        -h
    } else {
        h
    }
}

/// The phase's reflections with its c vector scaled by `basal` (a and b kept: the
/// layers of a swelling clay move apart as its interlayer takes up water), 1/d² =
/// hᵀG*h with l → l/t; borrowed unchanged when there is no swelling.
fn swollen(phase: &Phase, basal: Option<f64>) -> std::borrow::Cow<'_, [Reflection]> {
    let Some(t) = basal.filter(|&t| t != 1.0) else {
        return std::borrow::Cow::Borrowed(&phase.reflections);
    };
    let g = &phase.structure.cell.g_star;
    let inv_d2 = |h: [i32; 3]| {
        let v = [f64::from(h[0]), f64::from(h[1]), f64::from(h[2]) / t];
        (0..3)
            .map(|i| (0..3).map(|j| v[i] * g[i][j] * v[j]).sum::<f64>())
            .sum::<f64>()
    };
    std::borrow::Cow::Owned(
        phase
            .reflections
            .iter()
            .map(|r| Reflection {
                d_a: 1.0 / inv_d2(r.hkl).max(1e-12).sqrt(),
                ..r.clone()
            })
            .collect(),
    )
}

/// Layer phases: the largest-d line of ≥ 10 % of the strongest is a basal 00l line.
fn is_platy(phase: &Phase, geometry: Geometry) -> bool {
    let li: Vec<(f64, &Reflection)> = phase
        .reflections
        .iter()
        .filter(|r| geometry.position(r.d_a).is_some())
        .map(|r| (r.f2_sum * geometry.lp(r.d_a), r))
        .collect();
    let max = li.iter().map(|l| l.0).fold(0.0, f64::max);
    li.iter()
        .filter(|l| l.0 >= 0.1 * max)
        .max_by(|a, b| a.1.d_a.total_cmp(&b.1.d_a))
        .is_some_and(|l| l.1.hkl[0] == 0 && l.1.hkl[1] == 0)
}

/// Quadratic B-splines on uniform knots over the axis (non-negative, sum to 1 inside).
fn background_basis(xs: &[f64], spacing: f64) -> Vec<Template> {
    let (lo, hi) = (xs[0], xs[xs.len() - 1]);
    let nseg = ((hi - lo) / spacing).ceil().max(1.0) as usize;
    let h = (hi - lo) / nseg as f64;
    // Basis j is centred at lo + (j − 0.5)·h, j = 0..=nseg+1.
    (0..nseg + 2)
        .map(|j| {
            let c = lo + (j as f64 - 0.5) * h;
            let v: Vec<f64> = xs
                .iter()
                .map(|&x| {
                    let t = (x - c) / h;
                    match t.abs() {
                        a if a < 0.5 => 0.75 - a * a,
                        a if a < 1.5 => 0.5 * (1.5 - a) * (1.5 - a),
                        _ => 0.0,
                    }
                })
                .collect();
            Template::from_dense(&v)
        })
        .collect()
}

/// Refine the phases of a search-match identification against the observed pattern.
/// `None` for energy-dispersive patterns and width models other than the measured one.
pub fn refine(
    obs: &Observed,
    lib: &Library,
    id: &Identification,
    cfg: &RefineConfig,
) -> Option<Refinement> {
    let Geometry::BraggBrentano { wavelength_a } = obs.geometry else {
        return None;
    };
    let Width::Empirical { w, u, eta } = id.instrument.width else {
        return None;
    };
    let mut set: Vec<usize> = id.phases.iter().map(|p| p.index).collect();
    let searched = Globals {
        zero: id.instrument.zero_shift,
        displacement: id.instrument.displacement,
        w,
        u,
        eta,
    };
    let memo = RefCell::new(GramMemo::default());
    let drawn = Drawn::new(lib, obs);
    let mut prob = Problem {
        obs,
        lib,
        cfg,
        axes: Vec::new(),
        set: set.clone(),
        wavelength: wavelength_a,
        kalpha2: id.instrument.kalpha2.map(|(l2, _)| l2),
        background: background_basis(&obs.xs, cfg.background_spacing_deg),
        memo: &memo,
        drawn: &drawn,
    };
    prob.axes = set.iter().map(|&i| prob.po_axis(i)).collect();
    // Geometry from the whole library, not from the search's few phases: a search that
    // locked onto a wrong phase at a wrong zero would otherwise hold the refinement
    // there. The phases that carry the scanned fit join the search's as a start; the
    // F test below keeps only those the data need.
    let start = match prob.scan_shift(&searched) {
        Some(scan) => {
            for (i, fraction) in scan.fractions {
                if fraction >= cfg.scan_min_fraction
                    && !lib.phases[i].rare_earth
                    && !prob.set.contains(&i)
                {
                    prob = prob.with_phase(i);
                    set.push(i);
                }
            }
            Globals {
                zero: scan.shift,
                displacement: 0.0,
                ..searched
            }
        }
        None => searched,
    };
    let phase_start = |prob: &Problem| -> Vec<PhaseParams> {
        prob.axes
            .iter()
            .zip(&prob.set)
            .map(|(a, &i)| PhaseParams {
                cell: 1.0,
                broadening: if prob.platy(i) {
                    cfg.layer_broadening
                } else {
                    1.0
                },
                po: a.map(|_| 0.9),
                basal: lib.phases[i].swelling.then_some(1.0),
            })
            .collect()
    };
    let state = State {
        g: start,
        p: phase_start(&prob),
    };
    let (mut state_fit, mut eval) = prob.optimise(state, &start, cfg.max_iterations)?;
    // A tube's Kα2 that the search left out (its widths then include it unresolved) is
    // tried resolved, from narrower widths, and kept when it fits better.
    if id.instrument.kalpha2.is_none() && obs.kalpha2.is_some() {
        let with_ka2 = Problem {
            kalpha2: obs.kalpha2,
            background: prob.background.clone(),
            set: prob.set.clone(),
            axes: prob.axes.clone(),
            ..prob
        };
        let narrowed = State {
            g: Globals {
                w: 0.64 * w,
                u: 0.64 * u,
                ..start
            },
            p: phase_start(&with_ka2),
        };
        if let Some((s2, e2)) = with_ka2.optimise(narrowed, &start, cfg.max_iterations) {
            if e2.chi2 < eval.chi2 {
                (state_fit, eval) = (s2, e2);
                prob = with_ka2;
            }
        }
    }
    let mut rejected = Vec::new();
    let mut refused: Vec<usize> = Vec::new();
    // Phases the peak-based search missed (overlapped lines, broad clay bands) join when
    // they pass the same F test at the refined geometry. Rare-earth phases only enter
    // through search-match, whose stricter evidence rules (own lines, chance
    // coincidence) they must pass.
    // A candidate that fails its line test does not use up an addition; the tries are
    // bounded all the same.
    let mut added = 0;
    for _ in 0..cfg.max_added_phases * 3 {
        if added >= cfg.max_added_phases {
            break;
        }
        let n = obs.xs.len() as f64;
        let n_par = state_fit.to_vec().len() + prob.set.len() + prob.background.len();
        let gof = eval.chi2 / (n - n_par as f64).max(1.0);
        let tpl = prob.templates(&state_fit);
        let best = (0..lib.phases.len())
            .filter(|i| !prob.set.contains(i) && !lib.phases[*i].rare_earth)
            .filter(|i| !refused.contains(i))
            .map(|i| {
                let platy = prob.platy(i);
                // Layer phases are tried broadened, swelling ones (turbostratic) broader
                // still and also collapsed and at a wider basal spacing (less or more
                // interlayer water).
                let widths: &[f64] = if lib.phases[i].swelling {
                    &[1.0, 3.0, 6.0]
                } else if platy {
                    &[1.0, 3.0]
                } else {
                    &[1.0]
                };
                let basals: &[Option<f64>] = if lib.phases[i].swelling {
                    &[Some(0.82), Some(1.0), Some(1.1)]
                } else {
                    &[None]
                };
                let textured = prob.po_axis(i).is_some();
                let trials: Vec<PhaseParams> = widths
                    .iter()
                    .flat_map(|&b| {
                        basals.iter().map(move |&basal| PhaseParams {
                            cell: 1.0,
                            broadening: b,
                            po: textured.then_some(0.9),
                            basal,
                        })
                    })
                    .collect();
                (i, trials)
            })
            // A phase is rendered only when one of its trials finds intensity missing.
            .filter(|(i, trials)| {
                trials
                    .iter()
                    .any(|p| prob.residual_at_strongest_lines(*i, &state_fit.g, p, &eval.model))
            })
            .flat_map(|(i, trials)| trials.into_iter().map(move |p| (i, p)))
            .filter_map(|(i, params)| {
                let trial = prob.with_phase(i);
                let mut t = tpl.clone();
                t.push(trial.template(trial.set.len() - 1, &state_fit.g, &params));
                let e = trial.solve(&t, false)?;
                let dp = 3.0
                    + f64::from(u8::from(params.po.is_some()))
                    + f64::from(u8::from(params.basal.is_some()));
                let f = (eval.chi2 - e.chi2) / dp / gof.max(1e-300);
                (e.scales.last().is_some_and(|&a| a > 0.0)).then_some((i, params, f))
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let Some((i, params, f)) = best else { break };
        if f < cfg.f_ratio_add {
            break;
        }
        let trial = prob.with_phase(i);
        let mut trial_state = state_fit.clone();
        trial_state.p.push(params);
        let Some((s2, e2)) = trial.optimise(trial_state, &start, cfg.max_iterations) else {
            refused.push(i);
            continue;
        };
        let k = trial.set.len() - 1;
        if trial.own_lines_observed(k, &s2, e2.scales[k], &e2.background) {
            prob = trial;
            set.push(i);
            (state_fit, eval) = (s2, e2);
            added += 1;
        } else {
            refused.push(i);
        }
    }
    // Acceptance by the data: drop the least significant phase while it fails the F test.
    loop {
        let n = obs.xs.len() as f64;
        let n_par = state_fit.to_vec().len() + prob.set.len() + prob.background.len();
        let gof = eval.chi2 / (n - n_par as f64).max(1.0);
        let tpl = prob.templates(&state_fit);
        let weakest = (0..prob.set.len())
            .filter_map(|k| {
                // The search's phases passed its own line tests (resolved peaks, chance
                // coincidence); the refinement's additions are held to this one.
                let added = !id.phases.iter().any(|p| p.index == prob.set[k]);
                if added
                    && (!prob.own_lines_observed(k, &state_fit, eval.scales[k], &eval.background)
                        || prob.stretched(&state_fit.p[k]))
                {
                    return Some((k, f64::NEG_INFINITY));
                }
                let mut t = tpl.clone();
                t.remove(k);
                let e = prob.solve(&t, false)?;
                let pk = &state_fit.p[k];
                let dp = 3.0
                    + f64::from(u8::from(pk.po.is_some()))
                    + f64::from(u8::from(pk.basal.is_some()));
                let f = (e.chi2 - eval.chi2) / dp / gof.max(1e-300);
                let threshold = if added {
                    cfg.f_ratio_add
                } else {
                    cfg.f_ratio_min
                };
                Some((k, f / threshold))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match weakest {
            Some((k, margin)) if margin < 1.0 => {
                if id.phases.iter().any(|p| p.index == prob.set[k]) {
                    rejected.push(prob.set[k]);
                }
                set.remove(k);
                prob.set.remove(k);
                prob.axes.remove(k);
                let mut state = state_fit.clone();
                state.p.remove(k);
                (state_fit, eval) = prob.optimise(state, &start, cfg.max_iterations)?;
            }
            _ => break,
        }
    }
    let n = obs.xs.len();
    let n_par = state_fit.to_vec().len() + set.len() + prob.background.len();
    let swy2: f64 = (0..n).map(|i| obs.counts[i].powi(2) / obs.var[i]).sum();
    let dof = (n as f64 - n_par as f64).max(1.0);
    let r_wp = (eval.chi2 / swy2.max(1e-300)).sqrt();
    let r_exp = (dof / swy2.max(1e-300)).sqrt();
    let gof = eval.chi2 / dof;
    // Weight fractions and their uncertainties (ZMV: the scales are per unit weight).
    let total: f64 = eval.scales.iter().sum();
    let np = set.len();
    let cov = |i: usize, j: usize| eval.sigmas_cov.get(i * np + j).copied().unwrap_or(0.0);
    let mut phases: Vec<RefinedPhase> = (0..np)
        .map(|k| {
            let a = eval.scales[k];
            let wt = if total > 0.0 { a / total } else { 0.0 };
            // ∂w_k/∂a_j = (δ_kj − w_k)/Σa.
            let mut var = 0.0;
            for i in 0..np {
                for j in 0..np {
                    let di = (f64::from(u8::from(i == k)) - wt) / total.max(1e-300);
                    let dj = (f64::from(u8::from(j == k)) - wt) / total.max(1e-300);
                    var += di * dj * cov(i, j);
                }
            }
            RefinedPhase {
                index: set[k],
                scale: a,
                wt_pct: 100.0 * wt,
                wt_pct_sigma: 100.0 * (var.max(0.0) * gof.max(1.0)).sqrt(),
                cell_scale: state_fit.p[k].cell,
                broadening: state_fit.p[k].broadening,
                march_dollase: state_fit.p[k].po,
                basal: state_fit.p[k].basal,
            }
        })
        .collect();
    phases.sort_by(|a, b| b.wt_pct.total_cmp(&a.wt_pct));
    let instrument = Instrument {
        geometry: obs.geometry,
        ..prob.instrument(&state_fit.g, 1.0, 1.0)
    };
    let (unexplained_fraction, unexplained_d_a) =
        unexplained(obs, &eval.model, &eval.background, &instrument, gof, cfg);
    Some(Refinement {
        phases,
        rejected,
        instrument,
        model: eval.model,
        background: eval.background,
        r_wp,
        r_exp,
        gof,
        unexplained_fraction,
        unexplained_d_a,
    })
}

/// Residual peaks no phase explains: significant (above `unexplained_sigma`·σ·√GoF,
/// the misfit of real patterns scaling the noise) and not a remainder on a modelled
/// peak (the model's net there below the residual's height). Returns their share of
/// the net diffracted intensity (pseudo-Voigt areas, η = ½) and their d-spacings (the
/// refined zero shift and displacement taken off).
fn unexplained(
    obs: &Observed,
    model: &[f64],
    background: &[f64],
    instrument: &Instrument,
    gof: f64,
    cfg: &RefineConfig,
) -> (f64, Vec<f64>) {
    let resid: Vec<f64> = obs.counts.iter().zip(model).map(|(c, m)| c - m).collect();
    let hw = (0.1 / obs.step).round().max(2.0) as usize;
    let min_sigma = cfg.unexplained_sigma * gof.max(1.0).sqrt();
    let peaks: Vec<_> = find_peaks(&obs.xs, &resid, &obs.var, hw, min_sigma, 0.0)
        .into_iter()
        .filter(|p| model[p.channel] - background[p.channel] < p.height)
        .collect();
    let net: f64 = obs
        .counts
        .iter()
        .zip(background)
        .map(|(c, b)| (c - b).max(0.0))
        .sum::<f64>()
        * obs.step;
    // Area of a pseudo-Voigt (η = ½) of height h and FWHM Γ: h·Γ·(π/4 + 0.5·1.0645).
    let area_per_hw = std::f64::consts::FRAC_PI_4 + 0.532;
    let width = |f: f64| if f.is_finite() { f } else { 3.0 * obs.step };
    let unexplained = peaks
        .iter()
        .fold(0.0, |a, p| a + p.height * width(p.fwhm) * area_per_hw);
    let mut strongest = peaks.clone();
    strongest.sort_by(|a, b| b.height.total_cmp(&a.height));
    let d = strongest
        .iter()
        .take(MAX_UNEXPLAINED_REPORTED)
        .map(|p| obs.geometry.d_at(p.x - instrument.shift(p.x)))
        .collect();
    ((unexplained / net.max(1e-300)).min(1.0), d)
}
