//! Savitzky–Golay smoothing and derivatives (A. Savitzky & M.J.E. Golay, Anal. Chem. 36
//! (1964) 1627), with coefficients **computed** for any odd window and polynomial order
//! by least squares (no tables; the published tables contain errors, see J. Steinier,
//! Y. Termonia & J. Deltour, Anal. Chem. 44 (1972) 1906).
//!
//! The filter fits a polynomial of order `p` to each window of `2m+1` points and
//! evaluates it (or its `d`-th derivative, in units per channel^d) at the centre. Near the
//! edges the fit of the first/last full window is evaluated off-centre (P.A. Gorry,
//! Anal. Chem. 62 (1990) 570), so the output has the input's length and no padding
//! artefacts. Used for peak search only — fits use raw counts.
//!
//! ```
//! use reescan::signal::savitzky_golay::SavitzkyGolay;
//! let sg = SavitzkyGolay::new(7, 2, 0).unwrap();
//! let y: Vec<f64> = (0..20).map(|i| (i * i) as f64).collect();
//! let s = sg.apply(&y);
//! assert!((s[10] - 100.0).abs() < 1e-9); // a quadratic is reproduced exactly
//! ```

use crate::{Error, Result};

/// A Savitzky–Golay filter with precomputed coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct SavitzkyGolay {
    half: usize,
    /// Centre coefficients, length 2m+1.
    center: Vec<f64>,
    /// Edge coefficients: row `s` (0..2m+1) evaluates at window position s − m.
    edge: Vec<Vec<f64>>,
}

impl SavitzkyGolay {
    /// Filter of `window` points (odd, ≥ 3), polynomial `order` (< window), derivative
    /// `deriv` (≤ order).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an even/short window or an order/derivative out of range.
    pub fn new(window: usize, order: usize, deriv: usize) -> Result<Self> {
        if window < 3 || window.is_multiple_of(2) || order >= window || deriv > order {
            return Err(Error::Invalid {
                what: "Savitzky-Golay filter",
                message: format!(
                    "window {window}, order {order}, derivative {deriv}: need an odd window ≥ 3, order < window, derivative ≤ order"
                ),
            });
        }
        let half = window / 2;
        let edge: Vec<Vec<f64>> = (0..window)
            .map(|s| coefficients(half, order, deriv, s as f64 - half as f64))
            .collect();
        Ok(Self {
            half,
            center: edge[half].clone(),
            edge,
        })
    }

    /// The centre coefficients (applied as `Σ_j c_j·y_{i+j−m}`).
    pub fn coefficients(&self) -> &[f64] {
        &self.center
    }

    /// Filtered copy of `y`.
    pub fn apply(&self, y: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; y.len()];
        self.apply_into(y, &mut out);
        out
    }

    /// Filter `y` into `out` (same length; extra `out` is left untouched).
    pub fn apply_into(&self, y: &[f64], out: &mut [f64]) {
        let n = y.len().min(out.len());
        let w = 2 * self.half + 1;
        if n < w {
            out[..n].copy_from_slice(&y[..n]);
            return;
        }
        for i in 0..=n - w {
            out[i + self.half] = dot(&self.center, &y[i..i + w]);
        }
        for s in 0..self.half {
            out[s] = dot(&self.edge[s], &y[..w]);
            out[n - self.half + s] = dot(&self.edge[self.half + 1 + s], &y[n - w..n]);
        }
    }
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Least-squares coefficients evaluating the `deriv`-th derivative at offset `at`
/// (channels from the window centre). Positions are scaled by 1/m for conditioning.
fn coefficients(half: usize, order: usize, deriv: usize, at: f64) -> Vec<f64> {
    let m = half as f64;
    let k = order + 1;
    let ts: Vec<f64> = (-(half as i64)..=half as i64)
        .map(|j| j as f64 / m)
        .collect();
    // Normal matrix N = AᵀA with A_{j,q} = t_j^q.
    let mut nm = vec![0.0; k * k];
    for t in &ts {
        for a in 0..k {
            for b in 0..k {
                nm[a * k + b] += t.powi((a + b) as i32);
            }
        }
    }
    // v_q = d^deriv/dt^deriv (t^q) at t0 = at/m.
    let t0 = at / m;
    let mut v = vec![0.0; k];
    for (q, vq) in v.iter_mut().enumerate().skip(deriv) {
        let falling: f64 = (0..deriv).map(|r| (q - r) as f64).product();
        *vq = falling * t0.powi((q - deriv) as i32);
    }
    let z = solve_dense(&mut nm, &mut v, k);
    let scale = m.powi(-(deriv as i32));
    ts.iter()
        .map(|t| scale * (0..k).map(|q| z[q] * t.powi(q as i32)).sum::<f64>())
        .collect()
}

/// Gaussian elimination with partial pivoting (k is tiny).
fn solve_dense(a: &mut [f64], b: &mut [f64], k: usize) -> Vec<f64> {
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&r, &s| a[r * k + col].abs().total_cmp(&a[s * k + col].abs()))
            .unwrap_or(col);
        if piv != col {
            for c in 0..k {
                a.swap(col * k + c, piv * k + c);
            }
            b.swap(col, piv);
        }
        let d = a[col * k + col];
        if d == 0.0 {
            continue;
        }
        for r in col + 1..k {
            let f = a[r * k + col] / d;
            for c in col..k {
                a[r * k + c] -= f * a[col * k + c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; k];
    for r in (0..k).rev() {
        let s: f64 = (r + 1..k).map(|c| a[r * k + c] * x[c]).sum();
        let d = a[r * k + r];
        x[r] = if d == 0.0 { 0.0 } else { (b[r] - s) / d };
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_5_point_quadratic_coefficients() {
        // Savitzky & Golay (1964) Table I: (−3, 12, 17, 12, −3)/35.
        let sg = SavitzkyGolay::new(5, 2, 0).unwrap();
        let want = [-3.0, 12.0, 17.0, 12.0, -3.0].map(|v| v / 35.0);
        for (c, w) in sg.coefficients().iter().zip(want) {
            assert!((c - w).abs() < 1e-12);
        }
        // First derivative, 5 points, quadratic: (−2, −1, 0, 1, 2)/10.
        let d1 = SavitzkyGolay::new(5, 2, 1).unwrap();
        let want = [-2.0, -1.0, 0.0, 1.0, 2.0].map(|v| v / 10.0);
        for (c, w) in d1.coefficients().iter().zip(want) {
            assert!((c - w).abs() < 1e-12);
        }
    }

    #[test]
    fn derivatives_of_a_cubic_are_exact_everywhere_including_edges() {
        let y: Vec<f64> = (0..40)
            .map(|i| (i as f64).powi(3) * 0.01 - i as f64)
            .collect();
        let d2 = SavitzkyGolay::new(9, 3, 2).unwrap().apply(&y);
        for (i, v) in d2.iter().enumerate() {
            let want = 0.06 * i as f64;
            assert!((v - want).abs() < 1e-8, "i={i} {v} {want}");
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(SavitzkyGolay::new(4, 2, 0).is_err());
        assert!(SavitzkyGolay::new(5, 5, 0).is_err());
        assert!(SavitzkyGolay::new(5, 2, 3).is_err());
        // short input is passed through
        let sg = SavitzkyGolay::new(7, 2, 0).unwrap();
        assert_eq!(sg.apply(&[1.0, 2.0]), vec![1.0, 2.0]);
    }
}
