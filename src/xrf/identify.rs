//! Automatic element identification: which element families can explain a peak, and
//! whether a fitted family is real.
//!
//! A family is kept only when (1) its principal line cluster carries a net area above
//! 3σ of everything else in its window (counting statistics plus a small systematic
//! share of the other components, so a big neighbour's shape error is not taken for
//! an element), and (2) every other cluster of the family that the fit predicts to be
//! visible is actually there (observed ≥ ¼·predicted − 3σ: real line ratios and shared
//! counts of overlapping families deviate from the model by tens of per cent, an absent
//! line by ~100 %), and (3) it is not one coincident peak: one cluster holds a fifth
//! of its window, or, in a forest of lines (the light-REE L lines, Pr Lα on La Lβ1 and
//! Pr Lβ1 between La/Ce Lβ2), at least two clusters each hold a tenth or more and their
//! significances weighted by those shares add up to 3σ. (2) is what rejects the
//! classic coincidences: an La Lα proposed for the Fe Kα Si-escape peak has no Lβ;
//! Rb Kβ under Y Kα has no Rb Kα; Sr Kβ under Zr Kα has no Sr Kα; Eu Lβ under Fe Kα
//! has no Eu Lα; W Lα under Yb Lβ has no W Lβ (PyMca's `Elements.getcandidates`
//! proposes the same lists; the check on the other lines is ours).

use super::physics::{element, ElementData, Family};
use std::sync::OnceLock;

/// Atomic numbers never proposed (noble gases other than Ar, unstable elements).
const EXCLUDED: [usize; 12] = [10, 36, 43, 54, 61, 84, 85, 86, 87, 88, 89, 91];

/// Nominal principal lines of an element family (energy keV, nominal weight), used only
/// to propose candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct Nominal {
    /// Atomic number.
    pub z: usize,
    /// Family.
    pub family: Family,
    /// Initial level edge (lowest of the family), keV.
    pub edge_kev: f64,
    /// Principal lines: (energy keV, weight relative to the strongest).
    pub lines: Vec<(f64, f64)>,
}

fn family_edge(d: &ElementData, f: Family) -> f64 {
    match f {
        Family::K => d.levels[0].edge_kev,
        Family::L => d.levels[3].edge_kev,
        Family::M => d.levels[8].edge_kev,
    }
}

fn nominal(d: &ElementData, f: Family) -> Option<Nominal> {
    let w = |lv: usize| match lv {
        0 | 3 | 8 => 1.0,
        2 | 7 => 0.45,
        1 => 0.2,
        _ => 0.05,
    };
    let lines: Vec<(f64, f64)> = d
        .lines
        .iter()
        .filter(|l| l.family() == f)
        .map(|l| {
            (
                l.energy_kev,
                l.fraction * d.levels[l.level].yield_ * w(l.level),
            )
        })
        .collect();
    let max = lines.iter().map(|l| l.1).fold(0.0, f64::max);
    if max <= 0.0 {
        return None;
    }
    let lines: Vec<(f64, f64)> = lines
        .into_iter()
        .filter(|l| l.1 >= 0.12 * max)
        .map(|(e, r)| (e, r / max))
        .collect();
    Some(Nominal {
        z: d.z,
        family: f,
        edge_kev: family_edge(d, f),
        lines,
    })
}

/// Every element family reescan may propose: K for Na–Nd (Z 11–60, K lines of the
/// light REE reach 40 keV), L for Rb–U (Z ≥ 37), M for Hf–U (Z ≥ 72).
pub fn universe() -> &'static [Nominal] {
    static U: OnceLock<Vec<Nominal>> = OnceLock::new();
    U.get_or_init(|| {
        let mut out = Vec::new();
        for z in 11..=92 {
            if EXCLUDED.contains(&z) {
                continue;
            }
            let Some(d) = element(z) else { continue };
            if z <= 64 {
                out.extend(nominal(d, Family::K));
            }
            if z >= 37 {
                out.extend(nominal(d, Family::L));
            }
            if z >= 72 {
                out.extend(nominal(d, Family::M));
            }
        }
        out
    })
}

