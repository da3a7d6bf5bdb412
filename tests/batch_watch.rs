//! `reescan watch` through the binary: scans announced by `ID.json` or a manifest line
//! are analysed once, never while half written, never twice (also across restarts).

mod screen_support;

use assert_cmd::Command;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn reescan() -> Command {
    Command::cargo_bin("reescan").unwrap()
}

fn synth_bytes(commodity: &str, seed: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    screen_support::synth(dir.path(), "s", commodity, None, 0.0, &[], seed, false);
    std::fs::read(dir.path().join("s.msa")).unwrap()
}

fn rows(out: &Path) -> Vec<Vec<String>> {
    if !out.exists() {
        return Vec::new();
    }
    let mut r = csv::Reader::from_path(out).unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn watch_once(dir: &Path, out: &Path) {
    reescan()
        .arg("watch")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(["--once", "--settle-ms", "0", "--poll-ms", "10"])
        .assert()
        .success();
}

#[test]
fn scans_are_analysed_once_when_their_declaration_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let out = dir.path().join("results.csv");
    std::fs::write(inbox.join("A.msa"), synth_bytes("iron-ore", 1)).unwrap();
    std::fs::write(inbox.join("A.json"), r#"{"declared": "iron-ore"}"#).unwrap();
    std::fs::write(inbox.join("B.msa"), synth_bytes("zirconium", 2)).unwrap();
    watch_once(&inbox, &out);
    let r = rows(&out);
    assert_eq!(r.len(), 1, "B has no declaration yet: {r:?}");
    assert_eq!(r[0][0], "A");
    assert_ne!(r[0][2], "ERROR", "{r:?}");
    // B's declaration arrives as a manifest line; A is not analysed again.
    std::fs::write(
        inbox.join("manifest.csv"),
        "scan_id,declared,xrf,xrd\nB,zirconium,B.msa,\n",
    )
    .unwrap();
    watch_once(&inbox, &out);
    watch_once(&inbox, &out);
    let r = rows(&out);
    let ids: Vec<&str> = r.iter().map(|x| x[0].as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    assert_eq!(r[1][1], "zirconium");
    assert_eq!(r[1][10].len(), 64);
}

#[test]
fn a_half_written_scan_is_not_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let out = dir.path().join("results.csv");
    let bin = assert_cmd::cargo::cargo_bin("reescan");
    let mut child = std::process::Command::new(bin)
        .arg("watch")
        .arg(&inbox)
        .arg("--out")
        .arg(&out)
        .args(["--max-scans", "1", "--settle-ms", "400", "--poll-ms", "20"])
        .spawn()
        .unwrap();
    // The scanner announces the scan first, then writes the file slowly.
    std::fs::write(inbox.join("C.json"), r#"{"declared": "iron-ore"}"#).unwrap();
    let bytes = synth_bytes("iron-ore", 3);
    let mut f = std::fs::File::create(inbox.join("C.msa")).unwrap();
    for chunk in bytes.chunks(bytes.len() / 4 + 1) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
    drop(f);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let r = rows(&out);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0][0], "C");
    assert_ne!(r[0][2], "ERROR", "analysed a half-written file: {r:?}");
    assert_eq!(r[0][10], reescan::formats::sha256_hex(&bytes));
}
