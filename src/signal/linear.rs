//! Joint linear least squares of fixed-shape templates: the screening fast path.
//!
//! Model of the counts `y` on the fit region (channels `0..n` of the slice given):
//! `m_i = f_i + Σ_k a_k·t_k(i)`, with `f` a fixed part (a background estimate, or zeros)
//! and `t_k` fixed-shape templates (one per fit group: all lines of an element family,
//! escape peaks included, see [`super::group`]). The amplitudes `a_k` minimise
//! `χ² = Σ_i w_i (y_i − m_i)²` with Poisson weights `w_i = 1/max(y_i, 1)` (Neyman χ², as
//! PyMca's `fitweight = 1`), optionally reweighted with the model (`w_i = 1/max(m_i,1)`,
//! Pearson χ², less biased at low counts).
//!
//! Non-negativity uses the Lawson–Hanson active-set algorithm (C.L. Lawson & R.J. Hanson,
//! *Solving Least Squares Problems*, Prentice-Hall 1974, ch. 23) run on the normal
//! equations as in R. Bro & S. de Jong, J. Chemometrics 11 (1997) 393 ("FNNLS").
//! Covariance of the free amplitudes is `(AᵀWA)⁻¹` restricted to the passive set;
//! 1σ = √diag (no χ² scaling, Poisson weights being absolute).
//!
//! # Cost
//! Templates are **sparse** (a start channel and the span where they are non-zero), so
//! building `AᵀWA` costs Σ over overlapping template pairs of the overlap length; the
//! pair list is computed once in [`LinearFitter::new`]. With uniform weights the Gram
//! matrix is computed once and cached. Nothing is allocated per channel or per fit
//! except the returned [`LinearFit`].
//!
//! # Example
//! ```
//! use reescan::signal::linear::{LinearFitter, LinearOptions, Template};
//! let t0 = Template::new(2, vec![1.0, 4.0, 1.0]);
//! let t1 = Template::new(4, vec![2.0, 2.0, 2.0]);
//! let y = [0.0, 0.0, 10.0, 40.0, 16.0, 6.0, 6.0, 0.0];
//! let mut fitter = LinearFitter::new(8, vec![t0, t1]).unwrap();
//! let fit = fitter.fit(&y, None, &LinearOptions::default()).unwrap();
//! assert!((fit.amplitudes[0] - 10.0).abs() < 1e-6 && (fit.amplitudes[1] - 3.0).abs() < 1e-6);
//! ```

use crate::{Error, Result};
use multiversion::multiversion;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::sync::Arc;

/// A fixed-shape template, non-zero only on channels `start .. start + values.len()`
/// of the fit region (counts per channel for unit amplitude).
/// The values are shared: a template drawn once (e.g. kept in an element library) is
/// cloned into every fit that uses it without copying.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Template {
    /// First channel (index into the fit region) where the template is non-zero.
    pub start: usize,
    /// Values on `start ..`.
    pub values: Arc<[f64]>,
}

impl Template {
    /// A template starting at region channel `start`.
    pub fn new(start: usize, values: Vec<f64>) -> Self {
        Self {
            start,
            values: values.into(),
        }
    }

    /// A template given densely over the whole region; leading/trailing zeros trimmed.
    pub fn from_dense(values: &[f64]) -> Self {
        let first = values
            .iter()
            .position(|v| *v != 0.0)
            .unwrap_or(values.len());
        let last = values
            .iter()
            .rposition(|v| *v != 0.0)
            .map_or(first, |i| i + 1);
        Self::new(first, values[first..last.max(first)].to_vec())
    }

    /// One past the last channel.
    pub fn end(&self) -> usize {
        self.start + self.values.len()
    }

    /// Sum of the template (its area in counts for unit amplitude).
    pub fn sum(&self) -> f64 {
        self.values.iter().sum()
    }

    /// Add `amplitude × template` into a dense buffer of the region.
    pub fn add_to(&self, amplitude: f64, out: &mut [f64]) {
        let end = self.end().min(out.len());
        if self.start >= end {
            return;
        }
        for (o, v) in out[self.start..end].iter_mut().zip(self.values.iter()) {
            *o += amplitude * v;
        }
    }
}

/// How channels are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Weighting {
    /// `w = 1/max(y, 1)` from the data (PyMca `fitweight = 1`).
    #[default]
    Poisson,
    /// All channels weight 1 (Gram matrix cached between fits).
    Uniform,
}

/// Options of a linear fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinearOptions {
    /// Channel weighting.
    pub weighting: Weighting,
    /// Constrain amplitudes ≥ 0 (physical for peak areas).
    pub non_negative: bool,
    /// Extra passes re-weighting with the fitted model, `w = 1/max(m, 1)` (Poisson only).
    pub reweight_passes: usize,
    /// Return the full covariance matrix; otherwise only the 1σ (the diagonal, a
    /// fraction of the cost) and [`LinearFit::covariance`] is empty.
    pub covariance: bool,
}

impl Default for LinearOptions {
    fn default() -> Self {
        Self {
            weighting: Weighting::Poisson,
            non_negative: true,
            reweight_passes: 0,
            covariance: true,
        }
    }
}

/// Result of a linear fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearFit {
    /// Fitted amplitude of each template (same order as given).
    pub amplitudes: Vec<f64>,
    /// 1σ of each amplitude (for amplitudes held at 0: the 1σ it would have alone).
    pub sigmas: Vec<f64>,
    /// Covariance, row-major `n × n` (zero rows/columns for amplitudes at the bound);
    /// empty when [`LinearOptions::covariance`] is off.
    pub covariance: Vec<f64>,
    /// True where the non-negativity bound is active (amplitude held at 0).
    pub at_bound: Vec<bool>,
    /// Weighted χ².
    pub chi2: f64,
    /// Degrees of freedom: channels − free amplitudes.
    pub dof: usize,
    /// χ²/dof.
    pub reduced_chi2: f64,
    /// The fitted model, fixed part + Σ aₖtₖ, per channel.
    pub model: Vec<f64>,
}

impl LinearFit {
    /// Template area (counts) of amplitude `k`: amplitude × template sum.
    pub fn area(&self, k: usize, template: &Template) -> f64 {
        self.amplitudes[k] * template.sum()
    }
}