/// Every principal line of the [`universe`]: (energy keV, index of its family), in
/// order of energy.
fn line_index() -> &'static [(f64, usize)] {
    static I: OnceLock<Vec<(f64, usize)>> = OnceLock::new();
    I.get_or_init(|| {
        let mut out: Vec<(f64, usize)> = universe()
            .iter()
            .enumerate()
            .flat_map(|(k, n)| n.lines.iter().map(move |l| (l.0, k)))
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    })
}

/// Families with a principal line within `tol(E)` of `energy_kev`, excitable below
/// `max_excitation_kev` and whose strongest line lies in `[lo_kev, hi_kev]`; in the
/// order of the [`universe`] (Z, then family).
pub fn candidates_for_peak(
    energy_kev: f64,
    tol_kev: f64,
    max_excitation_kev: f64,
    lo_kev: f64,
    hi_kev: f64,
) -> impl Iterator<Item = &'static Nominal> {
    // the lines in a slightly wider energy range, looked up in the index, then the
    // exact test on their families
    let index = line_index();
    let margin = tol_kev.abs() * (1.0 + 1e-9) + 1e-12;
    let from = index.partition_point(|l| l.0 < energy_kev - margin);
    let to = index.partition_point(|l| l.0 <= energy_kev + margin);
    let mut near: Vec<usize> = index[from..to].iter().map(|l| l.1).collect();
    near.sort_unstable();
    near.dedup();
    let u = universe();
    near.into_iter().map(move |k| &u[k]).filter(move |n| {
        n.edge_kev < max_excitation_kev
            && n.lines
                .iter()
                .any(|l| l.1 >= 0.999 && l.0 >= lo_kev && l.0 <= hi_kev)
            && n.lines.iter().any(|l| (l.0 - energy_kev).abs() <= tol_kev)
    })
}

/// Evidence for one fitted family in one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterEvidence {
    /// Cluster centroid, keV.
    pub energy_kev: f64,
    /// Counts the fit attributes to the family in the window.
    pub predicted: f64,
    /// Counts in the window not explained by anything else (data − other components).
    pub observed: f64,
    /// Variance of `observed` (Poisson + systematic).
    pub variance: f64,
    /// Counts of the other components in the window (peaks, plus 30 % of continuum).
    pub others: f64,
}

/// Share of its window one cluster must hold to carry a family alone.
const ALONE_SHARE: f64 = 0.2;

/// Smallest share of a window that counts as (shared) evidence for a family.
const MIN_SHARE: f64 = 0.1;

impl ClusterEvidence {
    /// `predicted / σ`: how clearly the family should show in this window.
    pub fn expected_significance(&self) -> f64 {
        if self.variance > 0.0 {
            self.predicted / self.variance.sqrt()
        } else {
            0.0
        }
    }

    /// Share of the window's line counts the family holds: predicted / (predicted + others).
    pub fn free_share(&self) -> f64 {
        let d = self.predicted + self.others;
        if d > 0.0 {
            (self.predicted / d).max(0.0)
        } else {
            0.0
        }
    }

    /// `observed / σ`.
    pub fn significance(&self) -> f64 {
        if self.variance > 0.0 {
            self.observed / self.variance.sqrt()
        } else {
            0.0
        }
    }
}

