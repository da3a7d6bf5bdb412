//! Multi-beam assays: one scan measured with several beams of one instrument, analysed
//! jointly.
//!
//! Handheld analysers' geochemistry and mining methods record two or three beams per
//! assay: a low-kV unfiltered beam whose continuum sits just above the light elements'
//! K edges (Mg–Ti), and 40–50 kV beams through Al, Ti or Cu foils whose filtered
//! continuum leaves a low background under the heavy elements' K lines (the rare
//! earths' K lines from La Kα 33.4 keV up, when the kV exceeds their K edge). Each beam
//! is analysed on its own ([`fn@super::analyze`], with its own excitation: kV, anode and
//! filter from its file), then each element is decided across the beams:
//!
//! * **Which beam measures it.** Only a beam that excites the element's lines counts:
//!   kV at least [`JointSettings::edge_margin`] times the K edge (K lines) or the L3
//!   edge (L lines), the lines inside the spectrum; when a beam that excites the K
//!   lines shows the element, only such beams count (a K line stands clear of the
//!   neighbours' L lines and is read through far less matrix absorption; the 15 kV
//!   beam's L-line limit for Y or Zr under the Si and Zr L lines of a zircon is no
//!   measure of what it would see). Light elements (Z below
//!   [`JointSettings::light_z_below`]) are measured on the lowest-kV unfiltered beam
//!   that excites them: a filter takes out the low-energy continuum that excites them
//!   and a high kV raises the scatter under their lines. Every other element is measured
//!   on the beam with the lowest 3σ detection limit for it. The limit is where each
//!   beam's physics shows: a filtered high-kV beam has a low background under the rare
//!   earths' K lines (their lowest limit when the kV passes their K edge), and L lines
//!   that sit under Fe, Ti or Ba K lines get a high limit on the beams that excite those
//!   (their peaks and tails fill the window), so the beam where they are free wins.
//! * **Present** when the beam that measures it best shows it (above
//!   [`JointSettings::detect_sigma`] σ).
//! * **Consistent** across beams: if one beam shows an element at w and another beam
//!   that counts for it, with detection limit L, does not, while
//!   w ≥ [`JointSettings::clear_multiple`]·L — it should see it clearly: when the beam
//!   that measures it best is among those that find none and outweighs the reading (its
//!   limit at most [`JointSettings::refute_lod_ratio`] of the reading beam's, or the
//!   reading a heavy element's on the low-kV beam), the reading is refuted; when every
//!   reading is refuted the element is absent (with a note). Otherwise the element is
//!   not confirmed. It is then kept as found at the reading that shows it, with the
//!   disagreement between the beams (half the reading) added in quadrature to its scale
//!   uncertainty ([`super::ElementResult::excitation_sigma_wt_pct`]), so the screening's
//!   one decision rule finds the value undecided (INSPECT) rather than proven; the
//!   disagreement is stated in words ([`MultiBeam::unconfirmed`]).
//!
//! * **Majors** agree: a non-target element (Z ≥ [`JointSettings::light_z_below`], not a
//!   rare earth, Th or U) one beam reads at [`JointSettings::major_wt_pct`] or more,
//!   that another beam exciting its lines does not show at all, is a misreading of the
//!   one beam (the 15 kV beam of a zircon reads tens of wt % of Ta from lines the
//!   50 kV beam, which excites Ta L, does not show): left out, with a note.
//!
//! The joint result is an ordinary [`XrfAnalysis`] (each element from the beam that
//! measured it) for the screening, with [`MultiBeam`] beside it: the beams (excitation,
//! file and hash) and which beam measured each element.

use super::physics::element_by_symbol;
use super::{Artefact, ElementResult, FittedPeak, NotDetected, XrfAnalysis, XrfOptions};
use crate::spectrum::describe_filter;
use crate::{Error, Result, Spectrum};
use serde::Serialize;

