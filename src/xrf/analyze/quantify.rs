//! Quantification: the oxide/metal matrix choice from the Rayleigh/Compton ratio, the
//! family that quantifies each element, and the FP quantification of the fit.

use super::*;

/// Rock-forming elements bound as oxides/silicates in ores, sands and ceramics.
pub(super) const LITHOPHILE: [&str; 8] = ["Na", "Mg", "Al", "Si", "P", "K", "Ca", "Ba"];

/// Oxide or metal matrix (see [`matrix_model`]), with the quantification (secondary
/// fluorescence included) in the chosen matrix.
pub(super) fn choose_matrix(
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
pub(super) fn matrix_model(
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
    let min_sigma = work.th.scatter_min_sigma;
    if r < min_sigma * vr.sqrt() || c < min_sigma * vc.sqrt() {
        // no usable scatter: an alloy shows none of the rock-forming (lithophile)
        // elements that every ore, sand and ceramic carries
        let lithophile: f64 = quantified(MatrixModel::Metal)
            .elements
            .iter()
            .filter(|e| LITHOPHILE.contains(&e.0.as_str()))
            .map(|e| e.1)
            .sum();
        return if lithophile < work.th.metal_max_lithophile {
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
    if measured > pm - work.th.metal_side * (pm - po) {
        MatrixModel::Metal
    } else {
        MatrixModel::Oxides
    }
}

/// Which family of an element quantifies it: the most precise one, its precision
/// including how badly its own clusters are modelled (Σ|observed − predicted| / Σ
/// predicted over its line clusters) — an REE K family above 2 × Zr Kα sits in pile-up
/// counts the model does not fully describe, and must not outvote its clean L family.
pub(super) fn quant_families(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
) -> Vec<(usize, Measured)> {
    let model = &fit.model;
    let mut best: Vec<(usize, Measured, f64)> = Vec::new();
    for (k, c) in comps.iter().enumerate() {
        let Kind::Family(fl) = &c.kind else { continue };
        let a = fit.amplitudes[k];
        if a <= 0.0 || fl.z == ARGON {
            continue;
        }
        let c = family_with_groups(comps, fit, k);
        let ev = work.evidence(&c, a, model, fl);
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
    // under a beam filter inferred from the scattered continuum or a voltage assumed,
    // an element whose K family only the beam's top excites (edge above
    // `k_top_band_share` of the kV) and whose L family the fit also holds is quantified
    // from L: the top of the beam is where the inferred filter (an aluminium equivalent
    // fitted to the continuum's shape) is least certain, and where an assumed voltage
    // (41 kV for a 50-kV beam) puts next to nothing; La K of an alumina with 1.16 wt %
    // La read 36 wt %, La L 2.7 wt %; La K of a zircon with 1.0 wt % La at an assumed
    // 41 kV, 95 wt %
    let filter_inferred =
        work.exc.basis.filter_from == Some(crate::xrf::excitation::Basis::ScatteredContinuum);
    let kv_assumed = work.exc.basis.kv_from == Some(crate::xrf::excitation::Basis::Default);
    if filter_inferred || kv_assumed {
        for b in &mut best {
            let top_band = match &comps[b.0].kind {
                Kind::Family(fl) => work.k_in_top_band(fl.z),
                _ => false,
            };
            if b.1.family != Family::K || !top_band {
                continue;
            }
            let l = comps.iter().enumerate().find_map(|(k, c)| match &c.kind {
                Kind::Family(fl)
                    if fl.symbol == b.1.symbol
                        && fl.family == Family::L
                        && fit.amplitudes[k] > 0.0 =>
                {
                    Some(k)
                }
                _ => None,
            });
            if let Some(k) = l {
                b.0 = k;
                b.1 = Measured {
                    symbol: b.1.symbol.clone(),
                    family: Family::L,
                    area: fit.amplitudes[k],
                    sigma: fit.sigmas[k],
                };
            }
        }
    }
    best.into_iter().map(|(k, m, _)| (k, m)).collect()
}

/// FP quantification of the fitted families. `secondary`: with secondary fluorescence
/// (the reported result); without, a provisional matrix estimate (enhanced elements come
/// out a little high) at a tenth of the cost — what the intermediate matrix estimates,
/// the metal/oxide choice and the quick analysis (the safe side for a triage) use.
pub(super) fn quantify_fit(
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
