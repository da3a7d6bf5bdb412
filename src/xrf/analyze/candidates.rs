//! Candidate families: proposed from peak energies (the first peak search and the
//! residual peaks of a fit), with the quick analysis's screening element list.

use super::*;

/// Elements the quick analysis never proposes (Z), as a handheld analyser's mining or
/// soil mode leaves them out of its element list: Ru–Cd, In, Te, I, Cs and Re–Tl
/// (platinum-group, noble and volatile elements that no ore, sand or ceramic
/// carries at percent level). A peak of one of them in an archived scan is left to the
/// other families: the rest of the fit (a rare earth included) absorbs it, the scan is
/// not cleared quickly and the full analysis, which proposes every element, decides.
pub(super) const NOT_SCREENED: [usize; 16] = [
    44, 45, 46, 47, 48, 49, 52, 53, 55, 75, 76, 77, 78, 79, 80, 81,
];

pub(super) fn screening_element(z: usize) -> bool {
    !NOT_SCREENED.contains(&z)
}

/// Families proposed by a list of peak energies.
pub(super) fn propose(work: &Work, energies: &[f64], into: &mut Vec<(usize, Family)>) {
    propose_from(work, energies, work.hi_kev(), into);
}

/// [`propose`] from peaks up to `peak_hi_kev`, which may lie above the fitted region
/// (the quick analysis's La K peak at 33 keV brings La L, in its range, along).
pub(super) fn propose_from(
    work: &Work,
    energies: &[f64],
    peak_hi_kev: f64,
    into: &mut Vec<(usize, Family)>,
) {
    let lo = work.lo_kev();
    let anode = element_by_symbol(&work.exc.source).map(|d| d.z);
    for &e in energies {
        let tol = (0.6 * work.fwhm_kev(e)).max(0.05);
        for n in candidates_for_peak(e, tol, work.exc.max_kev, lo, peak_hi_kev) {
            if Some(n.z) == anode || (work.plan.screening_elements_only && !screening_element(n.z))
            {
                continue;
            }
            // the element's other families in range come along (cross-family check)
            for f in element_families(work, n.z) {
                if !into.contains(&f) {
                    into.push(f);
                }
            }
        }
    }
}

/// Residual peaks (data − model) above `min_sig`.
pub(super) fn residual_peaks(work: &Work, model: &[f64], min_sig: f64) -> Vec<f64> {
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

/// The families of element `z` the beam excites and whose strongest line lies in the
/// fitted region: what a cross-family check of the element needs in the model.
pub(super) fn element_families(work: &Work, z: usize) -> Vec<(usize, Family)> {
    let (lo, hi) = (work.lo_kev(), work.hi_kev());
    // the universe is in order of Z
    let u = universe();
    let same_z = u.partition_point(|m| m.z < z)..u.partition_point(|m| m.z <= z);
    u[same_z]
        .iter()
        .filter(|m| {
            m.edge_kev < work.exc.max_kev
                && m.lines
                    .iter()
                    .any(|l| l.1 >= 0.999 && l.0 >= lo && l.0 <= hi)
        })
        .map(|m| (m.z, m.family))
        .collect()
}
