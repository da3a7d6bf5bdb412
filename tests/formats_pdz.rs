//! Bruker `.pdz` (versions 24 and 25): files made by the test writer (`pdz_writer`,
//! built from the public layout description, not from the reader) read back with every
//! beam, its calibration and excitation, the instrument, date and method; every cut of
//! a file gives an error or, at a record boundary of version 25, exactly the beams
//! before the cut; damaged files give one error line and exit 2 from `scan`; and a
//! written file is analysed like the same spectrum in EMSA form.

mod pdz_writer;

use assert_cmd::Command;
use pdz_writer::{beam, three_beam_assay, write_v24, write_v25, RH};
use reescan::formats::pdz::{self, Version};
use reescan::formats::{self, Format, ReadOptions};
use reescan::{Axis, Spectrum};
use std::path::Path;

fn calibration(s: &Spectrum) -> (f64, f64) {
    match &s.axis {
        Axis::Energy(c) => (c.offset_kev, c.gain_kev),
        a => panic!("not an energy axis: {a:?}"),
    }
}

#[test]
fn v25_round_trip_keeps_every_beam_with_its_excitation() {
    let assay = three_beam_assay(512);
    let bytes = write_v25(&assay, RH);
    assert_eq!(pdz::read_assay(&bytes).unwrap(), assay);

    // Detected by content: the name has no extension.
    assert_eq!(formats::detect(&bytes, "assay", None).unwrap(), Format::Pdz);
    let s = formats::read_bytes(&bytes, "assay", &ReadOptions::default()).unwrap();
    let b = &assay.beams[1];
    assert_eq!(
        s.counts.to_vec(),
        b.counts,
        "the 50 kV beam is the one read"
    );
    let (offset, gain) = calibration(&s);
    assert!((offset - -0.0125).abs() < 1e-12 && (gain - 0.02).abs() < 1e-12);
    assert_eq!(s.meta.tube_kv, Some(50.0));
    assert_eq!(s.meta.tube_ua, Some(35.5));
    assert_eq!(s.meta.live_time_s, Some(16.25));
    assert_eq!(s.meta.real_time_s, Some(18.75));
    assert_eq!(s.meta.anode.as_deref(), Some("Rh"));
    assert_eq!(s.meta.acquired.as_deref(), Some("2024-01-22T14:26:26"));
    assert_eq!(
        s.meta.instrument.as_deref(),
        Some("Bruker handheld type 1, serial 800N11285")
    );
    assert_eq!(
        s.meta.title.as_deref(),
        Some("GeoExploration: Geo_50 (2 of 3), 50 kV, filter Cu 75 µm + Ti 25 µm + Al 200 µm")
    );
    assert_eq!(s.meta.format, "Bruker PDZ");
}

#[test]
fn v24_round_trip_keeps_the_spectrum_and_its_excitation() {
    let mut b = beam(
        2048,
        40.0,
        &[(13, 300.0), (22, 25.0), (29, 75.0), (26, 10.0)],
        "",
    );
    // Version 24 has no beam name and no energy offset.
    b.name = None;
    b.offset_ev = 0.0;
    let bytes = write_v24(&b);
    let a = pdz::read_assay(&bytes).unwrap();
    assert_eq!(a.version, Version::V24);
    assert_eq!(a.beams, vec![b.clone()]);
    assert_eq!((a.serial, a.method, a.anode), (None, None, None));

    let s = formats::read_bytes(&bytes, "old.pdz", &ReadOptions::default()).unwrap();
    assert_eq!(s.counts.to_vec(), b.counts);
    assert_eq!(calibration(&s), (0.0, 0.02));
    assert_eq!((s.meta.tube_kv, s.meta.tube_ua), (Some(40.0), Some(35.5)));
    assert_eq!(
        pdz::filter_description(&a.beams[0].filter),
        "Al 300 µm + Ti 25 µm + Cu 75 µm + Fe 10 µm"
    );
}

