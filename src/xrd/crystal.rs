//! Crystal structures: unit cell metrics, symmetry operations, and the full cell
//! contents generated from the asymmetric unit.

use crate::{Error, Result};

/// A unit cell: lengths (Å) and angles (degrees), with its reciprocal metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// a, Å.
    pub a: f64,
    /// b, Å.
    pub b: f64,
    /// c, Å.
    pub c: f64,
    /// α, degrees.
    pub alpha_deg: f64,
    /// β, degrees.
    pub beta_deg: f64,
    /// γ, degrees.
    pub gamma_deg: f64,
    /// Cell volume, Å³.
    pub volume_a3: f64,
    /// Reciprocal metric tensor G* (Å⁻²): 1/d² = hᵀ G* h.
    pub g_star: [[f64; 3]; 3],
}

impl Cell {
    /// Build a cell and its reciprocal metric (Giacovazzo et al., *Fundamentals of
    /// Crystallography*, 3rd ed. (2011), §2.3).
    ///
    /// # Errors
    /// [`Error::Invalid`] for non-positive lengths or angles that give no volume.
    pub fn new(a: f64, b: f64, c: f64, alpha: f64, beta: f64, gamma: f64) -> Result<Self> {
        let (ca, cb, cg) = (
            alpha.to_radians().cos(),
            beta.to_radians().cos(),
            gamma.to_radians().cos(),
        );
        let g = [
            [a * a, a * b * cg, a * c * cb],
            [a * b * cg, b * b, b * c * ca],
            [a * c * cb, b * c * ca, c * c],
        ];
        let det = det3(&g);
        if !(a > 0.0 && b > 0.0 && c > 0.0 && det.is_finite() && det > 0.0) {
            return Err(Error::Invalid {
                what: "unit cell",
                message: format!("a={a} b={b} c={c} α={alpha} β={beta} γ={gamma}"),
            });
        }
        Ok(Self {
            a,
            b,
            c,
            alpha_deg: alpha,
            beta_deg: beta,
            gamma_deg: gamma,
            volume_a3: det.sqrt(),
            g_star: inv3(&g, det),
        })
    }

    /// 1/d² (Å⁻²) of reflection hkl.
    #[inline]
    pub fn inv_d2(&self, h: [i32; 3]) -> f64 {
        let hv = [h[0] as f64, h[1] as f64, h[2] as f64];
        let g = &self.g_star;
        let mut s = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                s += hv[i] * g[i][j] * hv[j];
            }
        }
        s
    }
}

fn det3(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn inv3(m: &[[f64; 3]; 3], det: f64) -> [[f64; 3]; 3] {
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let (i1, i2) = ((j + 1) % 3, (j + 2) % 3);
            let (j1, j2) = ((i + 1) % 3, (i + 2) % 3);
            *v = (m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]) / det;
        }
    }
    r
}

/// A symmetry operation x' = R·x + t in fractional coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct SymOp {
    /// Rotation part.
    pub rot: [[f64; 3]; 3],
    /// Translation part.
    pub trans: [f64; 3],
}

impl SymOp {
    /// x, y, z.
    pub fn identity() -> Self {
        Self {
            rot: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            trans: [0.0; 3],
        }
    }

    /// Parse a Jones-faithful operation such as `2/3+x,1/3+x-y,5/6+z` or `-X+1/2, y, .5-z`.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split(',').collect();
        if parts.len() != 3 {
            return None;
        }
        let mut op = Self {
            rot: [[0.0; 3]; 3],
            trans: [0.0; 3],
        };
        for (row, part) in parts.iter().enumerate() {
            let (r, t) = parse_component(part)?;
            op.rot[row] = r;
            op.trans[row] = t;
        }
        Some(op)
    }

    /// Apply to a fractional position.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.rot[i][0] * p[0]
                + self.rot[i][1] * p[1]
                + self.rot[i][2] * p[2]
                + self.trans[i];
        }
        out
    }
}

