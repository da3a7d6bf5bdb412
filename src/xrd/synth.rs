//! Synthetic powder patterns of phase mixtures, for tests, benchmarks and
//! `reescan synth --xrd`: pseudo-Voigt (TCH) peaks with Caglioti widths, Kα1/Kα2,
//! smooth background, Poisson noise, zero shift, optional March–Dollase preferred
//! orientation, for Cu/Co/Mo tubes and energy-dispersive XRD at a fixed angle.
//!
//! Phase intensities follow the absolute scale of [`Phase::weight_scale`]
//! (I ∝ w·Σ|F|²·LP / (V²ρ)), so mixtures carry true weight fractions.

use super::library::{Library, Phase};
use super::pattern::Geometry;
use super::profile::{
    lines, march_dollase, render, Instrument, Width, CO_KA, CU_KA, KA2_RATIO, MO_KA,
};
use crate::spectrum::{Axis, Calibration, Metadata, Spectrum};
use crate::{Error, Result};
use ndarray::Array1;
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson};

/// Radiation and geometry of a synthetic measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Radiation {
    /// Cu Kα tube, angle-dispersive.
    Cu,
    /// Co Kα tube, angle-dispersive.
    Co,
    /// Mo Kα tube, angle-dispersive.
    Mo,
    /// Energy-dispersive at a fixed scattering angle 2θ (degrees).
    EdXrd {
        /// Fixed 2θ, degrees.
        two_theta_deg: f64,
    },
}

/// Preferred orientation of one phase (March–Dollase).
#[derive(Debug, Clone, PartialEq)]
pub struct PreferredOrientation {
    /// Phase name.
    pub phase: String,
    /// Preferred axis hkl.
    pub axis: [i32; 3],
    /// March ratio r (1 = random; < 1 platy along the axis).
    pub ratio: f64,
}

/// Options of a synthetic pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Radiation / geometry.
    pub radiation: Radiation,
    /// Draw Kα2 (angle-dispersive only).
    pub kalpha2: bool,
    /// Axis range: degrees 2θ, or keV for EDXRD.
    pub range: (f64, f64),
    /// Step: degrees 2θ or keV per channel.
    pub step: f64,
    /// Zero shift (axis units).
    pub zero_shift: f64,
    /// Peak widths.
    pub width: Width,
    /// Net counts at the highest point of the diffraction pattern.
    pub peak_counts: f64,
    /// Background level (counts) at high angle / energy.
    pub background: f64,
    /// Preferred orientation, per phase.
    pub preferred_orientation: Vec<PreferredOrientation>,
    /// Poisson noise on (off: the expected counts).
    pub noise: bool,
    /// Random seed.
    pub seed: u64,
}

impl SynthOptions {
    /// Laboratory defaults for a radiation: Cu 5–90° / Co 5–100° / Mo 3–45° at 0.02°,
    /// EDXRD 15–120 keV at 0.025 keV with a Ge-like resolution.
    pub fn for_radiation(radiation: Radiation) -> Self {
        let angle_width = Width::Tch {
            u: 0.004,
            v: -0.002,
            w: 0.003,
            x: 0.03,
            y: 0.0,
        };
        let (range, step, width) = match radiation {
            Radiation::Cu => ((5.0, 90.0), 0.02, angle_width),
            Radiation::Co => ((5.0, 100.0), 0.02, angle_width),
            Radiation::Mo => ((3.0, 45.0), 0.01, angle_width),
            Radiation::EdXrd { .. } => (
                (15.0, 120.0),
                0.025,
                Width::Empirical {
                    w: 0.25 * 0.25,
                    u: 0.004 * 0.004,
                    eta: 0.2,
                },
            ),
        };
        Self {
            radiation,
            kalpha2: !matches!(radiation, Radiation::EdXrd { .. }),
            range,
            step,
            zero_shift: 0.0,
            width,
            peak_counts: 20_000.0,
            background: 300.0,
            preferred_orientation: Vec::new(),
            noise: true,
            seed: 1,
        }
    }

    fn geometry(&self) -> (Geometry, Option<(f64, f64)>) {
        let tube = |(k1, k2): (f64, f64)| {
            (
                Geometry::BraggBrentano { wavelength_a: k1 },
                self.kalpha2.then_some((k2, KA2_RATIO)),
            )
        };
        match self.radiation {
            Radiation::Cu => tube(CU_KA),
            Radiation::Co => tube(CO_KA),
            Radiation::Mo => tube(MO_KA),
            Radiation::EdXrd { two_theta_deg } => {
                (Geometry::EnergyDispersive { two_theta_deg }, None)
            }
        }
    }
}