/// The thresholds of the joint decision, in one place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointSettings {
    /// A beam excites a shell when its kV is at least this multiple of the shell's edge:
    /// the continuum just above the edge is too weak to measure by (the bremsstrahlung
    /// intensity falls to zero at the kV).
    pub edge_margin: f64,
    /// Elements below this atomic number (below Ti) are measured on the lowest-kV
    /// unfiltered beam.
    pub light_z_below: usize,
    /// A beam shows an element when its reading exceeds this many σ (counting σ). The
    /// screening passes its own `decision.detect_sigma` (`data/rules.toml`).
    pub detect_sigma: f64,
    /// A beam that does not show an element contradicts one that does when the reading
    /// is at least this multiple of its detection limit (3σ): it should see it clearly.
    pub clear_multiple: f64,
    /// Elements from Ti up are measured on a beam of at least this kV when the scan has
    /// one (the mining methods' low-kV beam excites the light elements; its scatter
    /// background under the L lines of the heavy ones is high, and a phantom there would
    /// otherwise win on a detection limit).
    pub heavy_min_kv: f64,
    /// A major constituent, wt %: every beam that excites its lines shows it. One that
    /// only some of those beams read is a misreading (another element's line taken for
    /// it) and is left out of the joint result (elements Z ≥ `light_z_below` that the
    /// screening does not target; light elements are left to the low-kV beam, which
    /// alone sees them well, and the rare earths, Th and U to the detection-limit test).
    pub major_wt_pct: f64,
    /// The beam that measures an element best refutes another beam's clear reading only
    /// when its detection limit is at most this share of the reading beam's, or when
    /// the reading is a heavy element's on a beam below `heavy_min_kv`: two beams of
    /// about the same sensitivity that disagree leave the element unconfirmed (an
    /// INSPECT that says so), since neither reading outweighs the other.
    pub refute_lod_ratio: f64,
}

impl Default for JointSettings {
    fn default() -> Self {
        JointSettings {
            edge_margin: 1.2,
            light_z_below: 22,
            detect_sigma: 3.0,
            clear_multiple: 3.0,
            heavy_min_kv: 25.0,
            major_wt_pct: 1.0,
            refute_lod_ratio: 0.5,
        }
    }
}

/// One beam of a multi-beam scan (SPEC extension `xrf_beams.beams[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BeamRecord {
    /// Position in the scan, from 1, in file order.
    pub beam: usize,
    /// The beam in words: "beam 2: 40 kV, Rh, filter Al 300 µm, 30 s live".
    pub description: String,
    /// File it was read from.
    pub file: String,
    /// SHA-256 of that file's bytes.
    pub sha256: String,
    /// Tube voltage stated in the file, kV.
    pub tube_kv: Option<f64>,
    /// Tube current, µA.
    pub tube_ua: Option<f64>,
    /// Anode stated in the file.
    pub anode: Option<String>,
    /// Beam filter as the file states it ("none"), or "not stated".
    pub filter: String,
    /// Live time, s.
    pub live_time_s: Option<f64>,
    /// Real time, s.
    pub real_time_s: Option<f64>,
    /// The excitation the analysis of this beam modelled.
    pub excitation: String,
    /// χ²/ν of this beam's fit.
    pub reduced_chi2: f64,
    /// What this beam alone found.
    pub elements: Vec<ElementResult>,
    /// This beam's analysis (plots and reports).
    #[serde(skip)]
    pub analysis: XrfAnalysis,
}

/// One element's reading on one beam.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reading {
    /// Beam, from 1.
    pub beam: usize,
    /// Mass fraction when the beam shows the element, wt %.
    pub wt_pct: Option<f64>,
    /// The beam's 3σ detection limit for it, wt %, when it states one.
    pub lod_wt_pct: Option<f64>,
}

/// Which beam measured an element, and what every beam read (SPEC extension
/// `xrf_beams.elements[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementBeam {
    /// Element symbol.
    pub symbol: String,
    /// The beam that measured it (from 1).
    pub beam: usize,
    /// That beam in words.
    pub description: String,
    /// Why that beam ("light element: lowest-kV unfiltered beam", "lowest detection
    /// limit").
    pub basis: String,
    /// Whether the joint result reports it.
    pub present: bool,
    /// False when the beams contradict each other (see the module notes).
    pub confirmed: bool,
    /// Every beam that excites it, in beam order.
    pub readings: Vec<Reading>,
}

/// The beams of a multi-beam scan and the per-element choice (SPEC extension
/// `xrf_beams`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultiBeam {
    /// Every beam, in file order.
    pub beams: Vec<BeamRecord>,
    /// Every element a beam reported or looked for, by symbol.
    pub elements: Vec<ElementBeam>,
    /// The contradictions between beams, in words (each leaves an element unconfirmed).
    pub unconfirmed: Vec<String>,
}

