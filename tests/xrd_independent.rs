//! Phase identification scored on an XRD corpus made with code reescan did not write.
//!
//! `tests/data/xrd_independent/corpus.zip` holds 312 labelled powder patterns of cargo
//! (iron ore, zircon sand, ceramics), half honest and half with a rare-earth phase at
//! 2–5 or 5–25 wt %, from a lab (0.02° steps, FWHM 0.08–0.15°) and a portable (0.05°
//! steps, FWHM 0.20–0.35°, a few hundred counts on the strongest peak) diffractometer,
//! each with a Cu and a Co tube. `truth.json` beside it gives each pattern's phases,
//! settings and seed. They were made by `validation/xrd/make_corpus.py`: sticks from
//! pymatgen's `XRDCalculator` (its own form factors and Lorentz-polarisation factor) for
//! the library CIFs, weight fractions to intensities by the ZMV relation, pseudo-Voigt
//! profiles with Caglioti widths, Kα1 + Kα2, zero shift and specimen displacement,
//! March–Dollase texture, microabsorption and particle-statistics scatter, background
//! with Fe fluorescence under Cu and a glassy hump in ceramics, Poisson counts. That
//! script shares no code with `src/xrd/synth.rs`; rerunning it needs Python with pymatgen,
//! this test does not.
//!
//! Each `.xy` states its wavelength and anode in its header and is read and analysed as
//! `reescan scan --xrd F` does (embedded library). Scoring, per instrument, tube and
//! commodity:
//! * a blended pattern's rare-earth phase is identified when the analysis reports it or a
//!   phase of the same structure type whose lines it shares (bixbyite C-type oxides,
//!   tysonite fluorides, UCl3-type hydroxides, monazites, fluorite-type oxides, A-type
//!   oxides; listed in [`FAMILIES`]); the exact name is counted apart, and so is any
//!   rare-earth phase at all (what the screening acts on: a fluorite-type Pr6O11 read
//!   as C-type Sm2O3, whose strongest lines are the fluorite subcell's, is flagged);
//! * an honest pattern has a false rare-earth phase when any rare-earth phase is reported.
//!
//! The targets (issue 22) are ≥ 95 % identified at ≥ 5 wt %, ≥ 90 % at 2–5 wt %,
//! ≤ 2 % of honest patterns with a false rare-earth phase. The test asserts a ratchet at
//! the figures measured (the `FLOOR_*`/`CEILING_*` constants, each beside its target);
//! raise them as the analysis improves, and lower none without saying why.
//!
//! `cargo test --test xrd_independent -- --nocapture` prints the tables.

use rayon::prelude::*;
use reescan::formats::{read_bytes, ReadOptions};
use reescan::xrd::{analyze_with, builtin};
use reescan::Technique;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

// The ratchet, measured on this corpus (62-phase library; how each figure got here is
// in the git history): lab patterns are found at 42/42 (≥ 5 wt %) and 36/36 (2–5 wt %),
// portable ones at 42/42 and 29/36; no honest pattern has a rare-earth phase. The seven
// portable misses at 2–5 wt % have peaks of a few hundred counts: the hosts' texture and
// microabsorption misfit (per-line intensity errors of 15–20 %) raises the χ² a
// candidate must gain above what its 2–3σ lines give (Y2O3 and Nd2Fe14B in iron ore,
// CeO2 in zircon sand), its lines fall under mullite's and corundum's once those are
// fitted (Nd2Fe14B and xenotime in ceramics), or the whole-pattern refinement's F test
// finds its drop taken up by the refined hosts (Nd2Fe14B in zircon sand); one bastnäsite
// is read as monazite and then dropped.

/// Share of patterns with a rare-earth phase at ≥ 5 wt % where it is identified.
/// Measured 84/84 = 1.000; target 0.95.
const FLOOR_IDENTIFIED_GE_5: f64 = 1.0;
/// Same at 2–5 wt %. Measured 65/72 = 0.903; target 0.90.
const FLOOR_IDENTIFIED_2_5: f64 = 0.902;
/// Share of honest patterns with a false rare-earth phase (a ceiling). Measured 0/156;
/// target 0.02.
const CEILING_FALSE_ON_HONEST: f64 = 0.0;

/// Rare-earth phases of one structure type, whose patterns differ only by a few tenths of
/// a percent in cell size or by the rare earth's scattering power.
const FAMILIES: &[&[&str]] = &[
    &["Y2O3_C", "Dy2O3_C", "Gd2O3_C", "Eu2O3_C", "Sm2O3_C"],
    &["NdF3", "fluocerite_LaF3", "fluocerite_CeF3"],
    &["LaOH3", "NdOH3"],
    &["monazite_Ce", "monazite_La"],
    &["cerianite_CeO2", "Pr6O11", "Tb4O7"],
    &["La2O3_A", "Nd2O3_A"],
];

const DATA: &str = "tests/data/xrd_independent";

fn same_family(a: &str, b: &str) -> bool {
    a == b || FAMILIES.iter().any(|f| f.contains(&a) && f.contains(&b))
}

/// One pattern's label from `truth.json`.
struct Truth {
    file: String,
    group: String,
    class: String,
    ree_phase: Option<String>,
}

/// What the analysis reported: its rare-earth phases.
struct Outcome {
    ree: Vec<String>,
}

