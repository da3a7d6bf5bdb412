//! A labelled synthetic test set built by `reescan::xrf::synth` (honest iron ore,
//! zircon/zirconia and ceramics, and each blended with rare-earth carriers at
//! 0.2–25 wt % total REE): rare earths must be found (recall), not invented
//! (precision on honest scans), and their total estimated within 30 %.

use rayon::prelude::*;
use reescan::tables::is_rare_earth;
use reescan::tables::materials::{draw_sample, Carrier, Commodity};
use reescan::xrf::synth::generate;
use reescan::xrf::{analyze, analyze_quick, XrfAnalysis, XrfOptions};
use reescan::Spectrum;

#[derive(Debug, Clone)]
struct Case {
    commodity: Commodity,
    carrier: Option<Carrier>,
    fraction: f64,
    seed: u64,
}

#[derive(Debug, Clone)]
struct Outcome {
    case: Case,
    truth: Vec<(String, f64)>,
    reported: Vec<(String, f64)>,
    truth_total: f64,
    est_total: f64,
}

/// Carrier fraction giving `target` wt % total REE.
fn fraction_for(carrier: Carrier, target: f64, seed: u64) -> f64 {
    let pure = draw_sample(Commodity::IronOre, Some(carrier), 1.0, &[], seed)
        .map(|s| s.ree_total_wt_pct())
        .unwrap_or(50.0);
    (target / pure).clamp(0.0005, 1.0)
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut seed = 1000;
    for commodity in [
        Commodity::IronOre,
        Commodity::Zirconium,
        Commodity::Ceramics,
    ] {
        for _ in 0..22 {
            seed += 1;
            out.push(Case {
                commodity,
                carrier: None,
                fraction: 0.0,
                seed,
            });
        }
        for carrier in Carrier::ALL {
            for k in 0..14 {
                seed += 1;
                // total REE log-uniform over 0.2–25 wt %
                let target = 0.2 * (125f64).powf((k as f64 + 0.5) / 14.0);
                out.push(Case {
                    commodity,
                    carrier: Some(carrier),
                    fraction: fraction_for(carrier, target, seed),
                    seed,
                });
            }
        }
    }
    out
}

/// An XRF analysis: [`analyze`] or [`analyze_quick`].
type Analysis = fn(&Spectrum, &XrfOptions) -> reescan::Result<XrfAnalysis>;

fn run(case: &Case, analysis: Analysis) -> Outcome {
    let scan = generate(case.commodity, case.carrier, case.fraction, &[], case.seed).unwrap();
    let a = analysis(&scan.spectrum, &XrfOptions::default()).unwrap();
    let truth: Vec<(String, f64)> = scan
        .truth
        .elements
        .iter()
        .filter(|(s, _)| is_rare_earth(s))
        .cloned()
        .collect();
    let reported: Vec<(String, f64)> = a
        .elements
        .iter()
        .filter(|e| is_rare_earth(&e.symbol))
        .map(|e| (e.symbol.clone(), e.wt_pct))
        .collect();
    Outcome {
        case: case.clone(),
        truth_total: scan.truth.ree_total_wt_pct(),
        est_total: a.ree_total_wt_pct().0,
        truth,
        reported,
    }
}

fn truth_of(o: &Outcome, el: &str) -> f64 {
    o.truth.iter().find(|t| t.0 == el).map_or(0.0, |t| t.1)
}

/// Measured on the 318 scans: recall 0.977 (383/392 at ≥ 0.5 wt %), honest precision
/// 1.000 (26 true, 0 false), total REE within 30 % for 171/178 scans ≥ 1 wt %. The
/// misses are Dy in ionic-clay blends in iron ore (5), Sm (2) and Pr (1).
/// `-- --nocapture` prints the confusion table and every miss.
#[test]
fn synthetic_cargo_set_rare_earth_recall_precision_and_total() {
    let s = evaluate(analyze);
    assert!(s.recall >= 0.95, "recall {}", s.recall);
    assert!(s.precision >= 0.95, "precision {}", s.precision);
    assert!(s.within >= 0.9, "total REE within 30 %: {}", s.within);
}

