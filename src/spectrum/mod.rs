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
    /// The primary-beam filter between the tube and the sample, layer by layer in the
    /// beam's order: `Some(vec![])` when the file says the beam is unfiltered, `None`
    /// when it does not say (unknown; the excitation model then assumes none). Read
    /// from a `.pdz` beam record and from the EMSA keyword `##FILTER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beam_filter: Option<Vec<FilterLayer>>,
    /// Detector description.
    pub detector: Option<String>,
    /// What the spectrum records when the file says more than X-ray fluorescence (EMSA
    /// `#SIGNALTYPE` "EDS_SEM", "EDS_TEM", "EDS"…; Bruker `.spx`: "EDS_SEM" for a SEM
    /// header); none for X-ray fluorescence or when the file does not say.
    pub signal_type: Option<String>,
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
    /// What reading changed in the data, in words (e.g. the zero-peak residue taken as
    /// zero, see [`Spectrum::accept_zero_peak_residue`]); carried into the results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// XRD: true when neither the file nor the caller (`--wavelength`) gave a wavelength
    /// and the reader put the Cu Kα1 default on the axis; the XRD analysis then infers
    /// the anode from the pattern.
    pub wavelength_defaulted: bool,
}

/// One layer of a primary-beam filter (a metal foil between the tube and the sample that
/// takes the low-energy part out of the tube spectrum: Al, Ti, Cu foils on handheld
/// analysers' high-kV beams).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilterLayer {
    /// Element symbol of the foil.
    pub element: String,
    /// Thickness, µm.
    pub thickness_um: f64,
}

/// A beam filter as text: `Cu 100 µm + Ti 25 µm`, or `none` for an empty one.
pub fn describe_filter(layers: &[FilterLayer]) -> String {
    if layers.is_empty() {
        return "none".into();
    }
    layers
        .iter()
        .map(|l| format!("{} {} µm", l.element, l.thickness_um))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Read a beam filter written as [`describe_filter`] writes it: `none` (or `no`, `-`,
/// empty), or layers joined by `+`, each an element symbol and a thickness in µm
/// (`Cu 100 µm`, `Cu 100 um`, `Cu 100`; `Al 0.3 mm` in mm).
///
/// # Errors
/// [`crate::Error::Invalid`] naming the layer that is not an element and a positive,
/// finite thickness.
pub fn parse_filter(text: &str) -> crate::Result<Vec<FilterLayer>> {
    let t = text.trim();
    if t.is_empty() || ["none", "no", "-", "open"].contains(&t.to_ascii_lowercase().as_str()) {
        return Ok(Vec::new());
    }
    let bad = |layer: &str| crate::Error::Invalid {
        what: "beam filter",
        message: format!(
            "'{layer}' is not a filter layer (an element symbol and a thickness in µm, \
             e.g. 'Cu 100 um')"
        ),
    };
    t.split('+')
        .map(|layer| {
            let mut words = layer.split_whitespace();
            let (Some(sym), Some(num)) = (words.next(), words.next()) else {
                return Err(bad(layer.trim()));
            };
            let scale = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("um" | "µm" | "μm" | "micron" | "microns") => 1.0,
                Some("mm") => 1000.0,
                Some(_) => return Err(bad(layer.trim())),
            };
            let db = crate::tables::xraydb();
            let symbol = db
                .atomic_number(sym)
                .ok()
                .and_then(|z| db.symbol(&z.to_string()).ok())
                .ok_or_else(|| bad(layer.trim()))?;
            let thickness_um = num
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| bad(layer.trim()))?
                * scale;
            Ok(FilterLayer {
                element: symbol.to_string(),
                thickness_um,
            })
        })
        .collect()
}

/// The negative counts an energy-dispersive export may carry where its electronics
/// subtracted the zero (noise) peak: Bruker's exports of the M4 Tornado leave a few
/// channels of −1 to −300 counts around 0.3 keV. Such residue is below every line the
/// analysis uses, so it is taken as zero; anything beyond these bounds is a genuinely
/// negative spectrum and stays an input error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroPeakResidue {
    /// Highest energy (keV) at which a negative count is zero-peak residue.
    pub max_energy_kev: f64,
    /// Largest sum of the negative counts, as a fraction of the spectrum's positive
    /// counts (the NIST NeXLSpectrum Zr export: 1,837 of 3.9 M, 5·10⁻⁴).
    pub max_fraction_of_total: f64,
}

impl Default for ZeroPeakResidue {
    fn default() -> Self {
        ZeroPeakResidue {
            max_energy_kev: 0.5,
            max_fraction_of_total: 2e-3,
        }
    }
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

