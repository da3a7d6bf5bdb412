//! The line shape: resolution estimated from isolated peaks, then energy offset, gain,
//! resolution and tail refined by χ² of a local fit around the strongest line.

use super::*;
use crate::xrf::excitation::{anode_family, Basis};

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

/// [`refine_shape`] repeated (at most four passes) while the resolution or the energy
/// offset still moves by the full step of its grid (a stated calibration can be tens of
/// eV off at the strongest line).
pub(super) fn refine_shape_converged(
    work: &mut Work,
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
) {
    for _ in 0..4 {
        let before = work.region.detector.noise_kev;
        let offset = work.region.calibration.offset_kev;
        refine_shape(work, fams, pile);
        let step = (work.region.detector.noise_kev / before - 1.0).abs();
        let shift = (work.region.calibration.offset_kev - offset).abs();
        if step < 0.1 && shift < 0.005 {
            break;
        }
    }
}

/// Refine the line shape (energy offset, then resolution × tail) by χ² of a local fit
/// around the strongest family's principal line.
/// [`refine_shape`] once more on a grid around the current shape (offset ±3 eV,
/// resolution ±6 %, the neighbouring tails): after the first refinement only the
/// continuum and pile-up have changed, the shape moves by less than a step.
pub(super) fn refine_shape_near(work: &mut Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) {
    let t = work.region.tail;
    let last = crate::xrf::model::TAIL_RATIOS.len() - 1;
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
pub(super) fn shape_anchor(
    work: &Work,
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
) -> Option<f64> {
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
pub(super) struct ShapeGrid<'a> {
    /// Energy offsets, keV.
    pub(super) shifts: &'a [f64],
    /// Resolution factors.
    pub(super) widths: &'a [f64],
    /// Tail indices ([`crate::xrf::model::TAIL_RATIOS`]).
    pub(super) tails: std::ops::Range<usize>,
}

pub(super) fn refine_shape(work: &mut Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) {
    let grid = ShapeGrid {
        shifts: &[-0.006, -0.003, 0.0, 0.003, 0.006],
        widths: &[0.88, 0.94, 1.0, 1.06, 1.12],
        tails: 0..crate::xrf::model::TAIL_RATIOS.len(),
    };
    refine_shape_on(work, fams, pile, &grid);
}

pub(super) fn refine_shape_on(
    work: &mut Work,
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
    grid: &ShapeGrid,
) {
    let Some(e) = shape_anchor(work, fams, pile) else {
        return;
    };
    let cal = work.region.calibration;
    let noise0 = work.region.detector.noise_kev;
    let tail0 = work.region.tail;
    let shape = in_window(work, fams, pile, e, |work, chi2| {
        // energy offset
        let mut best = (f64::INFINITY, 0.0);
        for &shift in grid.shifts {
            work.region.calibration.offset_kev = cal.offset_kev + shift;
            let c = chi2(work);
            if c < best.0 {
                best = (c, shift);
            }
        }
        work.region.calibration.offset_kev = cal.offset_kev + best.1;
        // resolution × tail
        let mut best = (f64::INFINITY, noise0, tail0);
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
        (work.region.calibration, best.1, best.2)
    });
    if let Some((cal, noise, tail)) = shape {
        work.region.calibration = cal;
        work.region.detector.noise_kev = noise;
        work.region.tail = tail;
    }
}

/// Run `refine` on the local window ±0.6 keV around `e` (the region narrowed to it, its
/// own background splines, only the families that reach into it), with the window's
/// χ² for the current shape; the full region and splines are restored afterwards and
/// `refine`'s result is returned (none when the window is too narrow).
fn in_window<T>(
    work: &mut Work,
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
    e: f64,
    refine: impl FnOnce(&mut Work, &dyn Fn(&Work) -> f64) -> T,
) -> Option<T> {
    let full = work.region;
    let cal = full.calibration;
    let a = (cal.channel(e - 0.6).round().max(full.first as f64)) as usize;
    let b = (cal.channel(e + 0.6).round().max(0.0) as usize).min(full.first + full.len - 1);
    if b <= a + 10 {
        return None;
    }
    let splines = std::mem::take(&mut work.splines);
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
    let out = refine(work, &chi2);
    work.region = full;
    work.splines = splines;
    Some(out)
}

/// Refine the gain about the shape anchor: the strongest family line at least
/// [`XrfThresholds::gain_lever_min_kev`] from the anchor and above
/// [`XrfThresholds::gain_anchor_min_kev`], with
/// [`XrfThresholds::gain_anchor_min_counts`], is moved by gain changes up to
/// ±[`XrfThresholds::gain_search_rel`] (steps of [`XrfThresholds::gain_step_rel`], then
/// half a step either side of the best) while the anchor keeps its energy; the gain
/// that fits its local window best is kept where it also lowers the χ² of the whole
/// spectrum (a candidate family can stand in for a pile-up or scatter peak, and its
/// window then asks for a gain the other lines refute). A stated gain a few per mille
/// off (the calibration of a handheld drifts with temperature) moves lines 10 keV from
/// the anchor by tens of eV: Zr K against the rare earths' L lines in a zircon. Where
/// the anode is not stated (an anode recognised from its scatter may be the wrong one),
/// the families by which an anode shows (W L, Ag K, …) do not set the gain: they may be
/// its scatter.
pub(super) fn refine_gain(work: &mut Work, fams: &[(usize, Family)], pile: &[(f64, f64)]) {
    let Some(e1) = shape_anchor(work, fams, pile) else {
        return;
    };
    let (min_kev, lever, min_counts, search, step) = (
        work.th.gain_anchor_min_kev,
        work.th.gain_lever_min_kev,
        work.th.gain_anchor_min_counts,
        work.th.gain_search_rel,
        work.th.gain_step_rel,
    );
    let Some((comps, fit)) = fit_families(work, fams, Some(pile)) else {
        return;
    };
    // an unstated tube's scattered lines, fitted as an element's, sit where their Compton
    // part pulls them (a W tube's L lines taken for W fluorescence ask for a gain
    // 0.1 % off, 15 eV at Zr Lα from the anode at Zr Kα)
    let anode_unknown = work.exc.basis.anode_from != Some(Basis::Stated);
    let second = comps
        .iter()
        .zip(&fit.amplitudes)
        .filter_map(|(c, a)| match &c.kind {
            Kind::Family(fl) if !(anode_unknown && anode_family(fl.symbol, fl.family)) => {
                Some((fl.principal_kev(), a * c.template.sum()))
            }
            _ => None,
        })
        .filter(|&(e, area)| e >= min_kev && (e - e1).abs() >= lever && area >= min_counts)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((e2, _)) = second else {
        return;
    };
    let cal = work.region.calibration;
    let ch1 = cal.channel(e1);
    let with_gain = |rel: f64| {
        let mut c = cal;
        c.gain_kev = cal.gain_kev * (1.0 + rel);
        c.offset_kev = cal.offset_kev - (c.gain_kev - cal.gain_kev) * ch1;
        c
    };
    let steps = (search / step).round() as i32;
    let best = in_window(work, fams, pile, e2, |work, chi2| {
        let mut best = (f64::INFINITY, 0.0);
        let trial = |work: &mut Work, rel: f64, best: &mut (f64, f64)| {
            work.region.calibration = with_gain(rel);
            let c = chi2(work);
            if c < best.0 {
                *best = (c, rel);
            }
        };
        for k in -steps..=steps {
            trial(work, k as f64 * step, &mut best);
        }
        let centre = best.1;
        for side in [-0.5, 0.5] {
            trial(work, centre + side * step, &mut best);
        }
        best.1
    });
    let Some(rel) = best.filter(|&r| r != 0.0) else {
        return;
    };
    // a line the window takes for the gain's may be a misfit of its own (a candidate
    // family standing in for a pile-up or scatter peak): the gain is kept only where the
    // whole spectrum agrees
    work.region.calibration = with_gain(rel);
    let moved = fit_families(work, fams, Some(pile)).map_or(f64::INFINITY, |(_, f)| f.chi2);
    if moved >= fit.chi2 {
        work.region.calibration = cal;
    }
}

/// The strong families' free long tail and step, with the long-tail slope of
/// [`crate::xrf::model::LONG_TAIL_SLOPES`] that fits best, kept only where they lower χ²
/// by [`XrfThresholds::long_tail_min_chi2_drop`] (`fit`: the fit without them, replaced
/// by the fit with them when kept).
pub(super) fn choose_long_tail(
    work: &mut Work,
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
    fit: &mut LinearFit,
) {
    work.long_tails = true;
    let mut best: Option<(usize, LinearFit)> = None;
    for s in 0..crate::xrf::model::LONG_TAIL_SLOPES.len() {
        work.long_tail_slope = s;
        if let Some((_, f)) = fit_families(work, fams, Some(pile)) {
            if best.as_ref().is_none_or(|b| f.chi2 < b.1.chi2) {
                best = Some((s, f));
            }
        }
    }
    match best {
        Some((s, f)) if fit.chi2 - f.chi2 >= work.th.long_tail_min_chi2_drop => {
            work.long_tail_slope = s;
            *fit = f;
        }
        _ => {
            work.long_tails = false;
            work.long_tail_slope = crate::xrf::model::DEFAULT_LONG_TAIL_SLOPE;
        }
    }
}
