//! The batch triage changes no verdict: on a grid of blends the quick analysis clears
//! a scan only when the full analysis clears it too.
//!
//! The grid is every declared host (iron ore, zircon/zirconia, ceramics) × every
//! rare-earth carrier × blend fractions from 0.2 to 4 %, two seeds each, plus 24 honest
//! shipments per host (288 XRF scans, seeds 3001–3288), and the shipments of earlier
//! grids that an unguarded quick CLEAR got wrong (the full analysis said INSPECT or
//! HOLD): single rare-earth oxides in iron ore (La Lα on the Fe Kα escape peak, Dy Lα
//! 95 eV above Fe Kα, Er Lα beside Fe Kβ), monazite in zircon and glazed ceramics (Ce
//! read 20 % low by the quick analysis, so Th + Ce missed the monazite signature), and
//! ionic clay and NdFeB in ceramics. The quick analysis' CLEAR now stands only with its
//! guard band and its undecided families (`screen::pipeline::QUICK_GUARD`,
//! `XrfAnalysis::unconfirmed`).
//!
//! Reference: the verdicts of `reescan batch --full` on the same files.

#[path = "screen_support/mod.rs"]
mod screen_support;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const HOSTS: [&str; 3] = ["iron-ore", "zirconium", "ceramics"];
const CARRIERS: [&str; 6] = [
    "bastnasite",
    "monazite",
    "ionic-clay",
    "ndfeb",
    "smco",
    "oxides",
];
const FRACTIONS: [f64; 6] = [0.002, 0.004, 0.006, 0.01, 0.02, 0.04];

/// Shipments an unguarded quick CLEAR got wrong: (host, carrier, fraction, seed).
const EARLIER_MISSES: [(&str, &str, f64, u64); 8] = [
    ("zirconium", "bastnasite", 0.01, 26),
    ("ceramics", "monazite", 0.01, 53),
    ("iron-ore", "oxides", 0.001, 1062),
    ("iron-ore", "oxides", 0.005, 1065),
    ("iron-ore", "oxides", 0.008, 1067),
    ("zirconium", "monazite", 0.008, 1092),
    ("ceramics", "ionic-clay", 0.015, 1177),
    ("ceramics", "ndfeb", 0.015, 1190),
];

