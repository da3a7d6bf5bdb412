//! Levenberg–Marquardt refinement with analytic Jacobians.
//!
//! Two problems, both solved with the `levenberg-marquardt` crate (MINPACK `lmder`
//! port: J.J. Moré, in *Numerical Analysis*, Lecture Notes in Mathematics 630,
//! Springer 1978, 105):
//!
//! * [`refine_groups`] — XRF: the areas of line groups (see [`super::group`]) together
//!   with the calibration zero and gain and the detector noise and Fano factor, on a
//!   fixed continuum. The model of channel `c` is
//!   `m_c = b_c + Σ_g A_g Σ_l r_l · gain · G(zero + gain·c; E_l, σ(E_l))` with
//!   `σ(E)² = (noise² + 2.3548²·F·ε·E)/2.3548²` (ε = 3.85 eV).
//! * [`refine_profiles`] — independent peaks (XRD reflections or unknown XRF peaks):
//!   area, centre and FWHM of each, Gaussian or pseudo-Voigt (η fixed or free, Thompson,
//!   Cox & Hastings 1987), plus an optional polynomial background.
//!
//! Residuals are weighted by `1/√max(w,1)` where the weight base is the data (first pass)
//! and then the fitted model (second pass, `passes = 2`): the model-weighted χ² gives the
//! Poisson Fisher information, so `(JᵀJ)⁻¹` at the solution is the covariance and its
//! diagonal the 1σ² of each parameter (no χ² scaling). Reduced χ² is reported so the
//! caller can judge the model.
//!
//! Stopping is an outcome, not an error: [`LmReport::termination`].

use super::detector::{Detector, FWHM_PER_SIGMA, SI_PAIR_ENERGY_KEV};
use super::group::{LineGroup, PeakModel};
use super::lineshape::{gaussian, pseudo_voigt};
use crate::spectrum::Calibration;
use crate::{Error, Result};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{DMatrix, DVector, Dyn, Owned};
use serde::Serialize;

/// How the run ended and how good the fit is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmReport {
    /// Termination reason from the solver (Debug form).
    pub termination: String,
    /// True when the solver converged (ftol/xtol/gtol).
    pub converged: bool,
    /// Residual evaluations used (all passes).
    pub evaluations: usize,
    /// Weighted χ² at the solution.
    pub chi2: f64,
    /// Channels − free parameters.
    pub dof: usize,
    /// χ²/dof.
    pub reduced_chi2: f64,
}

/// Which global parameters [`refine_groups`] frees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GroupFitFlags {
    /// Refine the calibration zero (keV).
    pub zero: bool,
    /// Refine the gain (keV/channel).
    pub gain: bool,
    /// Refine the electronic noise (keV).
    pub noise: bool,
    /// Refine the Fano factor.
    pub fano: bool,
}

impl Default for GroupFitFlags {
    fn default() -> Self {
        Self {
            zero: true,
            gain: true,
            noise: true,
            fano: true,
        }
    }
}

/// Result of [`refine_groups`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFit {
    /// Group areas (counts), in the order of the groups given.
    pub areas: Vec<f64>,
    /// 1σ of each area (0 for a group held at zero).
    pub area_sigmas: Vec<f64>,
    /// Refined calibration.
    pub calibration: Calibration,
    /// Refined detector.
    pub detector: Detector,
    /// 1σ of (zero, gain, noise, Fano); 0 for fixed ones.
    pub global_sigmas: [f64; 4],
    /// Fit quality and termination.
    pub report: LmReport,
}

/// Peaks of each group as `(energy keV, relative area)`, escape peaks included.
type GroupPeaks = Vec<Vec<(f64, f64)>>;

/// The XRF group problem (parameters: free areas, then the freed globals).
struct GroupProblem<'a> {
    y: &'a [f64],
    bg: &'a [f64],
    first_channel: usize,
    inv_sigma: Vec<f64>,
    peaks: GroupPeaks,
    areas: Vec<f64>,
    free_area: Vec<usize>,
    zero: f64,
    gain: f64,
    noise: f64,
    fano: f64,
    flags: GroupFitFlags,
    span_sigmas: f64,
}