/// Render a mixture `phases` = (phase name, weight fraction) into a spectrum.
///
/// # Errors
/// [`Error::Unknown`] for a phase not in the library, [`Error::Invalid`] for a bad
/// range or step.
pub fn synth(library: &Library, phases: &[(String, f64)], opts: &SynthOptions) -> Result<Spectrum> {
    let (lo, hi) = opts.range;
    if !(opts.step > 0.0 && hi > lo) {
        return Err(Error::Invalid {
            what: "synthetic axis",
            message: format!("range {lo}..{hi} step {}", opts.step),
        });
    }
    let n = ((hi - lo) / opts.step).floor() as usize + 1;
    let xs: Vec<f64> = (0..n).map(|i| lo + opts.step * i as f64).collect();
    let (geometry, kalpha2) = opts.geometry();
    let instrument = Instrument {
        geometry,
        kalpha2,
        width: opts.width,
        zero_shift: opts.zero_shift,
        displacement: 0.0,
    };
    let mut net = vec![0.0; n];
    for (name, w) in phases {
        let phase = library.get(name).ok_or_else(|| Error::Unknown {
            what: "phase",
            name: name.clone(),
            known: library.names().join(", "),
        })?;
        add_phase(&mut net, phase, *w, &instrument, &xs, opts);
    }
    let max = net.iter().cloned().fold(0.0, f64::max);
    let k = if max > 0.0 {
        opts.peak_counts / max
    } else {
        0.0
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
    let counts: Vec<f64> = xs
        .iter()
        .zip(&net)
        .map(|(&x, &y)| {
            let expected = background(x, opts) + k * y;
            match (opts.noise, Poisson::new(expected.max(1e-9))) {
                (true, Ok(p)) => p.sample(&mut rng),
                _ => expected,
            }
        })
        .collect();
    let axis = match geometry {
        Geometry::BraggBrentano { wavelength_a } => Axis::TwoTheta {
            two_theta_deg: xs,
            wavelength_a,
        },
        Geometry::EnergyDispersive { two_theta_deg } => Axis::EnergyDispersive {
            calibration: Calibration::linear(lo, opts.step)?,
            two_theta_deg,
        },
    };
    let title = phases
        .iter()
        .map(|(p, w)| format!("{p} {:.2} wt%", 100.0 * w))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Spectrum {
        counts: Array1::from(counts),
        axis,
        meta: Metadata {
            title: Some(format!("synthetic XRD: {title}")),
            format: "synthetic".into(),
            ..Metadata::default()
        },
    })
}

/// Render a drawn sample — crystalline phases with their wt % of the whole sample, as
/// in `tables::materials::SampleComposition::phases` — so that the XRD pattern of a
/// synthetic shipment agrees with its XRF spectrum. Names not in the library
/// (amorphous components) add no lines; they dilute all phases alike, which the
/// normalisation to `peak_counts` absorbs.
///
/// # Errors
/// [`Error::Invalid`] when no phase of the sample is in the library.
pub fn sample_pattern(
    phases_wt_pct: &[(String, f64)],
    radiation: Radiation,
    seed: u64,
) -> Result<Spectrum> {
    let lib = super::library::builtin();
    let mixture: Vec<(String, f64)> = phases_wt_pct
        .iter()
        .filter(|(name, w)| *w > 0.0 && lib.get(name).is_some())
        .map(|(name, w)| (name.clone(), w / 100.0))
        .collect();
    if mixture.is_empty() {
        return Err(Error::Invalid {
            what: "sample",
            message: "no crystalline phase of the XRD library in the sample".into(),
        });
    }
    let mut opts = SynthOptions::for_radiation(radiation);
    opts.seed = seed;
    synth(&lib, &mixture, &opts)
}

fn add_phase(
    net: &mut [f64],
    phase: &Phase,
    w: f64,
    instrument: &Instrument,
    xs: &[f64],
    opts: &SynthOptions,
) {
    let po = opts
        .preferred_orientation
        .iter()
        .find(|p| p.phase == phase.name);
    let cell = &phase.structure.cell;
    let factors: Option<Vec<f64>> = po.map(|p| {
        phase
            .reflections
            .iter()
            .map(|r| march_dollase(cell, r, p.axis, p.ratio))
            .collect()
    });
    let range = (xs[0] - 1.0, xs[xs.len() - 1] + 1.0);
    let ls = lines(
        &phase.reflections,
        instrument,
        range,
        w * phase.weight_scale(),
        factors.as_deref(),
    );
    render(&ls, instrument, xs, 12.0, 1e-5).add_to(1.0, net);
}

/// Smooth background: a level plus a low-angle (low-energy) rise.
fn background(x: f64, opts: &SynthOptions) -> f64 {
    let (lo, hi) = opts.range;
    let t = (x - lo) / (hi - lo);
    opts.background * (1.0 + 0.6 * (-t / 0.15).exp() + 0.1 * (1.0 - t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xrd::library::builtin;

    #[test]
    fn hematite_strongest_line_sits_at_104() {
        let lib = builtin();
        let mut o = SynthOptions::for_radiation(Radiation::Cu);
        o.noise = false;
        o.kalpha2 = false;
        let s = synth(&lib, &[("hematite".into(), 1.0)], &o).unwrap();
        let c = s.counts_slice();
        let i = (0..c.len()).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap();
        assert!((s.axis.x_at(i) - 33.16).abs() < 0.03, "{}", s.axis.x_at(i));
    }

    #[test]
    fn edxrd_pattern_has_energy_axis() {
        let lib = builtin();
        let o = SynthOptions::for_radiation(Radiation::EdXrd { two_theta_deg: 5.0 });
        let s = synth(
            &lib,
            &[("zircon".into(), 0.9), ("monazite_Ce".into(), 0.1)],
            &o,
        )
        .unwrap();
        assert!(matches!(s.axis, Axis::EnergyDispersive { .. }));
        assert!(s.counts_slice().iter().cloned().fold(0.0, f64::max) > 10_000.0);
    }

    #[test]
    fn unknown_phase_is_an_error() {
        let lib = builtin();
        let o = SynthOptions::for_radiation(Radiation::Co);
        assert!(synth(&lib, &[("unobtainium".into(), 1.0)], &o).is_err());
    }
}
