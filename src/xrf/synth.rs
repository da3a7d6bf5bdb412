//! Physics-based generator of labelled handheld-XRF cargo scans.
//!
//! The forward model is the same FP physics the analysis inverts ([`super::fp`]):
//! Rh tube spectrum (Kramers continuum + Rh K/L lines) at 40 or 50 kV, primary and
//! secondary fluorescence of every element of a drawn [`SampleComposition`],
//! Rayleigh and Compton scatter of the tube lines and of the continuum (which forms the
//! background), then the detector: efficiency, Fano + noise resolution
//! (FWHM 130–150 eV at Mn Kα), hypermet low-energy tail, Si escape peaks
//! (Reed & Ware 1972), pile-up sums ∝ rate·τ (Knoll 2010, §17.IV), and Poisson
//! counting noise. 2048 ch × 20 eV or 4096 ch × 10 eV, 10–60 s live time,
//! 20–80 kcps. Everything is deterministic per seed.

use super::fp::{fluorescence, scatter, scatter_cross_sections, Setup};
use super::physics::{compton_energy, mixture, mu_total, DetectorEfficiency, Tube};
use crate::signal::detector::{Detector, SI_KA_KEV};
use crate::signal::group::SiEscape;
use crate::signal::lineshape::{hypermet, Hypermet};
use crate::tables::materials::{draw_sample, Carrier, Commodity, SampleComposition};
use crate::{Axis, Calibration, Metadata, Result, Spectrum};
use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use serde::Serialize;

/// Instrument settings of one synthetic scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthOptions {
    /// Tube voltage, kV.
    pub kv: f64,
    /// Live time, s.
    pub live_time_s: f64,
    /// Number of channels.
    pub channels: usize,
    /// keV per channel.
    pub gain_kev: f64,
    /// Energy of channel 0, keV.
    pub offset_kev: f64,
    /// Electronic noise FWHM, keV.
    pub noise_kev: f64,
    /// Fano factor.
    pub fano: f64,
    /// Counted (output) rate, counts/s.
    pub rate_cps: f64,
    /// Pile-up resolving time, s.
    pub pileup_tau_s: f64,
    /// Hypermet short-tail area ratio.
    pub tail_area_ratio: f64,
}

impl SynthOptions {
    /// Draw handheld-like settings (DOMAIN.md "Instruments").
    pub fn draw(rng: &mut impl Rng) -> Self {
        let fine = rng.random_bool(0.5);
        Self {
            kv: if rng.random_bool(0.5) { 40.0 } else { 50.0 },
            live_time_s: rng.random_range(10.0..60.0),
            channels: if fine { 4096 } else { 2048 },
            gain_kev: if fine { 0.01 } else { 0.02 },
            offset_kev: rng.random_range(-0.03..0.03),
            noise_kev: rng.random_range(0.065..0.080),
            fano: rng.random_range(0.115..0.12),
            rate_cps: rng.random_range(20_000.0..80_000.0),
            pileup_tau_s: rng.random_range(0.3e-6..0.8e-6),
            tail_area_ratio: rng.random_range(0.01..0.04),
        }
    }
}

/// A generated scan and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthScan {
    /// The spectrum (calibrated, with live time, kV and anode in the metadata).
    pub spectrum: Spectrum,
    /// What the sample is.
    pub truth: SampleComposition,
    /// Instrument settings used.
    pub options: SynthOptions,
    /// Seed.
    pub seed: u64,
}

/// The label written beside a synthetic scan (`.truth.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truth<'a> {
    /// Seed.
    pub seed: u64,
    /// Sample description.
    pub sample: &'a SampleComposition,
    /// Instrument settings.
    pub instrument: &'a SynthOptions,
    /// Total rare earths, wt %.
    pub ree_total_wt_pct: f64,
}

impl SynthScan {
    /// The label as a serialisable value.
    pub fn truth_label(&self) -> Truth<'_> {
        Truth {
            seed: self.seed,
            sample: &self.truth,
            instrument: &self.options,
            ree_total_wt_pct: self.truth.ree_total_wt_pct(),
        }
    }

    /// The Si escape peaks the generator drew: (energy in keV, expected counts).
    pub fn escape_peaks(&self) -> Vec<(f64, f64)> {
        scaled_peaks(&self.truth, &self.options)
            .1
            .iter()
            .map(|p| (p.energy_kev, p.counts))
            .collect()
    }
}

/// Draw a sample and its scan (instrument settings drawn from the same seed).
///
/// # Errors
/// As [`draw_sample`].
pub fn generate(
    commodity: Commodity,
    carrier: Option<Carrier>,
    fraction: f64,
    explicit_ree: &[(String, f64)],
    seed: u64,
) -> Result<SynthScan> {
    let truth = draw_sample(commodity, carrier, fraction, explicit_ree, seed)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_0FC0_FFEE);
    let options = SynthOptions::draw(&mut rng);
    let spectrum = render(&truth, &options, &mut rng);
    Ok(SynthScan {
        spectrum,
        truth,
        options,
        seed,
    })
}