/// A multi-beam scan analysed: the joint result for the screening and the beams.
#[derive(Debug, Clone, PartialEq)]
pub struct JointAnalysis {
    /// The joint result: each element from the beam that measured it.
    pub joint: XrfAnalysis,
    /// The beams and which beam measured each element.
    pub beams: MultiBeam,
}

/// Analyse each beam with [`fn@super::analyze`] and decide jointly (see the module notes).
/// Each beam's kV comes from its file, else from `opts`.
///
/// # Errors
/// No spectrum, or a beam whose analysis fails (named by its position and file).
pub fn analyze_beams(
    spectra: &[Spectrum],
    opts: &XrfOptions,
    settings: &JointSettings,
) -> Result<JointAnalysis> {
    if spectra.is_empty() {
        return Err(Error::Invalid {
            what: "input",
            message: "a multi-beam scan with no beam".into(),
        });
    }
    let analyses = spectra
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut o = opts.clone();
            o.tube_kv = s.meta.tube_kv.or(opts.tube_kv);
            super::analyze(s, &o).map_err(|e| Error::Invalid {
                what: "beam",
                message: format!("beam {} ({}): {e}", i + 1, file_of(s)),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(combine(spectra, analyses, settings))
}

/// Decide jointly on beams already analysed (`analyses[i]` of `spectra[i]`).
///
/// # Panics
/// Different lengths, or no beam.
pub fn combine(
    spectra: &[Spectrum],
    analyses: Vec<XrfAnalysis>,
    settings: &JointSettings,
) -> JointAnalysis {
    assert!(!spectra.is_empty() && spectra.len() == analyses.len());
    let beams: Vec<BeamRecord> = spectra
        .iter()
        .zip(analyses)
        .enumerate()
        .map(|(i, (s, a))| record(i + 1, s, a))
        .collect();
    let mut symbols: Vec<String> = Vec::new();
    for b in &beams {
        let a = &b.analysis;
        let names = a.elements.iter().map(|e| &e.symbol);
        for sym in names.chain(a.not_detected.iter().map(|n| &n.symbol)) {
            if !symbols.contains(sym) {
                symbols.push(sym.clone());
            }
        }
    }
    let mut elements = Vec::new();
    let mut joint_elements = Vec::new();
    let mut not_detected = Vec::new();
    let mut unconfirmed = Vec::new();
    let mut dropped = Vec::new();
    for sym in &symbols {
        let d = decide(sym, &beams, settings);
        dropped.extend(d.dropped.clone());
        let best = &beams[d.best];
        match &d.shown {
            Some(e) => {
                let mut e = e.clone();
                if !d.conflicts.is_empty() {
                    e.excitation_sigma_wt_pct = e.excitation_sigma_wt_pct.hypot(0.5 * e.wt_pct);
                    for c in &d.conflicts {
                        unconfirmed.push(c.clone());
                    }
                }
                joint_elements.push(e);
            }
            None => {
                let lod = best
                    .analysis
                    .not_detected
                    .iter()
                    .find(|n| &n.symbol == sym)
                    .map(|n| n.lod_wt_pct);
                if let Some(lod) = lod {
                    not_detected.push(NotDetected {
                        symbol: sym.clone(),
                        lod_wt_pct: lod,
                    });
                }
            }
        }
        elements.push(ElementBeam {
            symbol: sym.clone(),
            beam: best.beam,
            description: best.description.clone(),
            basis: d.basis.into(),
            present: d.shown.is_some(),
            confirmed: d.conflicts.is_empty(),
            readings: d.readings,
        });
    }
    joint_elements.sort_by(|a, b| b.wt_pct.total_cmp(&a.wt_pct));
    let mut joint = joint_analysis(&beams, joint_elements, not_detected, &unconfirmed);
    joint.notes.extend(dropped);
    JointAnalysis {
        joint,
        beams: MultiBeam {
            beams,
            elements,
            unconfirmed,
        },
    }
}

/// The per-element decision.
struct Decision {
    /// Index of the beam that measures it best.
    best: usize,
    basis: &'static str,
    /// The reading reported, when present or unconfirmed.
    shown: Option<ElementResult>,
    conflicts: Vec<String>,
    readings: Vec<Reading>,
    /// Why a reading was left out, when it was (a major misread, or a reading the beam
    /// that measures the element best refutes).
    dropped: Option<String>,
}

/// The beam's reading of `sym` when it shows the element (above `detect_sigma` σ).
fn shows<'a>(b: &'a BeamRecord, sym: &str, st: &JointSettings) -> Option<&'a ElementResult> {
    b.analysis
        .element(sym)
        .filter(|e| e.wt_pct > 0.0 && e.wt_pct > st.detect_sigma * e.sigma_wt_pct)
}