/// Reusable joint fitter for one set of templates on a region of `n_channels`.
#[derive(Debug, Clone, Default)]
pub struct LinearFitter {
    n_channels: usize,
    /// Templates in channel order.
    templates: Vec<Template>,
    /// `order[i]`: the caller's index of internal template `i`.
    order: Vec<usize>,
    /// Passive set to start the non-negative solve from (internal order).
    start: Option<Vec<bool>>,
    /// (a, b, lo, hi): templates a ≤ b overlap on channels lo..hi.
    pairs: Vec<(usize, usize, usize, usize)>,
    gram: Vec<f64>,
    uniform_gram_ready: bool,
    rhs: Vec<f64>,
    weights: Vec<f64>,
    resid: Vec<f64>,
    model: Vec<f64>,
    nnls: NnlsScratch,
}

impl LinearFitter {
    /// Prepare a fitter. Templates are clipped to the region.
    ///
    /// # Errors
    /// [`Error::Invalid`] when there are no channels or no templates.
    pub fn new(n_channels: usize, templates: Vec<Template>) -> Result<Self> {
        Self::assemble(n_channels, templates, None)
    }

    /// [`LinearFitter::new`] in the buffers of a fitter no longer needed (no
    /// allocation when they are large enough): for the many fits of an analysis.
    ///
    /// # Errors
    /// As [`LinearFitter::new`].
    pub fn recycle(self, n_channels: usize, templates: Vec<Template>) -> Result<Self> {
        Self::assemble(n_channels, templates, Some(self))
    }

    fn assemble(n_channels: usize, templates: Vec<Template>, old: Option<Self>) -> Result<Self> {
        if n_channels == 0 || templates.is_empty() {
            return Err(Error::Invalid {
                what: "linear fit",
                message: format!(
                    "{n_channels} channels and {} templates (need at least one of each)",
                    templates.len()
                ),
            });
        }
        let mut f = old.unwrap_or_default();
        // Internally in channel order: overlapping templates then sit next to each other,
        // the Gram matrix is close to banded and its Cholesky factor stays inside the
        // envelope (see `cholesky_subset`); results are returned in the caller's order.
        let n = templates.len();
        f.order.clear();
        f.order.extend(0..n);
        f.order.sort_by_key(|&k| templates[k].start);
        let mut slots: Vec<Option<Template>> = templates.into_iter().map(Some).collect();
        f.templates.clear();
        f.templates.extend(
            f.order
                .iter()
                .map(|&k| clip(slots[k].take().unwrap_or_default(), n_channels)),
        );
        f.pairs.clear();
        f.nnls.reset(n);
        let ts = &f.templates;
        let span = &mut f.nnls.span;
        span.iter_mut()
            .enumerate()
            .for_each(|(a, s)| *s = (a, a + 1));
        for a in 0..n {
            // templates after `a` start no earlier: none after the first that starts
            // past a's end overlaps it
            for b in a..n {
                if ts[b].start >= ts[a].end() && b > a {
                    break;
                }
                let lo = ts[a].start.max(ts[b].start);
                let hi = ts[a].end().min(ts[b].end());
                if lo < hi {
                    f.pairs.push((a, b, lo, hi));
                    span[a].1 = span[a].1.max(b + 1);
                    span[b].0 = span[b].0.min(a);
                }
            }
        }
        f.n_channels = n_channels;
        f.start = None;
        f.uniform_gram_ready = false;
        for (v, len) in [
            (&mut f.gram, n * n),
            (&mut f.rhs, n),
            (&mut f.weights, n_channels),
            (&mut f.resid, n_channels),
            (&mut f.model, n_channels),
        ] {
            // every one is written before it is read (the Gram matrix by `build_gram`)
            v.resize(len, 0.0);
        }
        Ok(f)
    }

    /// The (clipped) templates, in channel order (not the order given).
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// Number of region channels.
    pub fn n_channels(&self) -> usize {
        self.n_channels
    }

    /// Start the non-negative solve from this passive set (`positive[k]`: template `k`
    /// expected above zero, in the order given to [`LinearFitter::new`]) — e.g. the
    /// positive amplitudes of a previous fit of nearly the same templates. The optimum is
    /// the same (the problem is convex); it is reached in fewer steps.
    pub fn start_from(&mut self, positive: &[bool]) {
        self.start = Some(
            self.order
                .iter()
                .map(|&k| positive.get(k).copied().unwrap_or(true))
                .collect(),
        );
    }

    /// Fit `counts` (length `n_channels`) with an optional fixed part (same length).
    ///
    /// # Errors
    /// [`Error::Invalid`] on a length mismatch.
    pub fn fit(
        &mut self,
        counts: &[f64],
        fixed: Option<&[f64]>,
        opts: &LinearOptions,
    ) -> Result<LinearFit> {
        self.fit_inner(counts, fixed, opts, None)
    }

    /// [`LinearFitter::fit`], taking the Gram entries of template pairs that `memo`
    /// already holds for these weights (and adding the new ones): the fits of one
    /// spectrum share most templates, and their overlaps are the bulk of a fit's cost.
    /// Same result as [`LinearFitter::fit`].
    ///
    /// # Errors
    /// As [`LinearFitter::fit`].
    pub fn fit_with_memo(
        &mut self,
        counts: &[f64],
        fixed: Option<&[f64]>,
        opts: &LinearOptions,
        memo: &mut GramMemo,
    ) -> Result<LinearFit> {
        self.fit_inner(counts, fixed, opts, Some(memo))
    }

