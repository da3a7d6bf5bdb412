//! The hostile-input corpus (issue 21): files and flags an attacker or a broken
//! instrument could hand a station. Each must give its one right outcome and never a
//! crash, a hang or an unbounded allocation:
//!
//! * `scan`/`report`: one error line naming the file and the value, exit 2;
//! * `batch`: an ERROR row with its reason, every other row analysed;
//! * result files: a second writer refused, no silent overwrite, no output onto an
//!   input, spreadsheet formulas neutralised in the CSV (and `--resume` still finds
//!   those rows).
//!
//! The corpus is built at test time from the bundled `spectra/synthetic/S001.msa`
//! (honest hematite ore) and `S002.msa` (NdFeB blended into iron ore, a HOLD), each
//! changed in one header line or in its counts, so that the change is the only fault;
//! FIFOs and links are made in a temporary folder (they cannot live in git).
//! All-zero, flat and cut-at-6-keV spectra are only required here to be analysed
//! without a crash and to give a row; what verdict they earn is `tests/screen_*`'s.

#![cfg(unix)]

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest any command here may take: a hang on a FIFO or `/dev/zero` fails the test
/// instead of stalling the suite.
const DEADLINE: Duration = Duration::from_secs(120);

fn reescan() -> Command {
    let mut c = Command::cargo_bin("reescan").unwrap();
    c.timeout(DEADLINE);
    c
}

fn bundled(name: &str) -> String {
    std::fs::read_to_string(common::repo(&format!("spectra/synthetic/{name}"))).unwrap()
}

/// `text` with its header line starting `key` replaced by `line`.
fn with_header(text: &str, key: &str, line: &str) -> String {
    let mut found = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(key) {
                found = true;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(found, "no {key} line to replace");
    out.join("\n") + "\n"
}

/// `text` with every count replaced by `f(channel, count)`, the first `keep` channels
/// kept (and `#NPOINTS` saying so).
fn with_counts(text: &str, keep: usize, f: impl Fn(usize, &str) -> String) -> String {
    let (head, rest) = text.split_once("#SPECTRUM").unwrap();
    let (spectrum_line, data) = rest.split_once('\n').unwrap();
    let values: Vec<&str> = data
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.trim_end_matches(','))
        .collect();
    let mut out = with_header(head, "#NPOINTS", &format!("#NPOINTS     : {keep}"));
    out.push_str("#SPECTRUM");
    out.push_str(spectrum_line);
    out.push('\n');
    for (i, v) in values.iter().take(keep).enumerate() {
        out.push_str(&f(i, v));
        out.push_str(",\n");
    }
    out.push_str("#ENDOFDATA   : End Of Data and File\n");
    out
}