/// A peak to draw: energy, expected counts (relative until scaled), extra σ (keV).
#[derive(Debug, Clone, Copy)]
struct Peak {
    energy_kev: f64,
    counts: f64,
    extra_sigma_kev: f64,
    /// Fluorescence or scatter line that makes escape/pile-up.
    sharp: bool,
}

/// The expected (noise-free) peaks of a sample, relative scale.
fn expected_peaks(sample: &SampleComposition, opts: &SynthOptions) -> Vec<Peak> {
    let tube = Tube::rh(opts.kv);
    let setup = Setup::new(tube.spectrum(0.25), DetectorEfficiency::default());
    // fine continuum for the scattered background (no ripple from the binning)
    let fine = tube.spectrum(0.05);
    let mix = mixture(&sample.elements);
    let mut peaks = Vec::new();
    for el in fluorescence(&setup, &mix, true) {
        for (l, i) in el.element.lines.iter().zip(&el.lines) {
            if *i > 0.0 && l.energy_kev > 0.9 {
                peaks.push(Peak {
                    energy_kev: l.energy_kev,
                    counts: *i,
                    extra_sigma_kev: 0.0,
                    sharp: true,
                });
            }
        }
    }
    for s in scatter(&setup, &mix) {
        peaks.push(Peak {
            energy_kev: s.energy_kev,
            counts: s.rayleigh,
            extra_sigma_kev: 0.0,
            sharp: true,
        });
        peaks.push(Peak {
            energy_kev: s.compton_kev,
            counts: s.compton,
            extra_sigma_kev: compton_doppler_sigma(s.energy_kev),
            sharp: false,
        });
    }
    // scattered continuum: the background of a tube-excited spectrum
    let s1 = setup.psi_in_deg.to_radians().sin();
    let s2 = setup.psi_out_deg.to_radians().sin();
    let bin_sigma = 0.05 / 12f64.sqrt();
    for &(e, n) in &fine.continuum {
        if e < 1.5 {
            continue;
        }
        let (coh, inc) = scatter_cross_sections(&mix, e, setup.scatter_deg);
        let ec = compton_energy(e, setup.scatter_deg);
        let mu_e = mu_total(&mix, e);
        let mu_c = mu_total(&mix, ec);
        let eff = &setup.detector;
        peaks.push(Peak {
            energy_kev: e,
            counts: n * coh * eff.efficiency(e) / (mu_e / s1 + mu_e / s2),
            extra_sigma_kev: bin_sigma,
            sharp: false,
        });
        peaks.push(Peak {
            energy_kev: ec,
            counts: n * inc * eff.efficiency(ec) / (mu_e / s1 + mu_c / s2),
            extra_sigma_kev: (bin_sigma.powi(2) + compton_doppler_sigma(e).powi(2)).sqrt(),
            sharp: false,
        });
    }
    peaks
}

/// Doppler broadening of the Compton peak (bound electrons), σ in keV; ~0.25 keV FWHM
/// per 10 keV at large angles (P. Van Espen, Handbook of X-Ray Spectrometry, ch. 4).
pub fn compton_doppler_sigma(e_kev: f64) -> f64 {
    0.011 * e_kev
}

/// The expected peaks scaled to the scan's total counts, and the Si escape peaks of
/// the sharp ones.
fn scaled_peaks(sample: &SampleComposition, opts: &SynthOptions) -> (Vec<Peak>, Vec<Peak>) {
    let mut peaks = expected_peaks(sample, opts);
    let total: f64 = peaks.iter().map(|p| p.counts).sum();
    let target = opts.rate_cps * opts.live_time_s;
    if total > 0.0 {
        peaks.iter_mut().for_each(|p| p.counts *= target / total);
    }
    let esc = SiEscape::silicon();
    let escapes = peaks
        .iter()
        .filter(|p| p.sharp)
        .filter_map(|p| {
            let f = esc.fraction(p.energy_kev);
            (f > 0.0 && p.energy_kev - SI_KA_KEV > 0.5).then_some(Peak {
                energy_kev: p.energy_kev - SI_KA_KEV,
                counts: p.counts * f,
                ..*p
            })
        })
        .collect();
    (peaks, escapes)
}

