//! Peak line shapes with analytic derivatives.
//!
//! Conventions: every profile is **area-normalised in axis units** (keV for XRF,
//! degrees 2θ for XRD): `∫ f(x) dx = area`. Counts per channel are the profile at the
//! channel centre times the channel width (the calibration gain), which is how PyMca
//! (`ClassMcaTheory`) evaluates its model; [`channel_width`] documents it once.
//!
//! * XRF: Gaussian with optional Van Espen hypermet low-energy tail and step
//!   (P. Van Espen, in *Handbook of X-Ray Spectrometry*, 2nd ed., Marcel Dekker 2002,
//!   ch. 4; J.L. Campbell et al., NIM B 9 (1985) 71).
//! * XRD: Thompson–Cox–Hastings pseudo-Voigt (P. Thompson, D.E. Cox, J.B. Hastings,
//!   J. Appl. Cryst. 20 (1987) 79, eqs. 3–4).

use super::detector::FWHM_PER_SIGMA;

const SQRT_2PI: f64 = 2.506_628_274_631_000_5;
const SQRT_2: f64 = std::f64::consts::SQRT_2;
const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// Channel width used to turn a density (per axis unit) into counts per channel.
/// For a linear calibration this is the gain.
#[inline]
pub fn channel_width(gain: f64) -> f64 {
    gain
}

/// Complementary error function, |relative error| < 1.2e-7 everywhere
/// (Chebyshev fit of W.H. Press et al., *Numerical Recipes*, 2nd ed. (1992) §6.2, `erfcc`).
#[inline]
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Value and partial derivatives of a profile at one point.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProfilePoint {
    /// Profile value (density per axis unit, times area).
    pub value: f64,
    /// ∂value/∂centre.
    pub d_center: f64,
    /// ∂value/∂width — σ for [`gaussian`], FWHM for [`pseudo_voigt`].
    pub d_width: f64,
    /// ∂value/∂η (pseudo-Voigt mixing); zero for the Gaussian.
    pub d_eta: f64,
}

/// Area-normalised Gaussian `area/(σ√2π)·exp(−(x−c)²/2σ²)` with derivatives in the
/// centre and in σ. (∂/∂area is `value/area`.)
#[inline]
pub fn gaussian(x: f64, center: f64, sigma: f64, area: f64) -> ProfilePoint {
    let u = (x - center) / sigma;
    let value = area / (sigma * SQRT_2PI) * (-0.5 * u * u).exp();
    ProfilePoint {
        value,
        d_center: value * u / sigma,
        d_width: value * (u * u - 1.0) / sigma,
        d_eta: 0.0,
    }
}

/// Hypermet low-energy tail and step of an XRF peak, as fractions of the Gaussian area.
///
/// Tail: `area·t/(2β)·exp((x−c)/β + σ²/2β²)·erfc((x−c)/(√2σ) + σ/(√2β))`;
/// step: `area·h/(2·gain_norm)·erfc((x−c)/(√2σ))` with the step height given per unit
/// of Gaussian peak height, as in PyMca's hypermet (Van Espen 2002, eqs. 4.42–4.45).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Hypermet {
    /// Short-tail area as a fraction of the Gaussian area.
    pub tail_area_ratio: f64,
    /// Short-tail slope β as a multiple of σ.
    pub tail_slope_ratio: f64,
    /// Step height as a fraction of the Gaussian peak height.
    pub step_height_ratio: f64,
}

impl Default for Hypermet {
    /// PyMca's default short tail and step for a Si detector (`[peakshape]` defaults).
    fn default() -> Self {
        Self {
            tail_area_ratio: 0.05,
            tail_slope_ratio: 0.7,
            step_height_ratio: 1e-4,
        }
    }
}

