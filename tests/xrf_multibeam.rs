//! Multi-beam assays scored on a corpus made with physics reescan did not write: each
//! assay analysed jointly (`xrf::beams`) and each of its beams alone.
//!
//! `tests/data/xrf_multibeam/corpus.zip` holds 104 labelled cargo assays (honest iron ore,
//! zircon sand, zirconia, ceramics, and each blended with a rare-earth carrier at
//! 0.2–25 wt % total rare earths), each measured by one simulated handheld (Rh tube, air
//! path, SDD) with the beams of a geochemistry method: 15 kV unfiltered, 40 kV through
//! 300 µm Al (every other assay) and 50 kV through 100 µm Cu. Each beam is an EMSA file
//! stating its kV, anode and filter (`##FILTER`); `manifest.csv` lists each assay's beams
//! `;`-separated. They were made by `validation/xrf/make_corpus.py --multibeam` (PyMca5's
//! Ebel tube through the filter, fisx fluorescence, scatter, hypermet detector, escape,
//! pile-up, Poisson noise; see `validation/xrf/README.md`), which shares no code with
//! reescan; `truth.json` gives each assay's composition and class.
//!
//! The scoring is `tests/xrf_independent.rs`'s: honest shipments not CLEAR; blended ones
//! flagged (INSPECT/HOLD) by the rare earths the carrier added (≥ 1, 0.5–1, 0.2–0.5
//! wt %); rare-earth elements reported against the truth (present ≥ 0.2 wt %, absent
//! < 0.05 wt %), F1. One table row per set-up: each beam alone (as `scan` on that file)
//! and the joint analysis (as `scan --xrf a.msa;b.msa;c.msa`).
//!
//! Asserted: the joint analysis is at least as accurate as the best single beam on the
//! same assays (the mean of the four rates, honest ones counted as the share CLEAR), and
//! a ratchet at the figures measured (the XRF issue's targets — ≥ 99 %, ≥ 90 %, ≤ 1 %,
//! F1 ≥ 0.95 — are printed beside them).
//!
//! `cargo test --test xrf_multibeam -- --nocapture` prints the tables.

use rayon::prelude::*;
use reescan::formats::ReadOptions;
use reescan::screen::{Rules, Screener, ScreeningResult, Verdict};
use reescan::{Spectrum, Technique};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

mod common;
mod xrf_scoring;
use common::corpus_files;
use xrf_scoring::{print_table, ratio, truth_json, Label, Tally};

// The ratchet: the figures the joint analysis last scored over all 104 assays. Raise them
// as the analysis improves, and lower none without saying why in the commit (how each
// figure got here is in the git history).

/// Blended ≥ 1 wt % flagged, joint analysis. Measured 32/32; target 0.99.
const FLOOR_FLAGGED_GE_1: f64 = 1.0;
/// Blended 0.5–1 wt % flagged, joint analysis. Measured 15/16 = 0.9375; target 0.90.
/// The miss: mb-zirconia-0076, ionic clay (mostly Y) in Y-stabilised zirconia.
const FLOOR_FLAGGED_05_1: f64 = 0.937;
/// Honest not CLEAR, joint analysis (a ceiling). Measured 0/40; target 0.01.
const CEILING_HONEST_NOT_CLEAR: f64 = 0.0;
/// Rare-earth element F1, joint analysis. Measured 0.9256 (0.8746 when `ree_elements`
/// also listed the traces that cannot reach the lowest limit any rule acts on); target
/// 0.95.
const FLOOR_ELEMENT_F1: f64 = 0.925;

const DATA: &str = "tests/data/xrf_multibeam";

/// One assay's label from `truth.json`.
struct Truth {
    id: String,
    files: Vec<String>,
    /// Beam names ("15kV", "40kV-Al", "50kV-Cu"), in file order.
    beams: Vec<String>,
    commodity: String,
    declared: String,
    sample: String,
    label: Label,
}