/// Render a sample into a Poisson-noisy spectrum.
pub fn render(sample: &SampleComposition, opts: &SynthOptions, rng: &mut impl Rng) -> Spectrum {
    let (mut peaks, mut extra) = scaled_peaks(sample, opts);
    let target = opts.rate_cps * opts.live_time_s;
    // pile-up: probability per count = rate·τ; pairs of the strongest sharp lines
    let mut strong: Vec<Peak> = peaks.iter().copied().filter(|p| p.sharp).collect();
    strong.sort_by(|a, b| b.counts.total_cmp(&a.counts));
    strong.truncate(10);
    let p_pile = opts.rate_cps * opts.pileup_tau_s;
    for i in 0..strong.len() {
        for j in i..strong.len() {
            let w = if i == j { 1.0 } else { 2.0 };
            let c = p_pile * w * strong[i].counts * strong[j].counts / target;
            if c > 0.5 {
                extra.push(Peak {
                    energy_kev: strong[i].energy_kev + strong[j].energy_kev,
                    counts: c,
                    extra_sigma_kev: 0.0,
                    sharp: false,
                });
            }
        }
    }
    peaks.extend(extra);
    let cal = Calibration {
        offset_kev: opts.offset_kev,
        gain_kev: opts.gain_kev,
        quad_kev: 0.0,
    };
    let det = Detector {
        noise_kev: opts.noise_kev,
        fano: opts.fano,
    };
    let mut mean = vec![0.0; opts.channels];
    let shape = Hypermet {
        tail_area_ratio: opts.tail_area_ratio,
        tail_slope_ratio: 0.7,
        step_height_ratio: 5e-5,
    };
    for p in &peaks {
        draw_peak(&mut mean, &cal, &det, p, &shape);
    }
    // low-energy shelf of incomplete charge collection: 0.2 % of the counts, flat
    let shelf = 0.002 * target / (opts.channels as f64);
    let counts: Vec<f64> = mean
        .iter()
        .map(|&m| {
            let m = m + shelf;
            Poisson::new(m.max(1e-9)).map_or(0.0, |d| d.sample(rng))
        })
        .collect();
    let dead = (opts.rate_cps * 4e-6).min(0.5);
    let meta = Metadata {
        title: Some(format!(
            "reescan synth: {} ({}){}",
            sample.commodity,
            sample.variant,
            sample
                .carrier
                .map(|c| format!(" + {:.2} % {c}", 100.0 * sample.carrier_fraction))
                .unwrap_or_default()
        )),
        live_time_s: Some(opts.live_time_s),
        real_time_s: Some(opts.live_time_s / (1.0 - dead)),
        tube_kv: Some(opts.kv),
        anode: Some("Rh".into()),
        detector: Some("Si drift detector 450 µm, Be 12.5 µm (simulated)".into()),
        instrument: Some("reescan synth".into()),
        format: "synthetic".into(),
        ..Metadata::default()
    };
    Spectrum {
        counts: Array1::from(counts),
        axis: Axis::Energy(cal),
        meta,
    }
}

fn draw_peak(out: &mut [f64], cal: &Calibration, det: &Detector, p: &Peak, shape: &Hypermet) {
    if p.counts <= 0.0 || !p.energy_kev.is_finite() {
        return;
    }
    let sigma = (det.sigma_kev(p.energy_kev).powi(2) + p.extra_sigma_kev.powi(2)).sqrt();
    let lo_e = p.energy_kev - 6.0 * sigma - if p.sharp { 10.0 * sigma } else { 0.0 };
    let hi_e = p.energy_kev + 6.0 * sigma;
    let lo = cal.channel(lo_e).floor().max(0.0) as usize;
    let hi = (cal.channel(hi_e).ceil().max(0.0) as usize).min(out.len());
    for (ch, o) in out.iter_mut().enumerate().take(hi).skip(lo) {
        let x = cal.energy_kev(ch as f64);
        let v = if p.sharp {
            hypermet(x, p.energy_kev, sigma, p.counts, shape)
        } else {
            crate::signal::lineshape::gaussian(x, p.energy_kev, sigma, p.counts).value
        };
        *o += v * cal.gain_kev;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_scan() {
        let a = generate(Commodity::IronOre, Some(Carrier::NdFeB), 0.05, &[], 11).unwrap();
        let b = generate(Commodity::IronOre, Some(Carrier::NdFeB), 0.05, &[], 11).unwrap();
        assert_eq!(a.spectrum.counts, b.spectrum.counts);
        let total: f64 = a.spectrum.counts.sum();
        let expect = a.options.rate_cps * a.options.live_time_s;
        assert!((total / expect - 1.0).abs() < 0.05, "{total} vs {expect}");
    }

    #[test]
    fn iron_ore_scan_has_fe_ka_as_its_strongest_fluorescence_peak() {
        let s = generate(Commodity::IronOre, None, 0.0, &[], 3).unwrap();
        let cal = *s.spectrum.axis.calibration().unwrap();
        let y = s.spectrum.counts_slice();
        let at = |e: f64| y[cal.channel(e).round() as usize];
        let fe = at(6.40);
        assert!(fe > 20.0 * at(5.2), "Fe Kα {fe} vs 5.2 keV {}", at(5.2));
        assert!(fe > at(7.06) * 3.0, "Kα/Kβ");
        // Rh Kα Rayleigh visible
        assert!(
            at(20.216) > 3.0 * at(17.0),
            "Rh Kα {} vs {}",
            at(20.216),
            at(17.0)
        );
    }
}