impl GroupProblem<'_> {
    fn sigma_kev(&self, e: f64) -> f64 {
        let fw2 = self.noise * self.noise
            + FWHM_PER_SIGMA * FWHM_PER_SIGMA * self.fano * SI_PAIR_ENERGY_KEV * e.max(0.0);
        fw2.max(1e-12).sqrt() / FWHM_PER_SIGMA
    }

    /// Channel range (region indices) of a peak at `e` with width `s`.
    fn span(&self, e: f64, s: f64) -> std::ops::Range<usize> {
        let n = self.y.len() as f64;
        let c0 = ((e - self.span_sigmas * s - self.zero) / self.gain - self.first_channel as f64)
            .floor()
            .clamp(0.0, n);
        let c1 = ((e + self.span_sigmas * s - self.zero) / self.gain - self.first_channel as f64
            + 1.0)
            .ceil()
            .clamp(0.0, n);
        c0 as usize..c1 as usize
    }
}

impl WeightedModel for GroupProblem<'_> {
    fn y(&self) -> &[f64] {
        self.y
    }

    fn inv_sigma(&self) -> &[f64] {
        &self.inv_sigma
    }

    fn n_params(&self) -> usize {
        let f = self.flags;
        self.free_area.len()
            + [f.zero, f.gain, f.noise, f.fano]
                .iter()
                .filter(|b| **b)
                .count()
    }

    /// Model into `model`; when `jac` is given, also −∂m/∂p·(1/σ) columns.
    fn evaluate(&self, model: &mut [f64], mut jac: Option<&mut DMatrix<f64>>) {
        model.copy_from_slice(self.bg);
        let na = self.free_area.len();
        let f = self.flags;
        let mut col = na;
        let mut next = |on: bool| {
            if on {
                col += 1;
                Some(col - 1)
            } else {
                None
            }
        };
        let (cz, cg, cn, cf) = (next(f.zero), next(f.gain), next(f.noise), next(f.fano));
        let mut area_col = vec![None; self.peaks.len()];
        for (k, &g) in self.free_area.iter().enumerate() {
            area_col[g] = Some(k);
        }
        let k_fano = FWHM_PER_SIGMA * FWHM_PER_SIGMA * SI_PAIR_ENERGY_KEV;
        for (g, peaks) in self.peaks.iter().enumerate() {
            let a = self.areas[g];
            if a == 0.0 && area_col[g].is_none() {
                continue;
            }
            for &(e, r) in peaks {
                let s = self.sigma_kev(e);
                let fw = s * FWHM_PER_SIGMA;
                let ds_dnoise = self.noise / (fw * FWHM_PER_SIGMA);
                let ds_dfano = k_fano * e.max(0.0) / (2.0 * fw * FWHM_PER_SIGMA);
                for i in self.span(e, s) {
                    let ch = (self.first_channel + i) as f64;
                    let x = self.zero + self.gain * ch;
                    let p = gaussian(x, e, s, 1.0);
                    let unit = r * self.gain * p.value;
                    model[i] += a * unit;
                    if let Some(j) = jac.as_deref_mut() {
                        let w = -self.inv_sigma[i];
                        let d_dx = -p.d_center;
                        if let Some(c) = area_col[g] {
                            j[(i, c)] += w * unit;
                        }
                        if let Some(c) = cz {
                            j[(i, c)] += w * a * r * self.gain * d_dx;
                        }
                        if let Some(c) = cg {
                            j[(i, c)] += w * a * r * (p.value + self.gain * ch * d_dx);
                        }
                        let d_ds = a * r * self.gain * p.d_width;
                        if let Some(c) = cn {
                            j[(i, c)] += w * d_ds * ds_dnoise;
                        }
                        if let Some(c) = cf {
                            j[(i, c)] += w * d_ds * ds_dfano;
                        }
                    }
                }
            }
        }
    }
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for GroupProblem<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, x: &DVector<f64>) {
        for (k, &g) in self.free_area.iter().enumerate() {
            self.areas[g] = x[k];
        }
        let mut i = self.free_area.len();
        let f = self.flags;
        for (on, v) in [
            (f.zero, &mut self.zero),
            (f.gain, &mut self.gain),
            (f.noise, &mut self.noise),
            (f.fano, &mut self.fano),
        ] {
            if on {
                *v = x[i];
                i += 1;
            }
        }
        // Keep the physics sane whatever step the solver tries.
        self.gain = self.gain.max(1e-9);
        self.noise = self.noise.abs().max(1e-4);
        self.fano = self.fano.abs().max(1e-4);
    }

    fn params(&self) -> DVector<f64> {
        let f = self.flags;
        let mut v: Vec<f64> = self.free_area.iter().map(|&g| self.areas[g]).collect();
        for (on, x) in [
            (f.zero, self.zero),
            (f.gain, self.gain),
            (f.noise, self.noise),
            (f.fano, self.fano),
        ] {
            if on {
                v.push(x);
            }
        }
        DVector::from_vec(v)
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        Some(self.weighted_residuals())
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        Some(self.weighted_jacobian())
    }
}