#[test]
fn read_all_path_returns_every_beam_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assay.pdz");
    let assay = three_beam_assay(256);
    let bytes = write_v25(&assay, RH);
    std::fs::write(&path, &bytes).unwrap();
    let all = formats::read_all_path(&path, &ReadOptions::default()).unwrap();
    assert_eq!(all.len(), 3);
    for (s, b) in all.iter().zip(&assay.beams) {
        assert_eq!(s.counts.to_vec(), b.counts);
        assert_eq!(s.meta.tube_kv, Some(b.tube_kv));
        assert!(s
            .meta
            .title
            .as_deref()
            .unwrap()
            .ends_with(&pdz::filter_description(&b.filter)));
        assert_eq!(s.meta.source_file.as_deref(), Some(path.as_path()));
        assert_eq!(s.meta.sha256, all[0].meta.sha256);
    }
    assert!(all[0]
        .meta
        .title
        .as_deref()
        .unwrap()
        .ends_with("filter none"));
    // Any other format gives its one spectrum.
    let msa = dir.path().join("one.msa");
    formats::write_path(&msa, &all[0]).unwrap();
    assert_eq!(
        formats::read_all_path(&msa, &ReadOptions::default())
            .unwrap()
            .len(),
        1
    );
}

/// Byte offsets where each version-25 record ends.
fn record_ends(bytes: &[u8]) -> Vec<(usize, u16)> {
    let mut ends = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let kind = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let len = u32::from_le_bytes(bytes[at + 2..at + 6].try_into().unwrap()) as usize;
        at += 6 + len;
        ends.push((at, kind));
    }
    ends
}

#[test]
fn every_cut_of_a_v25_file_is_an_error_or_the_complete_beams_before_it() {
    let assay = three_beam_assay(64);
    let bytes = write_v25(&assay, RH);
    let ends = record_ends(&bytes);
    let mut complete = 0;
    for cut in 0..bytes.len() {
        let beams_before = ends
            .iter()
            .filter(|(end, kind)| *end <= cut && *kind == 3)
            .count();
        let at_boundary = ends.iter().any(|(end, _)| *end == cut);
        match pdz::read_assay(&bytes[..cut]) {
            Ok(a) => {
                assert!(at_boundary && beams_before > 0, "cut {cut} read as a file");
                assert_eq!(a.beams, assay.beams[..beams_before], "cut {cut}");
                complete += 1;
            }
            Err(e) => {
                assert!(!(at_boundary && beams_before > 0), "cut {cut}: {e}");
                let m = e.to_string();
                assert!(m.starts_with("Bruker PDZ: "), "cut {cut}: {m}");
            }
        }
    }
    // After the 1st, 2nd and 3rd spectrum records.
    assert_eq!(complete, 3);
}

#[test]
fn every_cut_of_a_v24_file_is_an_error() {
    let bytes = write_v24(&beam(128, 40.0, &[(13, 300.0)], ""));
    for cut in 0..bytes.len() {
        let e = pdz::read_assay(&bytes[..cut]).expect_err(&format!("cut {cut}"));
        assert!(e.to_string().starts_with("Bruker PDZ: "), "cut {cut}: {e}");
    }
}

/// Damaged files, each with the words its error must contain.
fn damaged() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = write_v25(&three_beam_assay(64), RH);
    let ends = record_ends(&good);
    // The first spectrum record starts where the summary (type 2) ends.
    let spectrum = ends.iter().find(|(_, k)| *k == 2).unwrap().0;
    let data = spectrum + 6;
    let mut out = Vec::new();

    let mut v = good.clone();
    v[14..16].copy_from_slice(&[b'6', 0]);
    out.push(("version", v, "unsupported version: file type 'pdz26'"));

    let mut v = good.clone();
    v[spectrum + 2..spectrum + 6].copy_from_slice(&u32::MAX.to_le_bytes());
    out.push(("length", v, "declares 4294967295 bytes"));

    let mut v = good.clone();
    v[data + 104..data + 106].copy_from_slice(&i16::MAX.to_le_bytes());
    out.push(("channels", v, "counts needs 131068 bytes"));

    let mut v = good.clone();
    v[data + 104..data + 106].copy_from_slice(&(-5i16).to_le_bytes());
    out.push(("negative channels", v, "channel count -5"));

    let mut v = good.clone();
    v[data + 40..data + 44].copy_from_slice(&f32::NAN.to_le_bytes());
    out.push(("nan kv", v, "tube voltage is NaN"));

    let mut v = good.clone();
    v[data + 74..data + 78].copy_from_slice(&f32::INFINITY.to_le_bytes());
    out.push(("inf gain", v, "eV per channel is inf"));

    let mut v = good.clone();
    v[data + 110..data + 114].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    out.push(("name length", v, "beam name needs"));

    let mut v = write_v24(&beam(64, 40.0, &[], ""));
    v[358 + 8..358 + 12].copy_from_slice(&(-3i32).to_le_bytes());
    out.push(("v24 negative counts", v, "channel 2 has negative counts"));

    let mut v = write_v24(&beam(64, 40.0, &[], ""));
    v[342..346].copy_from_slice(&(-1.0f32).to_le_bytes());
    out.push(("v24 negative real time", v, "real time is -1 (negative)"));

    let mut v = write_v24(&beam(64, 40.0, &[], ""));
    v[6..8].copy_from_slice(&0i16.to_le_bytes());
    out.push(("v24 no channels", v, "channel count 0"));

    let mut v = good[..spectrum].to_vec();
    v.extend_from_slice(&good[ends.iter().rfind(|(_, k)| *k == 3).unwrap().0..]);
    out.push(("no spectrum", v, "no spectrum record"));
    out
}