/// What the screening said.
#[derive(Clone)]
struct Outcome {
    verdict: Verdict,
    reported: Vec<String>,
    reason: String,
    /// Joint analyses: each element found, with the beam that measured it.
    beams: String,
}

impl Outcome {
    fn of(r: reescan::Result<ScreeningResult>) -> Outcome {
        match r {
            Ok(r) => Outcome {
                verdict: r.verdict,
                beams: r
                    .xrf_beams
                    .iter()
                    .flat_map(|m| &m.elements)
                    .filter(|e| e.present)
                    .map(|e| {
                        let wt = r.xrf.as_ref().and_then(|x| x.element(&e.symbol));
                        format!(
                            "{} {:.3}@b{}",
                            e.symbol,
                            wt.map_or(0.0, |x| x.wt_pct),
                            e.beam
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                reported: r.ree_elements,
                reason: r.reasons.join(" "),
            },
            Err(e) => Outcome {
                verdict: Verdict::Error,
                reported: vec![],
                reason: e.to_string(),
                beams: String::new(),
            },
        }
    }
}

fn truths() -> Vec<Truth> {
    truth_json(DATA)["assays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let strings = |v: &serde_json::Value, key: &str| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        if key.is_empty() {
                            x.as_str().unwrap().to_string()
                        } else {
                            x[key].as_str().unwrap().to_string()
                        }
                    })
                    .collect()
            };
            Truth {
                id: s["id"].as_str().unwrap().to_string(),
                files: strings(&s["files"], ""),
                beams: strings(&s["beams"], "beam"),
                commodity: s["commodity"].as_str().unwrap().to_string(),
                declared: s["declared"].as_str().unwrap().to_string(),
                sample: s["sample"].as_str().unwrap().to_string(),
                label: Label::of(s),
            }
        })
        .collect()
}

fn read(name: &str, bytes: &[u8]) -> Spectrum {
    let opts = ReadOptions {
        technique: Some(Technique::Xrf),
        ..ReadOptions::default()
    };
    let mut s = reescan::formats::read_bytes(bytes, name, &opts).unwrap();
    s.meta.source_file = Some(PathBuf::from(name));
    s
}

/// Each beam alone (by beam name) and the joint analysis of one assay.
struct Scored {
    alone: BTreeMap<String, Outcome>,
    joint: Outcome,
}

/// `filters`: false reads every beam as if its file stated no filter.
/// What the analysis is told of each beam's filter.
#[derive(Clone, Copy)]
enum Filters {
    /// The files' `##FILTER` lines.
    Stated,
    /// Nothing: the analysis infers a filter from the scattered continuum.
    Unstated,
    /// That there is none (an open beam).
    Open,
}

fn score_assay(
    screener: &Screener,
    t: &Truth,
    files: &BTreeMap<String, Vec<u8>>,
    filters: Filters,
) -> Scored {
    let spectra: Vec<Spectrum> = t
        .files
        .iter()
        .map(|f| {
            let mut s = read(f, &files[f]);
            match filters {
                Filters::Stated => {}
                Filters::Unstated => s.meta.beam_filter = None,
                Filters::Open => s.meta.beam_filter = Some(vec![]),
            }
            s
        })
        .collect();
    let mut alone = BTreeMap::new();
    let mut analyses = Vec::new();
    for (s, beam) in spectra.iter().zip(&t.beams) {
        let r = screener.screen_spectra(&t.id, &t.declared, Some(s), None);
        if let Ok(x) = r.as_ref().map(|r| r.xrf.clone()) {
            analyses.extend(x);
        }
        alone.insert(beam.clone(), Outcome::of(r));
    }
    let joint = if analyses.len() == spectra.len() {
        Outcome::of(screener.screen_joint_analysed(&t.id, &t.declared, &spectra, analyses, None))
    } else {
        Outcome::of(screener.screen_beams(&t.id, &t.declared, &spectra, None))
    };
    Scored { alone, joint }
}

