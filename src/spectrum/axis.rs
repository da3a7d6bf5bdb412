//! Axes: energy calibration for XRF/EDS and EDXRD, 2θ with a wavelength for XRD.

use serde::Serialize;

/// hc in keV·Å: λ(Å) = 12.398 42 / E(keV) (CODATA 2018).
pub const HC_KEV_A: f64 = 12.398_419_843;

/// Channel → energy calibration: E(keV) = offset + gain·ch + quad·ch².
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    /// Energy of channel 0, keV.
    pub offset_kev: f64,
    /// keV per channel.
    pub gain_kev: f64,
    /// Quadratic term, keV per channel².
    pub quad_kev: f64,
}

impl Calibration {
    /// A linear calibration; rejects non-finite or non-positive gain.
    pub fn linear(offset_kev: f64, gain_kev: f64) -> crate::Result<Self> {
        if !gain_kev.is_finite() || gain_kev <= 0.0 {
            return Err(crate::Error::Invalid {
                what: "gain",
                message: format!("{gain_kev} keV/channel (must be > 0)"),
            });
        }
        if !offset_kev.is_finite() {
            return Err(crate::Error::Invalid {
                what: "offset",
                message: format!("{offset_kev} keV"),
            });
        }
        Ok(Self {
            offset_kev,
            gain_kev,
            quad_kev: 0.0,
        })
    }

    /// Energy (keV) of a (possibly fractional) channel.
    #[inline]
    pub fn energy_kev(&self, channel: f64) -> f64 {
        self.offset_kev + self.gain_kev * channel + self.quad_kev * channel * channel
    }

    /// Fractional channel of an energy (inverse of [`Calibration::energy_kev`]).
    #[inline]
    pub fn channel(&self, energy_kev: f64) -> f64 {
        if self.quad_kev == 0.0 {
            return (energy_kev - self.offset_kev) / self.gain_kev;
        }
        // Root of quad·c² + gain·c + (offset − E) = 0 nearest the linear solution.
        let (a, b, c) = (self.quad_kev, self.gain_kev, self.offset_kev - energy_kev);
        let disc = (b * b - 4.0 * a * c).max(0.0);
        (-b + disc.sqrt()) / (2.0 * a)
    }
}

/// Which kind of measurement a spectrum is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Technique {
    /// X-ray fluorescence / EDS energy spectrum.
    Xrf,
    /// Angle-dispersive powder diffraction.
    Xrd,
    /// Energy-dispersive diffraction at a fixed 2θ.
    EdXrd,
}

/// What the channel index of a spectrum means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Axis {
    /// An energy spectrum with no calibration yet (needs --gain/--offset or self-calibration).
    Channels,
    /// XRF/EDS energy axis.
    Energy(Calibration),
    /// Angle-dispersive diffraction: 2θ (degrees) of each step, and the wavelength (Å).
    TwoTheta {
        /// 2θ of every step, strictly increasing.
        two_theta_deg: Vec<f64>,
        /// Wavelength (Å), Kα1 of the tube by default.
        wavelength_a: f64,
    },
    /// Energy-dispersive diffraction: energy axis at a fixed scattering angle.
    EnergyDispersive {
        /// Energy calibration.
        calibration: Calibration,
        /// Fixed 2θ, degrees.
        two_theta_deg: f64,
    },
}

impl Axis {
    /// The technique this axis belongs to.
    pub fn technique(&self) -> Technique {
        match self {
            Axis::Channels | Axis::Energy(_) => Technique::Xrf,
            Axis::TwoTheta { .. } => Technique::Xrd,
            Axis::EnergyDispersive { .. } => Technique::EdXrd,
        }
    }

    /// Energy calibration, where the axis has one.
    pub fn calibration(&self) -> Option<&Calibration> {
        match self {
            Axis::Energy(c) | Axis::EnergyDispersive { calibration: c, .. } => Some(c),
            _ => None,
        }
    }

    /// Natural x value of channel `i`: keV for energy axes, degrees 2θ for XRD,
    /// the channel number for an uncalibrated spectrum.
    pub fn x_at(&self, i: usize) -> f64 {
        match self {
            Axis::Channels => i as f64,
            Axis::Energy(c) | Axis::EnergyDispersive { calibration: c, .. } => {
                c.energy_kev(i as f64)
            }
            Axis::TwoTheta { two_theta_deg, .. } => {
                two_theta_deg.get(i).copied().unwrap_or(f64::NAN)
            }
        }
    }

    /// d-spacing (Å) at channel `i` for diffraction axes (Bragg: λ = 2d sinθ;
    /// EDXRD: d = hc / (2 E sinθ) = 6.19921 / (E·sinθ) Å·keV).
    pub fn d_spacing_at(&self, i: usize) -> Option<f64> {
        match self {
            Axis::TwoTheta {
                two_theta_deg,
                wavelength_a,
            } => {
                let tt = *two_theta_deg.get(i)?;
                Some(bragg_d(tt, *wavelength_a))
            }
            Axis::EnergyDispersive {
                calibration,
                two_theta_deg,
            } => {
                let e = calibration.energy_kev(i as f64);
                Some(HC_KEV_A / (2.0 * e * (two_theta_deg.to_radians() / 2.0).sin()))
            }
            _ => None,
        }
    }
}

/// d (Å) from 2θ (degrees) and λ (Å): d = λ / (2 sin θ).
pub fn bragg_d(two_theta_deg: f64, wavelength_a: f64) -> f64 {
    wavelength_a / (2.0 * (two_theta_deg.to_radians() / 2.0).sin())
}

/// 2θ (degrees) of a d-spacing at wavelength λ; `None` when λ > 2d (no reflection).
pub fn bragg_two_theta(d_a: f64, wavelength_a: f64) -> Option<f64> {
    let s = wavelength_a / (2.0 * d_a);
    (s > 0.0 && s <= 1.0).then(|| 2.0 * s.asin().to_degrees())
}

/// q (Å⁻¹) = 2π / d.
pub fn q_from_d(d_a: f64) -> f64 {
    2.0 * std::f64::consts::PI / d_a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bragg_round_trip_for_cu_ka1() {
        let d = bragg_d(33.15, 1.5406);
        assert!(
            (d - 2.700).abs() < 0.002,
            "hematite 104 near 2.70 Å, got {d}"
        );
        let tt = bragg_two_theta(d, 1.5406).unwrap();
        assert!((tt - 33.15).abs() < 1e-9);
    }

    #[test]
    fn edxrd_d_spacing_uses_fixed_angle() {
        let axis = Axis::EnergyDispersive {
            calibration: Calibration::linear(0.0, 0.1).unwrap(),
            two_theta_deg: 5.0,
        };
        // E = 50 keV at channel 500; d = 6.19921/(50·sin 2.5°) = 2.8424 Å
        let d = axis.d_spacing_at(500).unwrap();
        assert!((d - 2.8424).abs() < 1e-3, "{d}");
    }

    #[test]
    fn quadratic_calibration_inverts() {
        let c = Calibration {
            offset_kev: -0.1,
            gain_kev: 0.01,
            quad_kev: 1e-7,
        };
        let ch = c.channel(c.energy_kev(1234.5));
        assert!((ch - 1234.5).abs() < 1e-6);
    }

    #[test]
    fn zero_gain_is_rejected() {
        assert!(Calibration::linear(0.0, 0.0).is_err());
        assert!(Calibration::linear(0.0, -0.01).is_err());
    }
}