/// Value of a hypermet peak (Gaussian + tail + step) at `x`, area-normalised for the
/// Gaussian part. Derivatives are not provided for the tail; LM treats the tail
/// parameters as fixed.
#[inline]
pub fn hypermet(x: f64, center: f64, sigma: f64, area: f64, shape: &Hypermet) -> f64 {
    let g = gaussian(x, center, sigma, area).value;
    let dx = x - center;
    let mut v = g;
    if shape.tail_area_ratio > 0.0 && shape.tail_slope_ratio > 0.0 {
        let beta = shape.tail_slope_ratio * sigma;
        let arg = dx / beta + 0.5 * (sigma / beta).powi(2);
        // exp(arg)·erfc(..) can overflow in exp for large negative dx is fine (→0);
        // clamp the exponent to avoid inf·0.
        let e = erfc(dx / (SQRT_2 * sigma) + sigma / (SQRT_2 * beta));
        if e > 0.0 {
            v += area * shape.tail_area_ratio / (2.0 * beta) * (arg.min(700.0)).exp() * e;
        }
    }
    if shape.step_height_ratio > 0.0 {
        let height = area / (sigma * SQRT_2PI);
        v += 0.5 * height * shape.step_height_ratio * erfc(dx / (SQRT_2 * sigma));
    }
    v
}

/// Pseudo-Voigt `η·L + (1−η)·G` with common FWHM Γ, area-normalised, with derivatives
/// in the centre, Γ and η.
#[inline]
pub fn pseudo_voigt(x: f64, center: f64, fwhm: f64, eta: f64, area: f64) -> ProfilePoint {
    let dx = x - center;
    // Gaussian part with σ = Γ/2.3548.
    let sigma = fwhm / FWHM_PER_SIGMA;
    let g = gaussian(x, center, sigma, 1.0);
    // Lorentzian part with half width γ = Γ/2.
    let gamma = 0.5 * fwhm;
    let den = dx * dx + gamma * gamma;
    let l = gamma / (std::f64::consts::PI * den);
    let dl_dc = l * 2.0 * dx / den;
    // ∂L/∂γ = L/γ − L·2γ/den; ∂γ/∂Γ = 1/2.
    let dl_dfwhm = 0.5 * (l / gamma - l * 2.0 * gamma / den);
    let dg_dfwhm = g.d_width / FWHM_PER_SIGMA;
    ProfilePoint {
        value: area * (eta * l + (1.0 - eta) * g.value),
        d_center: area * (eta * dl_dc + (1.0 - eta) * g.d_center),
        d_width: area * (eta * dl_dfwhm + (1.0 - eta) * dg_dfwhm),
        d_eta: area * (l - g.value),
    }
}

/// Thompson–Cox–Hastings combination of Gaussian and Lorentzian FWHMs into the
/// pseudo-Voigt FWHM Γ and mixing η (Thompson, Cox & Hastings, J. Appl. Cryst. 20
/// (1987) 79, eqs. 3 and 4). Returns `(Γ, η)`.
pub fn tch_fwhm_eta(fwhm_gauss: f64, fwhm_lorentz: f64) -> (f64, f64) {
    let (g, l) = (fwhm_gauss.max(0.0), fwhm_lorentz.max(0.0));
    let g2 = g * g;
    let l2 = l * l;
    let s = g2 * g2 * g
        + 2.69269 * g2 * g2 * l
        + 2.42843 * g2 * g * l2
        + 4.47163 * g2 * l2 * l
        + 0.07842 * g * l2 * l2
        + l2 * l2 * l;
    let fwhm = s.powf(0.2);
    if fwhm <= 0.0 {
        return (0.0, 0.0);
    }
    let q = l / fwhm;
    let eta = 1.36603 * q - 0.47719 * q * q + 0.11116 * q * q * q;
    (fwhm, eta.clamp(0.0, 1.0))
}

/// Caglioti, Paoletti & Ricci (NIM 3 (1958) 223) Gaussian FWHM in degrees:
/// `Γ_G² = U·tan²θ + V·tanθ + W`, θ = half of 2θ.
pub fn caglioti_fwhm(two_theta_deg: f64, u: f64, v: f64, w: f64) -> f64 {
    let t = (0.5 * two_theta_deg).to_radians().tan();
    (u * t * t + v * t + w).max(1e-12).sqrt()
}

/// Lorentzian FWHM in degrees for crystallite size and strain broadening,
/// `Γ_L = X/cosθ + Y·tanθ` (Thompson, Cox & Hastings 1987, eq. 5).
pub fn lorentz_fwhm(two_theta_deg: f64, x: f64, y: f64) -> f64 {
    let th = (0.5 * two_theta_deg).to_radians();
    (x / th.cos() + y * th.tan()).max(0.0)
}