/// Refine group areas, calibration and detector resolution on a region.
///
/// `counts` and `background` cover channels `first_channel ..`; `initial_areas` (e.g.
/// from [`super::linear`]) seed the areas — groups whose seed is 0 are held at 0. The
/// model uses Gaussian peaks plus the escape peaks of `model.escape` (hypermet tails are
/// not refined here). `passes` = 2 re-weights with the fitted model.
///
/// # Errors
/// [`Error::Invalid`] for mismatched lengths or no groups.
#[allow(clippy::too_many_arguments)]
pub fn refine_groups(
    counts: &[f64],
    background: &[f64],
    first_channel: usize,
    groups: &[LineGroup],
    model: &PeakModel,
    initial_areas: &[f64],
    flags: GroupFitFlags,
    passes: usize,
) -> Result<GroupFit> {
    if counts.len() != background.len() || groups.len() != initial_areas.len() || groups.is_empty()
    {
        return Err(Error::Invalid {
            what: "group refinement",
            message: format!(
                "{} counts, {} background, {} groups, {} initial areas",
                counts.len(),
                background.len(),
                groups.len(),
                initial_areas.len()
            ),
        });
    }
    let peaks: GroupPeaks = groups.iter().map(|g| model.peaks(g)).collect();
    let free_area: Vec<usize> = (0..groups.len())
        .filter(|&g| initial_areas[g] > 0.0)
        .collect();
    let mut problem = GroupProblem {
        y: counts,
        bg: background,
        first_channel,
        inv_sigma: counts.iter().map(|y| 1.0 / y.max(1.0).sqrt()).collect(),
        peaks,
        areas: initial_areas.to_vec(),
        free_area,
        zero: model.calibration.offset_kev,
        gain: model.calibration.gain_kev,
        noise: model.detector.noise_kev,
        fano: model.detector.fano,
        flags,
        span_sigmas: model.span_sigmas.max(3.0),
    };
    let mut evaluations = 0;
    let mut termination = String::new();
    let mut converged = false;
    for pass in 0..passes.max(1) {
        if pass > 0 {
            let mut m = vec![0.0; counts.len()];
            problem.evaluate(&mut m, None);
            problem.inv_sigma = m.iter().map(|v| 1.0 / v.max(1.0).sqrt()).collect();
        }
        let (p, report) = solver().minimize(problem);
        problem = p;
        evaluations += report.number_of_evaluations;
        converged = report.termination.was_successful();
        termination = format!("{:?}", report.termination);
    }
    let n_par = problem.n_params();
    let cov = covariance(problem.weighted_jacobian());
    let sd = |k: usize| cov.as_ref().map_or(0.0, |c| c[(k, k)].max(0.0).sqrt());
    let mut area_sigmas = vec![0.0; groups.len()];
    for (k, &g) in problem.free_area.iter().enumerate() {
        area_sigmas[g] = sd(k);
    }
    let mut global_sigmas = [0.0; 4];
    let mut k = problem.free_area.len();
    let f = problem.flags;
    for (slot, on) in [f.zero, f.gain, f.noise, f.fano].iter().enumerate() {
        if *on {
            global_sigmas[slot] = sd(k);
            k += 1;
        }
    }
    let chi2 = problem.chi2();
    let dof = counts.len().saturating_sub(n_par).max(1);
    Ok(GroupFit {
        areas: problem.areas.clone(),
        area_sigmas,
        calibration: Calibration {
            offset_kev: problem.zero,
            gain_kev: problem.gain,
            quad_kev: 0.0,
        },
        detector: Detector {
            noise_kev: problem.noise,
            fano: problem.fano,
        },
        global_sigmas,
        report: LmReport {
            termination,
            converged,
            evaluations,
            chi2,
            dof,
            reduced_chi2: chi2 / dof as f64,
        },
    })
}

