//! Scoring shared by the XRF corpus tests (`xrf_independent`, `xrf_multibeam`): the
//! corpus labels, the tally of verdicts and reported rare earths against the labels,
//! and the printed table (the corpus files themselves: `common::corpus_files`).

use reescan::screen::Verdict;
use reescan::tables::is_rare_earth;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Present for the element score: at or above this, wt %.
pub const PRESENT_WT_PCT: f64 = 0.2;
/// Absent for the element score: below this, wt %; between the two a reported element
/// is a trace, not scored.
pub const ABSENT_WT_PCT: f64 = 0.05;

/// What a corpus label says that the score needs.
pub struct Label {
    /// An honest shipment (no rare earths added).
    pub honest: bool,
    /// Rare earths added, wt %.
    pub ree_added: f64,
    /// Every rare earth in the sample, wt %.
    pub ree: BTreeMap<String, f64>,
}

impl Label {
    /// The label of one spectrum or assay of `truth.json`.
    pub fn of(v: &Value) -> Label {
        Label {
            honest: v["klass"] == "honest",
            ree_added: v["ree_added_wt_pct"].as_f64().unwrap(),
            ree: v["elements_wt_pct"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| is_rare_earth(k))
                .map(|(k, w)| (k.clone(), w.as_f64().unwrap()))
                .collect(),
        }
    }
}

/// The corpus's `truth.json` in `dir`.
pub fn truth_json(dir: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(dir).join("truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Counts for one row of the table.
#[derive(Default, Clone)]
pub struct Tally {
    pub honest: usize,
    pub honest_not_clear: usize,
    pub errors: usize,
    /// (flagged, all) with ≥ 1 wt % added.
    pub ge1: (usize, usize),
    /// Same, 0.5–1 wt %.
    pub mid: (usize, usize),
    /// Same, below 0.5 wt %.
    pub low: (usize, usize),
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    /// Reported rare earths present at trace level (not scored).
    pub trace: usize,
}

impl Tally {
    /// One shipment: its label, the verdict and the rare earths reported.
    pub fn add(&mut self, t: &Label, verdict: Verdict, reported: &[String]) {
        let flagged = matches!(verdict, Verdict::Inspect | Verdict::Hold);
        self.errors += usize::from(verdict == Verdict::Error);
        if t.honest {
            self.honest += 1;
            self.honest_not_clear += usize::from(verdict != Verdict::Clear);
        } else {
            let bin = if t.ree_added >= 1.0 {
                &mut self.ge1
            } else if t.ree_added >= 0.5 {
                &mut self.mid
            } else {
                &mut self.low
            };
            bin.0 += usize::from(flagged);
            bin.1 += 1;
        }
        let s = element_score(t, reported);
        self.tp += s.tp;
        self.fp += s.fp.len();
        self.fn_ += s.fn_;
        self.trace += s.trace;
    }

    /// (precision, recall, F1) of the reported rare earths.
    pub fn f1(&self) -> (f64, f64, f64) {
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }

    /// One figure of accuracy: the mean of the ≥ 1 and 0.5–1 wt % flagged rates, the
    /// share of honest shipments CLEAR and the element F1.
    pub fn accuracy(&self) -> f64 {
        let rates = [
            ratio(self.ge1.0, self.ge1.1),
            ratio(self.mid.0, self.mid.1),
            1.0 - ratio(self.honest_not_clear, self.honest),
            self.f1().2,
        ];
        rates
            .iter()
            .map(|r| if r.is_nan() { 0.0 } else { *r })
            .sum::<f64>()
            / 4.0
    }
}

/// a / b, NaN when b is 0.
pub fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// One shipment's element score.
pub struct ElementScore {
    pub tp: usize,
    /// False positives, by name.
    pub fp: Vec<String>,
    pub fn_: usize,
    pub trace: usize,
}

/// The reported rare earths against the label: present at ≥ [`PRESENT_WT_PCT`], absent
/// below [`ABSENT_WT_PCT`].
pub fn element_score(t: &Label, reported: &[String]) -> ElementScore {
    let wt = |el: &str| t.ree.get(el).copied().unwrap_or(0.0);
    let mut s = ElementScore {
        tp: 0,
        fp: Vec::new(),
        fn_: 0,
        trace: 0,
    };
    for el in reported {
        let w = wt(el);
        if w >= PRESENT_WT_PCT {
            s.tp += 1;
        } else if w < ABSENT_WT_PCT {
            s.fp.push(el.clone());
        } else {
            s.trace += 1;
        }
    }
    s.fn_ = t
        .ree
        .iter()
        .filter(|(el, w)| **w >= PRESENT_WT_PCT && !reported.contains(el))
        .count();
    s
}

/// "a/b  pp.p%", or "-" when b is 0.
pub fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "     -".into()
    } else {
        format!("{a:>3}/{b:<3}{:>5.1}%", 100.0 * a as f64 / b as f64)
    }
}

/// The table: one row per tally, with the accuracy figure when `score`.
pub fn print_table<'a>(
    title: &str,
    rows: impl IntoIterator<Item = (&'a String, &'a Tally)>,
    score: bool,
) {
    println!("\n{title}");
    println!(
        "{:<28} {:>14} {:>14} {:>14} {:>14} {:>6} {:>6} {:>6} {:>5} {:>6}{}",
        "",
        "honest !CLEAR",
        "≥1 % flagged",
        "0.5–1 flagged",
        "0.2–0.5 flag.",
        "REE P",
        "REE R",
        "F1",
        "FP",
        "errors",
        if score { "  score" } else { "" }
    );
    for (k, t) in rows {
        let (p, r, f) = t.f1();
        println!(
            "{k:<28} {:>14} {:>14} {:>14} {:>14} {p:>6.3} {r:>6.3} {f:>6.3} {:>5} {:>6}{}",
            pct(t.honest_not_clear, t.honest),
            pct(t.ge1.0, t.ge1.1),
            pct(t.mid.0, t.mid.1),
            pct(t.low.0, t.low.1),
            t.fp,
            t.errors,
            if score {
                format!("  {:>5.3}", t.accuracy())
            } else {
                String::new()
            }
        );
    }
}
