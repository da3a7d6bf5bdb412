//! FFT convolution, cross-correlation and shift alignment (real-to-complex FFTs via
//! `realfft`/`rustfft`, plans cached).
//!
//! Convolution theorem: `a ∗ b = IFFT(FFT(a)·FFT(b))` on zero-padded inputs of length
//! ≥ `len(a)+len(b)−1` (padded to a power of two); correlation uses the complex
//! conjugate of one spectrum (E.O. Brigham, *The Fast Fourier Transform and its
//! Applications*, Prentice-Hall 1988, ch. 13). Normalisation: `realfft` does not scale,
//! so inverses are multiplied by `1/N` here, once.
//!
//! Plans come from one [`realfft::RealFftPlanner`] per [`FftCache`], which keeps the
//! `Arc` plans of every length it has seen; buffers are kept between calls, so a cache
//! reused for a batch allocates only the returned vectors. Give each thread its own
//! cache.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// Planner, plans and scratch buffers.
pub struct FftCache {
    planner: RealFftPlanner<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    fa: Vec<Complex<f64>>,
    fb: Vec<Complex<f64>>,
}

impl Default for FftCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for FftCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftCache")
            .field("len", &self.a.len())
            .finish()
    }
}

impl FftCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            planner: RealFftPlanner::new(),
            a: Vec::new(),
            b: Vec::new(),
            fa: Vec::new(),
            fb: Vec::new(),
        }
    }

    /// Forward transforms of `a` and `b` zero-padded to `n` into `fa`, `fb`.
    fn forward_pair(&mut self, a: &[f64], b: &[f64], n: usize) {
        let fwd = self.planner.plan_fft_forward(n);
        self.a.clear();
        self.a.extend_from_slice(a);
        self.a.resize(n, 0.0);
        self.b.clear();
        self.b.extend_from_slice(b);
        self.b.resize(n, 0.0);
        self.fa.resize(n / 2 + 1, Complex::default());
        self.fb.resize(n / 2 + 1, Complex::default());
        // Lengths match by construction, so process cannot fail.
        let _ = fwd.process(&mut self.a, &mut self.fa);
        let _ = fwd.process(&mut self.b, &mut self.fb);
    }

    /// Inverse transform of `fa` (length n/2+1) into `a`, scaled by 1/n.
    fn inverse(&mut self, n: usize) {
        let inv = self.planner.plan_fft_inverse(n);
        if let Some(f) = self.fa.first_mut() {
            f.im = 0.0;
        }
        if n.is_multiple_of(2) {
            if let Some(l) = self.fa.last_mut() {
                l.im = 0.0;
            }
        }
        self.a.resize(n, 0.0);
        let _ = inv.process(&mut self.fa, &mut self.a);
        let s = 1.0 / n as f64;
        self.a.iter_mut().for_each(|v| *v *= s);
    }

    /// Full linear convolution, length `a.len() + b.len() − 1` (empty if either is).
    pub fn convolve(&mut self, a: &[f64], b: &[f64]) -> Vec<f64> {
        if a.is_empty() || b.is_empty() {
            return Vec::new();
        }
        let len = a.len() + b.len() - 1;
        let n = len.next_power_of_two().max(2);
        self.forward_pair(a, b, n);
        for (x, y) in self.fa.iter_mut().zip(&self.fb) {
            *x *= y;
        }
        self.inverse(n);
        self.a[..len].to_vec()
    }

    /// Convolution with a centred odd kernel, same length as `y` ("same" mode; zero
    /// padding outside).
    pub fn convolve_same(&mut self, y: &[f64], kernel: &[f64]) -> Vec<f64> {
        let full = self.convolve(y, kernel);
        let h = kernel.len() / 2;
        full.get(h..h + y.len())
            .map(<[f64]>::to_vec)
            .unwrap_or_default()
    }

    /// Cross-correlation `c(k) = Σ_i a[i+k]·b[i]` for lags `k = −(b.len()−1) … a.len()−1`;
    /// element `j` of the result is lag `j − (b.len()−1)`.
    pub fn correlate(&mut self, a: &[f64], b: &[f64]) -> Vec<f64> {
        if a.is_empty() || b.is_empty() {
            return Vec::new();
        }
        let len = a.len() + b.len() - 1;
        let n = len.next_power_of_two().max(2);
        self.forward_pair(a, b, n);
        for (x, y) in self.fa.iter_mut().zip(&self.fb) {
            *x *= y.conj();
        }
        self.inverse(n);
        // Circular lags: non-negative at 0.., negative wrapped at the end.
        let nb = b.len();
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&self.a[n - (nb - 1)..n]);
        out.extend_from_slice(&self.a[..a.len()]);
        out
    }

    /// Shift `s` (channels, sub-channel by a parabola through the correlation maximum)
    /// such that `signal[i] ≈ reference[i − s]`, searched within `±max_shift`. Means are
    /// removed first. `None` for empty input or a flat correlation.
    pub fn align_shift(
        &mut self,
        signal: &[f64],
        reference: &[f64],
        max_shift: usize,
    ) -> Option<f64> {
        if signal.is_empty() || reference.is_empty() {
            return None;
        }
        let ms = mean(signal);
        let mr = mean(reference);
        let s: Vec<f64> = signal.iter().map(|v| v - ms).collect();
        let r: Vec<f64> = reference.iter().map(|v| v - mr).collect();
        let c = self.correlate(&s, &r);
        let zero = reference.len() - 1;
        let lo = zero.saturating_sub(max_shift);
        let hi = (zero + max_shift).min(c.len() - 1);
        let (best, &val) = c[lo..=hi]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        if val <= 0.0 {
            return None;
        }
        let j = lo + best;
        let frac = if j > 0 && j + 1 < c.len() {
            let den = c[j - 1] - 2.0 * c[j] + c[j + 1];
            if den < 0.0 {
                (0.5 * (c[j - 1] - c[j + 1]) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        } else {
            0.0
        };
        Some(j as f64 - zero as f64 + frac)
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; a.len() + b.len() - 1];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                out[i + j] += x * y;
            }
        }
        out
    }

    #[test]
    fn fft_convolution_matches_the_naive_oracle() {
        let mut cache = FftCache::new();
        for (na, nb) in [(1, 1), (7, 3), (100, 31), (1000, 257)] {
            let a: Vec<f64> = (0..na).map(|i| ((i * 7919) % 101) as f64 - 50.0).collect();
            let b: Vec<f64> = (0..nb).map(|i| ((i * 104_729) % 37) as f64 * 0.1).collect();
            let f = cache.convolve(&a, &b);
            let o = naive_convolve(&a, &b);
            assert_eq!(f.len(), o.len());
            for (x, y) in f.iter().zip(&o) {
                assert!(
                    (x - y).abs() < 1e-8 * (1.0 + y.abs()),
                    "{na}x{nb}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn correlation_lag_convention() {
        let mut cache = FftCache::new();
        let a = [0.0, 0.0, 1.0, 0.0];
        let b = [1.0, 0.0];
        let c = cache.correlate(&a, &b);
        // c(k) = a[k]·b[0] → peak at lag 2, index 2 + (2 − 1) = 3.
        let peak = c
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .map(|p| p.0);
        assert_eq!(peak, Some(3));
    }

    #[test]
    fn alignment_recovers_a_fractional_shift() {
        let g = |c: f64| -> Vec<f64> {
            (0..512)
                .map(|i| {
                    100.0 * (-0.5 * ((i as f64 - c) / 6.0).powi(2)).exp()
                        + 40.0 * (-0.5 * ((i as f64 - c - 90.0) / 6.0).powi(2)).exp()
                })
                .collect()
        };
        let reference = g(200.0);
        let mut cache = FftCache::new();
        for true_shift in [-13.3, 0.0, 4.6, 25.25] {
            let s = cache
                .align_shift(&g(200.0 + true_shift), &reference, 40)
                .unwrap();
            assert!((s - true_shift).abs() < 0.1, "{s} vs {true_shift}");
        }
        assert!(cache.align_shift(&[], &reference, 5).is_none());
    }
}
