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

use reescan::formats::ReadOptions;
use reescan::xrf::excitation::{Basis, Probe};
use reescan::xrf::{analyze, analyze_quick, XrfAnalysis, XrfOptions};
use reescan::Spectrum;
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
