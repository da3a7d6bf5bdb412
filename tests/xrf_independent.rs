//! Screening scored on an XRF corpus made with physics reescan did not write.
//!
//! `tests/data/xrf_independent/corpus.zip` holds 320 labelled cargo spectra (honest iron
//! ore, zircon sand, zirconia, ceramics, and each blended with a rare-earth carrier at
//! 0.2–25 wt % total rare earths) from four instrument kinds (handheld Rh in air, handheld
//! with a Cu/Ti/Al-filtered beam, benchtop Rh/Ag/W in vacuum or He, Si-PIN portable).
//! `truth.json` beside it gives each spectrum's composition, commodity, instrument and
//! class. They were made by `validation/xrf/make_corpus.py` with PyMca5's Ebel tube model,
//! fisx's fundamental-parameters fluorescence (secondary fluorescence, matrix absorption,
//! detector efficiency, air/He path), Rayleigh and Compton scatter of the tube spectrum, a
//! PyMca-style hypermet detector response with tails and step, Si escape, pile-up of the
//! whole spectrum (scatter peaks included), per-spectrum calibration errors and Poisson
//! noise. That script shares no code with reescan (`src/xrf/synth.rs` shares the
//! analysis's physics; this corpus does not); rerunning it needs Python with PyMca5 and
//! fisx, this test does not (see `validation/xrf/README.md`).
//!
//! Each spectrum goes through the screening pipeline as `reescan scan --declared C --xrf F`
//! does (full analysis, built-in rules): the EMSA files state the tube kV and anode, the
//! Amptek `.mca` files state neither and nothing is passed for them, so the analysis must
//! infer the excitation.
//!
//! Scoring:
//! * honest shipments not CLEAR (false alarms);
//! * blended shipments flagged (INSPECT or HOLD), by the rare earths the carrier added:
//!   ≥ 1 wt %, 0.5–1 wt %, 0.2–0.5 wt %;
//! * rare-earth elements, reported (`ree_elements`) against the truth: a reported element
//!   present at ≥ 0.2 wt % is a true positive, one present below 0.05 wt % a false
//!   positive, one at 0.05–0.2 wt % neither (a real trace, counted apart); an element
//!   present at ≥ 0.2 wt % and not reported is a false negative.
//!
//! The targets (issue 20) are ≥ 99 % of ≥ 1 wt % flagged, ≥ 90 % at 0.5–1 wt %,
//! ≤ 1 % of honest not CLEAR, element F1 ≥ 0.95. The analysis does not meet them yet, so
//! the test asserts a ratchet: the figures last measured (the `FLOOR_*`/`CEILING_*`
//! constants, with their history), each beside its target. Raise them as the analysis
//! improves.
//!
//! `cargo test --test xrf_independent -- --nocapture` prints the tables.

use rayon::prelude::*;
use reescan::formats::ReadOptions;
use reescan::screen::{Rules, Screener, Verdict};
use reescan::Technique;
use std::collections::BTreeMap;
use std::sync::Arc;

mod common;
mod xrf_scoring;
use common::corpus_files;
use xrf_scoring::{
    element_score, print_table, ratio, truth_json, Label, Tally, ABSENT_WT_PCT, PRESENT_WT_PCT,
};

// The ratchet: floors (and ceilings) at the figures last measured, beside the issue's
// targets. Raise them toward the targets as the analysis improves; lower none without
// saying why in the commit (how each figure got here is in the git history).