/// The corpus, written into `dir/scans`.
fn corpus(dir: &Path) -> PathBuf {
    let scans = dir.join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    let ore = bundled("S001.msa");
    let ndfeb = bundled("S002.msa");
    let kv = |text: &str, v: &str| with_header(text, "#BEAMKV", &format!("#BEAMKV   -kV: {v}"));
    let files: Vec<(&str, String)> = vec![
        ("ore.msa", ore.clone()),
        ("ndfeb.msa", ndfeb.clone()),
        ("kv_1e9.msa", kv(&ndfeb, "1e9")),
        ("kv_300.msa", kv(&ndfeb, "300")),
        ("kv_10000.msa", kv(&ndfeb, "10000")),
        ("kv_negative.msa", kv(&ore, "-40")),
        ("kv_nan.msa", kv(&ore, "NaN")),
        ("kv_inf.msa", kv(&ore, "inf")),
        (
            "livetime_nan.msa",
            with_header(&ore, "#LIVETIME", "#LIVETIME  -s: NaN"),
        ),
        (
            "livetime_huge.msa",
            with_header(&ore, "#LIVETIME", "#LIVETIME  -s: 1e300"),
        ),
        (
            "gain_huge.msa",
            with_header(&ore, "#XPERCHAN", "#XPERCHAN    : 1e300"),
        ),
        (
            "gain_nan.msa",
            with_header(&ore, "#XPERCHAN", "#XPERCHAN    : NaN"),
        ),
        (
            "npoints_huge.msa",
            with_header(&ore, "#NPOINTS", "#NPOINTS     : 1e15"),
        ),
        ("all_zero.msa", with_counts(&ore, 4096, |_, _| "0".into())),
        ("flat.msa", with_counts(&ore, 4096, |_, _| "100".into())),
        // gain 0.01 keV: 600 channels end at 6 keV
        ("cut_6kev.msa", with_counts(&ore, 600, |_, v| v.to_string())),
    ];
    for (name, text) in files {
        std::fs::write(scans.join(name), text).unwrap();
    }
    let fifo = scans.join("fifo.msa");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    std::os::unix::fs::symlink("/dev/zero", scans.join("zero.msa")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", scans.join("urandom.msa")).unwrap();
    std::fs::create_dir(scans.join("folder.msa")).unwrap();
    scans
}

/// `reescan ARGS…`: exit 2 and exactly one stderr line that names `name` and holds
/// every one of `expect` (case-insensitive).
fn assert_one_line_error(args: &[&str], path: &Path, extra: &[&str], expect: &[&str]) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let out = reescan().args(args).arg(path).args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    assert_eq!(lines.len(), 1, "{name}: {stderr}");
    assert!(lines[0].contains(&name), "{name} not named: {stderr}");
    for e in expect {
        assert!(
            lines[0].to_lowercase().contains(&e.to_lowercase()),
            "{name}: '{e}' not in: {stderr}"
        );
    }
}

/// (file, what the error line must say) for every file `scan` must refuse.
const REFUSED: &[(&str, &[&str])] = &[
    ("kv_1e9.msa", &["1e9 kV", "160"]),
    ("kv_300.msa", &["300 kV", "160"]),
    ("kv_10000.msa", &["10000 kV"]),
    ("kv_negative.msa", &["-40 kV"]),
    ("kv_nan.msa", &["BEAMKV"]),
    ("kv_inf.msa", &["BEAMKV", "inf"]),
    ("livetime_nan.msa", &["LIVETIME"]),
    ("livetime_huge.msa", &["live time", "1e300"]),
    ("gain_huge.msa", &["gain"]),
    ("gain_nan.msa", &["XPERCHAN"]),
    ("npoints_huge.msa", &["NPOINTS"]),
    ("fifo.msa", &["FIFO"]),
    ("zero.msa", &["device"]),
    ("urandom.msa", &["device"]),
    ("folder.msa", &["folder"]),
];