fn decide(sym: &str, beams: &[BeamRecord], st: &JointSettings) -> Decision {
    let z = element_by_symbol(sym).map_or(0, |d| d.z);
    let shows = |b| shows(b, sym, st);
    let lod = |b: &BeamRecord| {
        b.analysis.element(sym).map(|e| e.lod_wt_pct).or_else(|| {
            b.analysis
                .not_detected
                .iter()
                .find(|n| n.symbol == sym)
                .map(|n| n.lod_wt_pct)
        })
    };
    let informed: Vec<usize> = (0..beams.len())
        .filter(|&i| lod(&beams[i]).is_some() || beams[i].analysis.element(sym).is_some())
        .collect();
    // the beams that excite its K lines when one of them shows it, else every beam that
    // excites its K or L lines
    let k_beams: Vec<usize> = informed
        .iter()
        .copied()
        .filter(|&i| family(&beams[i], sym, st) == Some(Family::K))
        .collect();
    let mut eligible = if k_beams.iter().any(|&i| shows(&beams[i]).is_some()) {
        k_beams
    } else {
        informed
            .iter()
            .copied()
            .filter(|&i| family(&beams[i], sym, st).is_some())
            .collect()
    };
    if eligible.is_empty() {
        eligible.clone_from(&informed);
    }
    let kv = |i: usize| {
        beams[i]
            .tube_kv
            .or(beams[i].analysis.tube_kv)
            .unwrap_or(0.0)
    };
    let unfiltered = |i: usize| beams[i].filter == "none" || beams[i].filter == "not stated";
    let (best, basis) = if z > 0 && z < st.light_z_below {
        let pick = eligible
            .iter()
            .copied()
            .filter(|&i| unfiltered(i))
            .min_by(|&a, &b| kv(a).total_cmp(&kv(b)))
            .or_else(|| {
                eligible
                    .iter()
                    .copied()
                    .min_by(|&a, &b| kv(a).total_cmp(&kv(b)))
            });
        (
            pick.unwrap_or(0),
            "light element: the lowest-kV unfiltered beam that excites it",
        )
    } else {
        // the low-kV beam of a method is there for the light elements: a heavier
        // element is measured on a beam of at least `heavy_min_kv` when there is one
        let heavy_beam = eligible.iter().any(|&i| kv(i) >= st.heavy_min_kv);
        let pick = eligible
            .iter()
            .copied()
            .filter(|&i| lod(&beams[i]).is_some_and(f64::is_finite))
            .filter(|&i| !heavy_beam || kv(i) >= st.heavy_min_kv)
            .min_by(|&a, &b| {
                let (la, lb) = (
                    lod(&beams[a]).unwrap_or(f64::MAX),
                    lod(&beams[b]).unwrap_or(f64::MAX),
                );
                la.total_cmp(&lb).then(kv(b).total_cmp(&kv(a)))
            })
            .or_else(|| {
                eligible
                    .iter()
                    .copied()
                    .max_by(|&a, &b| kv(a).total_cmp(&kv(b)))
            });
        (
            pick.unwrap_or(0),
            "the lowest detection limit among the beams that excite it",
        )
    };
    let readings: Vec<Reading> = eligible
        .iter()
        .map(|&i| Reading {
            beam: beams[i].beam,
            wt_pct: shows(&beams[i]).map(|e| e.wt_pct),
            lod_wt_pct: lod(&beams[i]),
        })
        .collect();
    // the consistency check: every pair of a beam that shows it and one that does not
    // but should see it clearly
    let mut conflicts = Vec::new();
    let mut shown = shows(&beams[best]).cloned();
    // the beam that measures it best finds none: a clear reading of another beam that
    // a beam which should see it does not share is refuted, not an unconfirmed finding
    let best_shows = shown.is_some();
    let mut refuted = None;
    for &i in &eligible {
        let Some(e) = shows(&beams[i]) else {
            continue;
        };
        // a heavy element's reading on the light elements' low-kV beam is always
        // outweighed by a beam of `heavy_min_kv`
        let best_outweighs =
            (z >= st.light_z_below && kv(i) < st.heavy_min_kv && kv(best) >= st.heavy_min_kv)
                || lod(&beams[best])
                    .zip(lod(&beams[i]))
                    .is_some_and(|(b, r)| b <= st.refute_lod_ratio * r);
        for &j in &eligible {
            if j == i || shows(&beams[j]).is_some() {
                continue;
            }
            let Some(l) = lod(&beams[j]).filter(|l| *l > 0.0 && l.is_finite()) else {
                continue;
            };
            if e.wt_pct >= st.clear_multiple * l && !best_shows && best_outweighs {
                refuted.get_or_insert_with(|| {
                    format!(
                        "{sym}: {} reads {} wt %, while {}, which would see it above its {} \
                         wt % detection limit, finds none, nor does {}, which measures it \
                         best: taken as absent.",
                        short(&beams[i]),
                        show(e.wt_pct),
                        short(&beams[j]),
                        show(l),
                        short(&beams[best])
                    )
                });
            } else if e.wt_pct >= st.clear_multiple * l {
                conflicts.push(format!(
                    "{sym}: {} reads {} wt %, while {}, which would see it above its {} wt % \
                     detection limit, finds none: not confirmed across the beams.",
                    short(&beams[i]),
                    show(e.wt_pct),
                    short(&beams[j]),
                    show(l)
                ));
                if shown.is_none() {
                    shown = Some(e.clone());
                }
            }
        }
    }
    if refuted.is_some() {
        if conflicts.is_empty() {
            shown = None;
        } else {
            // another beam's reading stands against the best beam's: unconfirmed, not
            // refuted
            refuted = None;
        }
    }
    let mut dropped = refuted;
    let target = crate::tables::is_rare_earth(sym) || sym == "Th" || sym == "U";
    if let Some(e) = shown.as_ref().filter(|_| !target && z >= st.light_z_below) {
        let blind = (0..beams.len())
            .find(|&j| shows(&beams[j]).is_none() && family(&beams[j], sym, st).is_some());
        if let Some(j) = blind.filter(|_| e.wt_pct >= st.major_wt_pct) {
            let from = (0..beams.len())
                .find(|&i| shows(&beams[i]).is_some_and(|x| x.wt_pct == e.wt_pct))
                .unwrap_or(best);
            dropped = Some(format!(
                "{sym}: {} reads {} wt %, but {}, which excites its lines, shows none: left \
                 out as a misreading (a major constituent every such beam would show).",
                short(&beams[from]),
                show(e.wt_pct),
                short(&beams[j])
            ));
            shown = None;
        }
    }
    Decision {
        best,
        basis,
        shown,
        conflicts,
        readings,
        dropped,
    }
}

