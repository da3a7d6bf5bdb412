//! `batch --shard K/N` then `merge` against one unsharded run of the same manifest:
//! byte-identical CSV and JSONL for N = 1, 3, 8, and a killed-and-rerun shard changes
//! nothing.

mod scale_util;

use scale_util::{ok, read, reescan, write_manifest, write_scans};
use std::path::Path;
use std::time::{Duration, Instant};

fn single_run(dir: &Path, manifest: &Path) {
    ok(reescan()
        .arg("batch")
        .arg(manifest)
        .arg("--out")
        .arg(dir.join("whole.csv"))
        .arg("--jsonl")
        .arg(dir.join("whole.jsonl")));
}

fn shard_run(dir: &Path, manifest: &Path, k: usize, n: usize, extra: &[&str]) -> String {
    ok(reescan()
        .arg("batch")
        .arg(manifest)
        .args(["--shard", &format!("{k}/{n}")])
        .arg("--out")
        .arg(dir.join("res.csv"))
        .arg("--jsonl")
        .arg(dir.join("res.jsonl"))
        .args(extra))
}

fn merge(dir: &Path) {
    ok(reescan()
        .arg("merge")
        .arg(dir.join("res"))
        .arg("--out")
        .arg(dir.join("merged.csv")));
}

fn assert_merged_equals_whole(dir: &Path, what: &str) {
    let (whole, merged) = (read(&dir.join("whole.csv")), read(&dir.join("merged.csv")));
    assert!(
        whole == merged,
        "{what}: merged CSV differs from the single run"
    );
    let (whole, merged) = (
        read(&dir.join("whole.jsonl")),
        read(&dir.join("merged.jsonl")),
    );
    assert!(
        whole == merged,
        "{what}: merged JSONL differs from the single run"
    );
}

#[test]
fn merged_shards_are_byte_identical_to_one_process_for_1_3_8_shards() {
    let dir = tempfile::tempdir().unwrap();
    write_scans(dir.path());
    let manifest = write_manifest(dir.path(), 13);
    single_run(dir.path(), &manifest);
    let whole = String::from_utf8(read(&dir.path().join("whole.csv"))).unwrap();
    assert_eq!(whole.lines().count(), 14, "header + 13 rows");
    assert!(
        whole.contains(",ERROR,"),
        "the corrupt and missing scans give ERROR rows"
    );
    for n in [1usize, 3, 8] {
        let run = dir.path().join(format!("n{n}"));
        std::fs::create_dir(&run).unwrap();
        for name in ["whole.csv", "whole.jsonl"] {
            std::fs::copy(dir.path().join(name), run.join(name)).unwrap();
        }
        // Shards run in reverse order: completion order must not matter.
        for k in (0..n).rev() {
            let stderr = shard_run(&run, &manifest, k, n, &[]);
            assert!(stderr.contains(&format!("shard {k}/{n}")), "{stderr}");
        }
        merge(&run);
        assert_merged_equals_whole(&run, &format!("N={n}"));
    }
}

#[test]
fn killing_and_rerunning_one_shard_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_scans(dir.path());
    let manifest = write_manifest(dir.path(), 24);
    single_run(dir.path(), &manifest);
    for k in 0..3 {
        shard_run(dir.path(), &manifest, k, 3, &[]);
    }
    let shard1 = dir.path().join("res.shard-00001-of-00003.csv");
    let finished = read(&shard1);

    // Kill a rerun of shard 1 mid-way: the finished file must stay as it was.
    kill_midway(dir.path(), &manifest, 1);
    assert!(
        read(&shard1) == finished,
        "a killed rerun touched the finished shard"
    );
    merge(dir.path());
    assert_merged_equals_whole(dir.path(), "after a killed rerun");

    // Lose the shard, kill its run, and the merge names it missing.
    std::fs::remove_file(&shard1).unwrap();
    std::fs::remove_file(dir.path().join("res.shard-00001-of-00003.jsonl")).unwrap();
    kill_midway(dir.path(), &manifest, 1);
    let out = reescan()
        .arg("merge")
        .arg(dir.path().join("res"))
        .arg("--out")
        .arg(dir.path().join("again.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 of 3 shards missing: 1"), "{stderr}");

    // Rerun it (resuming from what the killed run left) and all is as before.
    shard_run(dir.path(), &manifest, 1, 3, &["--resume"]);
    assert!(
        read(&shard1) == finished,
        "resumed shard differs from the first run"
    );
    // And a plain rerun of a finished shard (a duplicated task) rewrites the same bytes.
    shard_run(dir.path(), &manifest, 1, 3, &[]);
    assert!(
        read(&shard1) == finished,
        "rerun shard differs from the first run"
    );
    merge(dir.path());
    assert_merged_equals_whole(dir.path(), "after kill and rerun");
    let temps: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(
        temps.is_empty(),
        "temporaries left after completed runs: {temps:?}"
    );
}

/// Start shard `k` of 3 on one thread and SIGKILL it once its temporary holds rows
/// (or let it finish if it is faster than the poll; the invariants hold either way).
fn kill_midway(dir: &Path, manifest: &Path, k: usize) {
    let mut child = reescan()
        .arg("batch")
        .arg(manifest)
        .args(["--shard", &format!("{k}/3"), "--jobs", "1"])
        .arg("--out")
        .arg(dir.join("res.csv"))
        .arg("--jsonl")
        .arg(dir.join("res.jsonl"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let prefix = format!(".res.shard-{k:05}-of-00003.csv.tmp-");
    loop {
        if child.try_wait().unwrap().is_some() {
            eprintln!("note: shard {k} finished before it could be killed");
            return;
        }
        let partial = std::fs::read_dir(dir).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with(&prefix)
                && e.metadata().map(|m| m.len() > 300).unwrap_or(false)
        });
        if partial || start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Writes the fixture to `$REESCAN_FIXTURE_DIR` (for measuring and debugging by hand).
#[test]
#[ignore = "writes a fixture to $REESCAN_FIXTURE_DIR"]
fn write_fixture_to_a_folder() {
    if let Some(dir) = std::env::var_os("REESCAN_FIXTURE_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        write_scans(&dir);
        write_manifest(&dir, 60);
    }
}