#[test]
fn impossible_headers_and_special_files_are_one_error_line_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let scans = corpus(dir.path());
    for (name, expect) in REFUSED {
        assert_one_line_error(
            &["scan", "--declared", "iron-ore", "--xrf"],
            &scans.join(name),
            &[],
            expect,
        );
    }
    // report reads its inputs the same way
    let html = dir.path().join("r.html");
    for name in ["kv_1e9.msa", "fifo.msa"] {
        assert_one_line_error(
            &[
                "report",
                "--declared",
                "iron-ore",
                "--out",
                html.to_str().unwrap(),
                "--xrf",
            ],
            &scans.join(name),
            &[],
            &[],
        );
        assert!(!html.exists(), "a report was written from {name}");
    }
    // a device given directly (not through a link)
    let out = reescan()
        .args(["scan", "--declared", "iron-ore", "--xrf", "/dev/urandom"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/urandom") && stderr.contains("not a regular file"));
}

#[test]
fn tube_voltage_flags_outside_the_xrf_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scans = corpus(dir.path());
    let ndfeb = scans.join("ndfeb.msa");
    for kv in ["300", "0", "-5", "nan", "inf", "1e9"] {
        let out = reescan()
            .args(["scan", "--declared", "iron-ore", "--xrf"])
            .arg(&ndfeb)
            .arg(format!("--kv={kv}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--kv {kv}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("--kv") && stderr.contains("160"),
            "{stderr}"
        );
    }
    for wl in ["0.01", "40", "nan"] {
        let out = reescan()
            .args(["scan", "--declared", "iron-ore", "--xrd"])
            .arg(common::repo("spectra/synthetic/S001.xy"))
            .arg(format!("--wavelength={wl}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--wavelength {wl}: {stderr}");
        assert!(stderr.contains("--wavelength"), "{stderr}");
    }
    // within the range the NdFeB blend is still held
    let out = reescan()
        .args(["scan", "--declared", "iron-ore", "--xrf"])
        .arg(&ndfeb)
        .args(["--kv", "40"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("HOLD"), "{stdout}");
}

#[test]
fn degenerate_spectra_are_analysed_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let scans = corpus(dir.path());
    for name in ["all_zero.msa", "flat.msa", "cut_6kev.msa"] {
        let out = reescan()
            .args(["scan", "--declared", "iron-ore", "--json", "--xrf"])
            .arg(scans.join(name))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        // a verdict (exit 0), or one error line: never a crash (a signal has no code)
        match out.status.code() {
            Some(0) => {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let verdict = v["verdict"].as_str().unwrap_or("");
                assert!(
                    ["CLEAR", "INSPECT", "HOLD"].contains(&verdict),
                    "{name}: {v}"
                );
            }
            Some(1 | 2) => assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}"),
            other => panic!("{name}: exit {other:?}: {stderr}"),
        }
    }
}

/// The rows of a results CSV (header excluded), cells as written.
fn rows_of(csv: &Path) -> Vec<Vec<String>> {
    csv::Reader::from_path(csv)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// A manifest beside `scans/` with the poisoned row, the FIFO and the `/dev/zero` link
/// among good rows, formula-like scan_ids and a formula-like declared value.
fn hostile_manifest(dir: &Path) -> (PathBuf, Vec<(&'static str, Option<bool>)>) {
    corpus(dir);
    // (scan_id, declared, xrf, whether the row must be an ERROR; None: either)
    let (error, fine) = (Some(true), Some(false));
    let rows: &[(&str, &str, &str, Option<bool>)] = &[
        ("good-1", "iron-ore", "scans/ore.msa", fine),
        ("poisoned-kv", "iron-ore", "scans/kv_1e9.msa", error),
        ("fifo", "iron-ore", "scans/fifo.msa", error),
        ("dev-zero", "iron-ore", "scans/zero.msa", error),
        ("kv-300", "iron-ore", "scans/kv_300.msa", error),
        (
            "=HYPERLINK(\"http://x\";\"y\")",
            "iron-ore",
            "scans/ore.msa",
            fine,
        ),
        ("+1+2", "iron-ore", "scans/ndfeb.msa", fine),
        ("-3", "iron-ore", "scans/ore.msa", fine),
        ("@SUM(A1)", "iron-ore", "scans/ore.msa", fine),
        ("'=quoted", "iron-ore", "scans/ore.msa", fine),
        ("bad-declared", "=cmd|' /C calc'!A0", "scans/ore.msa", error),
        ("all-zero", "iron-ore", "scans/all_zero.msa", None),
        ("flat", "iron-ore", "scans/flat.msa", None),
        ("cut-6kev", "iron-ore", "scans/cut_6kev.msa", None),
        ("good-2", "iron-ore", "scans/ndfeb.msa", fine),
    ];
    let mut w = csv::Writer::from_path(dir.join("manifest.csv")).unwrap();
    w.write_record(["scan_id", "declared", "xrf", "xrd"])
        .unwrap();
    for (id, declared, xrf, _) in rows {
        w.write_record([*id, *declared, *xrf, ""]).unwrap();
    }
    w.flush().unwrap();
    let expect = rows.iter().map(|r| (r.0, r.3)).collect();
    (dir.join("manifest.csv"), expect)
}

/// The cell a spreadsheet will not execute, as SPEC "Results" says.
fn neutralised(v: &str) -> String {
    if v.trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
    {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

#[test]
fn a_batch_with_a_poisoned_row_a_fifo_and_a_device_link_finishes_every_other_row() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, expect) = hostile_manifest(dir.path());
    let out = dir.path().join("results.csv");
    let jsonl = dir.path().join("results.jsonl");
    let run = reescan()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .arg("--jsonl")
        .arg(&jsonl)
        .args(["--jobs", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let rows = rows_of(&out);
    assert_eq!(rows.len(), expect.len(), "one row per manifest row");
    for (row, (id, error)) in rows.iter().zip(&expect) {
        assert_eq!(row[0], neutralised(id), "scan_id cell of {id}");
        if let Some(error) = error {
            assert_eq!(row[2] == "ERROR", *error, "{row:?}");
        }
        assert!(!row[9].is_empty(), "a reason: {row:?}");
    }
    let reason = |id: &str| rows.iter().find(|r| r[0] == id).unwrap()[9].clone();
    assert!(reason("poisoned-kv").contains("1e9 kV"), "{rows:?}");
    assert!(reason("kv-300").contains("300 kV"), "{rows:?}");
    assert!(reason("fifo").contains("FIFO"), "{rows:?}");
    assert!(reason("dev-zero").contains("device"), "{rows:?}");
    // the declared value is neutralised too; numeric columns are untouched
    let bad = rows.iter().find(|r| r[0] == "bad-declared").unwrap();
    assert_eq!(bad[1], "'=cmd|' /C calc'!A0");
    for r in &rows {
        assert!(r[3].parse::<f64>().is_ok(), "risk stays a number: {r:?}");
        for cell in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet would execute: {r:?}"
            );
        }
    }
    // JSONL keeps the raw values
    let ids: Vec<String> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["scan_id"].as_str().unwrap().to_string()
        })
        .collect();
    let raw: Vec<&str> = expect.iter().map(|e| e.0).collect();
    assert_eq!(ids, raw);

    // --resume finds every row, neutralised ones included, and adds nothing
    let before = std::fs::read(&out).unwrap();
    let again = reescan()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .arg("--jsonl")
        .arg(&jsonl)
        .arg("--resume")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("(0 analysed, {} already done)", expect.len())),
        "{stderr}"
    );
    assert!(
        std::fs::read(&out).unwrap() == before,
        "resume changed the CSV"
    );
    assert_eq!(
        std::fs::read_to_string(&jsonl).unwrap().lines().count(),
        expect.len()
    );
}