/// The solver with statistically meaningful tolerances: a relative χ² change of 1e-7
/// (Δχ² ≪ 1 for any spectrum) instead of the crate's 30·ε, which only burns iterations.
fn solver() -> LevenbergMarquardt<f64> {
    LevenbergMarquardt::new()
        .with_ftol(1e-7)
        .with_xtol(1e-7)
        .with_gtol(1e-9)
}

/// `(JᵀJ)⁻¹` of a weighted-residual Jacobian, `None` when singular.
fn covariance(j: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let jtj = j.tr_mul(&j);
    jtj.cholesky().map(|c| c.inverse())
}

/// Line shape of [`refine_profiles`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum ProfileShape {
    /// Gaussian (XRF peaks).
    Gaussian,
    /// Pseudo-Voigt with a fixed mixing η.
    PseudoVoigt {
        /// Lorentzian fraction.
        eta: f64,
    },
    /// Pseudo-Voigt with η refined per peak (start value given).
    PseudoVoigtFreeEta {
        /// Start value of η.
        eta: f64,
    },
}

/// One peak of [`refine_profiles`]: start values in, refined values out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProfilePeak {
    /// Area (counts × axis unit⁻¹ × bin width = counts).
    pub area: f64,
    /// Centre, axis units.
    pub center: f64,
    /// FWHM, axis units.
    pub fwhm: f64,
    /// Pseudo-Voigt η (ignored for Gaussians).
    pub eta: f64,
}

/// Result of [`refine_profiles`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileFit {
    /// Refined peaks.
    pub peaks: Vec<ProfilePeak>,
    /// 1σ of each peak's (area, centre, FWHM, η) (η σ is 0 when fixed).
    pub sigmas: Vec<ProfilePeak>,
    /// Background polynomial coefficients in `(x − x₀)` (x₀ = first x).
    pub background: Vec<f64>,
    /// Fit quality.
    pub report: LmReport,
}

struct ProfileProblem<'a> {
    x: &'a [f64],
    y: &'a [f64],
    fixed: Option<&'a [f64]>,
    bin: Vec<f64>,
    inv_sigma: Vec<f64>,
    peaks: Vec<ProfilePeak>,
    poly: Vec<f64>,
    shape: ProfileShape,
    span_fwhm: f64,
    common_fwhm: bool,
}

impl ProfileProblem<'_> {
    fn free_eta(&self) -> bool {
        matches!(self.shape, ProfileShape::PseudoVoigtFreeEta { .. })
    }

    /// Parameters per peak: area, centre, [FWHM unless shared], [η if free].
    fn per_peak(&self) -> usize {
        2 + usize::from(!self.common_fwhm) + usize::from(self.free_eta())
    }

    fn width_col(&self, k: usize) -> usize {
        if self.common_fwhm {
            self.peaks.len() * self.per_peak()
        } else {
            k * self.per_peak() + 2
        }
    }

    fn poly_base(&self) -> usize {
        self.peaks.len() * self.per_peak() + usize::from(self.common_fwhm)
    }
}

