//! Search-match on ≥ 200 synthetic mixtures built here: each declared-commodity host
//! with 0–3 extra phases, rare-earth phases at 0.5–30 wt %, zero shifts up to ±0.1°,
//! Cu and Co radiation and energy-dispersive patterns at 2θ = 5°.
//!
//! Asserts (issue 5): rare-earth phases ≥ 2 wt % found with recall ≥ 0.95; no false
//! rare-earth phase in ≥ 98 % of honest patterns; phases ≥ 10 wt % quantified within
//! 25 % relative. Prints the table.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use reescan::xrd::{analyze_with, builtin, synth, Radiation, SynthOptions, XrdAnalysis};

const HOSTS: &[(&str, &[&str], &[&str])] = &[
    // (commodity, host phases, gangue/extra phases)
    (
        "iron-ore",
        &["hematite", "magnetite", "goethite"],
        &[
            "quartz",
            "kaolinite",
            "goethite",
            "calcite",
            "ilmenite",
            "hematite",
        ],
    ),
    (
        "zirconium",
        &["zircon", "baddeleyite_mZrO2", "tZrO2", "cZrO2_YSZ"],
        &["quartz", "rutile", "ilmenite", "zircon", "corundum"],
    ),
    (
        "ceramics",
        &["corundum", "mullite", "quartz"],
        &[
            "cristobalite_low",
            "kaolinite",
            "mullite",
            "zircon",
            "corundum",
            "rutile",
        ],
    ),
];

const REE: &[&str] = &[
    "monazite_Ce",
    "bastnasite_Ce",
    "xenotime_Y",
    "cerianite_CeO2",
    "La2O3_A",
    "Nd2O3_A",
    "Y2O3_C",
    "Dy2O3_C",
    "Gd2O3_C",
    "NdF3",
    "Nd2Fe14B",
    "SmCo5",
];

struct Case {
    radiation: Radiation,
    mixture: Vec<(String, f64)>,
    zero_shift: f64,
    seed: u64,
}

fn draw(seed: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (_, hosts, extras) = HOSTS[rng.random_range(0..HOSTS.len())];
    let host = hosts[rng.random_range(0..hosts.len())];
    let mut mixture: Vec<(String, f64)> = vec![(host.to_string(), 0.0)];
    for _ in 0..rng.random_range(0..=3) {
        let e = extras[rng.random_range(0..extras.len())];
        if !mixture.iter().any(|(n, _)| n == e) {
            mixture.push((e.to_string(), rng.random_range(0.03..0.25)));
        }
    }
    // Two thirds carry rare-earth material, a sixth of those two phases.
    let n_ree = match rng.random_range(0..6) {
        0 | 1 => 0,
        2..=4 => 1,
        _ => 2,
    };
    for _ in 0..n_ree {
        let r = REE[rng.random_range(0..REE.len())];
        if !mixture.iter().any(|(n, _)| n == r) {
            // log-uniform 0.5–30 wt %
            let w = (rng.random_range(0.005f64.ln()..0.30f64.ln())).exp();
            mixture.push((r.to_string(), w));
        }
    }
    let rest: f64 = mixture.iter().skip(1).map(|m| m.1).sum();
    mixture[0].1 = (1.0 - rest).max(0.3);
    let total: f64 = mixture.iter().map(|m| m.1).sum();
    for m in &mut mixture {
        m.1 /= total;
    }
    let radiation = match seed % 3 {
        0 => Radiation::Cu,
        1 => Radiation::Co,
        _ => Radiation::EdXrd { two_theta_deg: 5.0 },
    };
    let zero_shift = match radiation {
        Radiation::EdXrd { .. } => 0.0,
        _ => rng.random_range(-0.1..0.1),
    };
    Case {
        radiation,
        mixture,
        zero_shift,
        seed,
    }
}

fn run(case: &Case) -> XrdAnalysis {
    let mut o = SynthOptions::for_radiation(case.radiation);
    o.zero_shift = case.zero_shift;
    o.seed = case.seed;
    let s = synth(&builtin(), &case.mixture, &o).expect("synth");
    analyze_with(&s, &builtin()).expect("analysis")
}

fn is_ree(name: &str) -> bool {
    builtin().get(name).is_some_and(|p| p.rare_earth)
}

#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    n: usize,
    ree_true: usize,
    ree_found: usize,
    honest: usize,
    honest_clean: usize,
    quant: usize,
    quant_ok: usize,
}

