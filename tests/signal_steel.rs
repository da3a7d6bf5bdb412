//! PyMca's Steel.spe (SRM 1155 stainless steel, Ag tube, Si 350 µm) with its Steel.cfg:
//! Levenberg–Marquardt refinement of calibration, resolution and areas from the cfg's
//! start values; Fe, Cr, Ni areas against PyMca; escape and pile-up peaks of PyMca's
//! peak search recognised as detector artefacts.

mod signal_common;

use reescan::signal::detector::Detector;
use reescan::signal::group::{
    explain_as_artefact, pileup_group, predict_artefacts, ArtefactKind, LineGroup, PeakModel,
    SiEscape,
};
use reescan::signal::linear::{LinearFitter, LinearOptions};
use reescan::signal::lm::{refine_groups, GroupFitFlags};
use reescan::signal::peaks::{PeakSearchOptions, PeakSearcher};
use reescan::signal::strip::{strip, StripOptions};
use reescan::spectrum::Calibration;
use signal_common::*;

const FIRST: usize = 200;
const LAST: usize = 1432;

const AIR: &[(&str, f64)] = &[
    ("N", 0.75527),
    ("O", 0.23178),
    ("Ar", 0.012827),
    ("C", 0.000124),
];
const BE: &[(&str, f64)] = &[("Be", 1.0)];
const SRM_1155: &[(&str, f64)] = &[
    ("Cr", 0.1837),
    ("Fe", 0.654),
    ("Ni", 0.1235),
    ("Mo", 0.0226),
    ("Mn", 0.01619),
];

/// Steel.cfg: Be 20 µm window, 5 cm air, Si 350 µm, thick SRM 1155 at 45°/45°, 16 keV.
fn setup() -> Setup<'static> {
    Setup {
        path: vec![(BE, 1.848 * 0.002), (AIR, 0.0012048 * 5.0)],
        si_cm: 0.035,
        matrix: Some((SRM_1155, 1.0, 45.0, 45.0, 16.0)),
    }
}

fn groups() -> Vec<LineGroup> {
    let s = setup();
    let mut g: Vec<LineGroup> = ["V", "Cr", "Mn"]
        .iter()
        .map(|el| k_group(el, &s, &format!("{el} K")))
        .collect();
    g.push(k_subgroup("Fe", &s, true, "Fe Ka"));
    g.push(k_subgroup("Fe", &s, false, "Fe Kb"));
    for el in ["Ni", "Cu", "As"] {
        g.push(k_group(el, &s, &format!("{el} K")));
    }
    for lv in ["L1", "L2", "L3"] {
        g.push(level_group("W", lv, &s, &format!("W {lv}")));
    }
    g.push(lm_group("Pb", 'L', &s, 16.0, "Pb L"));
    g.push(lm_group("Pb", 'M', &s, 16.0, "Pb M"));
    g.push(LineGroup::new("Scatter Peak000", [(16.0, 1.0)]));
    // The Compton peak is Doppler-broadened far beyond the detector resolution: drawn
    // as a fixed Gaussian spread (σ ≈ 0.12 keV) of sub-lines around 15.514 keV.
    g.push(LineGroup::new(
        "Scatter Compton000",
        (-4..=4).map(|k| {
            let d = 0.06 * k as f64;
            (15.5142 + d, (-0.5 * (d / 0.12).powi(2)).exp())
        }),
    ));
    g
}

/// PyMca's recipe for `stripwidth = 1`, 20000 iterations: 1000 passes of half-width 4,
/// then 5000 of half-width 1, no smoothing.
fn continuum(region: &[f64]) -> Vec<f64> {
    let coarse = strip(
        region,
        &StripOptions {
            width: 4,
            iterations: 1000,
            constant: 1.0,
            smoothing: 1,
            final_passes: 0,
        },
    );
    strip(
        &coarse,
        &StripOptions {
            width: 1,
            iterations: 5000,
            constant: 1.0,
            smoothing: 1,
            final_passes: 0,
        },
    )
}

struct SteelFit {
    groups: Vec<LineGroup>,
    areas: Vec<f64>,
    model: PeakModel,
    pileup_counts: f64,
}

/// Linear fit at the cfg start → pile-up group from the strong lines → LM refinement of
/// all areas + zero, gain, noise, Fano.
fn fit_steel() -> SteelFit {
    let y = read_spe("Steel.spe");
    let region = &y[FIRST..=LAST];
    let n = region.len();
    let bg = continuum(region);
    let mut groups = groups();
    let mut model = PeakModel::gaussian(
        Calibration::linear(-0.00612446976449, 0.0119281593146).unwrap(),
        Detector {
            noise_kev: 0.127439,
            fano: 0.101156,
        },
    );
    model.escape = Some(SiEscape::silicon());
    let linear = |groups: &[LineGroup], model: &PeakModel| {
        let t: Vec<_> = groups.iter().map(|g| model.template(g, FIRST, n)).collect();
        LinearFitter::new(n, t)
            .unwrap()
            .fit(region, Some(&bg), &LinearOptions::default())
            .unwrap()
    };
    let first = linear(&groups, &model);
    let strong: Vec<(f64, f64)> = groups
        .iter()
        .zip(&first.amplitudes)
        .flat_map(|(g, a)| g.lines.iter().map(move |l| (l.energy_kev, a * l.intensity)))
        .collect();
    groups.push(pileup_group(&strong, 6));
    let second = linear(&groups, &model);
    let fit = refine_groups(
        region,
        &bg,
        FIRST,
        &groups,
        &model,
        &second.amplitudes,
        GroupFitFlags::default(),
        2,
    )
    .unwrap();
    println!(
        "LM: {} after {} evaluations, reduced chi2 {:.2} (PyMca 13.09); zero {:.6} gain {:.7} noise {:.4} Fano {:.4} (PyMca -0.008943 0.0119340 0.1047 0.1369)",
        fit.report.termination,
        fit.report.evaluations,
        fit.report.reduced_chi2,
        fit.calibration.offset_kev,
        fit.calibration.gain_kev,
        fit.detector.noise_kev,
        fit.detector.fano
    );
    model.calibration = fit.calibration;
    model.detector = fit.detector;
    let pileup_counts = fit.areas.last().copied().unwrap_or(0.0);
    SteelFit {
        groups,
        areas: fit.areas,
        model,
        pileup_counts,
    }
}