struct Shipment {
    id: String,
    host: &'static str,
    carrier: Option<&'static str>,
    fraction: f64,
    /// One rare earth added as such (element, wt %), as `reescan synth --ree`.
    ree: Option<(&'static str, f64)>,
    seed: u64,
}

fn shipments() -> Vec<Shipment> {
    let mut out = Vec::new();
    let mut seed = 3000;
    let mut push = |host, carrier, fraction, seed: u64| {
        out.push(Shipment {
            id: format!("T{seed}"),
            host,
            carrier,
            fraction,
            ree: None,
            seed,
        })
    };
    for host in HOSTS {
        for carrier in CARRIERS {
            for fraction in FRACTIONS {
                for _ in 0..2 {
                    seed += 1;
                    push(host, Some(carrier), fraction, seed);
                }
            }
        }
        for _ in 0..24 {
            seed += 1;
            push(host, None, 0.0, seed);
        }
    }
    for (host, carrier, fraction, seed) in EARLIER_MISSES {
        push(host, Some(carrier), fraction, seed);
    }
    out
}

/// Iron ores with one heavy rare earth whose L lines sit among the Fe K lines (Tb Lα
/// under the Fe Kα tail, Dy Lα 95 eV above Fe Kα, Ho and Er Lα between Fe Kα and Kβ),
/// at 0.04–0.5 wt %, three seeds each (108 scans, seeds 5001–5108).
fn heavy_rare_earths_in_iron_ore() -> Vec<Shipment> {
    let mut out = Vec::new();
    let mut seed = 5000;
    for el in ["Tb", "Eu", "Gd", "Dy", "Ho", "Er"] {
        for wt in [0.04, 0.08, 0.12, 0.2, 0.3, 0.5] {
            for _ in 0..3 {
                seed += 1;
                out.push(Shipment {
                    id: format!("H{seed}"),
                    host: "iron-ore",
                    carrier: None,
                    fraction: 0.0,
                    ree: Some((el, wt)),
                    seed,
                });
            }
        }
    }
    out
}

/// Write the scans and their manifest into `dir`; returns the manifest's path.
fn write_batch(dir: &std::path::Path, all: &[Shipment]) -> std::path::PathBuf {
    std::thread::scope(|scope| {
        for half in all.chunks(all.len().div_ceil(2)) {
            scope.spawn(move || {
                for s in half {
                    let ree: Vec<(&str, f64)> = s.ree.into_iter().collect();
                    screen_support::synth(
                        dir, &s.id, s.host, s.carrier, s.fraction, &ree, s.seed, false,
                    );
                }
            });
        }
    });
    let mut manifest = String::from("scan_id,declared,xrf,xrd\n");
    for s in all {
        let _ = writeln!(manifest, "{0},{1},{0}.msa,", s.id, s.host);
    }
    let m = dir.join("manifest.csv");
    std::fs::write(&m, manifest).unwrap();
    m
}

/// A result row: scan id, verdict, cleared by the quick analysis.
type Row = (String, String, bool);

/// The rows of `reescan batch MANIFEST --out OUT` (with `--full` when `full`).
fn verdicts(manifest: &std::path::Path, out: &std::path::Path, full: bool) -> Vec<Row> {
    let mut cmd = Command::cargo_bin("reescan").unwrap();
    cmd.arg("batch").arg(manifest).arg("--out").arg(out).args([
        "--date",
        "2026-01-15",
        "--jobs",
        "2",
    ]);
    if full {
        cmd.arg("--full");
    }
    cmd.assert().success();
    let quick = reescan::screen::pipeline::QUICK_CLEAR;
    csv::Reader::from_path(out)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[2].to_string(), r[9].contains(quick))
        })
        .collect()
}

/// `all` screened as `reescan batch` (triage) and as `reescan batch --full`: (scan id,
/// verdict, cleared by the quick analysis) in manifest order, each.
fn triage_and_full(all: &[Shipment]) -> (Vec<Row>, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let m = write_batch(dir.path(), all);
    let triaged = verdicts(&m, &dir.path().join("triage.csv"), false);
    let full = verdicts(&m, &dir.path().join("full.csv"), true);
    assert_eq!(triaged.len(), all.len());
    assert_eq!(full.len(), all.len());
    (triaged, full)
}

