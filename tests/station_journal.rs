//! The station journal through the `reescan watch` binary: a restart (after a kill, with
//! torn last lines) duplicates and loses nothing and the CSV, JSONL and journal agree; an
//! ERROR is retried only when its bytes change (a re-scan); a slowly written file is
//! analysed once, complete; a scan without a declaration is reported; a second station on
//! the folder and a foreign results file are refused.
//!
//! The shipments are synthetic (`screen_support`): these tests check the station's
//! bookkeeping, not the screening, and take the verdicts the screener gives as they are
//! (the HOLD shipment carries 3 wt % bastnäsite in iron ore, far past any threshold).

mod screen_support;

use reescan::station::Journal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("reescan")
}

/// An EMSA spectrum of a synthetic shipment.
fn spectrum(commodity: &str, carrier: Option<&str>, fraction: f64, seed: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    screen_support::synth(
        dir.path(),
        "s",
        commodity,
        carrier,
        fraction,
        &[],
        seed,
        false,
    );
    std::fs::read(dir.path().join("s.msa")).unwrap()
}

/// A file in EMSA form whose data cannot be read: an ERROR row.
const BROKEN_EMSA: &str = "#FORMAT : EMSA/MAS Spectral Data File\n#VERSION : 1.0\n\
#NPOINTS : 4.\n#XPERCHAN : 0.01\n#OFFSET : 0.0\n#SPECTRUM : \n1, two, 3\n#ENDOFDATA : \n";

struct Station {
    _tmp: tempfile::TempDir,
    inbox: PathBuf,
    csv: PathBuf,
    jsonl: PathBuf,
}

impl Station {
    fn new() -> Station {
        let tmp = tempfile::tempdir().unwrap();
        let inbox = tmp.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        Station {
            csv: tmp.path().join("station.csv"),
            jsonl: tmp.path().join("station.jsonl"),
            inbox,
            _tmp: tmp,
        }
    }

