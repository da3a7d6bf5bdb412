//! Detection limits (3σ) of element families in the final model's windows, and mass
//! fractions from fitted areas.

use super::*;

/// Detection limit (wt %) of an element family: 3√B over the share of the family's
/// counts in a ±1 FWHM window, B the final model there, converted with the FP
/// sensitivity in the final matrix — in the window of the principal line or of another
/// of its (up to four) strongest line clusters, whichever gives the lowest limit. An
/// element whose principal line sits on a far stronger one (Dy Lα 95 eV above Fe Kα, in
/// a window of ~10⁶ Fe counts) is detected by its free lines (Dy Lβ2, Lγ), as an
/// analyst turns to an interference-free line (Pb Lβ beside As Kα); the joint fit and
/// the identification's line tests use all of them already.
pub(super) fn detection_limit(
    work: &Work,
    model: &[f64],
    z: usize,
    f: Family,
    q: &Quantified,
) -> Option<f64> {
    detection_limit_in(work, model, z, f, q, true)
}

/// [`detection_limit`] in the window of the principal line alone (`all_clusters`
/// false): what a family is resolved no better than where the fit cannot tell it from
/// a big neighbour (see [`unconfirmed`]).
pub(super) fn detection_limit_in(
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
pub(super) fn window_detection_limit(
    work: &Work,
    model: &[f64],
    t: &Template,
    e: f64,
) -> Option<f64> {
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
pub(super) fn wt_pct_of_area(area: f64, sensitivity: f64, q: &Quantified) -> Option<f64> {
    let k = q.instrument_constant;
    (sensitivity > 0.0 && k > 0.0).then(|| 100.0 * area / (k * sensitivity))
}

pub(super) fn principal_family(z: usize, max_kev: f64) -> Family {
    let k_ok = element(z).is_some_and(|d| d.levels[0].edge_kev < max_kev * 0.8);
    if z <= 45 && k_ok {
        Family::K
    } else {
        Family::L
    }
}
