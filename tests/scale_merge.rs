//! `reescan merge`: shard files written by hand (round-robin splits of a known results
//! file) must merge back byte for byte; missing, temporary, foreign and mixed shard
//! files must be refused with the shard indices named.

use assert_cmd::Command;
use predicates::prelude::*;
use reescan::scale::Shard;
use std::path::Path;

const HEADER: &str = "scan_id,declared,verdict,risk,ree_wt_pct,ree_elements,controlled_elements,phases,mismatch,reasons,xrf_sha256,xrd_sha256\n";

/// A results file of `rows` records, some with quoted commas, quotes and newlines.
fn results_records(rows: usize) -> Vec<String> {
    (0..rows)
        .map(|i| match i % 4 {
            0 => format!(
                "S{i:04},iron-ore,CLEAR,0.05,0.01,,,hematite,,,{:064x},\n",
                i
            ),
            1 => format!(
                "S{i:04},ceramics,HOLD,0.93,2.4,Nd;Pr,Nd;Pr,corundum,,\"Nd at 2.4 wt %, \
                 \"\"not\"\" explained\",,\n"
            ),
            2 => format!("S{i:04},zirconium,ERROR,0,,,,,,\"cannot read\nline two\",,\n"),
            _ => format!("S{i:04},rare-earth,INSPECT,0.5,12.0,La;Ce,,bastnaesite,,,,\n"),
        })
        .collect()
}

fn write_shards(dir: &Path, records: &[String], n: usize, ext: &str) {
    for k in 0..n {
        let shard = Shard::new(k, n).unwrap();
        let mut text = if ext == "csv" {
            HEADER.to_string()
        } else {
            String::new()
        };
        for (i, r) in records
            .iter()
            .enumerate()
            .filter(|(i, _)| shard.contains(*i))
        {
            let line = if ext == "csv" {
                r.clone()
            } else {
                json_of(i, r)
            };
            text.push_str(&line);
        }
        let path = shard.output_path(&dir.join(format!("res.{ext}")));
        std::fs::write(path, text).unwrap();
    }
}

fn json_of(i: usize, record: &str) -> String {
    format!("{{\"scan_id\":\"S{i:04}\",\"len\":{}}}\n", record.len())
}

fn merge(dir: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("reescan")
        .unwrap()
        .current_dir(dir)
        .args(["merge", "res", "--out", "merged.csv"])
        .assert()
}

#[test]
fn merged_shards_are_byte_identical_to_the_unsharded_file() {
    for rows in [0usize, 1, 7, 41] {
        let records = results_records(rows);
        let whole = format!("{HEADER}{}", records.concat());
        for n in [1usize, 3, 8] {
            let dir = tempfile::tempdir().unwrap();
            write_shards(dir.path(), &records, n, "csv");
            merge(dir.path()).success();
            let merged = std::fs::read_to_string(dir.path().join("merged.csv")).unwrap();
            assert_eq!(merged, whole, "rows={rows} n={n}");
        }
    }
}

#[test]
fn jsonl_shards_are_merged_beside_the_csv() {
    let records = results_records(20);
    let dir = tempfile::tempdir().unwrap();
    write_shards(dir.path(), &records, 3, "csv");
    write_shards(dir.path(), &records, 3, "jsonl");
    merge(dir.path()).success();
    let jsonl = std::fs::read_to_string(dir.path().join("merged.jsonl")).unwrap();
    let expected: String = records
        .iter()
        .enumerate()
        .map(|(i, r)| json_of(i, r))
        .collect();
    assert_eq!(jsonl, expected);
}

#[test]
fn missing_shards_are_listed_by_index_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    write_shards(dir.path(), &results_records(30), 8, "csv");
    std::fs::remove_file(dir.path().join("res.shard-00002-of-00008.csv")).unwrap();
    // A killed writer's temporary does not count as the shard.
    std::fs::rename(
        dir.path().join("res.shard-00005-of-00008.csv"),
        dir.path().join(".res.shard-00005-of-00008.csv.tmp-4242-0"),
    )
    .unwrap();
    merge(dir.path())
        .code(1)
        .stderr(predicate::str::contains("2 of 8 shards missing: 2 5"))
        .stderr(predicate::str::contains("--array=2,5"));
    assert!(!dir.path().join("merged.csv").exists());
}

#[test]
fn a_shard_from_another_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_shards(dir.path(), &results_records(30), 3, "csv");
    let other = dir.path().join("res.shard-00002-of-00003.csv");
    let mut text = std::fs::read_to_string(&other).unwrap();
    text.push_str("S9999,iron-ore,CLEAR,0,,,,,,,,\nS9998,iron-ore,CLEAR,0,,,,,,,,\n");
    std::fs::write(&other, text).unwrap();
    merge(dir.path())
        .code(1)
        .stderr(predicate::str::contains("res.shard-00002-of-00003.csv"))
        .stderr(predicate::str::contains("round-robin"));
    assert!(!dir.path().join("merged.csv").exists());
}

#[test]
fn shard_sets_of_two_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_shards(dir.path(), &results_records(10), 3, "csv");
    write_shards(dir.path(), &results_records(10), 4, "csv");
    merge(dir.path())
        .code(1)
        .stderr(predicate::str::contains("N=3 (3 files), N=4 (4 files)"));
}

#[test]
fn prefix_with_csv_extension_and_no_shards_at_all() {
    let dir = tempfile::tempdir().unwrap();
    write_shards(dir.path(), &results_records(5), 2, "csv");
    Command::cargo_bin("reescan")
        .unwrap()
        .current_dir(dir.path())
        .args(["merge", "res.csv", "--out", "m.csv"])
        .assert()
        .success();
    Command::cargo_bin("reescan")
        .unwrap()
        .current_dir(dir.path())
        .args(["merge", "nothing", "--out", "m2.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no shard files"));
}
