//! Iterative strip background (PyMca `stripalgorithm = 0`).
//!
//! Each iteration replaces `y_i` by `min(y_i, c·½(y_{i−w} + y_{i+w}))` for a fixed
//! half-window `w`, repeated many times (thousands); the spectrum is first smoothed.
//! Method: C.G. Ryan et al., NIM B34 (1988) 396 (the non-LLS clipping step); the
//! many-iteration fixed-window form follows P. Van Espen's AXIL/PyMca `subac`
//! (P. Van Espen, *Handbook of X-Ray Spectrometry*, 2nd ed. (2002), ch. 4 §4.3.3).
//! Cost `O(n·iterations)`, slower than [`super::snip`]; kept as the PyMca-compatible
//! alternative.

use super::savitzky_golay::SavitzkyGolay;

/// Strip parameters (PyMca names in brackets).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripOptions {
    /// Half-window, channels [`stripwidth`].
    pub width: usize,
    /// Number of iterations [`stripiterations`].
    pub iterations: usize,
    /// Clipping constant c [`stripconstant`], normally 1.
    pub constant: f64,
    /// Smoothing window before stripping, points (made odd; ≤ 1 = none) [`stripfilterwidth`].
    pub smoothing: usize,
    /// Final passes with a half-window of 1 that smooth the stripped curve (PyMca runs
    /// 500 when `iterations > 1000`, else `2·width`).
    pub final_passes: usize,
}

impl Default for StripOptions {
    fn default() -> Self {
        Self {
            width: 4,
            iterations: 5000,
            constant: 1.0,
            smoothing: 5,
            final_passes: 500,
        }
    }
}

/// Strip background of `y` (same length).
pub fn strip(y: &[f64], opts: &StripOptions) -> Vec<f64> {
    let n = y.len();
    let mut data = if opts.smoothing > 1 && n > opts.smoothing {
        let win = opts.smoothing | 1;
        match SavitzkyGolay::new(win, 2, 0) {
            Ok(sg) => sg.apply(y),
            Err(_) => y.to_vec(),
        }
    } else {
        y.to_vec()
    };
    let w = opts.width.max(1);
    if n <= 2 * w {
        return data;
    }
    let mut next = data.clone();
    clip_passes(&mut data, &mut next, w, opts.iterations, opts.constant);
    clip_passes(&mut data, &mut next, 1, opts.final_passes, opts.constant);
    data
}

/// `passes` Jacobi clipping passes with half-window `w` (stops early once stable).
fn clip_passes(data: &mut Vec<f64>, next: &mut Vec<f64>, w: usize, passes: usize, c: f64) {
    let n = data.len();
    if n <= 2 * w {
        return;
    }
    next.copy_from_slice(data);
    for _ in 0..passes {
        let mut changed = false;
        for i in w..n - w {
            let t = c * 0.5 * (data[i - w] + data[i + w]);
            let v = data[i];
            let nv = if t < v {
                changed = true;
                t
            } else {
                v
            };
            next[i] = nv;
        }
        std::mem::swap(data, next);
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_follows_a_flat_continuum_under_a_peak() {
        let n = 400;
        let y: Vec<f64> = (0..n)
            .map(|i| 50.0 + 2000.0 * (-0.5 * ((i as f64 - 200.0) / 4.0).powi(2)).exp())
            .collect();
        let bg = strip(
            &y,
            &StripOptions {
                width: 6,
                iterations: 3000,
                ..Default::default()
            },
        );
        assert!((bg[200] - 50.0).abs() < 5.0, "{}", bg[200]);
        assert!((bg[50] - 50.0).abs() < 1.0);
    }
}
