//! The spectrum model shared by XRF and XRD: counts on an axis that knows what it is,
//! plus the measurement metadata a forensic report needs.

mod axis;

pub use axis::{bragg_d, bragg_two_theta, q_from_d, Axis, Calibration, Technique, HC_KEV_A};

use ndarray::Array1;
use serde::Serialize;
use std::path::PathBuf;

/// Measurement metadata carried from the file into results and reports.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Metadata {
    /// Title / comment line of the file.
    pub title: Option<String>,
    /// Live (dead-time corrected) acquisition time, s.
    pub live_time_s: Option<f64>,
    /// Real (clock) acquisition time, s.
    pub real_time_s: Option<f64>,
    /// X-ray tube (or beam) voltage, kV.
    pub tube_kv: Option<f64>,
    /// Tube current, µA.
    pub tube_ua: Option<f64>,
    /// Tube anode element symbol (e.g. "Rh").
    pub anode: Option<String>,
    /// Detector description.
    pub detector: Option<String>,
    /// Instrument model / serial.
    pub instrument: Option<String>,
    /// Acquisition date/time as written in the file.
    pub acquired: Option<String>,
    /// Name of the format the file was read as.
    pub format: String,
    /// File the spectrum was read from.
    pub source_file: Option<PathBuf>,
    /// SHA-256 (hex) of the exact bytes read.
    pub sha256: String,
    /// XRD: Kα2 wavelength (Å) when the file gives one (the axis holds Kα1).
    pub ka2_wavelength_a: Option<f64>,
    /// XRD: Kα2/Kα1 intensity ratio when the file gives one.
    pub ka2_ka1_ratio: Option<f64>,
    /// XRD: true when neither the file nor the caller (`--wavelength`) gave a wavelength
    /// and the reader put the Cu Kα1 default on the axis; the XRD analysis then infers
    /// the anode from the pattern.
    pub wavelength_defaulted: bool,
}

/// Counts on an axis, with metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Counts per channel/step (raw counts, ≥ 0, finite).
    pub counts: Array1<f64>,
    /// What the channel index means.
    pub axis: Axis,
    /// Measurement metadata.
    pub meta: Metadata,
}

impl Spectrum {
    /// Number of channels / steps.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when there are no channels.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// XRF, XRD (angle-dispersive) or EDXRD.
    pub fn technique(&self) -> Technique {
        self.axis.technique()
    }

    /// Counts as a contiguous slice.
    pub fn counts_slice(&self) -> &[f64] {
        self.counts.as_slice().unwrap_or(&[])
    }

    /// The axis value (keV or degrees 2θ) at every channel.
    pub fn x_values(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.axis.x_at(i)).collect()
    }

    /// d-spacing (Å) of every channel of a diffraction pattern; `None` for XRF.
    pub fn d_spacings(&self) -> Option<Vec<f64>> {
        (0..self.len()).map(|i| self.axis.d_spacing_at(i)).collect()
    }

    /// Check counts are finite and non-negative; returns the first bad channel.
    pub fn validate_counts(counts: &[f64]) -> crate::Result<()> {
        if counts.is_empty() {
            return Err(crate::Error::Invalid {
                what: "spectrum",
                message: "no data channels".into(),
            });
        }
        // one branch-free pass over every channel (vectorised); the position only when
        // a channel is bad
        let bad = |v: &f64| !(0.0..=f64::MAX).contains(v);
        if !counts.iter().fold(false, |any, v| any | bad(v)) {
            return Ok(());
        }
        if let Some((i, v)) = counts.iter().enumerate().find(|(_, v)| bad(v)) {
            return Err(crate::Error::Invalid {
                what: "counts",
                message: format!("channel {i} has {v} (counts must be finite and ≥ 0)"),
            });
        }
        Ok(())
    }
}
