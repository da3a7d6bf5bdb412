//! Hand-built analyses with synthetic curves for the report/plot tests and the plot
//! bench: an iron-ore XRF spectrum spiked with Nd/Pr (Poisson noise, fixed seed) and a
//! hematite + CeO2 diffraction pattern. The values are chosen, not fitted; the tests
//! check that what is given is what is drawn and written.
#![allow(dead_code)]

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use reescan::screen::{ScreeningResult, Verdict};
use reescan::xrd::{PatternCurves, PhaseResult, XrdAnalysis, XrdPeak};
use reescan::xrf::{
    Artefact, CalibrationReport, ElementResult, FitCurves, FittedPeak, NotDetected, XrfAnalysis,
};

/// Detector FWHM (keV) at `e` keV: sqrt(noise² + 2.3548²·F·ε·E), noise 70 eV, F 0.118,
/// ε 3.85 eV (DOMAIN.md "Resolution").
fn fwhm_kev(e: f64) -> f64 {
    let noise = 0.070_f64;
    (noise * noise + 2.3548_f64.powi(2) * 0.118 * 0.00385 * e).sqrt()
}

fn gauss(x: f64, centre: f64, area: f64, fwhm: f64) -> f64 {
    let s = fwhm / 2.3548;
    area / (s * (2.0 * std::f64::consts::PI).sqrt()) * (-(x - centre).powi(2) / (2.0 * s * s)).exp()
}

fn poisson_noise(model: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    model
        .iter()
        .map(|&m| match Poisson::new(m.max(1e-9)) {
            Ok(p) => p.sample(&mut rng),
            Err(_) => 0.0,
        })
        .collect()
}

/// (label, energy keV, area counts) of the synthetic XRF peaks.
pub const XRF_PEAKS: [(&str, f64, f64); 10] = [
    ("Fe Ka", 6.400, 2.0e6),
    ("Fe Kb", 7.058, 2.7e5),
    ("Nd La1", 5.230, 6.0e4),
    ("Nd Lb1", 5.722, 3.0e4),
    ("Pr La1", 5.034, 1.6e4),
    ("Mn Ka", 5.899, 8.0e3),
    ("Fe Ka escape", 4.660, 6.0e3),
    ("Fe Ka+Fe Ka", 12.800, 7.0e4),
    ("Rh Ka Compton", 19.10, 9.0e4),
    ("Rh Ka Rayleigh", 20.21, 6.0e4),
];

/// Iron ore spiked with Nd/Pr: `channels` channels of 40.96/`channels` keV.
pub fn xrf_iron_ore_with_nd(channels: usize) -> XrfAnalysis {
    let gain = 40.96 / channels as f64;
    let energy: Vec<f64> = (0..channels).map(|i| i as f64 * gain).collect();
    let background: Vec<f64> = energy
        .iter()
        .map(|&e| 25.0 + 400.0 * (-((e - 16.0) / 8.0).powi(2)).exp() * (gain / 0.01))
        .collect();
    let model: Vec<f64> = energy
        .iter()
        .zip(&background)
        .map(|(&e, &b)| {
            b + XRF_PEAKS
                .iter()
                .map(|&(_, c, a)| gauss(e, c, a, fwhm_kev(c)) * gain)
                .sum::<f64>()
        })
        .collect();
    let counts = poisson_noise(&model, 7);
    let peaks = XRF_PEAKS
        .iter()
        .map(|&(label, e, area)| FittedPeak {
            energy_kev: e,
            area,
            sigma: area.sqrt(),
            fwhm_kev: fwhm_kev(e),
            label: label.to_string(),
        })
        .collect();
    let el = |symbol: &str, wt: f64, sigma: f64, lod: f64, lines: &[&str]| ElementResult {
        symbol: symbol.into(),
        wt_pct: wt,
        sigma_wt_pct: sigma,
        lod_wt_pct: lod,
        excitation_sigma_wt_pct: 0.0,
        lines: lines.iter().map(|s| s.to_string()).collect(),
    };
    XrfAnalysis {
        file: "scans/S0042_iron-ore.msa".into(),
        sha256: "a3f1c2d4e5b6978812ab34cd56ef7890a3f1c2d4e5b6978812ab34cd56ef7890".into(),
        live_time_s: Some(30.0),
        tube_kv: Some(50.0),
        excitation: "Rh tube, 50 kV".into(),
        excitation_basis: Default::default(),
        calibration: CalibrationReport {
            offset_kev: 0.0,
            gain_kev: gain,
            fwhm_mn_ka_ev: 1000.0 * fwhm_kev(5.895),
        },
        peaks,
        artefacts: vec![
            Artefact {
                energy_kev: 4.660,
                kind: "escape".into(),
                parent: "Fe Ka".into(),
            },
            Artefact {
                energy_kev: 12.800,
                kind: "pileup".into(),
                parent: "Fe Ka+Fe Ka".into(),
            },
            Artefact {
                energy_kev: 19.10,
                kind: "compton".into(),
                parent: "Rh Ka".into(),
            },
            Artefact {
                energy_kev: 20.21,
                kind: "rayleigh".into(),
                parent: "Rh Ka".into(),
            },
        ],
        elements: vec![
            el("Fe", 58.2, 0.6, 0.01, &["Ka1", "Kb1"]),
            el("Nd", 1.80, 0.10, 0.05, &["La1", "Lb1"]),
            el("Pr", 0.45, 0.05, 0.05, &["La1"]),
            el("Mn", 0.21, 0.03, 0.02, &["Ka1"]),
        ],
        not_detected: vec![
            NotDetected {
                symbol: "Dy".into(),
                lod_wt_pct: 0.08,
            },
            NotDetected {
                symbol: "Tb".into(),
                lod_wt_pct: 0.07,
            },
            NotDetected {
                symbol: "Sm".into(),
                lod_wt_pct: 0.06,
            },
        ],
        reduced_chi2: 1.27,
        fit_channels: (10, channels - 1),
        energy_range_kev: (0.0, gain * (channels - 1) as f64),
        total_counts: 1.0e6,
        fit_mean_counts: 250.0,
        curves: FitCurves {
            energy_kev: energy,
            counts,
            background,
            model,
        },
        unconfirmed: vec![],
        notes: vec![],
    }
}