/// Share of blended shipments with ≥ 1 wt % added rare earths that are INSPECT/HOLD.
/// Measured 96/96; target 0.99.
const FLOOR_FLAGGED_GE_1: f64 = 1.0;
/// Same at 0.5–1 wt %. Measured 38/48 = 0.792; target 0.90. What holds it there:
/// yttrium-only carriers (xenotime, ionic clay) in Y-stabilised zirconia, whose added Y
/// the rules cannot tell from the zirconia's own (zirconia-0236, 0240, 0243, 0247);
/// zircon sand on the filtered handheld, which measures no Si and so is judged as
/// zirconia (zircon-0189, 0193); CeO2 within the ceramic glaze allowance beside a Pr
/// stain (ceramics-0284); and rare earths not found or read low (iron-ore-0151 on the
/// portable, ceramics-0288, zircon-0196).
const FLOOR_FLAGGED_05_1: f64 = 0.791;
/// Share of honest shipments that are not CLEAR (a ceiling). Measured 1/128 = 0.0078;
/// target 0.01. The one: zircon-0059, Ce undecidable on the portable (voltage unstated,
/// the continuum's end lost in pile-up: 40 ± 10 kV).
const CEILING_HONEST_NOT_CLEAR: f64 = 0.008;
/// Rare-earth element F1 over the whole corpus. Measured 0.9034; target 0.95. It was
/// 0.9042 before W tubes buried under a zirconia's or an ore's K lines were recognised:
/// the right anode puts Y and Hf right on those spectra, and leaves Yb traces
/// (0.04–0.05 wt %) on four W-tube zircons and zirconias where the tube model's W L
/// lines (L3 subshell only) fall short of the scatter. `ree_elements` lists the rare earths whose reading can
/// reach, within k·σ, the lowest limit any rule acts on (0.05 wt %); when it listed every
/// detected trace as well, F1 was 0.8648 (precision 0.845): about half of those extra
/// false positives were traces read correctly below 0.05 wt %. The misses are mostly
/// Pr, Sm, Dy, Ho and Tb among the L lines of rare earths at 5–25 wt %.
const FLOOR_ELEMENT_F1: f64 = 0.903;

/// Calibration error at Zr Kα over the zircon and zirconia spectra (ceilings, eV):
/// measured 90th percentile 4.8 and largest 10.6.
const CEILING_ZR_CALIBRATION_P90_EV: f64 = 5.0;
const CEILING_ZR_CALIBRATION_MAX_EV: f64 = 11.0;
/// The same at Zr Lα (2.042 keV), 13.7 keV below the anchor: how well the gain is
/// refined, where P Kα (29 eV below Zr Lα) takes what a misplaced Zr Lα leaves. Measured
/// 90th percentile 9.2 eV (10.0 where an unstated tube's scattered W L lines, fitted as
/// W fluorescence, set the gain).
const CEILING_ZR_L_CALIBRATION_P90_EV: f64 = 9.5;

/// Quantification (a ceiling): the median over the corpus of |ln(reading / truth)| of
/// the rare earths present at ≥ 0.2 wt % that the analysis reports. Measured 0.426 over
/// 422 readings (a factor 1.53). The worst group is the portable: its Ag tube is
/// taken for Rh on 12 `.mca` files, its Si Kα is weak behind 10–20 mm of air and
/// 25 µm of Be (zircon then normalises without Si), and the tube model's anode lines,
/// stronger against the continuum than the corpus's Ebel tube, excite Zr K relative to
/// the light elements more than the corpus does.
const CEILING_REE_QUANT_MEDIAN_ABS_LN: f64 = 0.427;

/// `.mca` files (which state no anode) whose anode the analysis gets wrong (a ceiling).
/// Measured 18 of 160: 12 Ag tubes at 35–40 kV taken for Rh (no Compton companion
/// found, or a small peak above the Kβ1 that no sum explains), 5 of the 14 W tubes
/// (4 taken for Rh or Ag, one for none) and one Rh tube taken for Ag. W tubes under a
/// sample's K lines were all missed (26 of 160) before an L-line anode was taken as a
/// last resort.
const CEILING_WRONG_ANODE_MCA: usize = 18;

const DATA: &str = "tests/data/xrf_independent";

/// One spectrum's label from `truth.json`.
struct Truth {
    file: String,
    commodity: String,
    declared: String,
    sample: String,
    kind: String,
    label: Label,
    /// The true calibration the spectrum was drawn with: (offset keV, gain keV/channel).
    calibration: (f64, f64),
    /// The tube's anode.
    anode: String,
    /// The host's principal element and its true wt % (Fe in iron ore, Zr in zircon and
    /// zirconia; none in ceramics, whose Al and Si a handheld reads poorly).
    host: Option<(String, f64)>,
}

