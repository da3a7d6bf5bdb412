//! SNIP background (Statistics-sensitive Non-linear Iterative Peak-clipping).
//!
//! C.G. Ryan, E. Clayton, W.L. Griffin, S.H. Sie, D.R. Cousens, NIM B34 (1988) 396:
//! the spectrum is compressed with the LLS operator `v = ln(ln(√(y+1)+1)+1)`, then
//! clipped `v_i ← min(v_i, ½(v_{i−p} + v_{i+p}))` for a window `p` **decreasing** from
//! the full width to 1 (the order used by PyMca's `snip1d.c` and by M. Morháč et al.,
//! NIM A401 (1997) 113, which avoids the staircase of increasing windows), and
//! decompressed with the inverse operator.
//!
//! Width: the clipping half-window should cover a peak, about 1–2 FWHM in channels;
//! [`snip_width_channels`] converts. Cost: `O(n·w)` min/average operations, vectorised;
//! two buffers, no allocation per channel.
//!
//! ```
//! use reescan::signal::snip::{snip, SnipOptions};
//! let y: Vec<f64> = (0..512).map(|i| 100.0 + 900.0 * (-0.5 * ((i as f64 - 256.0) / 6.0).powi(2)).exp()).collect();
//! let bg = snip(&y, &SnipOptions { width: 30, lls: true });
//! assert!((bg[256] - 100.0).abs() < 15.0);
//! ```

/// SNIP parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnipOptions {
    /// Largest clipping half-window, channels.
    pub width: usize,
    /// Apply the log-log-sqrt (LLS) compression first.
    pub lls: bool,
}

/// Half-window in channels for a peak FWHM (channels) and a width in FWHM units
/// (PyMca's default `snipwidth` ≈ 1.5–2 FWHM).
pub fn snip_width_channels(fwhm_channels: f64, width_in_fwhm: f64) -> usize {
    (fwhm_channels * width_in_fwhm).round().max(1.0) as usize
}

/// LLS compression `ln(ln(√(y+1)+1)+1)` (Ryan et al. 1988, eq. 1).
#[inline]
pub fn lls(y: f64) -> f64 {
    ((y.max(0.0) + 1.0).sqrt() + 1.0).ln().ln_1p()
}

/// Inverse of [`lls`].
#[inline]
pub fn lls_inverse(v: f64) -> f64 {
    let s = v.exp_m1().exp() - 1.0;
    s * s - 1.0
}

/// Branch-light natural log for finite `x > 0` (|error| < 1e-10): exponent from the bits,
/// `ln m = 2·atanh((m−1)/(m+1))` series on m ∈ [√½, √2). Lets the LLS pass vectorise.
#[inline]
fn fast_ln(x: f64) -> f64 {
    const LN2: f64 = std::f64::consts::LN_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // (mantissa in [1, 2), folded to [√½, √2) without a branch)
    let m0 = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m0 > std::f64::consts::SQRT_2;
    let m = if big { 0.5 * m0 } else { m0 };
    e += i64::from(big);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0
        + t2 * (1.0 / 3.0
            + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0)))));
    e as f64 * LN2 + 2.0 * t * series
}

/// `e^x` for |x| < 700 (relative error < 1e-13): 2^k·e^r, r ∈ [−½ln2, ½ln2], Taylor to r¹².
#[inline]
fn fast_exp(x: f64) -> f64 {
    const LN2: f64 = std::f64::consts::LN_2;
    // Round to nearest with the 1.5·2⁵² trick (no libm call, so the loop vectorises).
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let k = (x / LN2 + MAGIC) - MAGIC;
    let r = x - k * LN2;
    let mut p = 1.0 / 479_001_600.0; // 1/12!
    for d in [
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / d;
    }
    let scale = f64::from_bits(((k as i64 + 1023).clamp(1, 2046) as u64) << 52);
    p * scale
}

/// [`lls`] with the fast log (same value to ~1e-10).
#[inline]
fn lls_fast(y: f64) -> f64 {
    fast_ln(1.0 + fast_ln((y.max(0.0) + 1.0).sqrt() + 1.0))
}

/// [`lls_inverse`] with the fast exp.
#[inline]
fn lls_inverse_fast(v: f64) -> f64 {
    let s = fast_exp(fast_exp(v) - 1.0) - 1.0;
    s * s - 1.0
}

/// SNIP background of `y` (same length). Never panics; widths larger than half the
/// spectrum are reduced.
pub fn snip(y: &[f64], opts: &SnipOptions) -> Vec<f64> {
    let mut out = y.to_vec();
    let mut scratch = vec![0.0; y.len()];
    snip_in_place(&mut out, &mut scratch, opts);
    out
}