/// (2θ°, relative intensity) of hematite (Cu Kα1), strongest lines.
pub const HEMATITE_STICKS: [(f64, f64); 9] = [
    (24.14, 30.0),
    (33.15, 100.0),
    (35.61, 70.0),
    (40.85, 20.0),
    (49.48, 40.0),
    (54.09, 45.0),
    (62.45, 30.0),
    (64.01, 30.0),
    (71.94, 10.0),
];
/// (2θ°, relative intensity) of CeO2 (cerianite, Cu Kα1).
pub const CERIA_STICKS: [(f64, f64); 7] = [
    (28.55, 100.0),
    (33.08, 29.0),
    (47.48, 51.0),
    (56.34, 42.0),
    (59.09, 8.0),
    (69.40, 7.0),
    (76.70, 15.0),
];

/// Hematite 88 wt % + CeO2 12 wt %, 10–80° 2θ in 0.02° steps.
pub fn xrd_hematite_with_ceria() -> XrdAnalysis {
    let two_theta: Vec<f64> = (0..3501).map(|i| 10.0 + 0.02 * i as f64).collect();
    let background: Vec<f64> = two_theta.iter().map(|&t| 120.0 + 2000.0 / t).collect();
    let phase = |t: f64, sticks: &[(f64, f64)], scale: f64| {
        sticks
            .iter()
            .map(|&(c, r)| gauss(t, c, r * scale, 0.12))
            .sum::<f64>()
    };
    let model: Vec<f64> = two_theta
        .iter()
        .zip(&background)
        .map(|(&t, &b)| b + phase(t, &HEMATITE_STICKS, 60.0) + phase(t, &CERIA_STICKS, 20.0))
        .collect();
    let counts = poisson_noise(&model, 11);
    let peaks = HEMATITE_STICKS
        .iter()
        .chain(&CERIA_STICKS)
        .map(|&(t, r)| XrdPeak {
            two_theta_deg: t,
            d_a: 1.5406 / (2.0 * (t.to_radians() / 2.0).sin()),
            intensity: r * 60.0,
        })
        .collect();
    XrdAnalysis {
        file: "scans/S0042_iron-ore.xy".into(),
        sha256: "5be0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0".into(),
        wavelength_a: 1.5406,
        zero_shift_deg: 0.02,
        displacement_mm: 0.0,
        wavelength_source: Default::default(),
        peaks,
        phases: vec![
            PhaseResult {
                name: "hematite".into(),
                wt_pct: 88.0,
                wt_pct_sigma: 0.0,
                fom: 0.94,
                matched_peaks: 9,
            },
            PhaseResult {
                name: "cerianite".into(),
                wt_pct: 12.0,
                wt_pct_sigma: 0.0,
                fom: 0.81,
                matched_peaks: 6,
            },
        ],
        unexplained_peaks: vec![],
        fit: Default::default(),
        curves: PatternCurves {
            two_theta_deg: two_theta,
            counts,
            background,
            model,
            sticks: vec![
                ("hematite".into(), HEMATITE_STICKS.to_vec()),
                ("cerianite".into(), CERIA_STICKS.to_vec()),
            ],
        },
    }
}

/// A mislabelled iron-ore shipment: Nd/Pr and CeO2 where the declaration allows none.
pub fn screening_hold() -> ScreeningResult {
    let xrf = xrf_iron_ore_with_nd(4096);
    let xrd = xrd_hematite_with_ceria();
    ScreeningResult {
        scan_id: "S0042".into(),
        declared: "iron-ore".into(),
        verdict: Verdict::Hold,
        risk: 0.93,
        ree_wt_pct: Some(xrf.ree_total_wt_pct().0),
        ree_elements: vec!["Nd".into(), "Pr".into()],
        controlled_elements: vec!["Nd".into(), "Pr".into()],
        phases: vec!["hematite".into(), "cerianite".into()],
        mismatch: vec!["rare-earth phase cerianite in iron-ore".into()],
        reasons: vec![
            "Nd 1.80 ± 0.20 wt % (k = 2) where iron ore carries tens of ppm.".into(),
            "Nd+Pr exceed Ce: a separated/magnet signature, not natural ore.".into(),
        ],
        xrf_sha256: Some(xrf.sha256.clone()),
        xrd_sha256: Some(xrd.sha256.clone()),
        xrf: Some(xrf),
        xrd: Some(xrd),
        xrf_beams: None,
    }
}