#[test]
fn joint_analysis_is_at_least_as_accurate_as_the_best_single_beam() {
    let truths = truths();
    let files = corpus_files(DATA);
    let listed: usize = truths.iter().map(|t| t.files.len()).sum();
    assert_eq!(
        files.len(),
        listed + 1,
        "corpus.zip and truth.json disagree (the zip also holds manifest.csv)"
    );
    assert!(
        truths.len() >= 100,
        "truth.json lists {} assays",
        truths.len()
    );
    let mut screener = Screener::new(
        Arc::new(Rules::builtin().clone()),
        reescan::screen::parse_date("2026-12-06").unwrap(),
    );
    screener.triage = false;
    let scored: Vec<Scored> = truths
        .par_iter()
        .map(|t| score_assay(&screener, t, &files, Filters::Stated))
        .collect();

    // per set-up: the assays measured with that set-up, each beam alone and jointly
    let mut tables: BTreeMap<String, Vec<(String, Tally)>> = BTreeMap::new();
    let mut all_joint = Tally::default();
    let mut misses = Vec::new();
    let mut alarms = Vec::new();
    for setup in ["15kV+40kV-Al+50kV-Cu", "15kV+50kV-Cu"] {
        let mut rows: BTreeMap<String, Tally> = BTreeMap::new();
        let mut joint = Tally::default();
        for (t, s) in truths.iter().zip(&scored) {
            if t.beams.join("+") != setup {
                continue;
            }
            for (beam, o) in &s.alone {
                rows.entry(format!("{beam} alone")).or_default().add(
                    &t.label,
                    o.verdict,
                    &o.reported,
                );
            }
            joint.add(&t.label, s.joint.verdict, &s.joint.reported);
        }
        let mut table: Vec<(String, Tally)> = rows.into_iter().collect();
        table.push(("joint".into(), joint));
        tables.insert(setup.to_string(), table);
    }
    for (t, s) in truths.iter().zip(&scored) {
        all_joint.add(&t.label, s.joint.verdict, &s.joint.reported);
        let o = &s.joint;
        let alone: Vec<String> = s
            .alone
            .iter()
            .map(|(b, a)| format!("{b} {} {:?}", a.verdict, a.reported))
            .collect();
        if t.label.honest && o.verdict != Verdict::Clear {
            alarms.push(format!(
                "{} {}: {} {:?} [alone: {}] | {} | {}",
                t.id,
                t.sample,
                o.verdict,
                o.reported,
                alone.join("; "),
                o.reason,
                o.beams
            ));
        } else if !t.label.honest
            && t.label.ree_added >= 0.5
            && !matches!(o.verdict, Verdict::Inspect | Verdict::Hold)
        {
            misses.push(format!(
                "{} {} ({:.2} wt % added): {} {:?} [alone: {}] | {} | {}",
                t.id,
                t.sample,
                t.label.ree_added,
                o.verdict,
                o.reported,
                alone.join("; "),
                o.reason,
                o.beams
            ));
        }
    }
    for (setup, rows) in &tables {
        print_table(
            &format!("Set-up {setup}"),
            rows.iter().map(|(k, t)| (k, t)),
            true,
        );
    }
    let mut by_commodity: BTreeMap<String, Tally> = BTreeMap::new();
    for (t, s) in truths.iter().zip(&scored) {
        by_commodity.entry(t.commodity.clone()).or_default().add(
            &t.label,
            s.joint.verdict,
            &s.joint.reported,
        );
    }
    let rows: Vec<(String, Tally)> = by_commodity
        .into_iter()
        .chain([("all assays".to_string(), all_joint.clone())])
        .collect();
    print_table(
        "Joint analysis per commodity",
        rows.iter().map(|(k, t)| (k, t)),
        true,
    );
    println!(
        "\nBlended ≥ 0.5 wt % not flagged by the joint analysis ({}):",
        misses.len()
    );
    for m in &misses {
        println!("  {m}");
    }
    println!(
        "\nHonest not CLEAR by the joint analysis ({}):",
        alarms.len()
    );
    for a in &alarms {
        println!("  {a}");
    }
    let ge1 = ratio(all_joint.ge1.0, all_joint.ge1.1);
    let mid = ratio(all_joint.mid.0, all_joint.mid.1);
    let honest = ratio(all_joint.honest_not_clear, all_joint.honest);
    let f1 = all_joint.f1().2;
    println!(
        "\nJoint: ≥ 1 wt % flagged {ge1:.4} (floor {FLOOR_FLAGGED_GE_1}, target 0.99); \
         0.5–1 wt % flagged {mid:.4} (floor {FLOOR_FLAGGED_05_1}, target 0.90); \
         honest not CLEAR {honest:.4} (ceiling {CEILING_HONEST_NOT_CLEAR}, target 0.01); \
         element F1 {f1:.4} (floor {FLOOR_ELEMENT_F1}, target 0.95)"
    );

    // the joint analysis against the best single beam, set-up by set-up
    for (setup, rows) in &tables {
        let (joint, singles) = rows.split_last().unwrap();
        let best = singles
            .iter()
            .max_by(|a, b| a.1.accuracy().total_cmp(&b.1.accuracy()))
            .unwrap();
        println!(
            "{setup}: joint score {:.3}, best single beam {} {:.3}",
            joint.1.accuracy(),
            best.0,
            best.1.accuracy()
        );
        assert!(
            joint.1.accuracy() >= best.1.accuracy(),
            "{setup}: the joint analysis ({:.3}) is less accurate than {} ({:.3})",
            joint.1.accuracy(),
            best.0,
            best.1.accuracy()
        );
    }
    assert_eq!(all_joint.errors, 0, "joint analyses failed");
    assert!(
        ge1 >= FLOOR_FLAGGED_GE_1,
        "≥ 1 wt % flagged {ge1:.3} fell below its floor"
    );
    assert!(
        mid >= FLOOR_FLAGGED_05_1,
        "0.5–1 wt % flagged {mid:.3} fell below its floor"
    );
    assert!(
        honest <= CEILING_HONEST_NOT_CLEAR,
        "honest not CLEAR {honest:.3} rose above its ceiling"
    );
    assert!(
        f1 >= FLOOR_ELEMENT_F1,
        "element F1 {f1:.3} fell below its floor"
    );
}