    fn fit_inner(
        &mut self,
        counts: &[f64],
        fixed: Option<&[f64]>,
        opts: &LinearOptions,
        memo: Option<&mut GramMemo>,
    ) -> Result<LinearFit> {
        if counts.len() != self.n_channels || fixed.is_some_and(|f| f.len() != self.n_channels) {
            return Err(Error::Invalid {
                what: "linear fit",
                message: format!(
                    "counts has {} channels, fixed part {:?}, fitter expects {}",
                    counts.len(),
                    fixed.map(|f| f.len()),
                    self.n_channels
                ),
            });
        }
        for (i, r) in self.resid.iter_mut().enumerate() {
            *r = counts[i] - fixed.map_or(0.0, |f| f[i]);
        }
        match opts.weighting {
            Weighting::Poisson => {
                for (w, y) in self.weights.iter_mut().zip(counts) {
                    *w = 1.0 / y.max(1.0);
                }
            }
            Weighting::Uniform => self.weights.iter_mut().for_each(|w| *w = 1.0),
        }
        let mut amps = self.solve(opts, memo);
        let passes = if opts.weighting == Weighting::Poisson {
            opts.reweight_passes
        } else {
            0
        };
        for _ in 0..passes {
            self.fill_model(&amps, fixed);
            for (w, m) in self.weights.iter_mut().zip(&self.model) {
                *w = 1.0 / m.max(1.0);
            }
            amps = self.solve(opts, None);
        }
        Ok(self.finish(amps, counts, fixed, opts))
    }

    fn solve(&mut self, opts: &LinearOptions, memo: Option<&mut GramMemo>) -> Vec<f64> {
        let uniform = opts.weighting == Weighting::Uniform;
        if !(uniform && self.uniform_gram_ready) {
            self.build_gram(memo);
            self.uniform_gram_ready = uniform;
            self.nnls.factored.clear();
        }
        self.build_rhs();
        let n = self.templates.len();
        let mut x = vec![0.0; n];
        if opts.non_negative {
            let start = self.start.as_deref();
            nnls_normal(&self.gram, &self.rhs, n, &mut x, &mut self.nnls, start);
        } else {
            let all: Vec<usize> = (0..n).collect();
            solve_subset(&self.gram, &self.rhs, n, &all, &mut self.nnls, &mut x);
        }
        x
    }

    /// The Gram matrix of the current weights; entries `memo` already holds for them are
    /// taken from it, new ones added to it.
    fn build_gram(&mut self, mut memo: Option<&mut GramMemo>) {
        let ids: Vec<usize> = match memo.as_deref_mut() {
            Some(m) => {
                m.use_weights(&self.weights);
                self.templates.iter().map(|t| m.id(t)).collect()
            }
            None => Vec::new(),
        };
        let n = self.templates.len();
        self.gram.iter_mut().for_each(|g| *g = 0.0);
        for &(a, b, lo, hi) in &self.pairs {
            let (ta, tb) = (&self.templates[a], &self.templates[b]);
            let weights = &self.weights;
            let overlap = || {
                let va = &ta.values[lo - ta.start..hi - ta.start];
                let vb = &tb.values[lo - tb.start..hi - tb.start];
                dot3(va, vb, &weights[lo..hi])
            };
            let s = match memo.as_deref_mut() {
                Some(m) => m.entry(ids[a], ids[b], overlap),
                None => overlap(),
            };
            self.gram[a * n + b] = s;
            self.gram[b * n + a] = s;
        }
    }

    fn build_rhs(&mut self) {
        for (k, t) in self.templates.iter().enumerate() {
            let r = &self.resid[t.start..t.end()];
            let w = &self.weights[t.start..t.end()];
            self.rhs[k] = dot3(&t.values, r, w);
        }
    }

    fn fill_model(&mut self, amps: &[f64], fixed: Option<&[f64]>) {
        match fixed {
            Some(f) => self.model.copy_from_slice(f),
            None => self.model.iter_mut().for_each(|m| *m = 0.0),
        }
        for (t, a) in self.templates.iter().zip(amps) {
            t.add_to(*a, &mut self.model);
        }
    }

    fn finish(
        &mut self,
        amps: Vec<f64>,
        counts: &[f64],
        fixed: Option<&[f64]>,
        opts: &LinearOptions,
    ) -> LinearFit {
        let n = self.templates.len();
        let passive: Vec<usize> = (0..n)
            .filter(|&k| self.gram[k * n + k] > 0.0 && (!opts.non_negative || amps[k] > 0.0))
            .collect();
        // The amplitudes again, from the factor of the passive set in channel order: the
        // optimum is unique, and so are its last bits whatever path the NNLS took to it
        // (cold or warm start).
        let mut amps = amps;
        if !passive.is_empty() {
            factor(&self.gram, n, &passive, &mut self.nnls);
            let m = passive.len();
            let sol = &mut self.nnls.tmp[..m];
            for (t, &k) in sol.iter_mut().zip(&passive) {
                *t = self.rhs[k];
            }
            cholesky_solve(&self.nnls.chol, n, &self.nnls.env, sol);
            for (t, &k) in sol.iter().zip(&passive) {
                amps[k] = if opts.non_negative { t.max(0.0) } else { *t };
            }
        }
        let mut covariance = Vec::new();
        let mut variance = vec![0.0; n];
        inverse_factor(&self.gram, n, &passive, &mut self.nnls);
        if opts.covariance {
            covariance = vec![0.0; n * n];
            inverse_product(&self.nnls.chol, n, &passive, &mut covariance);
            for (k, v) in variance.iter_mut().enumerate() {
                *v = covariance[k * n + k];
            }
        } else {
            inverse_diagonal(&self.nnls.chol, n, &passive, &mut variance);
        }
        let at_bound: Vec<bool> = (0..n).map(|k| !passive.contains(&k)).collect();
        let sigmas: Vec<f64> = (0..n)
            .map(|k| {
                let d = if at_bound[k] {
                    let g = self.gram[k * n + k];
                    if g > 0.0 {
                        1.0 / g
                    } else {
                        0.0
                    }
                } else {
                    variance[k]
                };
                d.max(0.0).sqrt()
            })
            .collect();
        self.fill_model(&amps, fixed);
        let chi2: f64 = counts
            .iter()
            .zip(&self.model)
            .zip(&self.weights)
            .map(|((y, m), w)| w * (y - m) * (y - m))
            .sum();
        let dof = self.n_channels.saturating_sub(passive.len()).max(1);
        // back to the caller's order
        let o = &self.order;
        let unpermute = |v: &[f64]| {
            let mut out = vec![0.0; n];
            for (i, &k) in o.iter().enumerate() {
                out[k] = v[i];
            }
            out
        };
        let mut cov = vec![0.0; covariance.len()];
        if !covariance.is_empty() {
            for (i, &ki) in o.iter().enumerate() {
                for (j, &kj) in o.iter().enumerate() {
                    cov[ki * n + kj] = covariance[i * n + j];
                }
            }
        }
        let mut bound = vec![false; n];
        for (i, &k) in o.iter().enumerate() {
            bound[k] = at_bound[i];
        }
        LinearFit {
            amplitudes: unpermute(&amps),
            sigmas: unpermute(&sigmas),
            covariance: cov,
            at_bound: bound,
            chi2,
            dof,
            reduced_chi2: chi2 / dof as f64,
            model: self.model.clone(),
        }
    }

