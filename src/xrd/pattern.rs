//! Powder-pattern calculation from a crystal structure: reflections to a d-min,
//! structure factors, Lorentz–polarisation, relative intensities.
//!
//! The conventions follow pymatgen's `XRDCalculator` (Ong et al., Comput. Mater. Sci.
//! 68 (2013) 314) so that the sticks can be checked against it: every reciprocal
//! lattice point inside the limiting sphere is summed (which yields the multiplicity),
//! points with equal d are merged, intensity = Σ|F|²·LP with the Bragg–Brentano
//! Lorentz–polarisation factor LP = (1 + cos²2θ) / (sin²θ·cosθ) (Cullity, *Elements of
//! X-ray Diffraction*, 3rd ed. (2001), Eq. 4-19), scaled to 100 for the strongest line.
//! Atomic form factors are Waasmaier & Kirfel, Acta Cryst. A51 (1995) 416 (neutral
//! atoms, from the `xraydb` crate) — pymatgen uses the older 4-Gaussian fit, the
//! difference is below 1 % of f for sinθ/λ < 0.6 Å⁻¹.
//!
//! # Differences from pymatgen
//! With `debye_waller = true` (the library default) each atom's scattering is damped
//! by exp(−B·s²), s = sinθ/λ, with B from the CIF; pymatgen's default applies none.
//! The pymatgen comparison test switches it off.

use super::crystal::Structure;
use crate::spectrum::HC_KEV_A;

/// One set of reflections with equal d (symmetry-equivalent and accidentally
/// coincident hkl merged).
#[derive(Debug, Clone, PartialEq)]
pub struct Reflection {
    /// A representative hkl (the one with the largest indices).
    pub hkl: [i32; 3],
    /// d-spacing, Å.
    pub d_a: f64,
    /// Number of reciprocal lattice points merged (the multiplicity).
    pub multiplicity: u32,
    /// Σ|F|² over the merged points, electrons² per cell.
    pub f2_sum: f64,
    /// The merged hkl of one half of reciprocal space (Friedel mates implied).
    pub members: Vec<[i32; 3]>,
}

/// Diffraction geometry: how a d-spacing maps to the measured axis and which
/// Lorentz–polarisation factor applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Geometry {
    /// Angle-dispersive Bragg–Brentano at one wavelength (Å); axis = degrees 2θ.
    BraggBrentano {
        /// Wavelength, Å.
        wavelength_a: f64,
    },
    /// Energy-dispersive at a fixed 2θ (degrees); axis = keV.
    EnergyDispersive {
        /// Fixed scattering angle 2θ, degrees.
        two_theta_deg: f64,
    },
}

impl Geometry {
    /// Axis position (2θ degrees or keV) of a d-spacing; `None` when unreachable.
    #[inline]
    pub fn position(&self, d_a: f64) -> Option<f64> {
        match *self {
            Geometry::BraggBrentano { wavelength_a } => {
                let s = wavelength_a / (2.0 * d_a);
                (s > 0.0 && s < 1.0).then(|| 2.0 * s.asin().to_degrees())
            }
            Geometry::EnergyDispersive { two_theta_deg } => {
                Some(HC_KEV_A / (2.0 * d_a * (two_theta_deg.to_radians() / 2.0).sin()))
            }
        }
    }

    /// d-spacing (Å) of an axis position.
    #[inline]
    pub fn d_at(&self, x: f64) -> f64 {
        match *self {
            Geometry::BraggBrentano { wavelength_a } => {
                wavelength_a / (2.0 * (x.to_radians() / 2.0).sin())
            }
            Geometry::EnergyDispersive { two_theta_deg } => {
                HC_KEV_A / (2.0 * x * (two_theta_deg.to_radians() / 2.0).sin())
            }
        }
    }