/// The joint decision on hand-made beam results, against what the rule says: Si from the
/// low-kV unfiltered beam whatever the others read, Fe from the beam with the lowest
/// detection limit, Ce from the only beam that excites its K lines, a rare earth one
/// beam reads at 2 wt % while another beam, limit 0.05 wt %, finds none: reported
/// unconfirmed, with the disagreement in its scale uncertainty and a sentence naming both
/// beams; a major only one of two exciting beams shows: left out, with a note.
use reescan::xrf::{ElementResult, NotDetected, XrfAnalysis};

/// A hand-made element reading of one beam (σ 5 % of the reading).
fn element(symbol: &str, wt_pct: f64, lod: f64, line: &str) -> ElementResult {
    ElementResult {
        symbol: symbol.into(),
        wt_pct,
        sigma_wt_pct: 0.05 * wt_pct,
        lod_wt_pct: lod,
        excitation_sigma_wt_pct: 0.0,
        lines: vec![line.into()],
    }
}

/// A hand-made beam: its spectrum's metadata and its analysis.
fn beam(
    kv: f64,
    filter: &str,
    elements: Vec<ElementResult>,
    nd: Vec<(&str, f64)>,
) -> (Spectrum, XrfAnalysis) {
    let s = Spectrum {
        counts: ndarray::Array1::from_elem(2048, 10.0),
        axis: reescan::Axis::Energy(reescan::Calibration::linear(0.0, 0.025).unwrap()),
        meta: reescan::Metadata {
            tube_kv: Some(kv),
            anode: Some("Rh".into()),
            beam_filter: Some(reescan::spectrum::parse_filter(filter).unwrap()),
            source_file: Some(PathBuf::from(format!("b{kv}.msa"))),
            sha256: format!("{kv}"),
            ..Default::default()
        },
    };
    let a = XrfAnalysis {
        file: format!("b{kv}.msa"),
        sha256: format!("{kv}"),
        live_time_s: Some(30.0),
        tube_kv: Some(kv),
        excitation: format!("Rh tube, {kv} kV"),
        excitation_basis: Default::default(),
        calibration: Default::default(),
        peaks: vec![],
        artefacts: vec![],
        elements,
        not_detected: nd
            .into_iter()
            .map(|(s, l)| NotDetected {
                symbol: s.into(),
                lod_wt_pct: l,
            })
            .collect(),
        reduced_chi2: 1.0,
        fit_channels: (0, 2047),
        energy_range_kev: (0.0, 51.2),
        total_counts: 1e6,
        fit_mean_counts: 100.0,
        curves: Default::default(),
        unconfirmed: vec![],
        notes: vec![],
    };
    (s, a)
}