/// One component of a symmetry operation: sum of ±[coef]x|y|z and ±constants.
fn parse_component(s: &str) -> Option<([f64; 3], f64)> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if s.is_empty() {
        return None;
    }
    let mut rot = [0.0; 3];
    let mut trans = 0.0;
    let mut terms = Vec::new();
    let mut current = String::new();
    for c in s.chars() {
        if (c == '+' || c == '-') && !current.is_empty() {
            terms.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    terms.push(current);
    for term in terms {
        let (sign, body) = match term.strip_prefix('-') {
            Some(b) => (-1.0, b),
            None => (1.0, term.strip_prefix('+').unwrap_or(&term)),
        };
        if let Some(axis) = body.chars().last().and_then(|c| "xyz".find(c)) {
            let coef_text = body[..body.len() - 1].trim_end_matches('*');
            let coef = if coef_text.is_empty() {
                1.0
            } else {
                parse_fraction(coef_text)?
            };
            rot[axis] += sign * coef;
        } else {
            trans += sign * parse_fraction(body)?;
        }
    }
    Some((rot, trans))
}

fn parse_fraction(s: &str) -> Option<f64> {
    match s.split_once('/') {
        Some((n, d)) => {
            let d: f64 = d.parse().ok()?;
            (d != 0.0).then_some(n.parse::<f64>().ok()? / d)
        }
        None => s.parse().ok(),
    }
}

/// One crystallographic site of the asymmetric unit, as read from a CIF.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// CIF label.
    pub label: String,
    /// Element symbol (neutral atom).
    pub element: String,
    /// Fractional coordinates.
    pub frac: [f64; 3],
    /// Site occupancy (0..1).
    pub occupancy: f64,
    /// Isotropic displacement B (Å²), when the CIF gives one.
    pub b_iso: Option<f64>,
}

/// One atom of the full unit cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Element symbol.
    pub element: String,
    /// Fractional coordinates in [0, 1).
    pub frac: [f64; 3],
    /// Occupancy.
    pub occupancy: f64,
    /// Isotropic displacement B (Å²) used for the Debye–Waller factor.
    pub b_iso: f64,
}

/// A crystal structure with its full unit-cell contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// Phase name (the CIF file stem in the library).
    pub name: String,
    /// Mineral name or formula from the CIF.
    pub title: String,
    /// Unit cell.
    pub cell: Cell,
    /// Asymmetric-unit sites.
    pub sites: Vec<Site>,
    /// All atoms of the cell (symmetry-expanded, duplicates on special positions merged).
    pub atoms: Vec<Atom>,
}

/// Default B (Å²) for sites without displacement parameters.
pub const DEFAULT_B_ISO: f64 = 0.5;

impl Structure {
    /// Expand the sites by the symmetry operations. Images of one site closer than
    /// 0.01 Å are one atom (special positions).
    ///
    /// # Errors
    /// [`Error::Parse`] when there are no sites.
    pub fn new(
        name: &str,
        title: &str,
        cell: Cell,
        ops: &[SymOp],
        sites: Vec<Site>,
    ) -> Result<Self> {
        if sites.is_empty() {
            return Err(Error::parse("CIF", format!("{name}: no atom sites")));
        }
        let mut atoms = Vec::new();
        for site in &sites {
            let b_iso = plausible_b(site.b_iso);
            let mut images: Vec<[f64; 3]> = Vec::new();
            for op in ops {
                let p = op.apply(site.frac).map(|v| v.rem_euclid(1.0));
                if !images.iter().any(|q| frac_distance(&cell, p, *q) < 0.01) {
                    images.push(p);
                }
            }
            atoms.extend(images.into_iter().map(|frac| Atom {
                element: site.element.clone(),
                frac,
                occupancy: site.occupancy,
                b_iso,
            }));
        }
        Ok(Self {
            name: name.to_string(),
            title: title.to_string(),
            cell,
            sites,
            atoms,
        })
    }

    /// Cell contents mass in g/mol (atomic mass units).
    pub fn cell_mass_amu(&self) -> f64 {
        let db = crate::tables::xraydb();
        self.atoms
            .iter()
            .map(|a| a.occupancy * db.molar_mass(&a.element).unwrap_or(0.0))
            .sum()
    }

    /// Crystallographic density ρ = M_cell / (N_A·V), g/cm³.
    pub fn density_g_cm3(&self) -> f64 {
        self.cell_mass_amu() * 1.660_539_07 / self.volume()
    }