#[test]
fn strip_continuum_is_close_to_pymca_on_steel() {
    let y = read_spe("Steel.spe");
    let rows = pymca_fit_csv("Steel_pymca_fit.csv");
    assert_eq!(rows.len(), LAST - FIRST + 1);
    let bg = continuum(&y[FIRST..=LAST]);
    let (mut d, mut s) = (0.0, 0.0);
    for (k, (ch, counts, _, cont)) in rows.iter().enumerate() {
        assert_eq!(y[*ch], *counts);
        d += (bg[k] - cont).abs();
        s += cont;
    }
    println!("Steel continuum vs PyMca: mean |Δ|/Σ = {:.4}", d / s);
    // Same recipe, yet PyMca's curve lies 2–6 counts higher where the counts are low
    // (ch > 700); PyMca's non-linear fit (Steel.cfg: linearfitflag = 0) appears to re-strip
    // after fitting. Measured 5.0 %; the bound keeps that from getting worse.
    assert!(d / s < 0.06, "{}", d / s);
}

#[test]
fn fe_cr_ni_areas_match_pymca_within_3_percent_after_lm_refinement() {
    let fit = fit_steel();
    let reference = reference_groups("Steel");
    assert_eq!(reference.len(), 15, "fixture truncated?");
    for (label, area_ref, _) in &reference {
        let Some(k) = fit.groups.iter().position(|g| &g.label == label) else {
            continue;
        };
        println!(
            "{label:18} ours {:11.1}  PyMca {area_ref:11.1}  {:+.2} %",
            fit.areas[k],
            100.0 * (fit.areas[k] - area_ref) / area_ref
        );
    }
    for label in ["Fe Ka", "Cr K", "Ni K"] {
        let k = fit.groups.iter().position(|g| g.label == label).unwrap();
        let (_, area_ref, _) = reference.iter().find(|r| r.0 == label).unwrap();
        let rel = (fit.areas[k] - area_ref) / area_ref;
        assert!(rel.abs() < 0.03, "{label}: {:+.2} %", 100.0 * rel);
    }
    // The refined calibration agrees with PyMca's (gain to 0.1 %, zero to 10 eV).
    assert!((fit.model.calibration.gain_kev - 0.011934036).abs() < 0.001 * 0.011934);
    assert!((fit.model.calibration.offset_kev + 0.0089435).abs() < 0.010);
}

#[test]
fn escape_and_sum_peaks_of_pymca_search_are_identified_as_artefacts() {
    let fit = fit_steel();
    let lines: Vec<(f64, f64)> = fit
        .groups
        .iter()
        .zip(&fit.areas)
        .filter(|(g, _)| g.label != "pile-up" && !g.label.starts_with("Scatter"))
        .flat_map(|(g, a)| g.lines.iter().map(move |l| (l.energy_kev, a * l.intensity)))
        .collect();
    let total: f64 = lines.iter().map(|l| l.1).sum();
    let k = fit.pileup_counts / total;
    let escape = SiEscape::silicon();
    let artefacts = predict_artefacts(&lines, Some(&escape), k, 6);
    // Observed net areas of the searched peaks.
    let y = read_spe("Steel.spe");
    let cal = fit.model.calibration;
    let det = fit.model.detector;
    let found = PeakSearcher::new().search(
        &y,
        FIRST..LAST + 1,
        |ch| det.fwhm_kev(cal.energy_kev(ch)) / cal.gain_kev,
        &PeakSearchOptions::default(),
    );
    let classify = |e: f64| {
        let p = found
            .iter()
            .min_by(|a, b| {
                (cal.energy_kev(a.channel) - e)
                    .abs()
                    .total_cmp(&(cal.energy_kev(b.channel) - e).abs())
            })
            .copied()
            .expect("peaks");
        let fwhm = det.fwhm_kev(e);
        // An artefact must sit within one FWHM and predict at least a third of the
        // observed net counts.
        explain_as_artefact(e, &artefacts, fwhm, p.area / 3.0).map(|a| (a.kind, a.counts, p.area))
    };
    for (e, want_escape) in [
        (3.6548, true),
        (4.6453, true),
        (12.8082, false),
        (13.4645, false),
    ] {
        let got = classify(e);
        println!("{e} keV: {got:?}");
        match got {
            Some((ArtefactKind::Escape { .. }, _, _)) => assert!(want_escape, "{e}"),
            Some((ArtefactKind::PileUp { .. }, _, _)) => assert!(!want_escape, "{e}"),
            None => panic!("{e} keV not recognised as an artefact"),
        }
    }
    // Element peaks are not explained away.
    for e in [5.4091, 6.3996, 7.4737] {
        assert!(classify(e).is_none(), "{e} keV wrongly called an artefact");
    }
}
