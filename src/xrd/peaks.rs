//! Background and peak list of a diffraction pattern.
//!
//! Background: SNIP with the LLS transform from [`crate::signal::snip`] (Ryan et al.,
//! Nucl. Instrum. Methods B34 (1988) 396; Morháč et al., Nucl. Instrum. Methods A401
//! (1997) 113). Peaks: local maxima of the Savitzky–Golay smoothed net pattern
//! (Savitzky & Golay, Anal. Chem. 36 (1964) 1627, 5-point quadratic) above a Poisson
//! significance, with parabolic centre and the half-height width that the XRD width
//! model needs.

use crate::signal::snip::{snip, SnipOptions};

/// SNIP background (LLS-compressed) with clipping half-window up to `width` channels.
pub fn background(y: &[f64], width: usize) -> Vec<f64> {
    snip(y, &SnipOptions { width, lls: true })
}

/// 5-point quadratic Savitzky–Golay smoothing.
pub fn smooth(y: &[f64]) -> Vec<f64> {
    let n = y.len();
    (0..n)
        .map(|i| {
            if i < 2 || i + 2 >= n {
                y[i]
            } else {
                (-3.0 * y[i - 2] + 12.0 * y[i - 1] + 17.0 * y[i] + 12.0 * y[i + 1] - 3.0 * y[i + 2])
                    / 35.0
            }
        })
        .collect()
}

/// One observed peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObservedPeak {
    /// Position (axis units), parabolic interpolation.
    pub x: f64,
    /// Channel index of the maximum.
    pub channel: usize,
    /// Net height (counts above background).
    pub height: f64,
    /// Height / √(counts): Poisson significance.
    pub significance: f64,
    /// Full width at half maximum (axis units); NaN when not measurable.
    pub fwhm: f64,
}

/// Peaks of `net` (counts − background) with Poisson variance `var` per channel:
/// local maxima over ±`half_window` channels, significance ≥ `min_sigma` and height ≥
/// `min_rel` of the tallest, strongest first.
pub fn find_peaks(
    xs: &[f64],
    net: &[f64],
    var: &[f64],
    half_window: usize,
    min_sigma: f64,
    min_rel: f64,
) -> Vec<ObservedPeak> {
    let n = net.len();
    let s = smooth(net);
    let max = s.iter().cloned().fold(0.0, f64::max);
    let hw = half_window.max(1);
    let mut out = Vec::new();
    for i in hw..n.saturating_sub(hw) {
        let h = s[i];
        if h <= 0.0 || h < min_rel * max {
            continue;
        }
        let sig = h / var[i].max(1.0).sqrt();
        if sig < min_sigma {
            continue;
        }
        let is_max = (i - hw..=i + hw).all(|j| j == i || s[j] < h || (s[j] == h && j > i));
        if !is_max {
            continue;
        }
        let (a, b, c) = (s[i - 1], h, s[i + 1]);
        let den = a - 2.0 * b + c;
        let off = if den < 0.0 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let step = 0.5 * (xs[i + 1] - xs[i - 1]);
        let fwhm = half_height_width(xs, &s, i);
        // A real line spans more than ~2.5 steps; narrower maxima are noise spikes.
        if fwhm.is_nan() || fwhm <= 2.5 * step {
            continue;
        }
        out.push(ObservedPeak {
            x: xs[i] + off * step,
            channel: i,
            height: h,
            significance: sig,
            fwhm,
        });
    }
    out.sort_by(|a, b| b.height.total_cmp(&a.height));
    out
}

fn half_height_width(xs: &[f64], s: &[f64], i: usize) -> f64 {
    let half = 0.5 * s[i];
    let cross = |range: &mut dyn Iterator<Item = usize>| -> Option<f64> {
        let mut prev = i;
        for j in range {
            if s[j] < half {
                let t = (s[prev] - half) / (s[prev] - s[j]).max(1e-12);
                return Some(xs[prev] + t * (xs[j] - xs[prev]));
            }
            prev = j;
        }
        None
    };
    match (cross(&mut (0..i).rev()), cross(&mut (i + 1..s.len()))) {
        (Some(l), Some(r)) => r - l,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snip_keeps_flat_background_under_a_peak() {
        let xs: Vec<f64> = (0..1000).map(|i| i as f64 * 0.02).collect();
        let y: Vec<f64> = xs
            .iter()
            .map(|&x| 200.0 + 5000.0 * (-0.5 * ((x - 10.0) / 0.05f64).powi(2)).exp())
            .collect();
        let bg = background(&y, 30);
        assert!((bg[500] - 200.0).abs() < 10.0, "{}", bg[500]);
        let net: Vec<f64> = y.iter().zip(&bg).map(|(a, b)| a - b).collect();
        let p = find_peaks(&xs, &net, &y, 3, 5.0, 0.01);
        assert_eq!(p.len(), 1);
        assert!((p[0].x - 10.0).abs() < 0.005);
        assert!((p[0].fwhm - 0.1177).abs() < 0.01, "{}", p[0].fwhm);
    }
}
