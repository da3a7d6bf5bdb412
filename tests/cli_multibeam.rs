//! Multi-beam scans through the binary: `scan --xrf "a.msa;b.msa;c.msa"`, a manifest
//! whose `xrf` column lists the beams `;`-separated, a `.pdz` holding three beams, `watch`
//! on a folder announcing a multi-beam scan and `report` on one — each one row / one
//! verdict, the XRF hashes `;`-joined in file order (one hash for the one `.pdz`), the
//! beams listed with their excitation.
//!
//! The beams are assays of the independent multi-beam corpus
//! (`tests/data/xrf_multibeam`, see `tests/xrf_multibeam.rs`): a ceramic body blended with
//! 18.5 wt % rare earths as bastnäsite (15 kV, 40 kV Al, 50 kV Cu), and an honest
//! porcelain of the same set-up.

#[allow(dead_code)]
mod pdz_writer;

use assert_cmd::Command;
use reescan::formats::pdz::{Assay, Beam, FilterLayer, Version};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// 18.5 wt % rare earths (bastnäsite) in a ceramic body, three beams.
const BLENDED: &str = "mb-ceramics-0102";
/// An honest ceramic body, three beams.
const HONEST: &str = "mb-ceramics-0030";

fn reescan() -> Command {
    Command::cargo_bin("reescan").unwrap()
}

/// The beam files of assay `id`, written into `dir`, in beam order.
fn beams(dir: &Path, id: &str) -> Vec<PathBuf> {
    let f = std::fs::File::open("tests/data/xrf_multibeam/corpus.zip").unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut names: Vec<String> = (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
        .filter(|n| n.starts_with(&format!("{id}-b")))
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{id}: {names:?}");
    names
        .iter()
        .map(|n| {
            let mut b = Vec::new();
            z.by_name(n).unwrap().read_to_end(&mut b).unwrap();
            let p = dir.join(n);
            std::fs::write(&p, b).unwrap();
            p
        })
        .collect()
}

fn sha256(p: &Path) -> String {
    reescan::formats::sha256_hex(&std::fs::read(p).unwrap())
}

fn joined(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(";")
}

fn hashes(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| sha256(p))
        .collect::<Vec<_>>()
        .join(";")
}