/// The quick analysis (the batch triage) on the same set. What the triage needs is
/// that no scan carrying rare earths looks clean: every scan with ≥ 1 wt % total REE has
/// at least half of it reported. Element recall is lower than the full analysis's (Pr
/// under La Lβ/Ce Lα and Dy under Fe Kα need the refined line shape) and honest
/// precision too (small false REE: the scan goes on to the full analysis); both are
/// printed, recall held at ≥ 0.9. Measured on the 318 scans: recall 0.936 (367/392),
/// honest precision 0.867 (26 true, 4 false), total within 30 % for 147/178, ≥ half the
/// total for 178/178.
#[test]
fn quick_analysis_never_makes_a_rare_earth_scan_look_clean() {
    let s = evaluate(analyze_quick);
    assert!(s.recall >= 0.9, "recall {}", s.recall);
    assert_eq!(
        s.half_total, 1.0,
        "scans ≥ 1 wt % with less than half the REE reported"
    );
}

struct Scores {
    recall: f64,
    precision: f64,
    /// Fraction of scans ≥ 1 wt % REE with the total within 30 %.
    within: f64,
    /// Fraction of scans ≥ 1 wt % REE with at least half the total reported.
    half_total: f64,
}

/// Run `analysis` on every case, print the confusion table and every miss.
fn evaluate(analysis: Analysis) -> Scores {
    let cases = cases();
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let outcomes: Vec<Outcome> = cases.par_iter().map(|c| run(c, analysis)).collect();
    // confusion per REE: present (truth ≥ 0.5 wt %) vs reported
    let ree = reescan::tables::RARE_EARTHS;
    println!("element  TP  FN  FP(honest)  FP(all, truth<0.01%)");
    let (mut tp_all, mut fn_all) = (0, 0);
    let (mut honest_tp, mut honest_fp) = (0, 0);
    for el in ree {
        let (mut tp, mut fneg, mut fp_h, mut fp_a) = (0, 0, 0, 0);
        for o in &outcomes {
            let t = truth_of(o, el);
            let rep = o.reported.iter().any(|r| r.0 == el);
            if t >= 0.5 {
                if rep {
                    tp += 1
                } else {
                    fneg += 1
                }
            }
            if rep && t < 0.01 {
                fp_a += 1;
                if o.case.carrier.is_none() {
                    fp_h += 1;
                }
            }
            if o.case.carrier.is_none() && rep {
                if t >= 0.01 {
                    honest_tp += 1
                } else {
                    honest_fp += 1
                }
            }
        }
        tp_all += tp;
        fn_all += fneg;
        if tp + fneg + fp_a > 0 {
            println!("{el:<7} {tp:>4} {fneg:>3} {fp_h:>11} {fp_a:>10}");
        }
    }
    let recall = tp_all as f64 / (tp_all + fn_all).max(1) as f64;
    let precision = if honest_tp + honest_fp == 0 {
        1.0
    } else {
        honest_tp as f64 / (honest_tp + honest_fp) as f64
    };
    let big: Vec<&Outcome> = outcomes.iter().filter(|o| o.truth_total >= 1.0).collect();
    let within = big
        .iter()
        .filter(|o| (o.est_total / o.truth_total - 1.0).abs() <= 0.3)
        .count();
    let frac_within = within as f64 / big.len().max(1) as f64;
    let half = big
        .iter()
        .filter(|o| o.est_total >= 0.5 * o.truth_total)
        .count();
    let half_total = half as f64 / big.len().max(1) as f64;
    println!(
        "scans {}, recall {recall:.3} ({tp_all}/{}), honest precision {precision:.3} ({honest_tp} true, {honest_fp} false), total REE within 30 % at ≥1 wt %: {within}/{} = {frac_within:.3}, ≥ half: {half}",
        outcomes.len(),
        tp_all + fn_all,
        big.len()
    );
    for o in &outcomes {
        let missed: Vec<&String> = o
            .truth
            .iter()
            .filter(|t| t.1 >= 0.5 && !o.reported.iter().any(|r| r.0 == t.0))
            .map(|t| &t.0)
            .collect();
        let false_pos: Vec<String> = o
            .reported
            .iter()
            .filter(|r| truth_of(o, &r.0) < 0.01)
            .map(|r| format!("{} {:.3}", r.0, r.1))
            .collect();
        let off = o.truth_total >= 1.0 && (o.est_total / o.truth_total - 1.0).abs() > 0.3;
        if !missed.is_empty() || !false_pos.is_empty() || off {
            println!(
                "  {:?} {:?} f={:.4} seed {}: REE {:.2} → {:.2}; missed {missed:?}; false {false_pos:?}",
                o.case.commodity, o.case.carrier, o.case.fraction, o.case.seed, o.truth_total, o.est_total
            );
        }
    }
    Scores {
        recall,
        precision,
        within: frac_within,
        half_total,
    }
}