/// A small good batch: manifest and the scans it names.
fn small_batch(dir: &Path) -> PathBuf {
    let scans = dir.join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    std::fs::write(scans.join("ore.msa"), bundled("S001.msa")).unwrap();
    let m = dir.join("manifest.csv");
    std::fs::write(
        &m,
        "scan_id,declared,xrf,xrd\nA,iron-ore,scans/ore.msa,\nB,bananas,scans/ore.msa,\n",
    )
    .unwrap();
    m
}

fn batch(manifest: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    reescan()
        .arg("batch")
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// Exit 1 (a run-level failure, not an input file) with one line holding `expect`.
fn assert_refused(o: &std::process::Output, expect: &[&str]) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "'{e}' not in: {stderr}");
    }
    assert_eq!(
        stderr.matches("invalid output").count().max(1),
        1,
        "the message is printed once: {stderr}"
    );
}

#[test]
fn a_second_writer_on_the_same_results_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = small_batch(dir.path());
    let out = dir.path().join("results.csv");
    assert_eq!(batch(&m, &out, &[]).status.code(), Some(0));
    let before = std::fs::read(&out).unwrap();
    // this process writes it now (holds its lock, as a running batch or watch does)
    let held = std::fs::OpenOptions::new().append(true).open(&out).unwrap();
    held.try_lock().unwrap();
    for flags in [&["--resume"][..], &["--force"][..]] {
        let o = batch(&m, &out, flags);
        assert_refused(&o, &["results.csv", "lock"]);
        assert!(
            std::fs::read(&out).unwrap() == before,
            "{flags:?} changed it"
        );
    }
    // the JSONL has its own lock
    let jsonl = dir.path().join("results.jsonl");
    std::fs::write(&jsonl, "").unwrap();
    let held_jsonl = std::fs::OpenOptions::new()
        .append(true)
        .open(&jsonl)
        .unwrap();
    held_jsonl.try_lock().unwrap();
    let fresh = dir.path().join("other.csv");
    let o = batch(&m, &fresh, &["--jsonl", jsonl.to_str().unwrap()]);
    assert_refused(&o, &["results.jsonl", "lock"]);
    drop((held, held_jsonl));
    assert_eq!(batch(&m, &out, &["--resume"]).status.code(), Some(0));
}