fn scan_json(declared: &str, xrf: &str) -> Value {
    let out = reescan()
        .args(["scan", "--declared", declared, "--json", "--xrf", xrf])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// The beams and element choices the JSON must carry for a scan of `n` beams.
fn assert_beams_listed(v: &Value, n: usize) {
    let beams = v["xrf_beams"]["beams"].as_array().unwrap();
    assert_eq!(beams.len(), n, "{v}");
    for (i, b) in beams.iter().enumerate() {
        assert_eq!(b["beam"], i + 1);
        assert!(b["tube_kv"].as_f64().unwrap() > 0.0);
        assert!(b["description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("beam {}: ", i + 1)));
    }
    let filters: Vec<&str> = beams
        .iter()
        .map(|b| b["filter"].as_str().unwrap())
        .collect();
    assert_eq!(filters, ["none", "Al 300 µm", "Cu 100 µm"][..n]);
    // every element the joint result reports names the beam that measured it
    let chosen = v["xrf_beams"]["elements"].as_array().unwrap();
    for e in v["xrf"]["elements"].as_array().unwrap() {
        let sym = e["symbol"].as_str().unwrap();
        let c = chosen.iter().find(|c| c["symbol"] == sym).unwrap();
        assert!(c["present"].as_bool().unwrap());
        let b = c["beam"].as_u64().unwrap() as usize;
        assert!((1..=n).contains(&b));
        assert_eq!(c["description"], beams[b - 1]["description"]);
    }
    // light elements from the 15 kV unfiltered beam
    if let Some(si) = chosen
        .iter()
        .find(|c| c["symbol"] == "Si" && c["present"] == true)
    {
        assert_eq!(si["beam"], 1, "{si}");
    }
}

#[test]
fn scan_with_several_xrf_files_gives_one_verdict_with_joined_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let files = beams(dir.path(), BLENDED);
    assert_eq!(files.len(), 3);
    let v = scan_json("ceramics", &joined(&files));
    assert_eq!(v["xrf_sha256"], hashes(&files));
    assert!(
        v["verdict"] == "HOLD" || v["verdict"] == "INSPECT",
        "18.5 wt % rare earths: {}",
        v["verdict"]
    );
    assert!(!v["ree_elements"].as_array().unwrap().is_empty());
    assert_beams_listed(&v, 3);
    // the joint result states the beams' excitations, the highest kV its own
    assert_eq!(v["xrf"]["tube_kv"], 50.0);
    assert!(v["xrf"]["excitation"]
        .as_str()
        .unwrap()
        .contains("through Cu 100 µm"));

    // the plain report lists the beams with their hashes and which beam measured what
    let text = reescan()
        .args(["scan", "--declared", "ceramics", "--xrf", &joined(&files)])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("HOLD") || text.starts_with("INSPECT"),
        "{text}"
    );
    for (i, f) in files.iter().enumerate() {
        let line = format!("beam {}: ", i + 1);
        let hash = &sha256(f)[..12];
        assert!(
            text.lines().any(|l| l.contains(&line) && l.contains(hash)),
            "{text}"
        );
    }
    assert!(text.contains("; beam 3)"), "{text}");

    // the honest body is cleared, one verdict on all three beams
    let honest = beams(dir.path(), HONEST);
    let v = scan_json("ceramics", &joined(&honest));
    assert_eq!(v["verdict"], "CLEAR", "{}", v["reasons"]);
    assert_eq!(v["xrf_sha256"], hashes(&honest));

    // a single file is still a single-spectrum scan
    let one = scan_json("ceramics", &files[2].display().to_string());
    assert!(one.get("xrf_beams").is_none());
    assert_eq!(one["xrf_sha256"], sha256(&files[2]));

    // a missing beam is an input error naming it, exit 2
    let missing = format!(
        "{};{}",
        files[0].display(),
        dir.path().join("nope.msa").display()
    );
    let out = reescan()
        .args(["scan", "--declared", "ceramics", "--xrf", &missing])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope.msa") && err.lines().count() == 1,
        "{err}"
    );
}

/// The corpus beams as one `.pdz` assay (version 25, GeoExploration-like), written by the
/// test writer: counts, calibration, kV, filter layers and times of each beam.
fn as_pdz(files: &[PathBuf]) -> Vec<u8> {
    let opts = reescan::formats::ReadOptions::default();
    let beams: Vec<Beam> = files
        .iter()
        .map(|p| {
            let s = reescan::formats::read_path(p, &opts).unwrap();
            let cal = *s.axis.calibration().unwrap();
            let filter = s
                .meta
                .beam_filter
                .clone()
                .unwrap()
                .iter()
                .map(|l| FilterLayer {
                    z: reescan::xrf::physics::atomic_number(&l.element).unwrap() as u16,
                    thickness_um: l.thickness_um,
                })
                .collect();
            Beam {
                counts: s.counts.to_vec(),
                ev_per_channel: cal.gain_kev * 1000.0,
                offset_ev: cal.offset_kev * 1000.0,
                tube_kv: s.meta.tube_kv.unwrap(),
                tube_ua: 20.0,
                filter,
                live_time_s: s.meta.live_time_s.unwrap(),
                real_time_s: s.meta.real_time_s.unwrap(),
                acquired: Some("2026-12-06T10:00:00".into()),
                name: Some(format!("Geo_{}", s.meta.tube_kv.unwrap())),
            }
        })
        .collect();
    let assay = Assay {
        version: Version::V25,
        instrument_type: Some(1),
        serial: Some("800N11285".into()),
        anode: Some("Rh".into()),
        detector: Some("SDD".into()),
        method: Some("GeoExploration".into()),
        beams,
    };
    pdz_writer::write_v25(&assay, pdz_writer::RH)
}