/// Debug one case: `XRF_CASE=seed,commodity,carrier,fraction cargo test --test xrf_synth one_case -- --ignored --nocapture`
#[test]
#[ignore]
fn one_case() {
    let spec = std::env::var("XRF_CASE").unwrap_or("1003,iron-ore,,0".into());
    let f: Vec<&str> = spec.split(',').collect();
    let case = Case {
        seed: f[0].parse().unwrap(),
        commodity: f[1].parse().unwrap(),
        carrier: (!f[2].is_empty()).then(|| f[2].parse().unwrap()),
        fraction: f[3].parse().unwrap(),
    };
    let scan = generate(case.commodity, case.carrier, case.fraction, &[], case.seed).unwrap();
    println!("{:?}\n{:?}", scan.options, &scan.truth.elements);
    let a = analyze(&scan.spectrum, &XrfOptions::default()).unwrap();
    for e in &a.elements {
        println!(
            "{} {:.4} ± {:.4} (LOD {:.4}) {:?}",
            e.symbol, e.wt_pct, e.sigma_wt_pct, e.lod_wt_pct, e.lines
        );
    }
    if let Ok(r) = std::env::var("XRF_RESID") {
        let r: Vec<f64> = r.split(',').map(|v| v.parse().unwrap()).collect();
        let c = &a.curves;
        for i in 0..c.energy_kev.len() {
            if c.energy_kev[i] >= r[0] && c.energy_kev[i] <= r[1] {
                println!(
                    "{:.3} y {:.0} m {:.0} bg {:.0} r {:+.1}σ",
                    c.energy_kev[i],
                    c.counts[i],
                    c.model[i],
                    c.background[i],
                    (c.counts[i] - c.model[i]) / c.model[i].max(1.0).sqrt()
                );
            }
        }
    }
}

/// Escape peaks are reported where the generator put a detectable one: in an honest
/// iron ore the Fe Kα escape (4.66 keV) is reported, and every escape reported stands
/// on escape counts the generator drew above 2√N of the spectrum's counts within
/// ±1 FWHM (a minor line's escape, ~1 % of a few thousand counts, is not).
#[test]
fn escape_artefacts_are_reported_only_where_detectable() {
    let scan = generate(Commodity::IronOre, None, 0.0, &[], 3).unwrap();
    let a = analyze(&scan.spectrum, &XrfOptions::default()).unwrap();
    let escapes: Vec<&reescan::xrf::Artefact> =
        a.artefacts.iter().filter(|x| x.kind == "escape").collect();
    assert!(
        escapes
            .iter()
            .any(|x| x.parent.starts_with("Fe Ka") && (x.energy_kev - 4.66).abs() < 0.03),
        "no Fe Kα escape: {escapes:?}"
    );
    let reescan::Axis::Energy(cal) = scan.spectrum.axis else {
        panic!("the generator writes an energy axis")
    };
    let drawn = scan.escape_peaks();
    let half_width = 0.15;
    for x in &escapes {
        let near = |e: f64| (e - x.energy_kev).abs() < half_width;
        let truth: f64 = drawn.iter().filter(|p| near(p.0)).map(|p| p.1).sum();
        let observed: f64 = (0..scan.spectrum.counts.len())
            .filter(|&i| near(cal.energy_kev(i as f64)))
            .map(|i| scan.spectrum.counts[i])
            .sum();
        assert!(
            truth > 2.0 * observed.sqrt(),
            "escape {x:?} reported where the generator drew {truth:.0} counts \
             under {observed:.0}"
        );
    }
}