/// Derivative of the error function, used in tests: 2/√π·exp(−x²).
#[inline]
pub fn erf_derivative(x: f64) -> f64 {
    FRAC_2_SQRT_PI * (-x * x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
        let n = 200_000;
        let h = (b - a) / n as f64;
        (0..n).map(|i| f(a + (i as f64 + 0.5) * h)).sum::<f64>() * h
    }

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - want).abs() < 2e-7, "erfc({x}) = {}", erfc(x));
        }
        // derivative consistency: d erfc/dx = −2/√π e^{−x²}
        let h = 1e-5;
        let x = 0.7;
        let num = (erfc(x + h) - erfc(x - h)) / (2.0 * h);
        assert!((num + erf_derivative(x)).abs() < 1e-5);
    }

    #[test]
    fn profiles_integrate_to_their_area() {
        let g = integrate(|x| gaussian(x, 5.0, 0.07, 3.0).value, 3.0, 7.0);
        assert!((g - 3.0).abs() < 1e-6, "{g}");
        let pv = integrate(|x| pseudo_voigt(x, 30.0, 0.1, 0.4, 2.0).value, 0.0, 60.0);
        // Lorentzian tails beyond ±30° carry 0.4·(2/π)·atan... ≈ 0.4·0.0021 of the area.
        assert!((pv - 2.0).abs() < 2.0 * 0.4 * 0.0022, "{pv}");
        let shape = Hypermet {
            tail_area_ratio: 0.1,
            tail_slope_ratio: 1.0,
            step_height_ratio: 0.0,
        };
        let h = integrate(|x| hypermet(x, 5.0, 0.07, 1.0, &shape), 3.0, 7.0);
        assert!((h - 1.1).abs() < 1e-4, "{h}");
    }

    #[test]
    fn analytic_derivatives_match_finite_differences() {
        let (x, c, w, eta, a) = (10.03, 10.0, 0.08, 0.3, 5.0);
        let h = 1e-6;
        let p = pseudo_voigt(x, c, w, eta, a);
        let dc = (pseudo_voigt(x, c + h, w, eta, a).value
            - pseudo_voigt(x, c - h, w, eta, a).value)
            / (2.0 * h);
        let dw = (pseudo_voigt(x, c, w + h, eta, a).value
            - pseudo_voigt(x, c, w - h, eta, a).value)
            / (2.0 * h);
        let de = (pseudo_voigt(x, c, w, eta + h, a).value
            - pseudo_voigt(x, c, w, eta - h, a).value)
            / (2.0 * h);
        assert!(
            (p.d_center - dc).abs() < 1e-5 * dc.abs().max(1.0),
            "{} {dc}",
            p.d_center
        );
        assert!(
            (p.d_width - dw).abs() < 1e-5 * dw.abs().max(1.0),
            "{} {dw}",
            p.d_width
        );
        assert!(
            (p.d_eta - de).abs() < 1e-5 * de.abs().max(1.0),
            "{} {de}",
            p.d_eta
        );
        let s = 0.05;
        let g = gaussian(x, c, s, a);
        let dgs = (gaussian(x, c, s + h, a).value - gaussian(x, c, s - h, a).value) / (2.0 * h);
        assert!((g.d_width - dgs).abs() < 1e-4 * dgs.abs().max(1.0));
    }

    #[test]
    fn tch_limits_are_pure_gaussian_and_pure_lorentzian() {
        let (f, e) = tch_fwhm_eta(0.1, 0.0);
        assert!((f - 0.1).abs() < 1e-12 && e.abs() < 1e-12);
        let (f, e) = tch_fwhm_eta(0.0, 0.1);
        assert!((f - 0.1).abs() < 1e-12 && (e - 1.0).abs() < 1e-3);
        let (f, e) = tch_fwhm_eta(0.1, 0.1);
        assert!(f > 0.1 && f < 0.2 && e > 0.3 && e < 0.7, "{f} {e}");
    }
}