    /// The model of the last fit (fixed part + Σ aₖtₖ), region channels.
    pub fn last_model(&self) -> &[f64] {
        &self.model
    }
}

/// Gram entries `Σ wᵢ tₐᵢ t_bᵢ` of template pairs for one channel weighting, kept
/// across the fits of one spectrum (see [`LinearFitter::fit_with_memo`]). A template
/// is known by its shared values and start channel; the memo holds a reference to each,
/// so a known template's values cannot be freed and replaced by another's at the same
/// address. It forgets everything when the weights change, and when it holds more
/// than [`GramMemo::CAPACITY`] templates.
#[derive(Debug, Default)]
pub struct GramMemo {
    weights: Vec<f64>,
    /// (values address, start) → template id, in order of first use.
    ids: FxHashMap<(usize, usize), usize>,
    held: Vec<Arc<[f64]>>,
    /// The lower triangle by rows: entry (i, j), j ≤ i, of templates i and j at
    /// i(i + 1)/2 + j (NaN: not yet computed).
    lower: Vec<f64>,
}

impl GramMemo {
    /// Templates held before the memo starts afresh.
    pub const CAPACITY: usize = 1024;

    fn use_weights(&mut self, weights: &[f64]) {
        if self.weights != weights || self.held.len() > Self::CAPACITY {
            self.ids.clear();
            self.held.clear();
            self.lower.clear();
            self.weights.clear();
            self.weights.extend_from_slice(weights);
        }
    }

    fn id(&mut self, t: &Template) -> usize {
        let next = self.held.len();
        let id = *self
            .ids
            .entry((t.values.as_ptr() as usize, t.start))
            .or_insert(next);
        if id == next {
            self.held.push(Arc::clone(&t.values));
            self.lower.resize(self.lower.len() + next + 1, f64::NAN);
        }
        id
    }

    /// The entry of templates `a` and `b` (ids), computed by `dot` when not yet known.
    fn entry(&mut self, a: usize, b: usize, dot: impl FnOnce() -> f64) -> f64 {
        let (i, j) = (a.max(b), a.min(b));
        let v = &mut self.lower[i * (i + 1) / 2 + j];
        if v.is_nan() {
            *v = dot();
        }
        *v
    }
}

/// One-shot convenience: build a [`LinearFitter`] and fit once.
///
/// # Errors
/// As [`LinearFitter::new`] and [`LinearFitter::fit`].
pub fn fit_templates(
    counts: &[f64],
    fixed: Option<&[f64]>,
    templates: Vec<Template>,
    opts: &LinearOptions,
) -> Result<LinearFit> {
    LinearFitter::new(counts.len(), templates)?.fit(counts, fixed, opts)
}

fn clip(t: Template, n: usize) -> Template {
    if t.start >= n {
        return Template::new(n, Vec::new());
    }
    if t.end() <= n {
        return t;
    }
    Template::new(t.start, t.values[..n - t.start].to_vec())
}

/// Scratch buffers for the dense sub-problems (sized once for `n` unknowns).
#[derive(Debug, Clone, Default)]
struct NnlsScratch {
    chol: Vec<f64>,
    tmp: Vec<f64>,
    s: Vec<f64>,
    w: Vec<f64>,
    passive: Vec<bool>,
    idx: Vec<usize>,
    /// The passive set in the order its members entered: a new member is one more row
    /// of the factor, and only a removal refactors (from the removed row on).
    order: Vec<usize>,
    /// The subset whose Cholesky factor `chol` holds (row stride n); empty when none.
    factored: Vec<usize>,
    /// Per factor row: its first non-zero column (the envelope).
    env: Vec<usize>,
    /// Per Gram row: the columns `lo..hi` outside which it is zero.
    span: Vec<(usize, usize)>,
}

impl NnlsScratch {
    /// Sized for `n` unknowns (the fitter resets its own with [`NnlsScratch::reset`]).
    #[cfg(test)]
    fn new(n: usize) -> Self {
        let mut sc = Self::default();
        sc.reset(n);
        sc
    }

    /// Sized for `n` unknowns, nothing factored, every Gram row possibly full.
    fn reset(&mut self, n: usize) {
        // the factor's rows are written before they are read
        self.chol.resize(n * n, 0.0);
        for v in [&mut self.tmp, &mut self.s, &mut self.w] {
            v.clear();
            v.resize(n, 0.0);
        }
        self.passive.clear();
        self.passive.resize(n, false);
        self.factored.clear();
        self.env.clear();
        self.idx.clear();
        self.order.clear();
        self.span.clear();
        self.span.resize(n, (0, n));
    }
}

/// Cholesky factor of `G[idx, idx]` into `chol` (lower, row stride `n`), rows `from..`:
/// rows before `from` are kept — they depend only on `idx[..from]`, so a passive set
/// that keeps its leading indices is refactored only from the first change. Row `i` of
/// the factor is zero before the row's first non-zero in `G` (`env[i]`: fill-in stays
/// inside the envelope), so each dot product runs over the overlap of two envelopes
/// only: with templates in channel order the cost follows the band, not m³. Tiny or
/// negative pivots (collinear templates) are regularised so the solve stays finite.
#[multiversion(targets("x86_64+avx2"))]
fn cholesky_subset(
    g: &[f64],
    n: usize,
    idx: &[usize],
    chol: &mut [f64],
    env: &mut Vec<usize>,
    from: usize,
) {
    let m = idx.len();
    env.truncate(from);
    for i in from..m {
        let gi = &g[idx[i] * n..(idx[i] + 1) * n];
        let ei = (0..i).find(|&j| gi[idx[j]] != 0.0).unwrap_or(i);
        env.push(ei);
        let (done, row) = chol.split_at_mut(i * n);
        let row = &mut row[..m];
        row[..ei].iter_mut().for_each(|v| *v = 0.0);
        for j in ei..i {
            let lo = ei.max(env[j]);
            let s = gi[idx[j]] - dot(&row[lo..j], &done[j * n + lo..j * n + j]);
            row[j] = s / done[j * n + j];
        }
        let s = gi[idx[i]] - dot(&row[ei..i], &row[ei..i]);
        let floor = 1e-12 * gi[idx[i]].abs().max(1e-300);
        row[i] = s.max(floor).sqrt();
    }
}