#[test]
fn each_element_comes_from_its_best_beam_and_contradictions_are_unconfirmed() {
    use reescan::xrf::beams::{combine, JointSettings};
    let (s1, a1) = beam(
        15.0,
        "none",
        vec![
            element("Si", 20.0, 0.05, "Ka1"),
            element("Fe", 5.0, 0.01, "Ka1"),
            element("Ta", 40.0, 0.05, "La1"),
        ],
        vec![("Nd", 0.05), ("Ce", 0.3)],
    );
    let (s2, a2) = beam(
        50.0,
        "Cu 100 um",
        vec![
            element("Si", 35.0, 2.0, "Ka1"),
            element("Fe", 5.5, 0.005, "Ka1"),
            element("Nd", 2.0, 0.02, "La1"),
            element("Ce", 1.0, 0.01, "Ka1"),
        ],
        vec![],
    );
    let j = combine(&[s1, s2], vec![a1, a2], &JointSettings::default());
    let x = &j.joint;
    let by = |sym: &str| j.beams.elements.iter().find(|e| e.symbol == sym).unwrap();
    assert_eq!(x.element("Si").unwrap().wt_pct, 20.0);
    assert_eq!(by("Si").beam, 1);
    assert_eq!(x.element("Fe").unwrap().wt_pct, 5.5);
    assert_eq!(by("Fe").beam, 2);
    // Ce's K lines: only the 50 kV beam excites them; no contradiction with the 15 kV beam
    assert_eq!(by("Ce").beam, 2);
    assert!(by("Ce").confirmed);
    // Nd by its L lines on both beams: the 15 kV beam should see 2 wt % above its 0.05
    let nd = x.element("Nd").unwrap();
    assert!(!by("Nd").confirmed && by("Nd").present);
    assert!((nd.excitation_sigma_wt_pct - 1.0).abs() < 1e-9, "{nd:?}");
    assert_eq!(j.beams.unconfirmed.len(), 1, "{:?}", j.beams.unconfirmed);
    assert!(j.beams.unconfirmed[0].starts_with("Nd: beam 2 (50 kV, filter Cu 100 µm) reads 2 wt %"));
    // 40 wt % Ta on the 15 kV beam only, while the 50 kV beam excites Ta L: left out
    assert!(x.element("Ta").is_none());
    assert!(!by("Ta").present);
    assert!(
        x.notes
            .iter()
            .any(|n| n.starts_with("Ta: beam 1 (15 kV, filter none) reads 40 wt %")),
        "{:?}",
        x.notes
    );
    assert_eq!(x.sha256, "15;50");
    assert_eq!(x.file, "b15.msa;b50.msa");
    assert_eq!(x.tube_kv, Some(50.0));
    assert_eq!(j.beams.beams[1].filter, "Cu 100 µm");
}