#[test]
fn a_pdz_with_three_beams_is_one_multi_beam_scan_with_one_hash() {
    let dir = tempfile::tempdir().unwrap();
    let files = beams(dir.path(), BLENDED);
    let pdz = dir.path().join("assay.pdz");
    std::fs::write(&pdz, as_pdz(&files)).unwrap();
    let v = scan_json("ceramics", &pdz.display().to_string());
    assert_eq!(v["xrf_sha256"], sha256(&pdz));
    assert!(
        v["verdict"] == "HOLD" || v["verdict"] == "INSPECT",
        "{}",
        v["verdict"]
    );
    assert_beams_listed(&v, 3);
    for b in v["xrf_beams"]["beams"].as_array().unwrap() {
        assert_eq!(b["sha256"], sha256(&pdz));
    }
}

#[test]
fn a_manifest_row_with_several_xrf_files_is_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let blended = beams(dir.path(), BLENDED);
    let honest = beams(dir.path(), HONEST);
    let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    let list = |ps: &[PathBuf]| ps.iter().map(name).collect::<Vec<_>>().join(";");
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        format!(
            "scan_id,declared,xrf\nB,ceramics,{}\nH,ceramics,{}\n",
            list(&blended),
            list(&honest)
        ),
    )
    .unwrap();
    let out = dir.path().join("results.csv");
    let jsonl = dir.path().join("results.jsonl");
    reescan()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .arg("--jsonl")
        .arg(&jsonl)
        .assert()
        .success();
    let mut r = csv::Reader::from_path(&out).unwrap();
    let headers = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("scan_id")], "B");
    assert!(["HOLD", "INSPECT"].contains(&&rows[0][col("verdict")]));
    assert_eq!(&rows[0][col("xrf_sha256")], hashes(&blended));
    assert_eq!(&rows[1][col("verdict")], "CLEAR");
    assert_eq!(&rows[1][col("xrf_sha256")], hashes(&honest));
    let lines: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_beams_listed(&lines[0], 3);
}

#[test]
fn watch_analyses_a_multi_beam_scan_once_as_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let files = beams(&inbox, BLENDED);
    let list: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    std::fs::write(
        inbox.join("manifest.csv"),
        format!("scan_id,declared,xrf\nB,ceramics,{}\n", list.join(";")),
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    for _ in 0..2 {
        reescan()
            .arg("watch")
            .arg(&inbox)
            .arg("--out")
            .arg(&out)
            .args(["--once", "--settle-ms", "0", "--poll-ms", "10"])
            .assert()
            .success();
    }
    let mut r = csv::Reader::from_path(&out).unwrap();
    let headers = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "analysed once: {rows:?}");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("scan_id")], "B");
    assert!(
        ["HOLD", "INSPECT"].contains(&&rows[0][col("verdict")]),
        "{rows:?}"
    );
    assert_eq!(&rows[0][col("xrf_sha256")], hashes(&files));
}

#[test]
fn the_report_lists_each_beam_with_its_excitation_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let files = beams(dir.path(), BLENDED);
    for format in ["html", "json"] {
        let out = dir.path().join(format!("r.{format}"));
        reescan()
            .args(["report", "--declared", "ceramics", "--format", format])
            .arg("--xrf")
            .arg(joined(&files))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let text = std::fs::read_to_string(&out).unwrap();
        for (i, f) in files.iter().enumerate() {
            assert!(
                text.contains(&sha256(f)),
                "{format}: hash of beam {}",
                i + 1
            );
            assert!(
                text.contains(&format!("XRF beam {} of 3", i + 1)),
                "{format}"
            );
        }
        if format == "json" {
            let v: Value = serde_json::from_str(&text).unwrap();
            let inputs = v["inputs"].as_array().unwrap();
            let kv: Vec<f64> = inputs
                .iter()
                .map(|i| i["metadata"]["tube_kv"].as_f64().unwrap())
                .collect();
            assert_eq!(kv, [15.0, 40.0, 50.0]);
            assert_eq!(inputs[2]["metadata"]["beam_filter"][0]["element"], "Cu");
        } else {
            assert!(text.contains("Beam filter"));
            assert!(text.contains("Al 300 µm") && text.contains("Cu 100 µm"));
            // one plot per beam
            assert_eq!(text.matches("as measured by beam ").count(), 3);
        }
    }
}