/// Factor `G[idx, idx]` in `sc`, reusing the rows shared with the last factor.
fn factor(g: &[f64], n: usize, idx: &[usize], sc: &mut NnlsScratch) {
    let same = sc
        .factored
        .iter()
        .zip(idx)
        .take_while(|(a, b)| a == b)
        .count();
    cholesky_subset(g, n, idx, &mut sc.chol, &mut sc.env, same);
    sc.factored.clear();
    sc.factored.extend_from_slice(idx);
}

/// Dot product with four partial sums (SIMD; with AVX2 in one register, see [`dot3`]).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked above)
        return unsafe { dot_avx2(a, b) };
    }
    dot_lanes(a, b)
}

/// [`dot`] with AVX2 intrinsics, the same sums in the same order as [`dot_lanes`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };
    let n = a.len().min(b.len());
    let n4 = n - n % 4;
    let mut acc = _mm256_setzero_pd();
    let mut i = 0;
    while i < n4 {
        // SAFETY: i + 4 ≤ n4 ≤ the length of each slice
        let (x, y) = unsafe {
            (
                _mm256_loadu_pd(a.as_ptr().add(i)),
                _mm256_loadu_pd(b.as_ptr().add(i)),
            )
        };
        acc = _mm256_add_pd(acc, _mm256_mul_pd(x, y));
        i += 4;
    }
    let mut lanes = [0.0; 4];
    // SAFETY: `lanes` holds four f64
    unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), acc) };
    let tail: f64 = a[n4..n].iter().zip(&b[n4..n]).map(|(x, y)| x * y).sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// [`dot`] in portable code.
#[inline]
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Σ aᵢbᵢwᵢ with four partial sums (SIMD): the Gram entries and right-hand sides of
/// every weighted fit, the innermost loop of an analysis. With AVX2 the four sums are one
/// register ([`dot3_avx2`]; the compiler's own vectorisation of [`dot3_lanes`] shuffles
/// lanes); the same products and additions in the same order, so the same bits.
fn dot3(a: &[f64], b: &[f64], w: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked above)
        return unsafe { dot3_avx2(a, b, w) };
    }
    dot3_lanes(a, b, w)
}

/// [`dot3`] with AVX2 intrinsics: lane k of the accumulator sums aᵢbᵢwᵢ over i ≡ k mod 4,
/// as [`dot3_lanes`] does.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot3_avx2(a: &[f64], b: &[f64], w: &[f64]) -> f64 {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };
    let n = a.len().min(b.len()).min(w.len());
    let n4 = n - n % 4;
    let mut acc = _mm256_setzero_pd();
    let mut i = 0;
    while i < n4 {
        // SAFETY: i + 4 ≤ n4 ≤ the length of each slice
        let (x, y, z) = unsafe {
            (
                _mm256_loadu_pd(a.as_ptr().add(i)),
                _mm256_loadu_pd(b.as_ptr().add(i)),
                _mm256_loadu_pd(w.as_ptr().add(i)),
            )
        };
        acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_mul_pd(x, y), z));
        i += 4;
    }
    let mut lanes = [0.0; 4];
    // SAFETY: `lanes` holds four f64
    unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), acc) };
    let tail: f64 = a[n4..n]
        .iter()
        .zip(&b[n4..n])
        .zip(&w[n4..n])
        .map(|((x, y), w)| x * y * w)
        .sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// [`dot3`] in portable code.