#[test]
fn damaged_files_give_the_error_that_names_the_problem() {
    for (name, bytes, words) in damaged() {
        let e = formats::read_bytes(&bytes, "x.pdz", &ReadOptions::default())
            .expect_err(name)
            .to_string();
        assert!(e.contains(words), "{name}: '{e}' lacks '{words}'");
    }
}

#[test]
fn scan_of_a_damaged_pdz_exits_2_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, bytes, words)) in damaged().into_iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.pdz"));
        std::fs::write(&path, bytes).unwrap();
        let out = Command::cargo_bin("reescan")
            .unwrap()
            .args(["scan", "--declared", "iron-ore", "--xrf"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains(&format!("bad{i}.pdz")) && err.contains(words),
            "{name}: {err}"
        );
    }
}

fn scan_json(xrf: &Path) -> serde_json::Value {
    let out = Command::cargo_bin("reescan")
        .unwrap()
        .args(["scan", "--declared", "iron-ore", "--json", "--xrf"])
        .arg(xrf)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn scan_analyses_a_pdz_like_the_same_spectrum_in_emsa_form() {
    let dir = tempfile::tempdir().unwrap();
    let msa = dir.path().join("ore.msa");
    let synth = Command::cargo_bin("reescan")
        .unwrap()
        .args(["synth", "--commodity", "iron-ore", "--seed", "7"])
        .args(["--carrier", "ndfeb", "--fraction", "0.05", "--xrf"])
        .arg(&msa)
        .output()
        .unwrap();
    assert!(synth.status.success());
    let s = formats::read_path(&msa, &ReadOptions::default()).unwrap();
    let (offset_kev, gain_kev) = calibration(&s);
    let kv = s.meta.tube_kv.expect("synth states its tube voltage");

    // The synthetic spectrum as the one beam of a version-25 assay (an assay of
    // several beams is a multi-beam scan, analysed jointly: tests/cli_multibeam.rs).
    let mut assay = three_beam_assay(s.len());
    assay.beams.truncate(2);
    let mut main = assay.beams.remove(1);
    main.counts = s.counts.to_vec();
    main.ev_per_channel = gain_kev * 1000.0;
    main.offset_ev = offset_kev * 1000.0;
    main.tube_kv = kv;
    main.filter.clear();
    main.live_time_s = s.meta.live_time_s.unwrap();
    main.real_time_s = s.meta.real_time_s.unwrap_or(main.live_time_s);
    assay.beams = vec![main];
    let pdz = dir.path().join("ore.pdz");
    std::fs::write(&pdz, write_v25(&assay, RH)).unwrap();

    let from_msa = scan_json(&msa);
    let from_pdz = scan_json(&pdz);
    assert_eq!(
        from_pdz["xrf"]["tube_kv"].as_f64(),
        Some(kv),
        "kV from the file"
    );
    assert_eq!(from_pdz["verdict"], from_msa["verdict"]);
    let ree = |v: &serde_json::Value| v["ree_wt_pct"].as_f64().unwrap_or(0.0);
    assert!(
        (ree(&from_pdz) - ree(&from_msa)).abs() <= 1e-3 + 1e-3 * ree(&from_msa),
        "REE {} vs {}",
        ree(&from_pdz),
        ree(&from_msa)
    );
    println!(
        "pdz: {} REE {} wt%; msa: {} REE {} wt%",
        from_pdz["verdict"],
        ree(&from_pdz),
        from_msa["verdict"],
        ree(&from_msa)
    );
}