#[test]
fn an_existing_results_file_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let m = small_batch(dir.path());
    let out = dir.path().join("results.csv");
    assert_eq!(batch(&m, &out, &[]).status.code(), Some(0));
    let first = std::fs::read(&out).unwrap();
    std::fs::write(&out, [&first[..], b"kept,by,hand\n"].concat()).unwrap();
    let edited = std::fs::read(&out).unwrap();
    let o = batch(&m, &out, &[]);
    assert_refused(&o, &["results.csv", "--resume", "--force"]);
    assert!(
        std::fs::read(&out).unwrap() == edited,
        "refused run changed it"
    );
    let o = batch(&m, &out, &["--force"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(std::fs::read(&out).unwrap() == first, "--force rewrites it");
    // an existing JSONL is refused the same way
    let jsonl = dir.path().join("r.jsonl");
    std::fs::write(&jsonl, "{}\n").unwrap();
    let o = batch(
        &m,
        &dir.path().join("new.csv"),
        &["--jsonl", jsonl.to_str().unwrap()],
    );
    assert_refused(&o, &["r.jsonl", "--force"]);
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), "{}\n");
    // --resume and --force together are a usage error
    assert_eq!(
        batch(&m, &out, &["--resume", "--force"]).status.code(),
        Some(2)
    );
}

#[test]
fn output_onto_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = small_batch(dir.path());
    let manifest_text = std::fs::read(&m).unwrap();
    let scan = dir.path().join("scans/ore.msa");
    let scan_text = std::fs::read(&scan).unwrap();
    // the manifest, by its own name, through ./ and through a link
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&m, &link).unwrap();
    let dotted = dir.path().join("scans/../manifest.csv");
    for (out, flags) in [
        (&m, &[][..]),
        (&m, &["--force"][..]),
        (&m, &["--resume"][..]),
        (&dotted, &["--force"][..]),
        (&link, &["--force"][..]),
    ] {
        let o = batch(&m, out, flags);
        assert_refused(&o, &["manifest", "input"]);
        assert!(
            std::fs::read(&m).unwrap() == manifest_text,
            "manifest changed"
        );
    }
    // a scan file the manifest names, replaced with --force
    let o = batch(&m, &scan, &["--force"]);
    assert_refused(&o, &["scans/ore.msa", "manifest line"]);
    assert!(std::fs::read(&scan).unwrap() == scan_text, "scan changed");
    // the JSONL onto the CSV
    let out = dir.path().join("r.csv");
    let o = batch(&m, &out, &["--jsonl", out.to_str().unwrap()]);
    assert_refused(&o, &["another output"]);
    assert!(!out.exists());
}

#[test]
fn a_second_run_of_the_same_shard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = small_batch(dir.path());
    let out = dir.path().join("results.csv");
    let shard = |extra: &[&str]| {
        reescan()
            .arg("batch")
            .arg(&m)
            .arg("--out")
            .arg(&out)
            .args(["--shard", "1/2"])
            .args(extra)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap()
    };
    // the first run holds its lock (as a run still writing does)
    let lock = dir.path().join(".results.shard-00001-of-00002.csv.lock");
    let held = std::fs::File::create(&lock).unwrap();
    held.try_lock().unwrap();
    for extra in [&[][..], &["--resume"][..]] {
        let o = shard(extra);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        // the shard line, then the one error line
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("reescan: "))
            .collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(
            errors[0].contains("results.shard-00001-of-00002.csv") && errors[0].contains("lock"),
            "{stderr}"
        );
    }
    assert!(!dir.path().join("results.shard-00001-of-00002.csv").exists());
    drop(held);
    let o = shard(&[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(dir
        .path()
        .join("results.shard-00001-of-00002.csv")
        .is_file());
    assert!(
        !lock.exists(),
        "the lock file is removed when the shard is done"
    );
}