    /// Lorentz–polarisation factor of a reflection at d.
    ///
    /// Angle-dispersive: (1 + cos²2θ)/(sin²θ cosθ). Energy-dispersive at fixed θ: the
    /// Lorentz factor of a white-beam measurement scales as d² (Buras, Olsen & Gerward,
    /// Nucl. Instrum. Methods 135 (1976) 193), polarisation (1 + cos²2θ)/2; the pattern
    /// is taken as normalised to the incident spectrum.
    #[inline]
    pub fn lp(&self, d_a: f64) -> f64 {
        match *self {
            Geometry::BraggBrentano { wavelength_a } => {
                // s = sinθ (Bragg), so cosθ = √(1 − s²) and cos2θ = 1 − 2s²: no
                // trigonometric function per reflection.
                let s = wavelength_a / (2.0 * d_a);
                if s >= 1.0 {
                    return 0.0;
                }
                let s2 = s * s;
                let c2 = 1.0 - 2.0 * s2;
                (1.0 + c2 * c2) / (s2 * (1.0 - s2).sqrt())
            }
            Geometry::EnergyDispersive { two_theta_deg } => {
                let c2 = two_theta_deg.to_radians().cos();
                d_a * d_a * (1.0 + c2 * c2) / 2.0
            }
        }
    }
}

/// All reflections of `structure` with d ≥ `d_min_a`, strongest-d first.
///
/// Cost: O(N_hkl · N_atoms); Friedel pairs are computed once (no anomalous dispersion).
pub fn reflections(structure: &Structure, d_min_a: f64, debye_waller: bool) -> Vec<Reflection> {
    let cell = &structure.cell;
    let db = crate::tables::xraydb();
    let elements = structure.elements();
    let atom_el: Vec<usize> = structure
        .atoms
        .iter()
        .map(|a| elements.iter().position(|e| *e == a.element).unwrap_or(0))
        .collect();
    let inv_d2_max = 1.0 / (d_min_a * d_min_a);
    let lim = |len: f64| (len / d_min_a).ceil() as i32;
    let (hm, km, lm) = (lim(cell.a), lim(cell.b), lim(cell.c));
    let mut points: Vec<(f64, f64, [i32; 3])> = Vec::new();
    let mut f_el = vec![0.0; elements.len()];
    for h in 0..=hm {
        for k in -km..=km {
            for l in -lm..=lm {
                if h == 0 && (k < 0 || (k == 0 && l <= 0)) {
                    continue;
                }
                let hkl = [h, k, l];
                let inv_d2 = cell.inv_d2(hkl);
                if inv_d2 > inv_d2_max {
                    continue;
                }
                let s = inv_d2.sqrt() / 2.0;
                for (f, el) in f_el.iter_mut().zip(&elements) {
                    *f = db.f0_at(el, s).unwrap_or(0.0);
                }
                let f2 = structure_factor_sq(structure, &atom_el, &f_el, hkl, s, debye_waller);
                points.push((inv_d2, f2, hkl));
            }
        }
    }
    merge_equal_d(points)
}

/// |F(hkl)|² = |Σ f·occ·exp(−B s²)·exp(2πi h·r)|².
fn structure_factor_sq(
    structure: &Structure,
    atom_el: &[usize],
    f_el: &[f64],
    hkl: [i32; 3],
    s: f64,
    debye_waller: bool,
) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    let h = [hkl[0] as f64, hkl[1] as f64, hkl[2] as f64];
    for (atom, &el) in structure.atoms.iter().zip(atom_el) {
        let mut f = f_el[el] * atom.occupancy;
        if debye_waller {
            f *= (-atom.b_iso * s * s).exp();
        }
        let phase = std::f64::consts::TAU
            * (h[0] * atom.frac[0] + h[1] * atom.frac[1] + h[2] * atom.frac[2]);
        let (sn, cs) = phase.sin_cos();
        re += f * cs;
        im += f * sn;
    }
    re * re + im * im
}

/// Merge points of equal 1/d² (relative 1e-7) into reflections; each half-space point
/// stands for its Friedel pair too.
fn merge_equal_d(mut points: Vec<(f64, f64, [i32; 3])>) -> Vec<Reflection> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Reflection> = Vec::new();
    let mut last_inv_d2 = f64::NAN;
    for (inv_d2, f2, hkl) in points {
        let same = (inv_d2 - last_inv_d2).abs() <= 1e-7 * inv_d2;
        match out.last_mut() {
            Some(r) if same => {
                r.multiplicity += 2;
                r.f2_sum += 2.0 * f2;
                r.members.push(hkl);
                if hkl > r.hkl {
                    r.hkl = hkl;
                }
            }
            _ => {
                out.push(Reflection {
                    hkl,
                    d_a: 1.0 / inv_d2.sqrt(),
                    multiplicity: 2,
                    f2_sum: 2.0 * f2,
                    members: vec![hkl],
                });
                last_inv_d2 = inv_d2;
            }
        }
    }
    let max = out.iter().map(|r| r.f2_sum).fold(0.0, f64::max);
    out.retain(|r| r.f2_sum > 1e-9 * max);
    out
}