#[test]
fn the_quick_analysis_clears_only_what_the_full_analysis_clears() {
    let all = shipments();
    let (triaged, full) = triage_and_full(&all);

    // per host and carrier: rows, CLEAR by the full analysis, cleared quickly
    let mut table: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    let mut wrong = Vec::new();
    for ((s, t), f) in all.iter().zip(&triaged).zip(&full) {
        assert_eq!((&t.0, &f.0), (&s.id, &s.id));
        assert!(!f.2, "{}: --full row claims the quick analysis", s.id);
        if t.1 != f.1 {
            wrong.push(format!(
                "{}: triage {} but full analysis {}",
                s.id, t.1, f.1
            ));
        }
        let e = table
            .entry((s.host, s.carrier.unwrap_or("honest")))
            .or_default();
        e[0] += 1;
        e[1] += usize::from(f.1 == "CLEAR");
        e[2] += usize::from(t.2);
    }
    println!(
        "{:<10} {:<11} {:>5} {:>6} {:>8}",
        "host", "carrier", "rows", "CLEAR", "quickly"
    );
    for ((h, c), [n, clear, quick]) in &table {
        println!("{h:<10} {c:<11} {n:>5} {clear:>6} {quick:>8}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // the triage still does its job: most honest shipments are cleared quickly
    let honest: usize = HOSTS.iter().map(|h| table[&(*h, "honest")][2]).sum();
    println!("honest shipments cleared quickly: {honest}/72");
    assert!(honest >= 60, "{honest}/72 honest shipments cleared quickly");
}

/// The hardest case for the quick analysis: one heavy rare earth among the Fe K lines.
/// Unguarded, it cleared 16 of these 108 iron ores where the full analysis said INSPECT
/// or HOLD (0.5 wt % Tb among them). Guarded, and since the eighth session reading Tb
/// and Dy by their free lines when Fe Kα buries their Lα (`buried_families` in
/// `src/xrf/analyze.rs`), it clears two (Tb and Dy at 0.12 wt %, since the full
/// analysis fits a continuum ramp below Fe's K edge; before, Ho at 0.12 wt %, which the
/// quick fit does not see at all, and before that Tb at 0.2 and 0.5 and Dy at 0.2 and
/// 0.3 wt % too). It may still
/// clear a scan the full analysis can only INSPECT — never one the full analysis would
/// HOLD — in two known cases, at most two scans:
/// - below 1.5× the 0.10 wt % inspection limit;
/// - Tb or Dy, whose free lines the quick fit reads less well than the full analysis
///   (on 40 other iron ores with 0.12–0.5 wt % Tb or Dy, `reescan batch` cleared one,
///   Tb at 0.3 wt %, that `--full` flagged INSPECT).
#[test]
fn one_heavy_rare_earth_in_iron_ore_is_never_cleared_where_the_full_analysis_holds() {
    let all = heavy_rare_earths_in_iron_ore();
    let (triaged, full) = triage_and_full(&all);
    let mut wrong = Vec::new();
    for ((s, t), f) in all.iter().zip(&triaged).zip(&full) {
        assert_eq!((&t.0, &f.0), (&s.id, &s.id));
        if t.1 != f.1 {
            wrong.push((s, t.1.clone(), f.1.clone()));
        }
    }
    let quick = triaged.iter().filter(|t| t.2).count();
    println!("{quick}/{} cleared quickly; differing verdicts:", all.len());
    for (s, t, f) in &wrong {
        println!("  {} {:?}: triage {t}, full analysis {f}", s.id, s.ree);
    }
    assert!(wrong.len() <= 2, "{} verdicts differ", wrong.len());
    for (s, t, f) in &wrong {
        assert_eq!((t.as_str(), f.as_str()), ("CLEAR", "INSPECT"), "{}", s.id);
        assert!(
            s.ree
                .is_some_and(|(el, wt)| wt < 0.15 || el == "Tb" || el == "Dy"),
            "{} {:?}",
            s.id,
            s.ree
        );
    }
}

/// Dy in iron ore at 0.2 and 0.5 wt % (seeds 8061 and 8776), which the full analysis
/// flags (0.5 wt % is HOLD; 0.2 wt % lies at the hold limit, 0.2 wt % of a controlled
/// element beyond the allowance, and is INSPECT or HOLD as the reading falls): before the
/// quick analysis read Dy by its free lines, its fit gave Dy Lα to the unrefined Fe Kα
/// line shape (the first fit held it as "Tb" under the Fe Kα tail) and the triage
/// cleared both scans.
#[test]
fn dysprosium_buried_under_fe_k_alpha_is_not_cleared_by_the_triage() {
    let all: Vec<Shipment> = [(0.2, 8061), (0.5, 8776)]
        .into_iter()
        .map(|(wt, seed)| Shipment {
            id: format!("D{seed}"),
            host: "iron-ore",
            carrier: None,
            fraction: 0.0,
            ree: Some(("Dy", wt)),
            seed,
        })
        .collect();
    let (triaged, full) = triage_and_full(&all);
    for ((s, t), f) in all.iter().zip(&triaged).zip(&full) {
        let at_the_hold_limit = s.ree.is_some_and(|(_, wt)| wt <= 0.2);
        if at_the_hold_limit {
            assert_ne!(f.1, "CLEAR", "{}: full analysis", f.0);
        } else {
            assert_eq!(f.1, "HOLD", "{}: full analysis", f.0);
        }
        assert_ne!(t.1, "CLEAR", "{}: triage", t.0);
    }
}