    fn drop_scan(&self, id: &str, bytes: &[u8], declared: Option<&str>) {
        std::fs::write(self.inbox.join(format!("{id}.msa")), bytes).unwrap();
        if let Some(d) = declared {
            std::fs::write(
                self.inbox.join(format!("{id}.json")),
                format!(r#"{{"declared": "{d}"}}"#),
            )
            .unwrap();
        }
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.arg("watch")
            .arg(&self.inbox)
            .arg("--out")
            .arg(&self.csv)
            .arg("--jsonl")
            .arg(&self.jsonl)
            .args(["--poll-ms", "10"])
            .args(extra);
        if !extra.contains(&"--settle-ms") {
            c.args(["--settle-ms", "0"]);
        }
        c
    }

    /// `watch --once`, which must succeed; returns its stderr.
    fn once(&self, extra: &[&str]) -> String {
        let out = run(self.command(&[&["--once"], extra].concat()), 60);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn spawn(&self, extra: &[&str]) -> Child {
        self.command(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn csv_lines(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.csv).unwrap_or_default();
        text.split_inclusive('\n')
            .skip(1)
            .map(str::to_string)
            .collect()
    }

    /// The journal, after checking that the CSV and the JSONL say exactly what it says.
    fn agreed(&self) -> Journal {
        let j = Journal::open(&self.inbox).unwrap();
        let from_journal: Vec<&str> = j.entries().iter().map(|e| e.csv.as_str()).collect();
        assert_eq!(self.csv_lines(), from_journal, "CSV and journal differ");
        let header = std::fs::read_to_string(&self.csv).unwrap();
        assert!(header.starts_with("scan_id,declared,verdict,"), "{header}");
        let jsonl = std::fs::read_to_string(&self.jsonl).unwrap();
        let from_journal: String = j.entries().iter().map(|e| e.jsonl_line()).collect();
        assert_eq!(jsonl, from_journal, "JSONL and journal differ");
        for (i, e) in j.entries().iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(e.result.get()).unwrap();
            assert_eq!(v["scan_id"], e.scan_id.as_str());
            assert_eq!(v["verdict"], e.verdict.as_str());
            assert_eq!(e.seq, i as u64 + 1);
            assert!(e.csv.starts_with(&format!("{},", e.scan_id)), "{}", e.csv);
        }
        j
    }
}

/// Run a command to completion, killing it after `limit_s`.
fn run(mut c: Command, limit_s: u64) -> Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(limit_s) {
            let _ = child.kill();
            panic!("watch did not finish within {limit_s} s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn ids(j: &Journal) -> Vec<&str> {
    let mut v: Vec<&str> = j.entries().iter().map(|e| e.scan_id.as_str()).collect();
    v.sort_unstable();
    v
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_station_killed_mid_run_and_restarted_duplicates_and_loses_nothing() {
    let s = Station::new();
    s.drop_scan("C1", &spectrum("iron-ore", None, 0.0, 11), Some("iron-ore"));
    s.drop_scan("C2", &spectrum("iron-ore", None, 0.0, 12), Some("iron-ore"));
    s.drop_scan(
        "H1",
        &spectrum("iron-ore", Some("bastnasite"), 0.03, 13),
        Some("iron-ore"),
    );
    s.drop_scan("E1", BROKEN_EMSA.as_bytes(), Some("iron-ore"));
    s.drop_scan(
        "Z1",
        &spectrum("zirconium", None, 0.0, 14),
        Some("zirconium"),
    );
    s.drop_scan("C3", &spectrum("iron-ore", None, 0.0, 15), Some("iron-ore"));

    // Killed (SIGKILL) as soon as its first verdict is in the CSV, then a crash mid-write
    // is imitated: half a journal line and half a CSV line at the ends of the files.
    let mut child = s.spawn(&[]);
    wait_until(Duration::from_secs(60), || !s.csv_lines().is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    let before = Journal::open(&s.inbox).unwrap().entries().len();
    assert!(before >= 1);
    let journal = Journal::path_in(&s.inbox);
    let last = std::fs::read(&journal).unwrap();
    let first_line = &last[..last.iter().position(|&b| b == b'\n').unwrap()];
    append(&journal, &first_line[..first_line.len() / 2]);
    append(&s.csv, b"C9,iron-ore,CLE");

    let log = s.once(&[]);
    assert!(log.contains("torn last line"), "{log}");
    let j = s.agreed();
    assert_eq!(ids(&j), ["C1", "C2", "C3", "E1", "H1", "Z1"]);
    let verdict = |id: &str| j.by_id(id).unwrap().verdict.as_str();
    assert_eq!(verdict("H1"), "HOLD");
    assert_eq!(verdict("E1"), "ERROR");
    assert!(j.entries().iter().all(|e| e.supersedes.is_none()));
    let hold = std::fs::read_to_string(&s.jsonl).unwrap();
    assert_eq!(hold.matches("\"verdict\":\"HOLD\"").count(), 1, "{hold}");

    // Restarted again with nothing new: nothing is analysed, the ERROR is not retried.
    s.once(&[]);
    assert_eq!(s.agreed().entries().len(), 6);

    // E1's bytes change: a re-scan, recorded as a new entry naming the one it replaces.
    s.drop_scan("E1", &spectrum("iron-ore", None, 0.0, 16), None);
    let log = s.once(&[]);
    assert!(log.contains("E1: re-scan"), "{log}");
    let j = s.agreed();
    assert_eq!(j.entries().len(), 7);
    let e1 = j.by_id("E1").unwrap();
    assert_ne!(e1.verdict.as_str(), "ERROR");
    let old = j.history("E1").nth(1).unwrap();
    assert_eq!(e1.supersedes, Some(old.seq));
    assert_ne!(e1.inputs[0].sha256, old.inputs[0].sha256);
    assert_eq!(
        e1.inputs[0].sha256,
        reescan::formats::sha256_hex(&std::fs::read(s.inbox.join("E1.msa")).unwrap())
    );
}

#[test]
fn a_file_written_slowly_is_analysed_once_and_complete() {
    let s = Station::new();
    std::fs::write(s.inbox.join("W.json"), r#"{"declared": "iron-ore"}"#).unwrap();
    let mut child = s
        .command(&["--settle-ms", "100", "--max-scans", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The writer pauses three settle times between chunks; only the last chunk carries
    // #ENDOFDATA.
    let bytes = spectrum("iron-ore", Some("bastnasite"), 0.03, 21);
    let mut f = std::fs::File::create(s.inbox.join("W.msa")).unwrap();
    for chunk in bytes.chunks(bytes.len() / 3 + 1) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(350));
    }
    drop(f);
    wait_until(Duration::from_secs(60), || {
        child.try_wait().unwrap().is_some()
    });
    let out = child.wait_with_output().unwrap();
    s.once(&[]);
    let j = s.agreed();
    assert_eq!(j.entries().len(), 1, "{:?}", s.csv_lines());
    let e = &j.entries()[0];
    assert_eq!(e.verdict.as_str(), "HOLD", "{:?}", e.reasons());
    assert_eq!(e.inputs[0].sha256, reescan::formats::sha256_hex(&bytes));
    assert_eq!(e.inputs[0].bytes, bytes.len() as u64);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("W: W.msa has no #ENDOFDATA yet"), "{log}");
}

#[test]
fn a_scan_without_a_declaration_is_reported_and_decided_again_when_one_arrives() {
    let s = Station::new();
    s.drop_scan("X", &spectrum("iron-ore", None, 0.0, 31), None);
    // A declaration whose files have not arrived is not a scan yet (and --once ends).
    std::fs::write(s.inbox.join("V.json"), r#"{"declared": "iron-ore"}"#).unwrap();
    s.drop_scan("Y", &spectrum("iron-ore", None, 0.0, 32), None);
    std::fs::write(s.inbox.join("Y.json"), "{\"declared\": iron-ore}").unwrap();

    // Within the declaration wait: announced at once, not recorded.
    let log = s.once(&[]);
    assert!(log.contains("reescan watch: station on"), "{log}");
    assert!(log.contains("X: X.msa without a declaration"), "{log}");
    assert!(log.contains("Y.json is not a declaration"), "{log}");
    assert!(s.csv_lines().is_empty());

    // After it: recorded as INSPECT "No declaration", the file analysed.
    let log = s.once(&["--declaration-wait-ms", "0"]);
    assert!(log.contains("X: no declaration"), "{log}");
    let j = s.agreed();
    assert_eq!(ids(&j), ["X", "Y"]);
    for e in j.entries() {
        assert_eq!(e.verdict.as_str(), "INSPECT");
        assert_eq!(e.declared, None);
        assert!(
            e.reasons()[0].starts_with("No declaration"),
            "{:?}",
            e.reasons()
        );
        let v: serde_json::Value = serde_json::from_str(e.result.get()).unwrap();
        assert!(v["xrf"]["elements"]
            .as_array()
            .is_some_and(|a| !a.is_empty()));
    }
    assert!(j.by_id("Y").unwrap().reasons()[0].contains("Y.json is not a declaration"));

    // Y's declaration arrives: Y is decided against it, superseding the INSPECT.
    std::fs::write(s.inbox.join("Y.json"), r#"{"declared": "iron-ore"}"#).unwrap();
    s.once(&["--declaration-wait-ms", "0"]);
    let j = s.agreed();
    assert_eq!(j.entries().len(), 3);
    let y = j.by_id("Y").unwrap();
    assert_eq!(y.declared.as_deref(), Some("iron-ore"));
    assert_eq!(y.supersedes, Some(j.history("Y").nth(1).unwrap().seq));
}

#[test]
fn a_second_station_on_the_folder_is_refused_with_one_line() {
    let s = Station::new();
    s.drop_scan("A", &spectrum("iron-ore", None, 0.0, 41), Some("iron-ore"));
    let mut first = s.spawn(&[]);
    wait_until(Duration::from_secs(60), || s.csv_lines().len() == 1);
    let other = s.csv.with_file_name("other.csv");
    let mut c = Command::new(bin());
    c.arg("watch")
        .arg(&s.inbox)
        .arg("--out")
        .arg(&other)
        .args(["--once", "--settle-ms", "0"]);
    let out = run(c, 30);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("another reescan station is watching this folder"),
        "{err}"
    );
    assert!(!other.exists());
    s.agreed();
}

#[test]
fn a_results_file_from_elsewhere_is_refused_and_left_untouched() {
    let s = Station::new();
    s.drop_scan("A", &spectrum("iron-ore", None, 0.0, 51), Some("iron-ore"));
    let foreign = "scan_id,declared,verdict,risk,ree_wt_pct,ree_elements,controlled_elements,\
phases,mismatch,reasons,xrf_sha256,xrd_sha256\nQ,iron-ore,HOLD,0.900,,,,,,x,,\n";
    std::fs::write(&s.csv, foreign).unwrap();
    let out = run(s.command(&["--once"]), 30);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not in the station journal"), "{err}");
    assert_eq!(std::fs::read_to_string(&s.csv).unwrap(), foreign);
}