/// One line of a computed powder pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Stick {
    /// Axis position: degrees 2θ or keV (per [`Geometry`]).
    pub x: f64,
    /// d-spacing, Å.
    pub d_a: f64,
    /// Integrated intensity Σ|F|²·LP (electrons² per cell, unscaled).
    pub intensity: f64,
    /// Representative hkl.
    pub hkl: [i32; 3],
    /// Multiplicity.
    pub multiplicity: u32,
}

/// Sticks of `reflections` inside `[x_min, x_max]` for a geometry, in axis order.
pub fn sticks(
    reflections: &[Reflection],
    geometry: Geometry,
    x_min: f64,
    x_max: f64,
) -> Vec<Stick> {
    let mut out: Vec<Stick> = reflections
        .iter()
        .filter_map(|r| {
            let x = geometry.position(r.d_a)?;
            (x >= x_min && x <= x_max).then(|| Stick {
                x,
                d_a: r.d_a,
                intensity: r.f2_sum * geometry.lp(r.d_a),
                hkl: r.hkl,
                multiplicity: r.multiplicity,
            })
        })
        .collect();
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

/// Scale stick intensities to 100 for the strongest and drop lines below 0.001
/// (pymatgen's `SCALED_INTENSITY_TOL`).
pub fn scale_to_100(sticks: &mut Vec<Stick>) {
    let max = sticks.iter().map(|s| s.intensity).fold(0.0, f64::max);
    if max <= 0.0 {
        sticks.clear();
        return;
    }
    for s in sticks.iter_mut() {
        s.intensity *= 100.0 / max;
    }
    sticks.retain(|s| s.intensity >= 1e-3);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xrd::crystal::{Cell, Site, Structure, SymOp};

    fn nacl() -> Structure {
        let ops: Vec<SymOp> = ["x,y,z", "x,1/2+y,1/2+z", "1/2+x,y,1/2+z", "1/2+x,1/2+y,z"]
            .iter()
            .filter_map(|s| SymOp::parse(s))
            .collect();
        let site = |el: &str, p: f64| Site {
            label: el.into(),
            element: el.into(),
            frac: [p, p, p],
            occupancy: 1.0,
            b_iso: None,
        };
        Structure::new(
            "NaCl",
            "halite",
            Cell::new(5.64, 5.64, 5.64, 90.0, 90.0, 90.0).unwrap(),
            &ops,
            vec![site("Na", 0.0), site("Cl", 0.5)],
        )
        .unwrap()
    }

    #[test]
    fn face_centred_extinctions_and_multiplicity() {
        let r = reflections(&nacl(), 1.5, false);
        // F-centring: only unmixed hkl; 111 (m=8), 200 (m=6), 220 (m=12).
        let first: Vec<([i32; 3], u32)> =
            r.iter().take(3).map(|r| (r.hkl, r.multiplicity)).collect();
        assert_eq!(first, vec![([1, 1, 1], 8), ([2, 0, 0], 6), ([2, 2, 0], 12)]);
        // 111 of rock salt is weak (f_Cl − f_Na), 200 strong (f_Cl + f_Na).
        assert!(
            r[1].f2_sum / r[1].multiplicity as f64 > 5.0 * r[0].f2_sum / r[0].multiplicity as f64
        );
    }

    #[test]
    fn geometry_positions_round_trip() {
        let g = Geometry::BraggBrentano {
            wavelength_a: 1.54056,
        };
        let x = g.position(2.69912).unwrap();
        assert!((x - 33.1643).abs() < 2e-3, "{x}");
        assert!((g.d_at(x) - 2.69912).abs() < 1e-9);
        let e = Geometry::EnergyDispersive { two_theta_deg: 5.0 };
        let x = e.position(2.0).unwrap();
        assert!((e.d_at(x) - 2.0).abs() < 1e-9);
        assert!(g.position(0.5).is_none());
    }
}