fn truths() -> Vec<Truth> {
    let text = std::fs::read_to_string(Path::new(DATA).join("truth.json")).expect("truth");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .map(|p| Truth {
            file: p["file"].as_str().expect("file").to_string(),
            group: format!(
                "{:8} {:2} {:11}",
                p["instrument"].as_str().expect("instrument"),
                p["tube"].as_str().expect("tube"),
                p["commodity"].as_str().expect("commodity")
            ),
            class: p["class"].as_str().expect("class").to_string(),
            ree_phase: p["ree_phase"].as_str().map(str::to_string),
        })
        .collect()
}

fn pattern_bytes() -> BTreeMap<String, Vec<u8>> {
    let f = std::fs::File::open(Path::new(DATA).join("corpus.zip")).expect("corpus.zip");
    let mut z = zip::ZipArchive::new(f).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).expect("entry");
            let name = e.name().expect("name").to_string();
            let mut b = Vec::new();
            e.read_to_end(&mut b).expect("read");
            (name, b)
        })
        .collect()
}

fn analyse(name: &str, bytes: &[u8]) -> Outcome {
    let opts = ReadOptions {
        technique: Some(Technique::Xrd),
        ..ReadOptions::default()
    };
    let s = read_bytes(bytes, name, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!s.meta.wavelength_defaulted, "{name}: wavelength not read");
    let lib = builtin();
    let a = analyze_with(&s, &lib).unwrap_or_else(|e| panic!("{name}: {e}"));
    Outcome {
        ree: a
            .phases
            .iter()
            .filter(|p| lib.get(&p.name).is_some_and(|l| l.rare_earth))
            .map(|p| p.name.clone())
            .collect(),
    }
}

/// Counts of one table row.
#[derive(Default, Clone, Copy)]
struct Tally {
    /// (patterns, identified, exact name, any rare-earth phase) at ≥ 5 wt %.
    ge5: (usize, usize, usize, usize),
    /// Same at 2–5 wt %.
    lo: (usize, usize, usize, usize),
    /// (honest patterns, with a false rare-earth phase).
    honest: (usize, usize),
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        let sum = |a: (usize, usize, usize, usize), b: (usize, usize, usize, usize)| {
            (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3)
        };
        self.ge5 = sum(self.ge5, o.ge5);
        self.lo = sum(self.lo, o.lo);
        self.honest = (self.honest.0 + o.honest.0, self.honest.1 + o.honest.1);
    }
}

fn ratio(k: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

#[test]
fn rare_earth_phases_in_the_independent_corpus() {
    let truths = truths();
    let bytes = pattern_bytes();
    assert!(truths.len() >= 300, "{} patterns", truths.len());
    assert_eq!(truths.len(), bytes.len());
    let outcomes: Vec<Outcome> = truths
        .par_iter()
        .map(|t| analyse(&t.file, &bytes[&t.file]))
        .collect();
    let mut rows: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut false_calls = Vec::new();
    for (t, o) in truths.iter().zip(&outcomes) {
        let row = rows.entry(t.group.clone()).or_default();
        match (&t.ree_phase, t.class.as_str()) {
            (None, _) => {
                row.honest.0 += 1;
                if !o.ree.is_empty() {
                    row.honest.1 += 1;
                    false_calls.push(format!("{}: {:?}", t.file, o.ree));
                }
            }
            (Some(truth), class) => {
                let found = o.ree.iter().any(|r| same_family(r, truth));
                let exact = o.ree.iter().any(|r| r == truth);
                let cell = if class == "ree_5_25" {
                    &mut row.ge5
                } else {
                    &mut row.lo
                };
                cell.0 += 1;
                cell.1 += usize::from(found);
                cell.2 += usize::from(exact);
                cell.3 += usize::from(!o.ree.is_empty());
                if !found {
                    misses.push(format!("{}: {truth} missed, reported {:?}", t.file, o.ree));
                }
            }
        }
    }
    println!(
        "{:23} | ≥ 5 wt %: found (exact, any) / n | 2–5 wt %: found (exact, any) / n | honest: false / n",
        "instrument tube host"
    );
    let mut total = Tally::default();
    for (group, r) in &rows {
        println!(
            "{group:23} | {:>3} ({:>3}, {:>3}) / {:<3}           | {:>3} ({:>3}, {:>3}) / {:<3}           | {:>3} / {:<3}",
            r.ge5.1, r.ge5.2, r.ge5.3, r.ge5.0, r.lo.1, r.lo.2, r.lo.3, r.lo.0, r.honest.1, r.honest.0
        );
        total.add(r);
    }
    let ge5 = ratio(total.ge5.1, total.ge5.0);
    let lo = ratio(total.lo.1, total.lo.0);
    let honest = ratio(total.honest.1, total.honest.0);
    println!(
        "all: ≥ 5 wt % {}/{} = {ge5:.3} (exact {}, any rare-earth phase {}), \
         2–5 wt % {}/{} = {lo:.3} (exact {}, any {}), false on honest {}/{} = {honest:.3}",
        total.ge5.1,
        total.ge5.0,
        total.ge5.2,
        total.ge5.3,
        total.lo.1,
        total.lo.0,
        total.lo.2,
        total.lo.3,
        total.honest.1,
        total.honest.0
    );
    println!("misses:\n  {}", misses.join("\n  "));
    println!(
        "false rare-earth phases on honest patterns:\n  {}",
        false_calls.join("\n  ")
    );
    assert!(ge5 >= FLOOR_IDENTIFIED_GE_5, "≥ 5 wt %: {ge5:.3}");
    assert!(lo >= FLOOR_IDENTIFIED_2_5, "2–5 wt %: {lo:.3}");
    assert!(
        honest <= CEILING_FALSE_ON_HONEST,
        "false on honest: {honest:.3}"
    );
}