/// Refutation needs a beam that outweighs the reading: Sm read at 4 wt % on the 15 kV
/// beam and at 1.5 wt % on the 40 kV beam, while the 50 kV beam (limit 0.072 wt %, about
/// the 40 kV beam's 0.075) finds none: the 15 kV reading of a heavy element is refuted,
/// the 40 kV one is not, so Sm stays, unconfirmed. Pr read at 0.6 wt % on the 15 kV beam
/// alone, which both heavy beams would see: refuted, absent, with a note.
#[test]
fn a_refutation_needs_a_beam_that_outweighs_the_reading() {
    use reescan::xrf::beams::{combine, JointSettings};
    let (s1, a1) = beam(
        15.0,
        "none",
        vec![
            element("Sm", 4.0, 0.10, "La1"),
            element("Pr", 0.6, 0.06, "La1"),
        ],
        vec![],
    );
    let (s2, a2) = beam(
        40.0,
        "Al 300 um",
        vec![element("Sm", 1.5, 0.075, "La1")],
        vec![("Pr", 0.05)],
    );
    let (s3, a3) = beam(50.0, "Cu 100 um", vec![], vec![("Sm", 0.072), ("Pr", 0.11)]);
    let j = combine(&[s1, s2, s3], vec![a1, a2, a3], &JointSettings::default());
    let by = |sym: &str| j.beams.elements.iter().find(|e| e.symbol == sym).unwrap();
    assert_eq!(by("Sm").beam, 3, "the 50 kV beam has the lowest limit");
    assert!(by("Sm").present && !by("Sm").confirmed, "{:?}", by("Sm"));
    assert!(j.joint.element("Sm").is_some());
    assert!(
        j.beams
            .unconfirmed
            .iter()
            .any(|u| u.starts_with("Sm: beam 2")),
        "{:?}",
        j.beams.unconfirmed
    );
    assert!(!by("Pr").present);
    assert!(j.joint.element("Pr").is_none());
    assert!(
        j.joint
            .notes
            .iter()
            .any(|n| n.starts_with("Pr: beam 1") && n.contains("taken as absent")),
        "{:?}",
        j.joint.notes
    );
}