#[test]
fn two_hundred_synthetic_mixtures_meet_the_targets() {
    let cases: Vec<Case> = (0..210u64).map(|s| draw(1000 + s)).collect();
    let results: Vec<XrdAnalysis> = cases.par_iter().map(run).collect();
    let mut by_geom = [Tally::default(); 3];
    let mut problems = Vec::new();
    for (case, a) in cases.iter().zip(&results) {
        let g = match case.radiation {
            Radiation::Cu => 0,
            Radiation::Co => 1,
            _ => 2,
        };
        let t = &mut by_geom[g];
        t.n += 1;
        let truth_ree: Vec<&(String, f64)> = case.mixture.iter().filter(|m| is_ree(&m.0)).collect();
        for (name, w) in &truth_ree {
            if *w >= 0.02 {
                t.ree_true += 1;
                if a.phases.iter().any(|p| &p.name == name) {
                    t.ree_found += 1;
                } else {
                    problems.push(format!(
                        "seed {} missed {name} {:.1}%: {:?}",
                        case.seed,
                        100.0 * w,
                        short(a)
                    ));
                }
            }
        }
        let false_ree: Vec<&str> = a
            .phases
            .iter()
            .filter(|p| is_ree(&p.name) && !case.mixture.iter().any(|m| m.0 == p.name))
            .map(|p| p.name.as_str())
            .collect();
        if truth_ree.is_empty() {
            t.honest += 1;
            if false_ree.is_empty() {
                t.honest_clean += 1;
            }
        }
        if !false_ree.is_empty() {
            problems.push(format!(
                "seed {} false {false_ree:?} in {:?}",
                case.seed, case.mixture
            ));
        }
        for (name, w) in &case.mixture {
            if *w >= 0.10 {
                t.quant += 1;
                let est = a
                    .phases
                    .iter()
                    .find(|p| &p.name == name)
                    .map_or(0.0, |p| p.wt_pct);
                if (est - 100.0 * w).abs() <= 0.25 * 100.0 * w {
                    t.quant_ok += 1;
                } else {
                    problems.push(format!(
                        "seed {} {name} {est:.1}% vs {:.1}%",
                        case.seed,
                        100.0 * w
                    ));
                }
            }
        }
    }
    println!("geometry      n  REE≥2% found/true  honest clean/n  wt%≥10 within 25%");
    let mut all = Tally::default();
    for (label, t) in ["Cu Kα", "Co Kα", "EDXRD 5°"].iter().zip(by_geom) {
        println!(
            "{label:10} {:4}  {:5}/{:<5}        {:4}/{:<4}      {:4}/{:<4}",
            t.n, t.ree_found, t.ree_true, t.honest_clean, t.honest, t.quant_ok, t.quant
        );
        all.n += t.n;
        all.ree_true += t.ree_true;
        all.ree_found += t.ree_found;
        all.honest += t.honest;
        all.honest_clean += t.honest_clean;
        all.quant += t.quant;
        all.quant_ok += t.quant_ok;
    }
    let recall = all.ree_found as f64 / all.ree_true.max(1) as f64;
    let clean = all.honest_clean as f64 / all.honest.max(1) as f64;
    let quant = all.quant_ok as f64 / all.quant.max(1) as f64;
    println!(
        "all        {:4}  recall {recall:.3}  honest clean {clean:.3}  quant {quant:.3}",
        all.n
    );
    for p in &problems {
        println!("  {p}");
    }
    assert!(all.n >= 200);
    assert!(
        all.ree_true >= 80,
        "too few rare-earth cases drawn: {}",
        all.ree_true
    );
    assert!(
        all.honest >= 50,
        "too few honest cases drawn: {}",
        all.honest
    );
    assert!(recall >= 0.95, "rare-earth recall {recall:.3}");
    assert!(
        clean >= 0.98,
        "honest patterns without false rare-earth phase {clean:.3}"
    );
    assert!(quant >= 0.95, "phases ≥ 10 wt % within 25 %: {quant:.3}");
}

fn short(a: &XrdAnalysis) -> Vec<(String, i64)> {
    a.phases
        .iter()
        .map(|p| (p.name.clone(), p.wt_pct.round() as i64))
        .collect()
}

/// Show one case: `XRD_SEED=1064 cargo test --test xrd_mixtures show_one -- --ignored --nocapture`.
#[test]
#[ignore]
fn show_one() {
    let seed = std::env::var("XRD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1064);
    let case = draw(seed);
    println!(
        "{:?} {:?} zero {:.3}",
        case.radiation, case.mixture, case.zero_shift
    );
    println!("{:?}", short(&run(&case)));
}