/// What the screening said.
struct Outcome {
    verdict: Verdict,
    reported: Vec<String>,
    reason: String,
    /// The analysis' calibration: (offset keV, gain keV/channel).
    calibration: Option<(f64, f64)>,
    /// Every element's reading, wt %.
    readings: BTreeMap<String, f64>,
    /// The anode the analysis modelled (stated or recognised or assumed).
    anode: Option<String>,
}

fn truths() -> Vec<Truth> {
    truth_json(DATA)["spectra"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Truth {
            file: s["file"].as_str().unwrap().to_string(),
            commodity: s["commodity"].as_str().unwrap().to_string(),
            declared: s["declared"].as_str().unwrap().to_string(),
            sample: s["sample"].as_str().unwrap().to_string(),
            kind: s["kind"].as_str().unwrap().to_string(),
            label: Label::of(s),
            calibration: (
                s["offset_true_kev"].as_f64().unwrap(),
                s["gain_true_kev"].as_f64().unwrap(),
            ),
            anode: s["anode"].as_str().unwrap().to_string(),
            host: match s["commodity"].as_str().unwrap() {
                "iron-ore" => Some("Fe"),
                "zircon" | "zirconia" => Some("Zr"),
                _ => None,
            }
            .and_then(|el| {
                let w = s["elements_wt_pct"][el].as_f64()?;
                Some((el.to_string(), w))
            }),
        })
        .collect()
}

/// The screening of `reescan scan`: built-in rules, every scan analysed in full.
fn full_screener() -> Screener {
    let mut screener = Screener::new(
        Arc::new(Rules::builtin().clone()),
        reescan::screen::parse_date("2026-12-06").unwrap(),
    );
    screener.triage = false;
    screener
}

fn screen(screener: &Screener, t: &Truth, bytes: &[u8]) -> Outcome {
    let opts = ReadOptions {
        technique: Some(Technique::Xrf),
        ..ReadOptions::default()
    };
    let r = reescan::formats::read_bytes(bytes, &t.file, &opts)
        .and_then(|s| screener.screen_spectra(&t.file, &t.declared, Some(&s), None));
    match r {
        Ok(r) => Outcome {
            verdict: r.verdict,
            reported: r.ree_elements,
            reason: r.reasons.join(" "),
            calibration: r
                .xrf
                .as_ref()
                .map(|x| (x.calibration.offset_kev, x.calibration.gain_kev)),
            readings: r
                .xrf
                .as_ref()
                .map(|x| {
                    x.elements
                        .iter()
                        .map(|e| (e.symbol.clone(), e.wt_pct))
                        .collect()
                })
                .unwrap_or_default(),
            anode: r
                .xrf
                .as_ref()
                .and_then(|x| x.excitation_basis.anode.map(str::to_string)),
        },
        Err(e) => Outcome {
            verdict: Verdict::Error,
            reported: vec![],
            reason: e.to_string(),
            calibration: None,
            readings: BTreeMap::new(),
            anode: None,
        },
    }
}

/// The scattered continuum of an iron ore steps up below Fe's K edge (7.11 keV), under
/// the Fe K peaks, where SNIP bridges over it; the step had been read as Gd L lines on
/// two honest hematites (iron-ore-0016, handheld, kV stated; iron-ore-0030, benchtop,
/// an `.mca` without the kV), INSPECT for Gd at 0.10–0.17 wt %. With the continuum
/// ramp below the strongest K families' edges both are CLEAR with no rare earth.
#[test]
fn the_continuum_step_below_fe_k_is_not_read_as_gadolinium() {
    let truths = truths();
    let bytes = corpus_files(DATA);
    let screener = full_screener();
    for name in ["iron-ore-0016.msa", "iron-ore-0030.mca"] {
        let t = truths.iter().find(|t| t.file == name).unwrap();
        assert!(t.label.honest);
        let o = screen(&screener, t, &bytes[name]);
        assert_eq!(o.verdict, Verdict::Clear, "{name}: {}", o.reason);
        assert!(o.reported.is_empty(), "{name}: {:?}", o.reported);
        assert!(!o.readings.contains_key("Gd"), "{name}: {:?}", o.readings);
    }
}