/// The beam filter reaches the excitation model: each corpus beam states its filter
/// (`##FILTER`), the analysis models it (its excitation names it) and it moves the
/// quantification of the major elements (Z ≥ 22, ≥ 1 wt % in the truth) against the same
/// spectrum read as unfiltered. How close each reading comes to the truth is printed,
/// per beam, not asserted: when this test was written modelling the filter did not bring
/// the readings closer overall (Al 300 µm 0.483 vs 0.499, Cu 100 µm 0.492 vs 0.476 mean
/// |ln(read/true)|; the fundamental-parameters quantification's other errors dominate).
#[test]
fn the_beam_filter_reaches_the_excitation_model() {
    use reescan::xrf::{analyze, XrfOptions};
    let truths = truths();
    let files = corpus_files(DATA);
    let comps: BTreeMap<String, BTreeMap<String, f64>> = truth_json(DATA)["assays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let els = a["elements_wt_pct"].as_object().unwrap();
            (
                a["id"].as_str().unwrap().to_string(),
                els.iter()
                    .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
                    .collect(),
            )
        })
        .collect();
    let jobs: Vec<(&Truth, &String, &String)> = truths
        .iter()
        .flat_map(|t| t.files.iter().zip(&t.beams).map(move |(f, b)| (t, f, b)))
        .filter(|(_, _, b)| b.contains('-'))
        .collect();
    // per beam: Σ|ln(with/true)|, Σ|ln(without/true)|, Σ|ln(with/without)|, count
    let errors: Vec<(String, [f64; 3], usize)> = jobs
        .par_iter()
        .map(|(t, f, beam)| {
            let s = read(f, &files[*f]);
            let stated = s.meta.beam_filter.clone().unwrap();
            assert_eq!(stated.len(), 1, "{f}");
            let (el, um) = if beam.ends_with("Cu") {
                ("Cu", 100.0)
            } else {
                ("Al", 300.0)
            };
            assert_eq!(
                (stated[0].element.as_str(), stated[0].thickness_um),
                (el, um)
            );
            let mut open = s.clone();
            open.meta.beam_filter = Some(vec![]);
            let with = analyze(&s, &XrfOptions::default()).unwrap();
            let without = analyze(&open, &XrfOptions::default()).unwrap();
            assert!(
                with.excitation
                    .contains(&format!("through {el} {um:.0} µm")),
                "{}",
                with.excitation
            );
            assert!(!without.excitation.contains(" through "));
            let mut sums = [0.0; 3];
            let mut n = 0;
            for (sym, w) in &comps[&t.id] {
                let z = reescan::xrf::physics::atomic_number(sym).unwrap_or(0);
                if z < 22 || *w < 1.0 {
                    continue;
                }
                if let (Some(x), Some(y)) = (with.element(sym), without.element(sym)) {
                    sums[0] += (x.wt_pct / w).ln().abs();
                    sums[1] += (y.wt_pct / w).ln().abs();
                    sums[2] += (x.wt_pct / y.wt_pct).ln().abs();
                    n += 1;
                }
            }
            (beam.to_string(), sums, n)
        })
        .collect();
    for beam in ["40kV-Al", "50kV-Cu"] {
        let (s, n) = errors
            .iter()
            .filter(|e| e.0 == beam)
            .fold(([0.0; 3], 0), |(s, n), e| {
                ([s[0] + e.1[0], s[1] + e.1[1], s[2] + e.1[2]], n + e.2)
            });
        let m = |i: usize| s[i] / n as f64;
        println!(
            "{beam}: {n} major readings; mean |ln(read/true)| {:.3} with the filter modelled, \
             {:.3} without; the filter moves them by {:.3}",
            m(0),
            m(1),
            m(2)
        );
        assert!(n >= 50, "{beam}: {n} readings");
        assert!(
            m(2) > 0.005,
            "{beam}: the filter does not move the readings ({:.4})",
            m(2)
        );
    }
}

/// The screening of the whole corpus, joint and each beam alone, with the beams' filters
/// modelled against the same files read as open beams: the filters must not make it
/// worse (the same accuracy figure as the joint test). When this test was written they
/// made it clearly better: joint honest not CLEAR 6/40 against 13/40, ≥ 1 wt % flagged
/// 31/32 against 30/32, F1 0.837 against 0.820. The files read with their `##FILTER`
/// lines removed (the filter inferred from the scattered continuum) are printed beside
/// them, not asserted.
#[test]
fn screening_with_the_beam_filters_modelled_beats_reading_the_beams_unfiltered() {
    let truths = truths();
    let files = corpus_files(DATA);
    let mut screener = Screener::new(
        Arc::new(Rules::builtin().clone()),
        reescan::screen::parse_date("2026-12-06").unwrap(),
    );
    screener.triage = false;
    let tally = |filters: Filters| {
        let scored: Vec<Scored> = truths
            .par_iter()
            .map(|t| score_assay(&screener, t, &files, filters))
            .collect();
        let mut joint = Tally::default();
        let mut alone: BTreeMap<String, Tally> = BTreeMap::new();
        for (t, s) in truths.iter().zip(&scored) {
            joint.add(&t.label, s.joint.verdict, &s.joint.reported);
            for (b, o) in &s.alone {
                alone
                    .entry(b.clone())
                    .or_default()
                    .add(&t.label, o.verdict, &o.reported);
            }
        }
        (joint, alone)
    };
    let (with, with_alone) = tally(Filters::Stated);
    let (inferred, inferred_alone) = tally(Filters::Unstated);
    let (without, without_alone) = tally(Filters::Open);
    let mut rows = vec![
        ("joint, filters modelled".to_string(), with.clone()),
        ("joint, filters inferred".to_string(), inferred.clone()),
        ("joint, read as open beams".to_string(), without.clone()),
    ];
    for (b, t) in &with_alone {
        rows.push((format!("{b} alone, modelled"), t.clone()));
        rows.push((format!("{b} alone, inferred"), inferred_alone[b].clone()));
        rows.push((format!("{b} alone, open"), without_alone[b].clone()));
    }
    print_table(
        "Beam filters modelled or not (all assays)",
        rows.iter().map(|(k, t)| (k, t)),
        true,
    );
    assert!(
        with.accuracy() >= without.accuracy(),
        "joint: {:.3} with the filters modelled, {:.3} without",
        with.accuracy(),
        without.accuracy()
    );
    for b in ["40kV-Al", "50kV-Cu"] {
        let (w, wo) = (with_alone[b].accuracy(), without_alone[b].accuracy());
        assert!(
            w >= wo,
            "{b} alone: {w:.3} with the filter modelled, {wo:.3} without"
        );
    }
}