impl WeightedModel for ProfileProblem<'_> {
    fn y(&self) -> &[f64] {
        self.y
    }

    fn inv_sigma(&self) -> &[f64] {
        &self.inv_sigma
    }

    fn n_params(&self) -> usize {
        self.poly_base() + self.poly.len()
    }

    fn evaluate(&self, model: &mut [f64], mut jac: Option<&mut DMatrix<f64>>) {
        let x0 = self.x.first().copied().unwrap_or(0.0);
        for (i, m) in model.iter_mut().enumerate() {
            let mut v = self.fixed.map_or(0.0, |f| f[i]);
            let mut t = 1.0;
            for c in &self.poly {
                v += c * t;
                t *= self.x[i] - x0;
            }
            *m = v;
        }
        if let Some(j) = jac.as_deref_mut() {
            let base = self.poly_base();
            for i in 0..self.x.len() {
                let mut t = 1.0;
                for k in 0..self.poly.len() {
                    j[(i, base + k)] = -self.inv_sigma[i] * t;
                    t *= self.x[i] - x0;
                }
            }
        }
        let pp = self.per_peak();
        let free_eta = self.free_eta();
        for (k, pk) in self.peaks.iter().enumerate() {
            let lo = self
                .x
                .partition_point(|v| *v < pk.center - self.span_fwhm * pk.fwhm);
            let hi = self
                .x
                .partition_point(|v| *v <= pk.center + self.span_fwhm * pk.fwhm);
            let wcol = self.width_col(k);
            for i in lo..hi {
                let p = match self.shape {
                    ProfileShape::Gaussian => {
                        let mut g = gaussian(self.x[i], pk.center, pk.fwhm / FWHM_PER_SIGMA, 1.0);
                        g.d_width /= FWHM_PER_SIGMA;
                        g
                    }
                    ProfileShape::PseudoVoigt { eta } => {
                        pseudo_voigt(self.x[i], pk.center, pk.fwhm, eta, 1.0)
                    }
                    ProfileShape::PseudoVoigtFreeEta { .. } => {
                        pseudo_voigt(self.x[i], pk.center, pk.fwhm, pk.eta, 1.0)
                    }
                };
                let b = self.bin[i];
                model[i] += pk.area * b * p.value;
                if let Some(j) = jac.as_deref_mut() {
                    let w = -self.inv_sigma[i] * b;
                    j[(i, k * pp)] = w * p.value;
                    j[(i, k * pp + 1)] = w * pk.area * p.d_center;
                    j[(i, wcol)] += w * pk.area * p.d_width;
                    if free_eta {
                        j[(i, k * pp + pp - 1)] = w * pk.area * p.d_eta;
                    }
                }
            }
        }
    }
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for ProfileProblem<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, p: &DVector<f64>) {
        let pp = self.per_peak();
        let free_eta = self.free_eta();
        let shared = self
            .common_fwhm
            .then(|| p[self.width_col(0)].abs().max(1e-9));
        for k in 0..self.peaks.len() {
            let w = shared.unwrap_or_else(|| p[k * pp + 2].abs().max(1e-9));
            let pk = &mut self.peaks[k];
            pk.area = p[k * pp];
            pk.center = p[k * pp + 1];
            pk.fwhm = w;
            if free_eta {
                pk.eta = p[k * pp + pp - 1];
            }
        }
        let base = self.poly_base();
        for (k, c) in self.poly.iter_mut().enumerate() {
            *c = p[base + k];
        }
    }

    fn params(&self) -> DVector<f64> {
        let mut v = Vec::with_capacity(self.n_params());
        for pk in &self.peaks {
            v.extend([pk.area, pk.center]);
            if !self.common_fwhm {
                v.push(pk.fwhm);
            }
            if self.free_eta() {
                v.push(pk.eta);
            }
        }
        if self.common_fwhm {
            v.push(self.peaks.first().map_or(1.0, |p| p.fwhm));
        }
        v.extend(&self.poly);
        DVector::from_vec(v)
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        Some(self.weighted_residuals())
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        Some(self.weighted_jacobian())
    }
}

/// Options of [`refine_profiles`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProfileOptions {
    /// Line shape.
    pub shape: ProfileShape,
    /// Background polynomial terms fitted on top of `fixed` (0 = none, 1 = constant,
    /// 2 = linear …).
    pub background_terms: usize,
    /// Weighting passes (2 = re-weight with the model).
    pub passes: usize,
    /// Half-width drawn around each peak, FWHM units.
    pub span_fwhm: f64,
    /// One FWHM shared by all peaks (a detector resolution, or a local Caglioti width):
    /// far better conditioned for overlapping peaks.
    pub common_fwhm: bool,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        Self {
            shape: ProfileShape::Gaussian,
            background_terms: 2,
            passes: 2,
            span_fwhm: 4.0,
            common_fwhm: false,
        }
    }
}