/// A line family an element is measured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    K,
    L,
}

/// The family of `sym`'s lines the beam excites: K when its kV passes the K edge by the
/// margin and the Kα lines lie inside the spectrum, else L on the same terms for the L3
/// edge; none when it excites neither (or the element is unknown). A beam with no kV
/// is taken to excite K.
fn family(b: &BeamRecord, sym: &str, st: &JointSettings) -> Option<Family> {
    let d = element_by_symbol(sym)?;
    let Some(kv) = b.tube_kv.or(b.analysis.tube_kv) else {
        return Some(Family::K);
    };
    let (_, hi) = b.analysis.energy_range_kev;
    let family_in = |edge: f64, line: f64| edge > 0.0 && kv >= st.edge_margin * edge && line < hi;
    let k_edge = d.levels[0].edge_kev;
    let l3_edge = d.levels[3].edge_kev;
    // the strongest line of each family lies just below its edge (Kα ≈ 0.89 K edge)
    if family_in(k_edge, 0.89 * k_edge) {
        Some(Family::K)
    } else if family_in(l3_edge, 0.88 * l3_edge) {
        Some(Family::L)
    } else {
        None
    }
}

fn record(beam: usize, s: &Spectrum, a: XrfAnalysis) -> BeamRecord {
    let m = &s.meta;
    let filter = m
        .beam_filter
        .as_deref()
        .map_or_else(|| "not stated".to_string(), describe_filter);
    let mut d = format!("beam {beam}: ");
    match m.tube_kv.or(a.tube_kv) {
        Some(kv) => d.push_str(&format!("{} kV", show(kv))),
        None => d.push_str("kV not stated"),
    }
    if let Some(an) = m.anode.as_deref() {
        d.push_str(&format!(", {an}"));
    }
    d.push_str(&format!(", filter {filter}"));
    if let Some(t) = m.live_time_s {
        d.push_str(&format!(", {} s live", show(t)));
    }
    BeamRecord {
        beam,
        description: d,
        file: file_of(s),
        sha256: m.sha256.clone(),
        tube_kv: m.tube_kv,
        tube_ua: m.tube_ua,
        anode: m.anode.clone(),
        filter,
        live_time_s: m.live_time_s,
        real_time_s: m.real_time_s,
        excitation: a.excitation.clone(),
        reduced_chi2: a.reduced_chi2,
        elements: a.elements.clone(),
        analysis: a,
    }
}