    /// Cell volume, Å³.
    pub fn volume(&self) -> f64 {
        self.cell.volume_a3
    }

    /// Elements present, in order of first appearance.
    pub fn elements(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.sites {
            if !out.contains(&s.element) {
                out.push(s.element.clone());
            }
        }
        out
    }

    /// Mass fraction of each element, in order of first appearance.
    pub fn element_mass_fractions(&self) -> Vec<(String, f64)> {
        let db = crate::tables::xraydb();
        let total = self.cell_mass_amu();
        self.elements()
            .into_iter()
            .map(|el| {
                let m: f64 = self
                    .atoms
                    .iter()
                    .filter(|a| a.element == el)
                    .map(|a| a.occupancy * db.molar_mass(&el).unwrap_or(0.0))
                    .sum();
                let frac = if total > 0.0 { m / total } else { 0.0 };
                (el, frac)
            })
            .collect()
    }

    /// Empirical formula of the cell contents, e.g. `Fe12 O18`.
    pub fn cell_formula(&self) -> String {
        self.elements()
            .into_iter()
            .map(|el| {
                let n: f64 = self
                    .atoms
                    .iter()
                    .filter(|a| a.element == el)
                    .map(|a| a.occupancy)
                    .sum();
                let n_text = if (n - n.round()).abs() < 1e-3 {
                    format!("{}", n.round() as i64)
                } else {
                    format!("{n:.2}")
                };
                format!("{el}{n_text}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// B values outside 0–5 Å² are taken as mislabelled or unrefined and replaced by a
/// typical value (some AMCSD entries carry B in a U column).
fn plausible_b(b: Option<f64>) -> f64 {
    match b {
        Some(b) if (0.0..=5.0).contains(&b) => b,
        _ => DEFAULT_B_ISO,
    }
}

/// Distance (Å) between two fractional positions, nearest lattice image.
fn frac_distance(cell: &Cell, p: [f64; 3], q: [f64; 3]) -> f64 {
    let d: Vec<f64> = (0..3)
        .map(|i| {
            let x = p[i] - q[i];
            x - x.round()
        })
        .collect();
    let (ca, cb, cg) = (
        cell.alpha_deg.to_radians().cos(),
        cell.beta_deg.to_radians().cos(),
        cell.gamma_deg.to_radians().cos(),
    );
    let (x, y, z) = (d[0] * cell.a, d[1] * cell.b, d[2] * cell.c);
    (x * x + y * y + z * z + 2.0 * x * y * cg + 2.0 * x * z * cb + 2.0 * y * z * ca)
        .max(0.0)
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symops_parse_in_all_spellings() {
        let op = SymOp::parse("2/3+x,1/3+x-y,5/6+z").unwrap();
        let p = op.apply([0.1, 0.2, 0.3]);
        assert!((p[0] - (2.0 / 3.0 + 0.1)).abs() < 1e-12);
        assert!((p[1] - (1.0 / 3.0 + 0.1 - 0.2)).abs() < 1e-12);
        assert!((p[2] - (5.0 / 6.0 + 0.3)).abs() < 1e-12);
        let op = SymOp::parse(" -X+1/2, y , .5-z").unwrap();
        let p = op.apply([0.1, 0.2, 0.3]);
        assert!(
            (p[0] - 0.4).abs() < 1e-12 && (p[1] - 0.2).abs() < 1e-12 && (p[2] - 0.2).abs() < 1e-12
        );
        assert!(SymOp::parse("x,y").is_none());
        assert!(SymOp::parse("x,y,q").is_none());
    }

    #[test]
    fn hexagonal_cell_volume_and_d() {
        let c = Cell::new(5.0346, 5.0346, 13.7473, 90.0, 90.0, 120.0).unwrap();
        assert!((c.volume_a3 - 301.771).abs() < 0.01, "{}", c.volume_a3);
        // hematite 104: d = 2.6991 Å
        let d = 1.0 / c.inv_d2([1, 0, 4]).sqrt();
        assert!((d - 2.69912).abs() < 1e-4, "{d}");
        assert!(Cell::new(1.0, 1.0, 1.0, 90.0, 90.0, 180.0).is_err());
    }
}