    /// Take an energy spectrum's zero-peak residue (negative counts below
    /// [`ZeroPeakResidue::max_energy_kev`] whose sum stays within
    /// [`ZeroPeakResidue::max_fraction_of_total`]) as zero, with a note in
    /// [`Metadata::notes`]. Anything else is left as it is, for
    /// [`Spectrum::validate_counts`] to refuse: NaN, infinities, a negative count above
    /// the bound energy, a residue too large to be one. A spectrum without an energy
    /// axis is left unchanged.
    pub fn accept_zero_peak_residue(&mut self, bounds: &ZeroPeakResidue) {
        let Some(cal) = self.axis.calibration().copied() else {
            return;
        };
        let Some(counts) = self.counts.as_slice_mut() else {
            return;
        };
        // one branch-free pass (vectorised) for the common case: nothing negative
        if !counts.iter().fold(false, |any, v| any | (*v < 0.0)) {
            return;
        }
        let mut negative_sum = 0.0;
        let mut positive_sum = 0.0;
        let mut n_negative = 0usize;
        for (i, &v) in counts.iter().enumerate() {
            if !v.is_finite() {
                return;
            }
            if v < 0.0 {
                if cal.energy_kev(i as f64) >= bounds.max_energy_kev {
                    return;
                }
                negative_sum -= v;
                n_negative += 1;
            } else {
                positive_sum += v;
            }
        }
        if n_negative == 0 || negative_sum > bounds.max_fraction_of_total * positive_sum {
            return;
        }
        for v in counts.iter_mut() {
            *v = v.max(0.0);
        }
        self.meta.notes.push(format!(
            "{n_negative} channel(s) below {:.1} keV held negative counts (sum {negative_sum:.0}: \
             zero-peak subtraction residue), taken as zero",
            bounds.max_energy_kev
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 1,000 channels of 10 eV from −0.96 keV (the M4 Tornado's axis), 1,000 counts each.
    fn bruker_like(set: &[(usize, f64)]) -> Spectrum {
        let mut counts = Array1::from_elem(1000, 1000.0);
        for &(i, v) in set {
            counts[i] = v;
        }
        Spectrum {
            counts,
            axis: Axis::Energy(Calibration::linear(-0.9553, 0.009999).unwrap()),
            meta: Metadata::default(),
        }
    }

    /// Channels 124–127 (0.28–0.32 keV) holding −208 … −1, as the NeXLSpectrum exports
    /// do: taken as zero, the rest untouched, one note.
    #[test]
    fn zero_peak_residue_below_half_a_kev_is_taken_as_zero_with_a_note() {
        let mut s = bruker_like(&[(124, -208.0), (125, -40.0), (126, -3.0), (127, -1.0)]);
        s.accept_zero_peak_residue(&ZeroPeakResidue::default());
        assert!(Spectrum::validate_counts(s.counts_slice()).is_ok());
        assert_eq!(s.counts[124], 0.0);
        assert_eq!(s.counts[127], 0.0);
        assert_eq!(s.counts[128], 1000.0);
        assert_eq!(s.meta.notes.len(), 1);
        assert!(s.meta.notes[0].starts_with("4 channel(s) below 0.5 keV"));
    }

    /// A negative count above 0.5 keV (channel 200 is 1.04 keV), a residue too large
    /// to be one, NaN and infinity stay input errors; nothing is changed or noted.
    #[test]
    fn genuinely_negative_or_non_finite_spectra_stay_errors() {
        for bad in [
            vec![(124, -5.0), (200, -1.0)],
            vec![(124, -5000.0)],
            vec![(124, f64::NAN)],
            vec![(124, -5.0), (300, f64::INFINITY)],
        ] {
            let mut s = bruker_like(&bad);
            s.accept_zero_peak_residue(&ZeroPeakResidue::default());
            assert!(
                Spectrum::validate_counts(s.counts_slice()).is_err(),
                "{bad:?} accepted"
            );
            assert!(s.meta.notes.is_empty());
        }
    }

    /// Filters as files write them read back as layers; what is not one is refused.
    #[test]
    fn beam_filters_parse_as_layers() {
        let l = |e: &str, t: f64| FilterLayer {
            element: e.into(),
            thickness_um: t,
        };
        assert_eq!(parse_filter("none").unwrap(), vec![]);
        assert_eq!(parse_filter("").unwrap(), vec![]);
        assert_eq!(parse_filter("Cu 100 um").unwrap(), vec![l("Cu", 100.0)]);
        assert_eq!(
            parse_filter("Cu 100 µm + Ti 25 + Al 0.3 mm").unwrap(),
            vec![l("Cu", 100.0), l("Ti", 25.0), l("Al", 300.0)]
        );
        let layers = vec![l("Cu", 75.0), l("Ti", 25.0)];
        assert_eq!(parse_filter(&describe_filter(&layers)).unwrap(), layers);
        for bad in ["Xx 100", "Cu", "Cu -5", "Cu 10 furlongs", "Cu NaN"] {
            assert!(parse_filter(bad).is_err(), "{bad} accepted");
        }
    }

    /// A spectrum without an energy axis is not changed: its negative count stays an error.
    #[test]
    fn uncalibrated_negative_counts_stay_errors() {
        let mut s = bruker_like(&[(3, -1.0)]);
        s.axis = Axis::Channels;
        s.accept_zero_peak_residue(&ZeroPeakResidue::default());
        assert!(Spectrum::validate_counts(s.counts_slice()).is_err());
    }
}
