//! A real scheduler end to end: a single-node Slurm (slurmctld + slurmd on localhost,
//! set up by `deploy/slurm/setup-single-node.sh` when it is not running) runs
//! `deploy/slurm/reescan-array.sbatch` as a job array over a synthetic manifest, the
//! dependent merge job joins the shards, and the result must be byte-identical to one
//! `reescan batch` process.
//!
//! Skips, with the reason printed, when Slurm is not running and cannot be set up here
//! (not root, no apt-get, or the daemons do not start). `REESCAN_SLURM_SETUP=0` forbids
//! running the setup script (which installs Debian packages).

mod scale_util;

use scale_util::{ok, read, reescan, reescan_bin, write_manifest, write_scans};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_text(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when a partition has a node that takes jobs.
fn slurm_ready() -> bool {
    run_text("sinfo", &["-h", "-o", "%t"]).is_some_and(|t| {
        t.lines()
            .any(|s| ["idle", "mix", "alloc"].contains(&s.trim()))
    })
}

/// Slurm up, or the reason it cannot be.
fn ensure_slurm() -> Result<(), String> {
    if slurm_ready() {
        return Ok(());
    }
    if std::env::var("REESCAN_SLURM_SETUP").as_deref() == Ok("0") {
        return Err("Slurm is not running and REESCAN_SLURM_SETUP=0".into());
    }
    let root = run_text("id", &["-u"]).is_some_and(|u| u.trim() == "0");
    if !root {
        return Err("Slurm is not running and setting it up needs root".into());
    }
    if run_text("sh", &["-c", "command -v apt-get || command -v slurmctld"]).is_none() {
        return Err("Slurm is not running and neither apt-get nor slurmctld exists".into());
    }
    let script = repo().join("deploy/slurm/setup-single-node.sh");
    let out = Command::new("sh")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() || !slurm_ready() {
        let log = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = log.lines().rev().take(8).collect();
        return Err(format!(
            "setup-single-node.sh could not start Slurm: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    Ok(())
}

#[test]
fn slurm_job_array_then_merge_equals_one_process() {
    if let Err(reason) = ensure_slurm() {
        eprintln!("skipping the Slurm end-to-end test: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_scans(root);
    let manifest = write_manifest(root, 17);
    ok(reescan()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(root.join("single.csv"))
        .arg("--jsonl")
        .arg(root.join("single.jsonl")));

    let prefix = root.join("out/results");
    std::fs::create_dir(root.join("out")).unwrap();
    let submit = Command::new("bash")
        .arg(repo().join("deploy/slurm/reescan-array.sbatch"))
        .arg(&manifest)
        .arg(&prefix)
        .args(["4", "2"])
        .current_dir(root)
        .env("REESCAN", reescan_bin())
        .env(
            "SBATCH_EXTRA",
            "--cpus-per-task=1 --mem-per-cpu=64M --time=5",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&submit.stderr);
    assert!(submit.status.success(), "submission failed: {stderr}");
    let ids = String::from_utf8_lossy(&submit.stdout).trim().to_string();
    eprintln!("{stderr}jobs: {ids}");
    let jobs: Vec<&str> = ids.split_whitespace().collect();
    assert_eq!(
        jobs.len(),
        2,
        "expected array and merge job ids, got '{ids}'"
    );

    wait_for_jobs(&jobs, root);
    let merged = prefix.with_extension("csv");
    assert!(
        merged.exists(),
        "merge job wrote no {}; logs:\n{}",
        merged.display(),
        logs(root)
    );
    for k in 0..4 {
        let shard = root.join(format!("out/results.shard-{k:05}-of-00004.csv"));
        assert!(shard.exists(), "array task {k} wrote no shard");
    }
    assert!(
        read(&root.join("single.csv")) == read(&merged),
        "CSV differs\n{}",
        logs(root)
    );
    assert!(
        read(&root.join("single.jsonl")) == read(&prefix.with_extension("jsonl")),
        "JSONL differs"
    );
    let array_log = logs(root);
    assert!(array_log.contains("SLURM_ARRAY_TASK_ID") || array_log.contains("shard 3/4"));
}

/// Poll squeue until none of `jobs` is pending or running (at most 50 s).
fn wait_for_jobs(jobs: &[&str], root: &Path) {
    let start = Instant::now();
    let list = jobs.join(",");
    loop {
        let queued = run_text("squeue", &["-h", "-j", &list, "-o", "%i %t %r"]).unwrap_or_default();
        if queued.trim().is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(50),
            "jobs still queued after 50 s:\n{queued}\n{}",
            logs(root)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// All Slurm job logs in `root`, for failure messages.
fn logs(root: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.retain(|p| p.extension().is_some_and(|e| e == "log"));
    names.sort();
    names
        .iter()
        .map(|p| {
            format!(
                "== {}\n{}",
                p.display(),
                std::fs::read_to_string(p).unwrap_or_default()
            )
        })
        .collect()
}