/// "beam 2 (40 kV, filter Al 300 µm)".
fn short(b: &BeamRecord) -> String {
    let kv = b
        .tube_kv
        .or(b.analysis.tube_kv)
        .map_or_else(|| "kV not stated".into(), |k| format!("{} kV", show(k)));
    format!("beam {} ({kv}, filter {})", b.beam, b.filter)
}

fn show(v: f64) -> String {
    crate::formats::show_number((v * 1000.0).round() / 1000.0)
}

fn file_of(s: &Spectrum) -> String {
    s.meta
        .source_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The joint [`XrfAnalysis`]: the chosen elements; files and hashes of the distinct
/// files, `;`-joined in order (a `.pdz` holding every beam is one file, one hash); the
/// fit evidence (χ²/ν, calibration, curves) of the highest-kV beam, the one that measures
/// the rare earths; counts and live times summed; the energy range the beams cover
/// together; every beam's peaks and artefacts, labelled with their beam.
fn joint_analysis(
    beams: &[BeamRecord],
    elements: Vec<ElementResult>,
    not_detected: Vec<NotDetected>,
    unconfirmed: &[String],
) -> XrfAnalysis {
    let kv = |b: &BeamRecord| b.tube_kv.or(b.analysis.tube_kv).unwrap_or(0.0);
    let primary = beams
        .iter()
        .enumerate()
        .max_by(|a, b| kv(a.1).total_cmp(&kv(b.1)).then(b.0.cmp(&a.0)))
        .map_or(0, |(i, _)| i);
    let p = &beams[primary].analysis;
    let mut files: Vec<(&str, &str)> = Vec::new();
    for b in beams {
        if !files.iter().any(|f| f.0 == b.file && f.1 == b.sha256) {
            files.push((&b.file, &b.sha256));
        }
    }
    let file_list = files.iter().map(|f| f.0).collect::<Vec<_>>().join(";");
    let hash_list = files.iter().map(|f| f.1).collect::<Vec<_>>().join(";");
    let mut peaks: Vec<FittedPeak> = Vec::new();
    let mut artefacts: Vec<Artefact> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for b in beams {
        let a = &b.analysis;
        peaks.extend(a.peaks.iter().map(|pk| FittedPeak {
            label: format!("{} (beam {})", pk.label, b.beam),
            ..pk.clone()
        }));
        artefacts.extend(a.artefacts.iter().map(|x| Artefact {
            parent: format!("{} (beam {})", x.parent, b.beam),
            ..x.clone()
        }));
        notes.extend(a.notes.iter().map(|n| format!("beam {}: {n}", b.beam)));
    }
    notes.extend(unconfirmed.iter().cloned());
    let live: Option<f64> = beams.iter().map(|b| b.analysis.live_time_s).sum();
    let lo = beams
        .iter()
        .map(|b| b.analysis.energy_range_kev.0)
        .fold(f64::INFINITY, f64::min);
    let hi = beams
        .iter()
        .map(|b| b.analysis.energy_range_kev.1)
        .fold(f64::NEG_INFINITY, f64::max);
    XrfAnalysis {
        file: file_list,
        sha256: hash_list,
        live_time_s: live,
        tube_kv: p.tube_kv,
        excitation: beams
            .iter()
            .map(|b| format!("beam {}: {}", b.beam, b.analysis.excitation))
            .collect::<Vec<_>>()
            .join("; "),
        excitation_basis: p.excitation_basis,
        calibration: p.calibration,
        peaks,
        artefacts,
        elements,
        not_detected,
        reduced_chi2: p.reduced_chi2,
        fit_channels: p.fit_channels,
        energy_range_kev: (lo, hi),
        total_counts: beams.iter().map(|b| b.analysis.total_counts).sum(),
        fit_mean_counts: p.fit_mean_counts,
        curves: p.curves.clone(),
        unconfirmed: Vec::new(),
        notes,
    }
}