/// SNIP into `data` using `scratch` (same length) — the allocation-free form for batch use.
#[multiversion::multiversion(targets("x86_64+avx2"))]
pub fn snip_in_place(data: &mut [f64], scratch: &mut [f64], opts: &SnipOptions) {
    let n = data.len();
    if n < 3 || scratch.len() < n {
        return;
    }
    if opts.lls {
        data.iter_mut().for_each(|v| *v = lls_fast(*v));
    }
    let w = opts.width.min((n - 1) / 2);
    clip_decreasing(data, &mut scratch[..n], w);
    if opts.lls {
        data.iter_mut().for_each(|v| *v = lls_inverse_fast(*v));
    }
}

/// The clipping passes, p = w … 1 (Jacobi update, as snip1d.c): each pass reads one
/// buffer and writes the clipped interior `p..n − p` to the other, and the two swap.
/// The channels outside a pass's interior keep the input's values in both buffers (the
/// earlier, wider passes had smaller interiors), so one copy at the start stands for
/// the copy back after every pass.
#[inline]
fn clip_decreasing(data: &mut [f64], scratch: &mut [f64], w: usize) {
    let n = data.len();
    scratch[..n].copy_from_slice(data);
    let (mut src, mut dst) = (&mut *data, &mut scratch[..n]);
    for p in (1..=w).rev() {
        let m = n - 2 * p;
        let sides = src[..m].iter().zip(&src[2 * p..]);
        for ((out, c), (l, r)) in dst[p..p + m].iter_mut().zip(&src[p..p + m]).zip(sides) {
            let a = 0.5 * (l + r);
            *out = if a < *c { a } else { *c };
        }
        std::mem::swap(&mut src, &mut dst);
    }
    if w % 2 == 1 {
        // the last pass wrote the scratch buffer
        data.copy_from_slice(&scratch[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lls_round_trips() {
        for y in [0.0, 1.0, 10.0, 1e3, 1e6] {
            assert!((lls_inverse(lls(y)) - y).abs() < 1e-6 * y.max(1.0));
        }
    }

    #[test]
    fn fast_transcendentals_match_std() {
        for x in [
            1e-300f64, 1e-5, 0.3, 0.7072, 1.0, 1.5, 2.0, 10.0, 1e6, 1e300,
        ] {
            assert!(
                (fast_ln(x) - x.ln()).abs() < 1e-10 * x.ln().abs().max(1.0),
                "{x}"
            );
        }
        for x in [-30.0f64, -1.0, 0.0, 0.3, 1.7, 5.0, 40.0] {
            let e = x.exp();
            assert!((fast_exp(x) - e).abs() < 1e-13 * e, "{x}");
        }
        for y in [0.0, 1.0, 77.0, 1e4, 1e7] {
            assert!((lls_fast(y) - lls(y)).abs() < 1e-10);
            let v = lls(y);
            assert!((lls_inverse_fast(v) - lls_inverse(v)).abs() < 1e-8 * y.max(1.0));
        }
    }

    #[test]
    fn snip_removes_peaks_and_keeps_a_sloped_continuum() {
        let n = 1024;
        let cont: Vec<f64> = (0..n).map(|i| 200.0 + 0.1 * i as f64).collect();
        let mut y = cont.clone();
        for (c, a) in [(300.0, 5000.0), (310.0, 2000.0), (700.0, 8000.0)] {
            for (i, v) in y.iter_mut().enumerate() {
                *v += a * (-0.5 * ((i as f64 - c) / 5.0).powi(2)).exp();
            }
        }
        for lls in [false, true] {
            let bg = snip(&y, &SnipOptions { width: 30, lls });
            for i in (50..n - 50).step_by(10) {
                assert!(
                    (bg[i] - cont[i]).abs() < 0.06 * cont[i],
                    "lls={lls} ch {i}: {} vs {}",
                    bg[i],
                    cont[i]
                );
            }
        }
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert!(snip(
            &[],
            &SnipOptions {
                width: 5,
                lls: true
            }
        )
        .is_empty());
        assert_eq!(
            snip(
                &[3.0, 4.0],
                &SnipOptions {
                    width: 5,
                    lls: true
                }
            )
            .len(),
            2
        );
        let b = snip(
            &[1.0, 5.0, 1.0, 1.0],
            &SnipOptions {
                width: 100,
                lls: false,
            },
        );
        assert_eq!(b.len(), 4);
    }
}