/// Verdict on a fitted family from its cluster evidence.
pub fn family_is_real(clusters: &[ClusterEvidence], amp_significance: f64) -> bool {
    // the main cluster is the one the family should show most clearly (largest
    // predicted/σ), not necessarily its strongest line: Dy Lα under Fe Kα is buried in
    // the Fe counts and Dy is judged by its Lβ/Lγ lines
    let Some(main) = clusters.iter().max_by(|a, b| {
        a.expected_significance()
            .total_cmp(&b.expected_significance())
    }) else {
        return false;
    };
    if amp_significance < 3.5 || main.significance() < 3.0 {
        return false;
    }
    if main.observed < 0.3 * main.predicted - 3.0 * main.variance.sqrt() {
        return false;
    }
    // not one coincident peak: some cluster must carry the family on its own
    // (significant, and not a minor share of a stronger neighbour's peak), or, in a
    // forest of lines, several clusters must each show it: the family's significance in
    // each window weighted by the share of the window it holds (how free of others
    // it is) must add up to 3σ
    let alone = clusters
        .iter()
        .any(|c| c.significance() >= 3.0 && c.free_share() >= ALONE_SHARE);
    let shared: Vec<f64> = clusters
        .iter()
        .filter(|c| c.significance() >= 3.0 && c.free_share() >= MIN_SHARE)
        .map(|c| c.free_share() * c.significance())
        .collect();
    if !alone && (shared.len() < 2 || shared.iter().sum::<f64>() < 3.0) {
        return false;
    }
    clusters.iter().all(|c| {
        let s = c.variance.sqrt();
        // only clusters the fit predicts to be clearly visible must be there
        c.predicted < 3.0 * s || c.observed >= 0.25 * c.predicted - 3.0 * s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_at_fe_ka_proposes_fe_and_its_rare_earth_neighbours() {
        let z: Vec<(usize, Family)> = candidates_for_peak(6.40, 0.1, 50.0, 1.0, 40.0)
            .map(|n| (n.z, n.family))
            .collect();
        assert!(z.contains(&(26, Family::K)));
        assert!(z.contains(&(63, Family::L)), "Eu Lβ"); // Eu Lβ1 6.456
        assert!(z.contains(&(66, Family::L)), "Dy Lα"); // Dy Lα1 6.495
        assert!(!z.contains(&(29, Family::K)));
    }

    /// The line index finds what a scan of every family finds, in the same order: at
    /// energies across the XRF range, with tolerances from a tenth of a channel to
    /// several FWHM, and at a tolerance that ends exactly on a line.
    #[test]
    fn candidates_from_the_line_index_are_those_of_a_full_scan() {
        let scan = |e: f64, tol: f64| -> Vec<(usize, Family)> {
            universe()
                .iter()
                .filter(|n| {
                    n.edge_kev < 50.0
                        && n.lines
                            .iter()
                            .any(|l| l.1 >= 0.999 && l.0 >= 1.2 && l.0 <= 40.0)
                        && n.lines.iter().any(|l| (l.0 - e).abs() <= tol)
                })
                .map(|n| (n.z, n.family))
                .collect()
        };
        let found = |e: f64, tol: f64| -> Vec<(usize, Family)> {
            candidates_for_peak(e, tol, 50.0, 1.2, 40.0)
                .map(|n| (n.z, n.family))
                .collect()
        };
        let mut checked = 0;
        for i in 0..4000 {
            let e = 1.0 + 0.0101 * f64::from(i);
            for tol in [0.001, 0.05, 0.09, 0.3] {
                let want = scan(e, tol);
                checked += want.len();
                assert_eq!(found(e, tol), want, "{e} keV ± {tol}");
            }
        }
        assert!(checked > 10_000, "{checked}");
        // a tolerance that reaches a line exactly (Fe Kα1 from 6.3 keV)
        let fe = universe()
            .iter()
            .find(|n| n.z == 26 && n.family == Family::K)
            .unwrap();
        let e = fe.lines[0].0;
        assert!(found(6.3, e - 6.3).iter().any(|f| f.0 == 26));
        assert_eq!(found(6.3, e - 6.3), scan(6.3, e - 6.3));
    }

    #[test]
    fn a_coincident_peak_without_its_sister_line_is_rejected() {
        // Rb Kβ explains the peak at Y Kα, but Rb Kα is predicted and absent
        let c = [
            ClusterEvidence {
                energy_kev: 13.39,
                predicted: 5000.0,
                observed: 40.0,
                variance: 900.0,
                others: 100.0,
            },
            ClusterEvidence {
                energy_kev: 14.96,
                predicted: 800.0,
                observed: 2500.0,
                variance: 2500.0,
                others: 100.0,
            },
        ];
        assert!(!family_is_real(&c, 10.0));
        let ok = [
            ClusterEvidence {
                observed: 5100.0,
                ..c[0]
            },
            ClusterEvidence {
                observed: 760.0,
                ..c[1]
            },
        ];
        assert!(family_is_real(&ok, 10.0));
    }
}