/// Refine independent peaks on an axis `x` (strictly increasing; keV, channels or
/// degrees 2θ) with counts `y` and an optional fixed part. Areas are in counts: the
/// density is multiplied by each point's bin width.
///
/// # Errors
/// [`Error::Invalid`] for mismatched lengths, fewer than 2 points or no peaks.
pub fn refine_profiles(
    x: &[f64],
    y: &[f64],
    fixed: Option<&[f64]>,
    start: &[ProfilePeak],
    opts: &ProfileOptions,
) -> Result<ProfileFit> {
    if x.len() != y.len() || x.len() < 2 || fixed.is_some_and(|f| f.len() != y.len()) {
        return Err(Error::Invalid {
            what: "profile refinement",
            message: format!("{} x values for {} counts", x.len(), y.len()),
        });
    }
    let n = x.len();
    let bin: Vec<f64> = (0..n)
        .map(|i| {
            let lo = if i == 0 { x[1] - x[0] } else { x[i] - x[i - 1] };
            let hi = if i + 1 == n {
                x[n - 1] - x[n - 2]
            } else {
                x[i + 1] - x[i]
            };
            0.5 * (lo + hi)
        })
        .collect();
    let mut peaks = start.to_vec();
    if let ProfileShape::PseudoVoigtFreeEta { eta } = opts.shape {
        peaks.iter_mut().for_each(|p| p.eta = eta);
    }
    let mut problem = ProfileProblem {
        x,
        y,
        fixed,
        bin,
        inv_sigma: y.iter().map(|v| 1.0 / v.max(1.0).sqrt()).collect(),
        peaks,
        poly: vec![0.0; opts.background_terms],
        shape: opts.shape,
        span_fwhm: opts.span_fwhm,
        common_fwhm: opts.common_fwhm && !start.is_empty(),
    };
    if let Some(c) = problem.poly.first_mut() {
        // Start the constant at the lower quartile of the data minus the fixed part.
        let mut r: Vec<f64> = (0..n).map(|i| y[i] - fixed.map_or(0.0, |f| f[i])).collect();
        r.sort_by(f64::total_cmp);
        *c = r[n / 4];
    }
    let mut evaluations = 0;
    let mut termination = String::new();
    let mut converged = false;
    for pass in 0..opts.passes.max(1) {
        if pass > 0 {
            let mut m = vec![0.0; n];
            problem.evaluate(&mut m, None);
            problem.inv_sigma = m.iter().map(|v| 1.0 / v.max(1.0).sqrt()).collect();
        }
        let (p, report) = solver().minimize(problem);
        problem = p;
        evaluations += report.number_of_evaluations;
        converged = report.termination.was_successful();
        termination = format!("{:?}", report.termination);
    }
    let cov = covariance(problem.weighted_jacobian());
    let sd = |k: usize| cov.as_ref().map_or(0.0, |c| c[(k, k)].max(0.0).sqrt());
    let pp = problem.per_peak();
    let free_eta = problem.free_eta();
    let sigmas = (0..problem.peaks.len())
        .map(|k| ProfilePeak {
            area: sd(k * pp),
            center: sd(k * pp + 1),
            fwhm: sd(problem.width_col(k)),
            eta: if free_eta { sd(k * pp + pp - 1) } else { 0.0 },
        })
        .collect();
    let chi2 = problem.chi2();
    let dof = n.saturating_sub(problem.n_params()).max(1);
    Ok(ProfileFit {
        peaks: problem.peaks.clone(),
        sigmas,
        background: problem.poly.clone(),
        report: LmReport {
            termination,
            converged,
            evaluations,
            chi2,
            dof,
            reduced_chi2: chi2 / dof as f64,
        },
    })
}

/// A model of counts `y` with Poisson weights 1/σ: what both LM problems share.
/// `evaluate` fills the model and, when asked, ∂(weighted residual)/∂parameter.
trait WeightedModel {
    fn y(&self) -> &[f64];
    fn inv_sigma(&self) -> &[f64];
    fn n_params(&self) -> usize;
    fn evaluate(&self, model: &mut [f64], jac: Option<&mut DMatrix<f64>>);

    /// (y − model)/σ, the vector minimised.
    fn weighted_residuals(&self) -> DVector<f64> {
        let mut m = vec![0.0; self.y().len()];
        self.evaluate(&mut m, None);
        DVector::from_iterator(
            m.len(),
            self.y()
                .iter()
                .zip(&m)
                .zip(self.inv_sigma())
                .map(|((y, m), w)| (y - m) * w),
        )
    }

    /// ∂((y − model)/σ)/∂p.
    fn weighted_jacobian(&self) -> DMatrix<f64> {
        let mut j = DMatrix::zeros(self.y().len(), self.n_params());
        let mut m = vec![0.0; self.y().len()];
        self.evaluate(&mut m, Some(&mut j));
        j
    }

