//! Pruning: which families survive a fit (significance, line tests, sibling
//! families), strict rounds until stable, and model selection between rival explanations
//! of one peak.

use super::*;

/// Families that survive. `strict`: significant, consistent within the family and
/// with the element's other families; otherwise significance only.
pub(super) fn surviving(
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
            let c = family_with_groups(comps, fit, k);
            let c = c.as_ref();
            let mut ev = work.evidence(c, a, model, fl);
            let rare_earth = crate::tables::is_rare_earth(fl.symbol);
            if !rare_earth && sig >= work.th.surely_there_sigma {
                let top = ev.iter().map(|e| e.predicted).fold(0.0, f64::max);
                ev.retain(|e| e.predicted >= work.th.minor_cluster_share * top);
            }
            family_is_real(&ev, sig)
                && (!work.plan.rare_earth_line_tests
                    || !rare_earth
                    || work.lines_hold(c, a, &ev, comps, fit))
        } else {
            sig >= work.th.loose_min_sigma
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
    let strong_fail = |f: &(usize, Family, f64, f64, f64, bool)| {
        !f.5 && f.3 > 0.0 && f.2 / f.3 >= work.th.strong_fail_sigma
    };
    let mut order: Vec<usize> = (0..fams.len())
        .filter(|&i| strict && strong_fail(&fams[i]))
        .collect();
    order.sort_by(|&a, &b| (fams[a].2 / fams[a].3).total_cmp(&(fams[b].2 / fams[b].3)));
    let overlap = |a: &FamilyLines, b: &FamilyLines| lines_overlap(work, a, b);
    let total_family_counts: f64 = fams.iter().map(|f| f.2).sum();
    let mut inconsistent: Vec<(usize, Family)> = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        if !order[..n].iter().any(|&j| overlap(lines[i], lines[j])) {
            removed.push(i);
        }
    }
    // (with an assumed voltage, not for a K family excited only by the beam's top unless
    // its L family passes its own tests at `surely_there_sigma`: the voltage puts a K
    // edge like La's, 38.9 keV, anywhere from just below the beam's end to above it, and
    // the K family's reading with it, and Zr K pile-up sums sit on La Kα; an element
    // held by its L lines keeps its K lines in the fit, which must describe them, and is
    // quantified from L, see `quant_families`). A filter inferred from the
    // scattered continuum is as unknown here: its aluminium equivalent matches the
    // continuum's shape, not the spectrum between an element's L and K edges that sets
    // the L/K ratio (a Cu foil's window below its K edge)
    let filter_unknown = work.exc.basis.filter_from != Some(crate::xrf::excitation::Basis::Stated);
    let kv_stated = work.exc.basis.kv_from == Some(crate::xrf::excitation::Basis::Stated);
    for (i, f) in fams.iter().enumerate() {
        // the quick analysis keeps every strong family: its line shape is not refined,
        // and a misfit must not remove a real element (the full analysis judges)
        let strong_kept =
            strict && strong_fail(f) && (work.plan.keep_strong_failures || !removed.contains(&i));
        if !(f.5 || strong_kept) {
            continue;
        }
        if strict && f.5 {
            // every sibling family the FP model predicts to be visible must be there;
            // a soft sibling cannot veto a family that dominates the spectrum (its
            // predicted size hangs on the path, window and beam filter, which a file
            // may not state, while no coincidence makes a family that big); nor can a
            // lower-energy sibling veto a strongly held family when no beam filter is
            // modelled: a filter the file does not state (a handheld's Cu/Ti/Al beam for
            // the heavy elements) removes the photons that excite the L lines and keeps
            // those above the K edge (La L an order of magnitude below what an
            // unfiltered model predicts from La K)
            let dominant = f.2 >= work.th.sibling_veto_max_share * total_family_counts;
            let consistent = fams
                .iter()
                .enumerate()
                .filter(|(_, g)| g.0 == f.0 && g.1 != f.1)
                .all(|(j, g)| {
                    let sibling_kev = principal_line_kev(lines[j]);
                    if f.4 <= 0.0
                        || (dominant && sibling_kev < work.th.sibling_veto_min_kev)
                        || (filter_unknown
                            && (kv_stated
                                || f.1 != Family::K
                                || !work.k_in_top_band(f.0)
                                || (g.5 && g.2 >= work.th.surely_there_sigma * g.3))
                            && sibling_kev < principal_line_kev(lines[i])
                            && f.2 >= work.th.sibling_veto_filter_sigma * f.3)
                    {
                        return true;
                    }
                    let predicted = f.2 * g.4 / f.4;
                    predicted < work.th.sibling_visible_sigma * g.3
                        || g.2
                            >= work.th.sibling_min_share * predicted - work.th.sibling_sigma * g.3
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

/// Whether two families have lines (each at least
/// [`XrfThresholds::overlap_min_line_share`] of its family) within
/// [`XrfThresholds::overlap_fwhm`] FWHM of each other.
fn lines_overlap(work: &Work, a: &FamilyLines, b: &FamilyLines) -> bool {
    a.lines
        .iter()
        .filter(|l| l.2 >= work.th.overlap_min_line_share)
        .any(|la| {
            b.lines
                .iter()
                .filter(|l| l.2 >= work.th.overlap_min_line_share)
                .any(|lb| (la.1 - lb.1).abs() < work.th.overlap_fwhm * work.fwhm_kev(la.1))
        })
}

/// Energy of a family's strongest line (keV).
pub(super) fn principal_line_kev(fl: &FamilyLines) -> f64 {
    fl.lines
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map_or(0.0, |l| l.1)
}

/// Strict pruning until stable (at most `rounds` refits).
pub(super) fn prune(
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
    // strong families dropped in earlier rounds (see `cascade`)
    let mut earlier: Vec<Held> = Vec::new();
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
        if let Some(pair) = cascade(work, &dropped, &earlier, fams, pile) {
            // the pair stands together: restored, and kept from here on
            for f in pair {
                if !fams.contains(&f) {
                    fams.push(f);
                }
                won.push(f);
            }
            (*comps, *fit) = fit_families(work, fams, Some(pile)).ok_or_else(fail)?;
            continue;
        }
        let before = rejected.len();
        rejected.extend(dropped.iter().copied());
        earlier.extend(
            dropped
                .iter()
                .filter(|d| d.significance >= work.th.strong_fail_sigma)
                .copied(),
        );
        *fams = kept;
        reopen(work, &dropped, &rejected[..before], fams);
        (*comps, *fit) = fit_families(work, fams, Some(pile)).ok_or_else(fail)?;
        if !work.plan.rival_swaps {
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

/// Light elements' K families put back where a family dropped this round held their
/// line: a matrix element whose Kα an overlapping rival took in the first fits (Si Kα
/// at 1.74 keV to Ta M at 1.71, whose L lines at 8.1 keV then fail) was left out at zero
/// amplitude, and its line would stay unexplained, and the normalisation to 100 % lose
/// it, once the rival goes. Only a Kα within [`XrfThresholds::rival_fwhm`] FWHM of the
/// dropped family's principal line comes back (the rival's own peak), and not a family
/// an earlier round rejected (`rejected`). One dropped in the same round as the rival
/// does come back: its tests ran while the rival held its peak (Si K at 3.5σ beside Ta M
/// at 19σ on a zircon sand's 15 kV beam, Si Kβ "contradicted" by the line shares the
/// rival left it), and the next round judges it on the free peak.
fn reopen(work: &Work, dropped: &[Held], rejected: &[Held], fams: &mut Vec<(usize, Family)>) {
    for d in dropped {
        let half = work.th.rival_fwhm * work.fwhm_kev(d.principal_kev);
        for z in LIGHT_MATRIX {
            let Some(ka) = element(z).and_then(|el| el.principal_line(Family::K)) else {
                continue;
            };
            let f = (z, Family::K);
            if (ka.energy_kev - d.principal_kev).abs() < half
                && !fams.contains(&f)
                && !rejected.iter().any(|r| (r.z, r.family) == f)
                && element_families(work, z).contains(&f)
            {
                fams.push(f);
            }
        }
    }
}

/// Na to Ca: the light elements whose K lines (1.0–4.0 keV) the M lines of heavy
/// elements and the L lines of the 4d elements overlap.
const LIGHT_MATRIX: std::ops::RangeInclusive<usize> = 11..=20;

/// A pruning cascade through overlapping families (the light rare earths' L lines): a
/// strong family dropped in one round (Pr L beside Nd L in magnet scrap) leaves its
/// counts to its neighbour, whose line ratios then fail and drop it in the next (Nd,
/// at 58σ). When a strong family fails now whose lines overlap a strong family dropped
/// earlier, the two are judged together: the earlier one is put back, and where the
/// refit then passes both, the pair is returned (to stand together). Both are of rare
/// earths: the cascade runs through their L-line forest, and elsewhere an overlapping
/// pair is the rival explanations `rival_swap` decides between.
fn cascade(
    work: &Work,
    dropped: &[Held],
    earlier: &[Held],
    fams: &[(usize, Family)],
    pile: &[(f64, f64)],
) -> Option<[(usize, Family); 2]> {
    let rare_earth = |z: usize| element(z).is_some_and(|d| crate::tables::is_rare_earth(d.symbol));
    for d in dropped
        .iter()
        .filter(|d| d.significance >= work.th.strong_fail_sigma && rare_earth(d.z))
    {
        let Some(dl) = work.lines_of(d.z, d.family) else {
            continue;
        };
        for x in earlier.iter().filter(|x| x.z != d.z && rare_earth(x.z)) {
            if fams.contains(&(x.z, x.family)) {
                continue;
            }
            let Some(xl) = work.lines_of(x.z, x.family) else {
                continue;
            };
            if !lines_overlap(work, &dl, &xl) {
                continue;
            }
            let mut trial = fams.to_vec();
            trial.push((x.z, x.family));
            let (comps, fit) = fit_families(work, &trial, Some(pile))?;
            let kept = surviving(work, &comps, &fit, true);
            if kept.contains(&(x.z, x.family)) && kept.contains(&(d.z, d.family)) {
                return Some([(x.z, x.family), (d.z, d.family)]);
            }
        }
    }
    None
}

/// A family a fit held at ≥ 3σ.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) z: usize,
    pub(super) family: Family,
    pub(super) principal_kev: f64,
    /// Amplitude / σ.
    pub(super) significance: f64,
    pub(super) amplitude: f64,
}

/// The families the fit held at ≥ 3σ, other than those in `except` (a pruning round
/// passes the families it keeps, and gets the significant ones it dropped).
pub(super) fn held_families(
    comps: &[Component],
    fit: &LinearFit,
    except: &[(usize, Family)],
) -> Vec<Held> {
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
pub(super) fn rival_swap(
    work: &Work,
    dropped: Held,
    fams: &mut Vec<(usize, Family)>,
    comps: &mut Vec<Component>,
    fit: &mut LinearFit,
    pile: &[(f64, f64)],
) -> Option<(usize, Family)> {
    let (z, family, e) = (dropped.z, dropped.family, dropped.principal_kev);
    let half = work.th.rival_fwhm * work.fwhm_kev(e);
    let rival = comps.iter().find_map(|c| match &c.kind {
        Kind::Family(fl) if fl.z != z && (fl.principal_kev() - e).abs() < half => {
            Some((fl.z, fl.family))
        }
        _ => None,
    })?;
    let mut set: Vec<(usize, Family)> = fams.iter().copied().filter(|f| *f != rival).collect();
    // with the element's other families, so that the strict tests below check them
    for f in std::iter::once((z, family)).chain(element_families(work, z)) {
        if !set.contains(&f) {
            set.push(f);
        }
    }
    let (c, f) = fit_families(work, &set, Some(pile))?;
    // the better fit must also be an explanation the strict tests accept: a family whose
    // sibling the FP model predicts visible and the data do not show (Ta M for Si Kα,
    // 30 eV apart, with no Ta L at 8.1 keV in a 15 kV spectrum) fits a peak's shape, not
    // the element. The element's other families stay in the model only where the
    // strict tests keep them.
    if f.chi2 >= fit.chi2 || !surviving(work, &c, &f, true).contains(&(z, family)) {
        return None;
    }
    (*fams, *comps, *fit) = (set, c, f);
    Some((z, family))
}