fn dot3_lanes(a: &[f64], b: &[f64], w: &[f64]) -> f64 {
    let n = a.len().min(b.len()).min(w.len());
    let (a, b, w) = (&a[..n], &b[..n], &w[..n]);
    let mut acc = [0.0; 4];
    let (ca, cb, cw) = (a.chunks_exact(4), b.chunks_exact(4), w.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .zip(cw.remainder())
        .map(|((x, y), w)| x * y * w)
        .sum();
    for ((x, y), w) in ca.zip(cb).zip(cw) {
        for k in 0..4 {
            acc[k] += x[k] * y[k] * w[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Solve `L Lᵀ x = b` in place (b has length m; L with row stride `n`, row `i` zero
/// before `env[i]`).
#[multiversion(targets("x86_64+avx2"))]
fn cholesky_solve(chol: &[f64], n: usize, env: &[usize], b: &mut [f64]) {
    let m = b.len();
    for i in 0..m {
        let e = env[i];
        let s = b[i] - dot(&chol[i * n + e..i * n + i], &b[e..i]);
        b[i] = s / chol[i * n + i];
    }
    // Lᵀx = y from the last row up: once xᵢ is known, take its part out of the rows
    // above within row i's envelope (contiguous in L's row i)
    for i in (0..m).rev() {
        b[i] /= chol[i * n + i];
        let (e, xi) = (env[i], b[i]);
        axpy(-xi, &chol[i * n + e..i * n + i], &mut b[e..i]);
    }
}

/// Unconstrained solution on the subset `idx`; others set to 0.
fn solve_subset(
    g: &[f64],
    b: &[f64],
    n: usize,
    idx: &[usize],
    sc: &mut NnlsScratch,
    out: &mut [f64],
) {
    out.iter_mut().for_each(|x| *x = 0.0);
    let m = idx.len();
    if m == 0 {
        return;
    }
    factor(g, n, idx, sc);
    for (t, &k) in sc.tmp.iter_mut().zip(idx) {
        *t = b[k];
    }
    cholesky_solve(&sc.chol, n, &sc.env, &mut sc.tmp[..m]);
    for (t, &k) in sc.tmp.iter().zip(idx) {
        out[k] = *t;
    }
}

/// `L⁻¹` of the Cholesky factor of `G[idx, idx]`, formed in place of the factor in
/// `sc.chol` (m³/6 flops). `G⁻¹ = L⁻ᵀ L⁻¹`: see [`inverse_product`], [`inverse_diagonal`].
fn inverse_factor(g: &[f64], n: usize, idx: &[usize], sc: &mut NnlsScratch) {
    let m = idx.len();
    if m == 0 {
        return;
    }
    factor(g, n, idx, sc);
    sc.factored.clear(); // the factor is overwritten by its inverse below
    invert_lower(&mut sc.chol, n, m, &sc.env, &mut sc.tmp);
}

/// `L⁻¹` in place of the lower factor `l` (m rows, stride n, row envelopes `env`), row
/// by row: X[i][..i] = −(Σ_{k=env_i..i−1} L[i][k] X[k][..=k]) / L[i][i], rows k < i
/// already inverted; L[i][k] is zero before the row's envelope start env_i.
#[multiversion(targets("x86_64+avx2"))]
fn invert_lower(l: &mut [f64], n: usize, m: usize, env: &[usize], acc: &mut [f64]) {
    for i in 0..m {
        let (done, row) = l.split_at_mut(i * n);
        let row = &mut row[..=i];
        acc[..i].iter_mut().for_each(|v| *v = 0.0);
        for k in env[i]..i {
            axpy(row[k], &done[k * n..k * n + k + 1], &mut acc[..=k]);
        }
        let d = 1.0 / row[i];
        for (x, a) in row[..i].iter_mut().zip(&acc[..i]) {
            *x = -a * d;
        }
        row[i] = d;
    }
}

/// `y += a x` (same lengths).
#[inline]
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `G⁻¹` from `X = L⁻¹` (see [`inverse_factor`]) scattered into the full `n × n` matrix:
/// `(L⁻ᵀ L⁻¹)[r][c] = Σ_{k ≥ max(r,c)} X[k][r] X[k][c]`.
fn inverse_product(x: &[f64], n: usize, idx: &[usize], cov: &mut [f64]) {
    let m = idx.len();
    for r in 0..m {
        for c in 0..=r {
            let v: f64 = (r..m).map(|k| x[k * n + r] * x[k * n + c]).sum();
            cov[idx[r] * n + idx[c]] = v;
            cov[idx[c] * n + idx[r]] = v;
        }
    }
}

/// The diagonal of `G⁻¹` from `X = L⁻¹` into `var[idx[r]]` (m²/2 flops):
/// `(G⁻¹)[r][r] = Σ_{k ≥ r} X[k][r]²`, summed row by row.
#[multiversion(targets("x86_64+avx2"))]
fn inverse_diagonal(x: &[f64], n: usize, idx: &[usize], var: &mut [f64]) {
    let m = idx.len();
    let mut diag = vec![0.0; m];
    for k in 0..m {
        for (d, v) in diag[..=k].iter_mut().zip(&x[k * n..k * n + k + 1]) {
            *d += v * v;
        }
    }
    for (r, d) in diag.into_iter().enumerate() {
        var[idx[r]] = d;
    }
}

/// Lawson–Hanson NNLS on the normal equations `G x = b` (Bro & de Jong 1997), warm
/// started from `start` (a passive set, e.g. a previous fit's positive amplitudes) or
/// else from the positive part of the unconstrained solution (the problem is convex:
/// same optimum, reached in a few outer steps instead of one per positive amplitude).
fn nnls_normal(
    g: &[f64],
    b: &[f64],
    n: usize,
    x: &mut [f64],
    sc: &mut NnlsScratch,
    start: Option<&[bool]>,
) {
    let mut s = std::mem::take(&mut sc.s);
    match start {
        Some(p) => {
            for k in 0..n {
                sc.passive[k] = p[k] && g[k * n + k] > 0.0;
            }
        }
        None => {
            // Fast path: the unconstrained solution is already feasible.
            let all: Vec<usize> = (0..n).filter(|&k| g[k * n + k] > 0.0).collect();
            solve_subset(g, b, n, &all, sc, &mut s);
            if s.iter().all(|v| *v >= 0.0) {
                x.copy_from_slice(&s);
                sc.s = s;
                return;
            }
            for k in 0..n {
                sc.passive[k] = s[k] > 0.0 && g[k * n + k] > 0.0;
            }
        }
    }
    // Warm start: drop the non-positive amplitudes and re-solve until the passive
    // solution is positive; it is then a feasible L–H iterate (x_P = LS solution on P).
    sc.order.clear();
    sc.order.extend((0..n).filter(|&k| sc.passive[k]));
    loop {
        let idx = solve_passive(g, b, n, sc, &mut s);
        let mut dropped = false;
        for &k in &idx {
            if s[k] <= 0.0 {
                sc.passive[k] = false;
                dropped = true;
            }
        }
        sc.idx = idx;
        if !dropped {
            break;
        }
    }
    x.copy_from_slice(&s);
    let tol = 1e-12 * b.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-300);
    let mut outer = 0;
    loop {
        outer += 1;
        // Gradient w = b − G x, needed only off the passive set (x is zero there).
        gradient(g, b, x, &sc.span, &sc.passive, &mut sc.w);
        let cand = (0..n)
            .filter(|&j| !sc.passive[j] && g[j * n + j] > 0.0 && sc.w[j] > tol)
            .max_by(|&a, &c| sc.w[a].total_cmp(&sc.w[c]));
        let Some(j) = cand else { break };
        if outer > 3 * n + 10 {
            break;
        }
        sc.passive[j] = true;
        sc.order.push(j);
        nnls_inner(g, b, n, x, &mut s, sc);
    }
    sc.s = s;
}

/// The NNLS gradient `w = b − G x` off the passive set (0 on it). x is zero off the
/// passive set, so each row needs one contiguous dot over its non-zero `span`.
#[multiversion(targets("x86_64+avx2"))]
fn gradient(
    g: &[f64],
    b: &[f64],
    x: &[f64],
    span: &[(usize, usize)],
    passive: &[bool],
    w: &mut [f64],
) {
    let n = b.len();
    for i in 0..n {
        let (lo, hi) = span[i];
        w[i] = if passive[i] {
            0.0
        } else {
            b[i] - dot(&g[i * n + lo..i * n + hi], &x[lo..hi])
        };
    }
}

/// Unconstrained solution on the passive set into `s`; returns the passive indices
/// (the caller hands the buffer back to `sc.idx`).
fn solve_passive(
    g: &[f64],
    b: &[f64],
    n: usize,
    sc: &mut NnlsScratch,
    s: &mut [f64],
) -> Vec<usize> {
    let mut idx = std::mem::take(&mut sc.idx);
    idx.clear();
    let passive = &sc.passive;
    sc.order.retain(|&k| passive[k]);
    idx.extend_from_slice(&sc.order);
    solve_subset(g, b, n, &idx, sc, s);
    idx
}

/// Lawson–Hanson inner loop: from the feasible `x`, solve on the passive set and step
/// back to the feasible region, dropping amplitudes that reach 0, until the passive
/// solution is positive.
fn nnls_inner(g: &[f64], b: &[f64], n: usize, x: &mut [f64], s: &mut [f64], sc: &mut NnlsScratch) {
    for _inner in 0..(3 * n + 10) {
        let idx = solve_passive(g, b, n, sc, s);
        let feasible = idx.iter().all(|&k| s[k] > 0.0);
        if feasible {
            x.copy_from_slice(s);
            sc.idx = idx;
            return;
        }
        let mut alpha = f64::INFINITY;
        for &k in &idx {
            if s[k] <= 0.0 {
                let a = x[k] / (x[k] - s[k]);
                alpha = alpha.min(a);
            }
        }
        for &k in &idx {
            x[k] += alpha * (s[k] - x[k]);
            if x[k] <= 1e-15 * (1.0 + s[k].abs()) {
                x[k] = 0.0;
                sc.passive[k] = false;
            }
        }
        sc.idx = idx;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense oracle: solve the weighted normal equations directly.
    fn dense_oracle(y: &[f64], ts: &[Vec<f64>]) -> Vec<f64> {
        let n = ts.len();
        let mut g = vec![0.0; n * n];
        let mut b = vec![0.0; n];
        for a in 0..n {
            for c in 0..n {
                g[a * n + c] = (0..y.len())
                    .map(|i| ts[a][i] * ts[c][i] / y[i].max(1.0))
                    .sum();
            }
            b[a] = (0..y.len()).map(|i| ts[a][i] * y[i] / y[i].max(1.0)).sum();
        }
        let mut sc = NnlsScratch::new(n);
        let mut x = vec![0.0; n];
        let all: Vec<usize> = (0..n).collect();
        solve_subset(&g, &b, n, &all, &mut sc, &mut x);
        x
    }

    fn gauss(n: usize, c: f64, s: f64) -> Vec<f64> {
        (0..n)
            .map(|i| (-0.5 * ((i as f64 - c) / s).powi(2)).exp())
            .collect()
    }

    #[test]
    fn sparse_fit_matches_dense_oracle() {
        let n = 200;
        let ts: Vec<Vec<f64>> = [40.0, 55.0, 120.0, 130.0]
            .iter()
            .map(|c| gauss(n, *c, 5.0))
            .collect();
        let truth = [100.0, 50.0, 30.0, 80.0];
        let y: Vec<f64> = (0..n)
            .map(|i| 5.0 + (0..4).map(|k| truth[k] * ts[k][i]).sum::<f64>())
            .collect();
        let bg = vec![5.0; n];
        let fit = fit_templates(
            &y,
            Some(&bg),
            ts.iter().map(|t| Template::from_dense(t)).collect(),
            &LinearOptions::default(),
        )
        .unwrap();
        for (a, t) in fit.amplitudes.iter().zip(truth) {
            assert!((a - t).abs() < 1e-6, "{:?}", fit.amplitudes);
        }
        let y0: Vec<f64> = y.iter().map(|v| v - 5.0).collect();
        // oracle uses weights from y0 rather than y; compare on a bg-free problem
        let fit0 = fit_templates(
            &y0,
            None,
            ts.iter().map(|t| Template::from_dense(t)).collect(),
            &LinearOptions::default(),
        )
        .unwrap();
        let oracle = dense_oracle(&y0, &ts);
        for (a, o) in fit0.amplitudes.iter().zip(&oracle) {
            assert!((a - o).abs() < 1e-6 * o.abs().max(1.0));
        }
        assert!(fit.chi2 < 1e-12);
    }

    #[test]
    fn any_start_set_reaches_the_same_optimum() {
        // five overlapping peaks on a background, two of them dips in the data (the
        // unconstrained fit makes them negative: the bound is active)
        let n = 120;
        let centres = [30.0, 36.0, 42.0, 60.0, 66.0];
        let truth = [200.0, -5.0, 150.0, -4.0, 80.0];
        let ts: Vec<Vec<f64>> = centres.iter().map(|&c| gauss(n, c, 3.0)).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 5.0 + (0..5).map(|k| truth[k] * ts[k][i]).sum::<f64>())
            .collect();
        let bg = vec![5.0; n];
        let templates: Vec<Template> = ts.iter().map(|t| Template::from_dense(t)).collect();
        let cold =
            fit_templates(&y, Some(&bg), templates.clone(), &LinearOptions::default()).unwrap();
        for start in [
            [true; 5],
            [false; 5],
            [false, true, false, true, false],
            [true, false, true, false, true],
        ] {
            let mut f = LinearFitter::new(n, templates.clone()).unwrap();
            f.start_from(&start);
            let warm = f.fit(&y, Some(&bg), &LinearOptions::default()).unwrap();
            for (k, t) in truth.iter().enumerate() {
                let (w, c) = (warm.amplitudes[k], cold.amplitudes[k]);
                assert!(
                    (w - c).abs() < 1e-6 * (1.0 + t.abs()),
                    "start {start:?}: {k}: {w} vs {c}"
                );
            }
            assert_eq!(warm.at_bound, cold.at_bound, "start {start:?}");
        }
        assert!(cold.at_bound[1] && cold.at_bound[3] && !cold.at_bound[0]);
    }

    #[test]
    fn non_negative_fit_clamps_an_absent_template() {
        let n = 100;
        let t0 = gauss(n, 50.0, 4.0);
        let t1 = gauss(n, 54.0, 4.0);
        // data is t0 minus a little t1: unconstrained gives negative a1.
        let y: Vec<f64> = (0..n).map(|i| 100.0 * t0[i] - 3.0 * t1[i] + 10.0).collect();
        let bg = vec![10.0; n];
        let ts = vec![Template::from_dense(&t0), Template::from_dense(&t1)];
        let free = fit_templates(
            &y,
            Some(&bg),
            ts.clone(),
            &LinearOptions {
                non_negative: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(free.amplitudes[1] < 0.0);
        let nn = fit_templates(&y, Some(&bg), ts, &LinearOptions::default()).unwrap();
        assert_eq!(nn.amplitudes[1], 0.0);
        assert!(nn.at_bound[1] && !nn.at_bound[0]);
        assert!(nn.amplitudes[0] > 90.0 && nn.amplitudes[0] < 100.0);
        assert!(nn.sigmas[1] > 0.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// The warm-started NNLS meets the Karush–Kuhn–Tucker conditions of
        /// min ½xᵀGx − bᵀx, x ≥ 0: x ≥ 0, gradient b − Gx = 0 where x > 0 and ≤ 0 where
        /// x = 0 — on overlapping Gaussians with data that pulls several amplitudes below 0.
        #[test]
        fn nnls_meets_the_kkt_conditions(
            centres in proptest::collection::vec(5.0f64..95.0, 2..12),
            amps in proptest::collection::vec(-40.0f64..100.0, 12),
        ) {
            let n_ch = 100;
            let ts: Vec<Vec<f64>> = centres.iter().map(|c| gauss(n_ch, *c, 3.0)).collect();
            let y: Vec<f64> = (0..n_ch)
                .map(|i| 20.0 + ts.iter().zip(&amps).map(|(t, a)| a * t[i]).sum::<f64>())
                .map(|v: f64| v.max(0.0))
                .collect();
            let templates = ts.iter().map(|t| Template::from_dense(t)).collect();
            let mut f = LinearFitter::new(n_ch, templates).unwrap();
            let fit = f.fit(&y, None, &LinearOptions::default()).unwrap();
            let n = ts.len();
            let scale = f.rhs.iter().map(|v| v.abs()).fold(1.0, f64::max);
            for k in 0..n {
                let x = fit.amplitudes[k];
                proptest::prop_assert!(x >= 0.0, "x[{k}] = {x}");
                let gx: f64 = (0..n).map(|j| f.gram[k * n + j] * fit.amplitudes[j]).sum();
                let w = f.rhs[k] - gx;
                if x > 0.0 {
                    proptest::prop_assert!(w.abs() <= 1e-7 * scale, "w[{k}] = {w} at x = {x}");
                } else {
                    proptest::prop_assert!(w <= 1e-7 * scale, "w[{k}] = {w} at the bound");
                }
            }
        }
    }

    #[test]
    fn covariance_is_the_inverse_of_the_passive_gram_block() {
        // SPD 5×5 Gram; invert the block {0, 2, 3, 4} and check G·C = I on it
        let n = 5;
        let a: Vec<f64> = (0..n * n)
            .map(|k| ((k * 37 % 11) as f64 - 5.0) / 3.0)
            .collect();
        let mut g = vec![0.0; n * n];
        for r in 0..n {
            for c in 0..n {
                g[r * n + c] = (0..n).map(|k| a[k * n + r] * a[k * n + c]).sum::<f64>()
                    + if r == c { 0.5 } else { 0.0 };
            }
        }
        let idx = [0, 2, 3, 4];
        let mut sc = NnlsScratch::new(n);
        let mut cov = vec![0.0; n * n];
        inverse_factor(&g, n, &idx, &mut sc);
        inverse_product(&sc.chol, n, &idx, &mut cov);
        let mut var = vec![0.0; n];
        inverse_diagonal(&sc.chol, n, &idx, &mut var);
        for &r in &idx {
            assert!((var[r] - cov[r * n + r]).abs() < 1e-12 * cov[r * n + r].abs());
        }
        for &r in &idx {
            for &c in &idx {
                let v: f64 = idx.iter().map(|&k| g[r * n + k] * cov[k * n + c]).sum();
                let want = if r == c { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-9, "({r},{c}) = {v}");
            }
        }
        assert!(
            cov[n + 1] == 0.0 && cov[1] == 0.0,
            "row/column 1 stays empty"
        );
    }

    #[test]
    fn covariance_matches_poisson_expectation_for_one_peak() {
        // A single isolated template on zero background: σ(A)² = Σ w t² inverse.
        let n = 60;
        let t = gauss(n, 30.0, 3.0);
        let y: Vec<f64> = t.iter().map(|v| 1000.0 * v).collect();
        let fit = fit_templates(
            &y,
            None,
            vec![Template::from_dense(&t)],
            &LinearOptions::default(),
        )
        .unwrap();
        let g: f64 = t.iter().zip(&y).map(|(t, y)| t * t / y.max(1.0)).sum();
        assert!((fit.sigmas[0] - (1.0 / g).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn dot_products_give_the_same_bits_on_every_path() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for n in 0..40 {
            let v = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
                (0..n).map(|_| rng.random_range(-1e3..1e3)).collect()
            };
            let (a, b, w) = (v(&mut rng), v(&mut rng), v(&mut rng));
            let want = dot3_lanes(&a, &b, &w);
            let naive: f64 = (0..n).map(|i| a[i] * b[i] * w[i]).sum();
            assert!((want - naive).abs() <= 1e-9 * naive.abs().max(1.0), "{n}");
            assert_eq!(dot3(&a, &b, &w).to_bits(), want.to_bits(), "{n}");
            assert_eq!(dot(&a, &b).to_bits(), dot_lanes(&a, &b).to_bits(), "{n}");
        }
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        let mut f = LinearFitter::new(10, vec![Template::new(0, vec![1.0])]).unwrap();
        assert!(f.fit(&[1.0; 9], None, &LinearOptions::default()).is_err());
        assert!(LinearFitter::new(0, vec![]).is_err());
    }
}