/// Si Kα (1.74 keV) beside Ta M (1.71) and Y L on the portable (FWHM ~200 eV): the first
/// fits gave the peak to Ta M, whose L lines at 8.1 keV then failed; ceramics-0303
/// (porcelain, Si 29.7 wt %, with xenotime) had been normalised without Si, every
/// element read ~4× high (Y 29.8 wt % for 2.5, χ²/ν 4.1). When the strict tests drop the
/// rival, Si's K family is put back and holds its line.
#[test]
fn a_light_matrix_line_a_dropped_rival_had_taken_is_put_back() {
    let truths = truths();
    let bytes = corpus_files(DATA);
    let name = "ceramics-0303.msa";
    let t = truths.iter().find(|t| t.file == name).unwrap();
    let o = screen(&full_screener(), t, &bytes[name]);
    let si = o.readings.get("Si").copied().unwrap_or(0.0);
    let y = o.readings.get("Y").copied().unwrap_or(0.0);
    assert!((20.0..45.0).contains(&si), "Si {si} wt % (29.7 present)");
    assert!(y < 2.0 * 2.46, "Y {y} wt % (2.46 present)");
}

#[test]
fn independent_corpus_screening_meets_the_ratchet() {
    let truths = truths();
    let bytes = corpus_files(DATA);
    assert_eq!(
        bytes.len(),
        truths.len(),
        "corpus.zip and truth.json disagree"
    );
    let screener = full_screener();
    let outcomes: Vec<Outcome> = truths
        .par_iter()
        .map(|t| screen(&screener, t, &bytes[&t.file]))
        .collect();

    let mut by_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_commodity: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_format: BTreeMap<String, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    let mut false_ree: BTreeMap<String, usize> = BTreeMap::new();
    let mut false_ree_by_commodity: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut missed_ree: BTreeMap<String, usize> = BTreeMap::new();
    // False positives whose reading and truth both lie below the absent line (a trace
    // read as a trace), and those read at ≥ 0.2 wt % (a phantom or a gross over-read).
    let (mut fp_trace_read, mut fp_gross) = (0usize, 0usize);
    let mut misses = Vec::new();
    let mut alarms = Vec::new();
    for (t, o) in truths.iter().zip(&outcomes) {
        let format = t.file.rsplit('.').next().unwrap_or("").to_string();
        for (map, key) in [
            (&mut by_kind, t.kind.clone()),
            (&mut by_commodity, t.commodity.clone()),
            (&mut by_format, format),
        ] {
            map.entry(key)
                .or_default()
                .add(&t.label, o.verdict, &o.reported);
        }
        all.add(&t.label, o.verdict, &o.reported);
        for (el, w) in &t.label.ree {
            if *w >= PRESENT_WT_PCT && !o.reported.contains(el) {
                *missed_ree.entry(el.clone()).or_default() += 1;
            }
        }
        for el in element_score(&t.label, &o.reported).fp {
            let read = o.readings.get(&el).copied().unwrap_or(0.0);
            let truth = t.label.ree.get(&el).copied().unwrap_or(0.0);
            fp_trace_read += usize::from(truth > 0.0 && read < ABSENT_WT_PCT);
            fp_gross += usize::from(read >= PRESENT_WT_PCT);
        }
        if t.label.honest {
            for el in element_score(&t.label, &o.reported).fp {
                *false_ree.entry(el.clone()).or_default() += 1;
                *false_ree_by_commodity
                    .entry((t.commodity.clone(), el))
                    .or_default() += 1;
            }
            if o.verdict != Verdict::Clear {
                alarms.push(format!(
                    "{} [{}] {}: {} {:?} | {}",
                    t.file, t.kind, t.sample, o.verdict, o.reported, o.reason
                ));
            }
        } else if t.label.ree_added >= 0.5 && !matches!(o.verdict, Verdict::Inspect | Verdict::Hold)
        {
            misses.push(format!(
                "{} [{}] {} ({:.2} wt % added): {} {:?} | {}",
                t.file, t.kind, t.sample, t.label.ree_added, o.verdict, o.reported, o.reason
            ));
        }
    }
    let mut total = BTreeMap::new();
    total.insert("all".to_string(), all.clone());
    print_table("Per instrument kind", &by_kind, false);
    print_table("Per commodity", &by_commodity, false);
    print_table("Per file format (.mca states no kV)", &by_format, false);
    print_table("Whole corpus", &total, false);
    println!("\nFalse rare earths on honest spectra (element: count; by commodity):");
    for (el, n) in &false_ree {
        let per: Vec<String> = false_ree_by_commodity
            .iter()
            .filter(|((_, e), _)| e == el)
            .map(|((c, _), n)| format!("{c} {n}"))
            .collect();
        println!("  {el:<3} {n:>4}   ({})", per.join(", "));
    }
    println!("reported traces (0.05–0.2 wt %, not scored): {}", all.trace);
    println!(
        "false positives ({}): {} are traces read below {ABSENT_WT_PCT} wt % of elements present below it; {} are read at ≥ {PRESENT_WT_PCT} wt %",
        all.fp, fp_trace_read, fp_gross
    );
    let missed: Vec<String> = missed_ree.iter().map(|(e, n)| format!("{e} {n}")).collect();
    println!(
        "Rare earths present at ≥ 0.2 wt % and not reported: {}",
        missed.join(", ")
    );
    println!("\nBlended ≥ 0.5 wt % not flagged ({}):", misses.len());
    for m in &misses {
        println!("  {m}");
    }
    println!("\nHonest not CLEAR ({}):", alarms.len());
    for a in &alarms {
        println!("  {a}");
    }

    let ge1 = ratio(all.ge1.0, all.ge1.1);
    let mid = ratio(all.mid.0, all.mid.1);
    let honest = ratio(all.honest_not_clear, all.honest);
    let f1 = all.f1().2;
    println!(
        "\n≥ 1 wt % flagged {ge1:.4} (floor {FLOOR_FLAGGED_GE_1}, target 0.99); \
         0.5–1 wt % flagged {mid:.4} (floor {FLOOR_FLAGGED_05_1}, target 0.90); \
         honest not CLEAR {honest:.4} (ceiling {CEILING_HONEST_NOT_CLEAR}, target 0.01); \
         element F1 {f1:.4} (floor {FLOOR_ELEMENT_F1}, target 0.95)"
    );
    assert!(
        truths.len() >= 320,
        "truth.json lists {} spectra",
        truths.len()
    );
    assert!(all.ge1.1 >= 60 && all.mid.1 >= 30 && all.honest >= 100);
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

    // Quantification against the truth: the median reading / truth of the rare earths
    // present at ≥ 0.2 wt % that the analysis reports, and of the host's principal
    // element, per instrument kind and commodity.
    let mut quant: BTreeMap<(String, String), (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut ree_abs_ln = Vec::new();
    for (t, o) in truths.iter().zip(&outcomes) {
        let q = quant
            .entry((t.kind.clone(), t.commodity.clone()))
            .or_default();
        for (el, w) in &t.label.ree {
            match o.readings.get(el) {
                Some(r) if *w >= PRESENT_WT_PCT && *r > 0.0 => {
                    q.0.push((r / w).ln());
                    ree_abs_ln.push((r / w).ln().abs());
                }
                _ => {}
            }
        }
        if let Some((el, w)) = &t.host {
            if let Some(r) = o.readings.get(el).filter(|r| **r > 0.0) {
                q.1.push((r / w).ln());
            }
        }
    }
    println!("\nQuantification: median reading / truth (rare earths present at ≥ {PRESENT_WT_PCT} wt % and reported; host Fe or Zr)");
    println!(
        "{:<20}{:<10}{:>6}{:>10}{:>8}{:>10}",
        "kind", "commodity", "n REE", "REE", "n host", "host"
    );
    for ((kind, commodity), (ree, host)) in &quant {
        let fmt = |v: &[f64]| median(v).map_or("-".to_string(), |m| format!("{:.2}", m.exp()));
        println!(
            "{kind:<20}{commodity:<10}{:>6}{:>10}{:>8}{:>10}",
            ree.len(),
            fmt(ree),
            host.len(),
            fmt(host)
        );
    }
    let ree_quant = median(&ree_abs_ln).unwrap_or(f64::INFINITY);
    println!(
        "rare earths: median |ln(reading / truth)| {ree_quant:.3} over {} readings (ceiling {CEILING_REE_QUANT_MEDIAN_ABS_LN})",
        ree_abs_ln.len()
    );
    assert!(
        ree_abs_ln.len() >= 200,
        "{} rare-earth readings",
        ree_abs_ln.len()
    );
    assert!(
        ree_quant <= CEILING_REE_QUANT_MEDIAN_ABS_LN,
        "rare-earth quantification {ree_quant:.3} rose above its ceiling"
    );

    // The anode the analysis modelled on the `.mca` files, which state none (the `.msa`
    // files state it): a wrong one reports its own scatter as an element of the sample.
    let mut anodes: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut wrong_anode = 0usize;
    for (t, o) in truths.iter().zip(&outcomes) {
        if !t.file.ends_with(".mca") {
            continue;
        }
        let got = o.anode.clone().unwrap_or_else(|| "none".to_string());
        wrong_anode += usize::from(got != t.anode);
        *anodes.entry((t.anode.clone(), got)).or_default() += 1;
    }
    println!("\nAnode on the .mca files (true → modelled: count): {}", {
        let v: Vec<String> = anodes
            .iter()
            .map(|((t, g), n)| format!("{t} → {g}: {n}"))
            .collect();
        v.join(", ")
    });
    println!("wrong anode on {wrong_anode} .mca files (ceiling {CEILING_WRONG_ANODE_MCA})");
    assert!(
        wrong_anode <= CEILING_WRONG_ANODE_MCA,
        "wrong anode on {wrong_anode} .mca files"
    );

    // The calibration the analysis refined, against the one each spectrum was drawn
    // with (stated calibrations are off by up to ±20 eV in offset and ±2 ‰ in gain):
    // the error of the energy it gives the channel of the host's principal line.
    println!("\nCalibration error at the host's principal line (|eV|: median, 90th percentile, largest):");
    let mut zr_errors = Vec::new();
    let mut zr_l_errors = Vec::new();
    for (commodity, line_kev) in [
        ("iron-ore", 6.404),
        ("zircon", 15.775),
        ("zirconia", 15.775),
        ("ceramics", 6.404),
        ("zircon", 2.042),
        ("zirconia", 2.042),
    ] {
        let mut errors: Vec<f64> = truths
            .iter()
            .zip(&outcomes)
            .filter(|(t, _)| t.commodity == commodity)
            .filter_map(|(t, o)| {
                let (offset, gain) = o.calibration?;
                let channel = (line_kev - t.calibration.0) / t.calibration.1;
                Some(1000.0 * (offset + gain * channel - line_kev).abs())
            })
            .collect();
        errors.sort_by(f64::total_cmp);
        let n = errors.len();
        if n == 0 {
            continue;
        }
        println!(
            "  {commodity:<9} at {line_kev:>6.3} keV: {:.1}, {:.1}, {:.1} eV ({n} spectra)",
            errors[n / 2],
            errors[(9 * n) / 10],
            errors[n - 1]
        );
        match (commodity.starts_with("zircon"), line_kev > 3.0) {
            (true, true) => zr_errors.extend(errors),
            (true, false) => zr_l_errors.extend(errors),
            _ => {}
        }
    }
    zr_errors.sort_by(f64::total_cmp);
    let n = zr_errors.len();
    assert!(n >= 150, "{n} zircon and zirconia spectra analysed");
    let (p90, max) = (zr_errors[(9 * n) / 10], zr_errors[n - 1]);
    assert!(
        p90 <= CEILING_ZR_CALIBRATION_P90_EV && max <= CEILING_ZR_CALIBRATION_MAX_EV,
        "Zr Kα placed {p90:.1} eV off (90th percentile), {max:.1} eV at worst"
    );
    zr_l_errors.sort_by(f64::total_cmp);
    let p90 = zr_l_errors[(9 * zr_l_errors.len()) / 10];
    assert!(
        p90 <= CEILING_ZR_L_CALIBRATION_P90_EV,
        "Zr Lα placed {p90:.1} eV off (90th percentile)"
    );
}

/// The median of `v` (none when empty).
fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}
