//! The excitation inferred from the spectrum (`reescan::xrf::excitation`): the tube's kV
//! from the Duane–Hunt limit of its continuum, its anode from its scattered lines, a
//! monochromatic beam where no continuum follows the scatter peak, electron-excited
//! spectra recognised, and a stated kV the continuum contradicts refused.
//!
//! Real spectra: `tests/data/xrf_excitation/` (NIST NeXLSpectrum.jl, Bruker M4 Tornado,
//! Rh tube 50 kV, public domain: see its README) and, read from `../shared` when
//! present (skipped with a message otherwise), the padre Amptek spectra of a Mini-X Au
//! tube at 20 and 25 kV (Apache-2.0), the Bruker M6 Jetstream `.spx` (Rh 50 kV) and the
//! SEM/TEM EDS files.

mod common;
/// The corpus labels (`truth_json`); the scoring itself is the corpus tests'.
#[allow(dead_code)]
mod xrf_scoring;

use reescan::formats::ReadOptions;
use reescan::xrf::excitation::{Basis, Probe};
use reescan::xrf::{analyze, analyze_quick, XrfAnalysis, XrfOptions};
use reescan::Spectrum;
use std::collections::BTreeMap;
use std::path::Path;

/// Read a spectrum; an EMSA file's negative counts (Bruker's zero-peak subtraction
/// leaves them below ~0.3 keV) are read as zero.
fn read(path: &Path) -> Spectrum {
    let bytes = std::fs::read(path).expect("readable file");
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let bytes = if name.ends_with(".msa") {
        let text = String::from_utf8_lossy(&bytes);
        let mut out = String::new();
        let mut data = false;
        for line in text.lines() {
            if line.starts_with('#') {
                data = line.starts_with("#SPECTRUM");
                out.push_str(line);
            } else if data {
                let fixed: Vec<String> = line
                    .split(',')
                    .map(|v| {
                        let t = v.trim();
                        if t.starts_with('-') {
                            "0.0".to_string()
                        } else {
                            t.to_string()
                        }
                    })
                    .collect();
                out.push_str(&fixed.join(","));
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        out.into_bytes()
    } else {
        bytes
    };
    reescan::formats::read_bytes(&bytes, &name, &ReadOptions::default()).expect("readable")
}

fn nexl(name: &str) -> Spectrum {
    read(&common::repo(&format!(
        "tests/data/xrf_excitation/{name}_50kv_50_ma_Rh_vac_D1.msa"
    )))
}

fn show(name: &str, a: &XrfAnalysis) {
    let els: Vec<String> = a
        .elements
        .iter()
        .take(8)
        .map(|e| format!("{} {:.2}±{:.2}", e.symbol, e.wt_pct, e.sigma_wt_pct))
        .collect();
    println!(
        "{name}: {} {:?}\n   {}",
        a.excitation,
        a.excitation_basis,
        els.join(", ")
    );
}

fn shared(rel: &str) -> Option<Spectrum> {
    common::shared(&format!("spectra/real/{rel}")).map(|p| read(&p))
}

fn kv_opts(kv: f64) -> XrfOptions {
    XrfOptions {
        tube_kv: Some(kv),
        ..XrfOptions::default()
    }
}

/// The Mini-X Au tube at 20 kV (padre `.mca`, no kV in the file): its continuum ends
/// within the spectrum (22 keV) and the Duane–Hunt limit finds the 20 kV; the Au L lines
/// (Lα 9.71, Lβ1 11.44, Lγ1 13.38 keV) name the anode — before, the spectrum was read
/// as a 13.4 keV monochromatic beam. The same tube at 25 kV runs past the spectrum's
/// end: the default kV, with its σ.
#[test]
fn the_padre_au_tube_kv_from_its_continuum_and_anode_from_its_lines() {
    let Some(s20) = shared("padre_meddea_minix_20kV_15uA_sdd.mca") else {
        return;
    };
    let a = analyze(&s20, &XrfOptions::default()).unwrap();
    show("padre 20 kV", &a);
    let b = a.excitation_basis;
    assert_eq!(b.probe, Probe::Tube);
    assert_eq!(b.anode, Some("Au"), "{}", a.excitation);
    assert_eq!(b.anode_from, Some(Basis::Recognised));
    assert_eq!(b.kv_from, Some(Basis::DuaneHunt), "{}", a.excitation);
    let kv = a.tube_kv.unwrap();
    let sigma = b.kv_sigma.unwrap();
    assert!((kv - 20.0).abs() < 1.0, "{kv} ± {sigma}");
    assert!(sigma > 0.0 && sigma < 1.0, "{sigma}");
    // a stated 40 kV is contradicted by where the continuum ends; a stated 20 kV is not
    let e = analyze(&s20, &kv_opts(40.0)).unwrap_err().to_string();
    assert!(
        e.contains("40 kV stated") && e.contains("Duane–Hunt"),
        "{e}"
    );
    assert!(analyze(&s20, &kv_opts(20.0)).is_ok());

    let Some(s25) = shared("padre_meddea_20250108_164246_25kV_40uA_silver_teflon_tape_unfilt1.mca")
    else {
        return;
    };
    let a = analyze(&s25, &XrfOptions::default()).unwrap();
    show("padre 25 kV", &a);
    assert_eq!(a.excitation_basis.anode, Some("Au"));
    assert_eq!(a.excitation_basis.kv_from, Some(Basis::Default));
    assert!(a.tube_kv.unwrap() >= 22.0);
    assert!(a.excitation_basis.kv_sigma.unwrap() >= 5.0);
}

/// NIST's Bruker M4 Tornado spectra (Rh tube 50 kV, the kV only in the file name): the
/// Rh tube is recognised by its scattered Kα/Kβ (not taken for Pd or Ag); the
/// polycapillary lens leaves a slowly fading tail to the spectrum's end (40 keV), read
/// as a continuum running past it (the default kV), not an end point — nor is zirconium's
/// K edge (18.0 keV) or tin's (29.2 keV), where the scattered continuum drops by a step.
/// The stated 50 kV is accepted.
#[test]
fn the_nist_m4_rh_tube_is_recognised_and_its_lens_tail_is_no_end_point() {
    for name in ["Zr", "Sn", "Acrylic", "Ti"] {
        let s = nexl(name);
        let a = analyze(&s, &XrfOptions::default()).unwrap();
        show(name, &a);
        let b = a.excitation_basis;
        assert_eq!(b.probe, Probe::Tube, "{name}");
        assert_eq!(b.anode, Some("Rh"), "{name}: {}", a.excitation);
        assert_eq!(b.kv_from, Some(Basis::Default), "{name}: {}", a.excitation);
        assert!(a.tube_kv.unwrap() >= 40.0, "{name}");
        for wrong in ["Pd", "Ag"] {
            assert!(a.element(wrong).is_none(), "{name}: {wrong} reported");
        }
        assert!(analyze(&s, &kv_opts(50.0)).is_ok(), "{name}: 50 kV refused");
    }
    // A stated 15 kV is not refuted here: the lens tail gives no end point, and the level
    // 1–3 keV above 15 keV (38 % of that below) is what pile-up of the scatter peaks gives
    // near a continuum's end on the independent corpus's Si-PIN portable (36–64 %), so the
    // level alone cannot tell the two apart.
    assert!(analyze(&nexl("Acrylic"), &kv_opts(15.0)).is_ok());
}

/// The Bruker M6 Jetstream `.spx` states Rh 50 kV: stated, accepted (its spectrum ends at
/// 40 keV, the continuum runs on to it).
#[test]
fn a_stated_tube_that_the_continuum_does_not_contradict_is_kept() {
    let Some(s) = shared("rsciio_bruker_m6_jetstream_file_example.spx") else {
        return;
    };
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    show("M6", &a);
    let b = a.excitation_basis;
    assert_eq!(
        (b.anode, b.anode_from, b.kv_from),
        (Some("Rh"), Some(Basis::Stated), Some(Basis::Stated))
    );
    assert_eq!(a.tube_kv, Some(50.0));
}

/// SEM and TEM EDS spectra (EMSA with microscope keywords, Bruker `.spx` with a SEM
/// header): recognised as electron-excited, elements identified, no weight fractions
/// (NaN here, null in the JSON), no detection limits, and the result says so.
#[test]
fn electron_excited_spectra_are_identified_not_quantified() {
    for (f, must) in [
        ("EDS_SEM_TM002.msa", &["Al", "Mn", "Cu", "Zr"][..]),
        ("EDS_TEM_FePt_nanoparticles.msa", &["Fe", "Pt"][..]),
        ("rsciio_bruker_nano.spx", &["Fe", "S", "Cu"][..]),
    ] {
        let Some(s) = shared(f) else { return };
        let a = analyze(&s, &XrfOptions::default()).unwrap();
        show(f, &a);
        let b = a.excitation_basis;
        assert_eq!(b.probe, Probe::Electrons, "{f}");
        assert!(!b.quantified, "{f}");
        assert!(
            a.excitation.contains("does not apply"),
            "{f}: {}",
            a.excitation
        );
        for el in must {
            let e = a
                .element(el)
                .unwrap_or_else(|| panic!("{f}: {el} not identified"));
            assert!(e.wt_pct.is_nan() && e.sigma_wt_pct.is_nan(), "{f}: {el}");
        }
        assert!(a.not_detected.is_empty(), "{f}");
        let json = serde_json::to_value(&a).unwrap();
        assert!(json["elements"][0]["wt_pct"].is_null(), "{f}");
        assert_eq!(json["excitation_basis"]["probe"], "electrons");
        // the quick analysis says the same
        let q = analyze_quick(&s, &XrfOptions::default()).unwrap();
        assert_eq!(q.excitation_basis.probe, Probe::Electrons, "{f} quick");
    }
}

/// Ceramic bodies blended with rare-earth carriers (3–16 %), made by reescan's own
/// generator (self-consistency only: the same FP physics as the analysis, a Rh tube at
/// 40 or 50 kV, no bremsstrahlung continuum to find the kV from) and written as Amptek
/// `.mca` files without the tube voltage, as Amptek files come. Read as a monochromatic
/// beam at Rh Kα (before), their rare earths came out 4.5–23× low (0.59 for 2.73 wt %,
/// 0.04 for 0.92, 1.33 for 8.63, 1.71 for 7.77 at 40 kV) and two were CLEAR. Read with
/// the default tube (40 kV, or the spectrum's end when higher) they stay within a factor
/// 1.5 of the reading with the kV stated (measured: identical at 40 kV, 34–46 % high at
/// 50 kV), with a σ widened by the default's ±10 kV (the 50-kV differences are
/// 1.5–2.1 of those σ).
#[test]
fn a_ceramic_with_rare_earths_in_an_mca_without_kv_is_not_read_low() {
    use reescan::tables::materials::{Carrier, Commodity};
    let dir = tempfile::tempdir().unwrap();
    for (carrier, fraction) in [
        (Carrier::Bastnasite, 0.05),
        (Carrier::Oxides, 0.10),
        (Carrier::Monazite, 0.16),
        (Carrier::NdFeB, 0.03),
    ] {
        // a 40 kV scan (seed 7) and the first 50 kV one after it: the default is 40 kV
        let gen = |seed| {
            reescan::xrf::synth::generate(Commodity::Ceramics, Some(carrier), fraction, &[], seed)
                .unwrap()
        };
        let fifty = (8..).map(gen).find(|s| s.options.kv == 50.0).unwrap();
        for scan in [gen(7), fifty] {
            let truth = scan.truth.ree_total_wt_pct();
            let mut s = scan.spectrum.clone();
            s.meta.tube_kv = None;
            s.meta.anode = None;
            let path = dir.path().join(format!("{carrier:?}_{}.mca", scan.seed));
            reescan::formats::write_path(&path, &s).unwrap();
            let mca = reescan::formats::read_path(&path, &ReadOptions::default()).unwrap();
            assert_eq!(mca.meta.tube_kv, None);
            let stated = analyze(&scan.spectrum, &XrfOptions::default()).unwrap();
            let unstated = analyze(&mca, &XrfOptions::default()).unwrap();
            let r_stated = stated.ree_total_wt_pct().0;
            let (r_unstated, sigma) = unstated.ree_total_wt_pct();
            println!(
                "{carrier:?} {:.0} %, seed {} at {} kV: truth {truth:.2}, kV stated \
                 {r_stated:.2}, .mca without kV {r_unstated:.2} ± {sigma:.2}",
                100.0 * fraction,
                scan.seed,
                scan.options.kv,
            );
            assert_eq!(unstated.excitation_basis.kv_from, Some(Basis::Default));
            assert_eq!(unstated.excitation_basis.anode, Some("Rh"));
            let ratio = r_unstated / r_stated;
            assert!(
                (1.0 / 1.5..1.5).contains(&ratio),
                "{carrier:?}: {r_unstated} vs {r_stated}"
            );
            let sigma_stated = stated.ree_total_wt_pct().1;
            assert!(
                sigma > sigma_stated,
                "{carrier:?}: σ {sigma} not widened from {sigma_stated}"
            );
        }
    }
}

/// A stated kV the continuum contradicts is one error line: `scan` exits 2, `batch`
/// writes an ERROR row and goes on. The padre 20 kV spectrum with `--kv 40`, and the
/// same file with `TUBE_KV - 40` in its header.
#[test]
fn a_contradicted_kv_is_one_error_line_in_scan_and_an_error_row_in_batch() {
    let Some(p) = common::shared("spectra/real/padre_meddea_minix_20kV_15uA_sdd.mca") else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_reescan");
    let out = std::process::Command::new(bin)
        .args(["scan", "--declared", "iron-ore", "--kv", "40", "--xrf"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("40 kV stated") && err.contains("Duane–Hunt"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    let wrong = text.replacen("<<PMCA SPECTRUM>>", "<<PMCA SPECTRUM>>\nTUBE_KV - 40", 1);
    std::fs::write(dir.path().join("wrong.mca"), wrong).unwrap();
    std::fs::write(dir.path().join("right.mca"), &text).unwrap();
    std::fs::write(
        dir.path().join("m.csv"),
        "scan_id,declared,xrf,xrd\nright,iron-ore,right.mca,\nwrong,iron-ore,wrong.mca,\n",
    )
    .unwrap();
    let results = dir.path().join("out.csv");
    let out = std::process::Command::new(bin)
        .args(["batch", "--out"])
        .arg(&results)
        .arg(dir.path().join("m.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&results).unwrap();
    let row = |id: &str| csv.lines().find(|l| l.starts_with(id)).unwrap().to_string();
    assert!(!row("right,").contains(",ERROR,"), "{csv}");
    let wrong = row("wrong,");
    assert!(
        wrong.contains(",ERROR,") && wrong.contains("40 kV stated"),
        "{wrong}"
    );
}

/// Every spectrum of a corpus's `corpus.zip` (`tests/data/<dir>`), by file name, with
/// its text (the multi-beam files' `##FILTER` line is taken out by the caller).
fn corpus_texts(dir: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = common::corpus_files(dir);
    files.retain(|n, _| n.ends_with(".msa") || n.ends_with(".mca"));
    files
}

/// A filter's attenuation μρt at 15 keV (above Cu's K edge, in the band where a hard
/// filter cuts): filters of different elements compare by it.
fn attenuation(layers: &[(&str, f64)]) -> f64 {
    layers
        .iter()
        .map(|&(el, um)| {
            let d = reescan::xrf::physics::element_by_symbol(el).unwrap();
            let rho = reescan::tables::xraydb().density(d.symbol).unwrap();
            d.mu.total(15.0) * rho * um * 1e-4
        })
        .sum()
}

/// The filter inferred from a spectrum as `resolve_excitation` does it: the stated kV,
/// else the default when the continuum runs past the spectrum's end (these spectra's
/// do); the stated anode, else `anode`.
fn inferred(s: &Spectrum, anode: &str) -> reescan::xrf::excitation::FilterEvidence {
    use reescan::xrf::excitation::{infer_filter, ExcitationSettings};
    let cal = *s.axis.calibration().unwrap();
    let end = cal.energy_kev(s.len() as f64 - 1.0);
    let kv = s.meta.tube_kv.unwrap_or(40f64.max(end.ceil()));
    let anode = s.meta.anode.clone().unwrap_or_else(|| anode.to_string());
    infer_filter(
        s.counts_slice(),
        &cal,
        &anode,
        kv,
        reescan::xrf::physics::DetectorEfficiency::default(),
        &ExcitationSettings::default(),
    )
}

/// The independent corpus (PyMca5's Ebel tube, fisx; `validation/xrf/make_corpus.py`),
/// whose files state no filter: the 240 spectra of unfiltered beams (handheld Rh,
/// benchtop Rh/Ag/W in vacuum or He, Si-PIN portable Ag) keep none, each with at least
/// 0.3 of the unfiltered scatter's continuum in every band (measured: 0.47 at least;
/// a band below 0.1 refutes the open beam). On the handheld's filtered beam (Rh, 50 kV,
/// Cu 100 µm + Ti 25 µm + Al 300 µm) the filter is found on the iron ores and ceramics
/// (measured 40 of 40: the stack closes copper's window below its K edge, read as its
/// aluminium equivalent on 30, Cu on 10), at an equivalent attenuation (μρt at 15 keV)
/// 0.84 of the stack's in the median. It is not found on zircon and
/// zirconia (0 of 40): Zr's K edge (18.0 keV) lies between the bands and the reference,
/// and the tails of the Zr K lines fill the bands below; the open beam is kept.
#[test]
fn the_independent_corpus_filtered_beam_is_inferred_and_open_beams_keep_none() {
    let dir = "tests/data/xrf_independent";
    let text = std::fs::read_to_string(common::repo(dir).join("truth.json")).unwrap();
    let truth: serde_json::Value = serde_json::from_str(&text).unwrap();
    let by_file: std::collections::HashMap<&str, &serde_json::Value> = truth["spectra"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["file"].as_str().unwrap(), v))
        .collect();
    let stack = attenuation(&[("Cu", 100.0), ("Ti", 25.0), ("Al", 300.0)]);
    let (mut open, mut found, mut ratios) = (0, 0, Vec::new());
    for (name, bytes) in corpus_texts(dir) {
        let t = by_file[name.as_str()];
        let s = reescan::formats::read_bytes(&bytes, &name, &ReadOptions::default()).unwrap();
        assert!(s.meta.beam_filter.is_none(), "{name} states its filter");
        let ev = inferred(&s, t["anode"].as_str().unwrap());
        let kind = t["kind"].as_str().unwrap();
        if t["beam_filter"] == "none" {
            open += 1;
            assert_eq!(ev.filter, None, "{name} ({kind}): {ev:?}");
            assert!(
                ev.none_share.is_none_or(|x| x >= 0.3),
                "{name} ({kind}): {ev:?}"
            );
            continue;
        }
        assert_eq!(kind, "handheld_filtered");
        let sample = t["commodity"].as_str().unwrap();
        let Some((el, um)) = &ev.filter else {
            assert!(
                sample.starts_with("zircon"),
                "{name} ({sample}): none inferred, {ev:?}"
            );
            continue;
        };
        found += 1;
        let r = attenuation(&[(el, *um)]) / stack;
        println!("{name} {sample}: {el} {um} µm, {r:.2} of the stack's attenuation");
        assert!((0.1..1.5).contains(&r), "{name}: {el} {um} µm ({r:.2})");
        ratios.push(r);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("open beams {open}, filtered beam found on {found}/80, median ratio {median:.2}");
    assert_eq!(open, 240);
    assert!(found >= 40, "{found}");
    assert!((0.7..1.2).contains(&median), "{median}");
}

/// The multi-beam corpus (same independent physics) states each beam's filter
/// (`##FILTER`); with that line taken out of the file the filter is inferred from the
/// spectrum. 15 kV unfiltered: none (104 of 104; the reference bands lie above what a
/// 15-kV beam reaches, so nothing is judged). 40 kV through 300 µm Al: Al where found
/// (measured 16 of 52, at 150–400 µm; not on zircon and zirconia, nor where a ceramic's
/// or ore's lines fill the bands at 8–10 keV). 50 kV through 100 µm Cu: Cu, its window
/// below the K edge seen (measured 49 of 104, 35–100 µm, and once its aluminium
/// equivalent; none on zircon and zirconia).
#[test]
fn the_multibeam_filters_are_inferred_when_their_line_is_removed() {
    let (mut al, mut cu) = (0, 0);
    for (name, bytes) in corpus_texts("tests/data/xrf_multibeam") {
        let text = String::from_utf8(bytes).unwrap();
        let stated =
            reescan::formats::read_bytes(text.as_bytes(), &name, &ReadOptions::default()).unwrap();
        let silent: String = text
            .lines()
            .filter(|l| !l.starts_with("##FILTER"))
            .map(|l| format!("{l}\n"))
            .collect();
        let s = reescan::formats::read_bytes(silent.as_bytes(), &name, &ReadOptions::default())
            .unwrap();
        assert!(s.meta.beam_filter.is_none(), "{name}");
        let layers = stated.meta.beam_filter.clone().expect("stated filter");
        let ev = inferred(&s, "Rh");
        let Some((el, um)) = &ev.filter else {
            continue;
        };
        let truth: Vec<(&str, f64)> = layers
            .iter()
            .map(|l| (l.element.as_str(), l.thickness_um))
            .collect();
        assert!(
            !truth.is_empty(),
            "{name}: a filter inferred on an open beam, {ev:?}"
        );
        let r = attenuation(&[(el, *um)]) / attenuation(&truth);
        println!("{name}: {el} {um} µm inferred, {truth:?} stated ({r:.2})");
        match truth[0].0 {
            "Al" => {
                al += 1;
                assert_eq!(el, "Al", "{name}");
                assert!((0.4..1.5).contains(&r), "{name}: {r:.2}");
            }
            _ => {
                cu += 1;
                assert!((0.3..1.2).contains(&r), "{name}: {r:.2}");
            }
        }
    }
    println!("inferred: Al beams {al}/52, Cu beams {cu}/104");
    assert!(al >= 16 && cu >= 50, "Al {al}, Cu {cu}");
}

/// The inference reaches the analysis and its report: a filtered-beam alumina ceramic
/// of the independent corpus (ceramics-0109, La 84 wt %, its file silent on the filter)
/// is analysed through the filter inferred, and the excitation sentence says so; the
/// same file stating "##FILTER : none" keeps the open beam, and a multi-beam file
/// stating its Cu 100 µm has it as stated.
#[test]
fn an_inferred_filter_reaches_the_analysis_and_is_said() {
    use reescan::xrf::excitation::Basis;
    let files = corpus_texts("tests/data/xrf_independent");
    let name = "ceramics-0109.msa";
    let bytes = &files[name];
    let s = reescan::formats::read_bytes(bytes, name, &ReadOptions::default()).unwrap();
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    show(name, &a);
    assert_eq!(
        a.excitation_basis.filter_from,
        Some(Basis::ScatteredContinuum),
        "{}",
        a.excitation
    );
    assert!(a.excitation.contains("filter inferred"), "{}", a.excitation);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(
        json["excitation_basis"]["filter_from"],
        "scattered_continuum"
    );

    let text = String::from_utf8(bytes.clone()).unwrap();
    let open = text.replacen("##ANODE", "##FILTER     : none\n##ANODE", 1);
    let s = reescan::formats::read_bytes(open.as_bytes(), name, &ReadOptions::default()).unwrap();
    assert_eq!(s.meta.beam_filter, Some(vec![]));
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    assert_eq!(a.excitation_basis.filter_from, None, "{}", a.excitation);
    assert!(!a.excitation.contains("through"), "{}", a.excitation);

    let mb = corpus_texts("tests/data/xrf_multibeam");
    let name = "mb-iron-ore-0000-b3-50kV-Cu.msa";
    let bytes = &mb[name];
    let s = reescan::formats::read_bytes(bytes, name, &ReadOptions::default()).unwrap();
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    assert_eq!(a.excitation_basis.filter_from, Some(Basis::Stated));
    assert!(
        a.excitation.contains("through Cu 100 µm"),
        "{}",
        a.excitation
    );
}
/// Real filtered beams: the Bruker M4 Tornado acrylic series (`tests/data/xrf_real`, NIST
/// NeXLSpectrum, public domain; Mo tube 50 kV through each of its five filters, the
/// filter in the README, not in the `.spx`). The filter is inferred where it cuts the
/// continuum hard enough for the clear margin, at about its equivalent attenuation
/// (μρt at 15 keV), low as the inference's lower bound reads it: Al 630 µm read as Al
/// 400 µm (0.63 of its attenuation), Al 100 + Ti 25 µm as Al 150 µm (0.52), Al 100 + Ti
/// 50 + Cu 25 µm as Al 1000 µm (0.80), measured, in their order. The two thin Al
/// filters (12.5, 100 µm) and the open beam, on both detectors, keep none; so does every
/// unfiltered real tube spectrum in reach (the NIST M4 Rh set here and, from
/// `../shared` when present, the Bruker M6, the padre Amptek Au tube). The Rh-tube
/// series of the same instrument is not inferred (the lens's falling transmission above
/// ~20 keV lowers the reference bands; shares 0.09–3.1 of the open beam's, not
/// significant below 0.1): printed, not asserted.
#[test]
fn real_filtered_beams_are_inferred_and_real_open_beams_keep_none() {
    let dir = common::repo("tests/data/xrf_real");
    let mo = |f: &str| dir.join(format!("20170510_D1_Mo_50kv_100mA_acryl{f}_0.spx"));
    let mut stated = vec![];
    for (f, layers) in [
        ("_f3", vec![("Al", 630.0)]),
        ("_f4", vec![("Al", 100.0), ("Ti", 25.0)]),
        ("_f5", vec![("Al", 100.0), ("Ti", 50.0), ("Cu", 25.0)]),
    ] {
        let s = read(&mo(f));
        assert_eq!(s.meta.beam_filter, None);
        let ev = inferred(&s, "Mo");
        let (el, um) = ev.filter.clone().unwrap_or_else(|| panic!("{f}: {ev:?}"));
        let (got, truth) = (attenuation(&[(&el, um)]), attenuation(&layers));
        println!(
            "Mo{f}: {el} {um} µm inferred, {layers:?} stated ({:.2})",
            got / truth
        );
        assert!((0.4..1.5).contains(&(got / truth)), "{f}: {el} {um}");
        stated.push(got);
    }
    // f4 < f3 < f5 in attenuation
    assert!(stated[1] < stated[0] && stated[0] < stated[2], "{stated:?}");
    let mut open = vec![
        mo(""),
        mo("_f1"),
        mo("_f2"),
        dir.join("20170510_D2_Mo_50kv_100mA_acryl_0.spx"),
    ];
    for d in ["tests/data/xrf_real", "tests/data/xrf_excitation"] {
        for e in std::fs::read_dir(common::repo(d)).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().ends_with("_D1.msa")
                || p.to_string_lossy().ends_with("_600s.msa")
            {
                open.push(p);
            }
        }
    }
    for f in [
        "rsciio_bruker_m6_jetstream_file_example.spx",
        "padre_meddea_minix_20kV_15uA_sdd.mca",
        "padre_meddea_20250108_164246_25kV_40uA_silver_teflon_tape_unfilt1.mca",
    ] {
        open.extend(common::shared(&format!("spectra/real/{f}")));
    }
    assert!(open.len() >= 20, "{}", open.len());
    for p in &open {
        let s = read(p);
        let a = analyze_quick(&s, &XrfOptions::default()).unwrap();
        assert_eq!(
            a.excitation_basis.filter_from,
            None,
            "{}: {}",
            p.display(),
            a.excitation
        );
    }
    for f in 1..=5 {
        let s = read(&dir.join(format!("20170510_D1_Rh_50kv_100mA_acryl_f{f}_0.spx")));
        println!("Rh f{f}: {:?}", inferred(&s, "Rh"));
    }
}

/// A K family that only the top of an assumed beam excites is no measure of its
/// element: zircon-0201 of the independent corpus (a Rh tube at 50 kV through the
/// handheld's Cu/Ti/Al stack, an `.mca` that states neither the kV nor the filter)
/// holds La 1.0 wt %; at the assumed 41 kV, La's K edge (38.9 keV) sits at the beam's
/// end, and La K had read 95 wt %. Read from its L family, La and Ce come within a
/// factor of three of the corpus's truth and Zr stays the major element.
#[test]
fn a_k_family_at_the_top_of_an_assumed_beam_does_not_quantify_its_element() {
    let dir = "tests/data/xrf_independent";
    let name = "zircon-0201.mca";
    let files = corpus_texts(dir);
    let truth = xrf_scoring::truth_json(dir)["spectra"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["file"] == name)
        .unwrap()["elements_wt_pct"]
        .clone();
    let s = reescan::formats::read_bytes(&files[name], name, &ReadOptions::default()).unwrap();
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    show(name, &a);
    assert_eq!(
        a.excitation_basis.kv_from,
        Some(Basis::Default),
        "{}",
        a.excitation
    );
    let read = |el: &str| {
        a.elements
            .iter()
            .find(|e| e.symbol == el)
            .map_or(0.0, |e| e.wt_pct)
    };
    for el in ["La", "Ce"] {
        let t = truth[el].as_f64().unwrap();
        let r = read(el) / t;
        assert!(
            (1.0 / 3.0..=3.0).contains(&r),
            "{el} read {:.3} wt % for {t:.3}",
            read(el)
        );
    }
    let major = a
        .elements
        .iter()
        .max_by(|x, y| x.wt_pct.total_cmp(&y.wt_pct))
        .unwrap();
    assert_eq!(major.symbol, "Zr");
}

/// The air path measured on the air's Ar K lines, against the independent corpus's
/// paths (PyMca5/fisx: the air a layer in front of the sample, its Ar excited by the
/// beam): on the handheld (0.8–1.2 cm of air) the median path lies within 8–18 mm
/// (measured 14.4: long by ~1.3×), on the portable (1–2 cm) within 10–25 mm (19.5); the
/// few vacuum or helium spectra whose fit holds counts at Ar Kα well clear of the noise
/// (a shoulder of K Kα in a vacuum iron ore, 660 ± 71 counts) get under a mm, which
/// changes nothing a reading needs (6 % at Al Kα). And what the
/// path is for: the honest alumina with 0.8 wt % Y2O3 on the portable (ceramics-0103)
/// had read Y 19 wt % through the assumed 5 mm; it reads within 2× of its content.
#[test]
fn the_air_path_is_measured_on_the_ar_k_lines_of_the_independent_corpus() {
    let dir = "tests/data/xrf_independent";
    let files = corpus_texts(dir);
    let truth = xrf_scoring::truth_json(dir);
    let mut paths: BTreeMap<(String, String), Vec<Option<f64>>> = BTreeMap::new();
    let mut yttrium = None;
    for t in truth["spectra"].as_array().unwrap() {
        let name = t["file"].as_str().unwrap();
        let kind = t["kind"].as_str().unwrap().to_string();
        if kind == "handheld_filtered" {
            continue;
        }
        let s = reescan::formats::read_bytes(&files[name], name, &ReadOptions::default()).unwrap();
        let a = analyze(&s, &XrfOptions::default()).unwrap();
        let path = t["path"].as_str().unwrap().to_string();
        paths
            .entry((kind, path))
            .or_default()
            .push(a.excitation_basis.air_path_mm);
        if name == "ceramics-0103.msa" {
            yttrium = a.element("Y").map(|e| e.wt_pct);
        }
    }
    let median = |v: &[Option<f64>]| {
        let mut m: Vec<f64> = v.iter().flatten().copied().collect();
        m.sort_by(f64::total_cmp);
        (m.len(), m.get(m.len() / 2).copied().unwrap_or(f64::NAN))
    };
    for (k, v) in &paths {
        let (n, m) = median(v);
        println!("{k:?}: {n}/{} measured, median {m:.1} mm", v.len());
    }
    let get = |kind: &str, path: &str| &paths[&(kind.to_string(), path.to_string())];
    let (n, m) = median(get("handheld", "air"));
    assert!(
        n * 10 >= 9 * get("handheld", "air").len(),
        "handheld: {n} measured"
    );
    assert!((8.0..=18.0).contains(&m), "handheld median {m} mm");
    let (_, m) = median(get("portable_pin", "air"));
    assert!((10.0..=25.0).contains(&m), "portable median {m} mm");
    for path in ["vacuum", "He"] {
        let v = get("benchtop", path);
        assert!(v.iter().flatten().all(|&mm| mm < 1.0), "{path}: {v:?}");
        assert!(v.iter().flatten().count() * 10 <= v.len(), "{path}: {v:?}");
    }
    let y = yttrium.expect("Y found on ceramics-0103");
    assert!(
        (0.4..=1.6).contains(&y),
        "ceramics-0103: Y {y} wt % for 0.80"
    );
}