/// Rival explanations of one peak on a real-shaped major line: Si Kα (1.740 keV) and
/// Ta Mα (1.710 keV), 30 eV apart. A 15 kV beam excites Ta L (L3 edge 9.88 keV), so Ta
/// M without Ta L at 8.1 keV is not tantalum; a model selection that prefers the Ta M
/// family's shape for the Si peak must not put it in Si's place (19 of the 26 zircon
/// 15 kV beams read Ta at 40–63 wt % and no Si before). On every 15 kV beam of an
/// assay holding ≥ 10 wt % Si (zircon sand, porcelain), Si is reported and Ta is not.
/// And where Si stands beside Zr L (Si Kβ under Zr Ll, P Kα 29 eV below Zr Lα), Zr is
/// still reported on every zircon sand's 15 kV beam: its minor Ll cluster had dropped
/// the whole Zr L family from three of them (mb-zircon-0016, 0056, 0057: Zr 0 or none,
/// P 25–28 wt %). Si is reported on all of them: where Ta M and Si were dropped in the
/// same pruning round (mb-zircon-0012 and 0056: Si at 3.5σ while Ta M held its peak),
/// Si is put back once Ta M is gone.
#[test]
fn silicon_is_not_read_as_tantalum_m_on_the_low_kv_beam() {
    use reescan::xrf::{analyze, XrfOptions};
    let files = corpus_files(DATA);
    let assays = truth_json(DATA)["assays"].as_array().unwrap().clone();
    let beams: Vec<&str> = assays
        .iter()
        .filter(|a| a["elements_wt_pct"]["Si"].as_f64().unwrap_or(0.0) >= 10.0)
        .flat_map(|a| a["files"].as_array().unwrap().iter())
        .filter_map(|f| f.as_str())
        .filter(|f| f.contains("-15kV"))
        .collect();
    assert!(beams.len() >= 40, "{} low-kV beams", beams.len());
    let read: Vec<(bool, bool, bool)> = beams
        .par_iter()
        .map(|f| {
            let a = analyze(&read(f, &files[*f]), &XrfOptions::default()).unwrap();
            let has = |s: &str| a.elements.iter().any(|e| e.symbol == s);
            let zr = a
                .elements
                .iter()
                .any(|e| e.symbol == "Zr" && e.wt_pct >= 10.0);
            (has("Si"), has("Ta"), !f.starts_with("mb-zircon-") || zr)
        })
        .collect();
    let si = read.iter().filter(|r| r.0).count();
    let ta = read.iter().filter(|r| r.1).count();
    println!(
        "15 kV beams with ≥ 10 wt % Si: Si reported on {si}/{}, Ta on {ta}",
        read.len()
    );
    assert_eq!(ta, 0, "Ta reported on {ta} beams");
    let no_zr = read.iter().filter(|r| !r.2).count();
    assert_eq!(
        no_zr, 0,
        "zircon sand without Zr at ≥ 10 wt % on {no_zr} beams"
    );
    assert_eq!(si, read.len(), "Si reported on {si}/{}", read.len());
}