    fn chi2(&self) -> f64 {
        self.weighted_residuals().norm_squared()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::group::SiEscape;

    /// Central finite differences of the weighted residuals.
    fn numeric_jacobian<
        P: LeastSquaresProblem<f64, Dyn, Dyn, ParameterStorage = Owned<f64, Dyn>>,
    >(
        p: &mut P,
    ) -> DMatrix<f64> {
        let x0 = p.params();
        let r0 = p.residuals().unwrap();
        let mut j = DMatrix::zeros(r0.len(), x0.len());
        for k in 0..x0.len() {
            let h = 1e-6 * x0[k].abs().max(1e-3);
            let mut xp = x0.clone();
            xp[k] += h;
            p.set_params(&xp);
            let rp = p.residuals().unwrap();
            let mut xm = x0.clone();
            xm[k] -= h;
            p.set_params(&xm);
            let rm = p.residuals().unwrap();
            j.set_column(k, &((rp - rm) / (2.0 * h)));
        }
        p.set_params(&x0);
        j
    }

    fn max_rel_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        a.iter()
            .zip(b.iter())
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale
    }

    #[test]
    fn group_jacobian_matches_finite_differences() {
        let n = 600;
        let y: Vec<f64> = (0..n).map(|i| 50.0 + (i % 7) as f64).collect();
        let bg = vec![20.0; n];
        let groups = [
            LineGroup::new("A", [(6.40, 0.88), (7.06, 0.12)]),
            LineGroup::new("B", [(5.41, 0.88), (5.95, 0.12)]),
        ];
        let mut model = PeakModel::gaussian(
            Calibration::linear(-0.1, 0.0125).unwrap(),
            Detector {
                noise_kev: 0.09,
                fano: 0.11,
            },
        );
        model.escape = Some(SiEscape::silicon());
        let mut p = GroupProblem {
            y: &y,
            bg: &bg,
            first_channel: 100,
            inv_sigma: y.iter().map(|v| 1.0 / v.sqrt()).collect(),
            peaks: groups.iter().map(|g| model.peaks(g)).collect(),
            areas: vec![5000.0, 3000.0],
            free_area: vec![0, 1],
            zero: -0.1,
            gain: 0.0125,
            noise: 0.09,
            fano: 0.11,
            flags: GroupFitFlags::default(),
            span_sigmas: 8.0,
        };
        let analytic = p.jacobian().unwrap();
        let numeric = numeric_jacobian(&mut p);
        let d = max_rel_diff(&analytic, &numeric);
        assert!(d < 1e-5, "max relative difference {d}");
    }

    #[test]
    fn profile_jacobian_matches_finite_differences() {
        let x: Vec<f64> = (0..400).map(|i| 20.0 + 0.02 * i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 100.0 + v).collect();
        for (shape, common_fwhm) in [
            (ProfileShape::Gaussian, false),
            (ProfileShape::Gaussian, true),
            (ProfileShape::PseudoVoigt { eta: 0.4 }, false),
            (ProfileShape::PseudoVoigtFreeEta { eta: 0.3 }, false),
            (ProfileShape::PseudoVoigtFreeEta { eta: 0.3 }, true),
        ] {
            let mut p = ProfileProblem {
                x: &x,
                y: &y,
                fixed: None,
                bin: vec![0.02; x.len()],
                inv_sigma: y.iter().map(|v| 1.0 / v.sqrt()).collect(),
                peaks: vec![
                    ProfilePeak {
                        area: 500.0,
                        center: 23.0,
                        fwhm: 0.15,
                        eta: 0.3,
                    },
                    ProfilePeak {
                        area: 200.0,
                        center: 25.1,
                        fwhm: 0.2,
                        eta: 0.3,
                    },
                ],
                poly: vec![90.0, 1.0],
                shape,
                span_fwhm: 50.0,
                common_fwhm,
            };
            if common_fwhm {
                p.peaks[1].fwhm = p.peaks[0].fwhm;
            }
            let analytic = p.jacobian().unwrap();
            let numeric = numeric_jacobian(&mut p);
            let d = max_rel_diff(&analytic, &numeric);
            assert!(d < 1e-5, "{shape:?}: max relative difference {d}");
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let m = PeakModel::gaussian(Calibration::linear(0.0, 0.01).unwrap(), Detector::default());
        assert!(refine_groups(
            &[1.0; 3],
            &[0.0; 2],
            0,
            &[],
            &m,
            &[],
            GroupFitFlags::default(),
            1
        )
        .is_err());
        assert!(refine_profiles(&[1.0], &[1.0], None, &[], &ProfileOptions::default()).is_err());
    }
}