/// Pile-up sums are labelled once per resolved peak: in an honest iron ore, 2 × Fe Kα
/// (12.8 keV) is, and no two labels lie within 0.2 keV (Kα1/Kα2 combinations merge).
#[test]
fn pileup_artefacts_are_one_label_per_resolved_sum() {
    let scan = generate(Commodity::IronOre, None, 0.0, &[], 3).unwrap();
    let a = analyze(&scan.spectrum, &XrfOptions::default()).unwrap();
    let sums: Vec<f64> = a
        .artefacts
        .iter()
        .filter(|x| x.kind == "pileup")
        .map(|x| x.energy_kev)
        .collect();
    assert!(
        sums.iter().any(|e| (e - 12.80).abs() < 0.05),
        "no 2 × Fe Kα sum: {sums:?}"
    );
    for (i, a) in sums.iter().enumerate() {
        for b in &sums[i + 1..] {
            assert!((a - b).abs() > 0.2, "two labels for one sum: {sums:?}");
        }
    }
}

/// The quick analysis keeps its templates per instrument set-up between scans; a scan
/// analysed with a fresh library and again after others reused it gives the same
/// result (batch output must not depend on scan order or thread count).
#[test]
fn quick_analysis_does_not_depend_on_the_scans_before() {
    let scans: Vec<_> = (0..4)
        .map(|seed| {
            generate(
                Commodity::IronOre,
                Some(Carrier::NdFeB),
                0.02,
                &[],
                4400 + seed,
            )
        })
        .map(Result::unwrap)
        .collect();
    let opts = XrfOptions::default();
    let json = |i: usize| {
        let a = analyze_quick(&scans[i].spectrum, &opts).unwrap();
        serde_json::to_string(&a).unwrap()
    };
    let first: Vec<String> = (0..4).map(json).collect();
    for i in (0..4).rev() {
        assert_eq!(json(i), first[i], "scan {i}");
    }
    assert!(first[0].contains("\"Nd\""), "{}", first[0]);
}

/// Dy Lα lies 95 eV above Fe Kα, in a window of ~10⁶ Fe counts, but Dy Lβ2 (7.64 keV)
/// and Lγ (8.42 keV) are free: the full analysis detects Dy in iron ore by them, its
/// detection limit being that of the family's best line window. Until the seventh
/// session the limit was that of the Lα window alone, 0.47 wt %, and the 0.4 wt % of
/// Dy in each of these scans was reported as not detected (`reescan scan`: CLEAR).
#[test]
fn dysprosium_in_iron_ore_is_detected_by_its_free_lines() {
    for seed in 1..=3 {
        let scan = generate(
            Commodity::IronOre,
            None,
            0.0,
            &[("Dy".to_string(), 0.4)],
            seed,
        )
        .unwrap();
        let a = analyze(&scan.spectrum, &XrfOptions::default()).unwrap();
        let dy = a
            .elements
            .iter()
            .find(|e| e.symbol == "Dy")
            .unwrap_or_else(|| panic!("seed {seed}: Dy not reported: {:?}", a.not_detected));
        assert!(
            dy.wt_pct > 3.0 * dy.sigma_wt_pct && dy.lod_wt_pct < 0.2,
            "seed {seed}: {dy:?}"
        );
        // it reads low (the Lα counts go to Fe Kα), but not below half
        assert!(dy.wt_pct > 0.2 && dy.wt_pct < 0.6, "seed {seed}: {dy:?}");
    }
}
