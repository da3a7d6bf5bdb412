//! `reescan merge PREFIX --out RESULTS.csv` (SPEC.md "Commands").
//!
//! Joins the shard outputs of `reescan batch --shard K/N --out PREFIX.csv` back into one
//! file in manifest order: `PREFIX.shard-KKKKK-of-NNNNN.csv` → RESULTS.csv, and, when
//! shard `.jsonl` files are present, `PREFIX.shard-….jsonl` → RESULTS.jsonl. Memory is
//! one buffered reader per shard, whatever the row count.
//!
//! Every shard 0..N-1 must be present under its final name (writers rename complete
//! files into place, so a present shard is a complete shard). Missing shards are listed
//! by index with the command that reruns exactly them, and the exit status is 1;
//! nothing is written then. PREFIX may also be given with its `.csv` extension.
//! Parquet shards are not rewritten: DuckDB, Spark and pyarrow read a glob of them.

use crate::cli::args::MergeArgs;
use anyhow::Context;
use reescan::scale::merge::{find_shards, merge_set, RecordFormat, ShardSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run `reescan merge`.
pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let prefix = normalise_prefix(&args.prefix)?;
    let csv = find_shards(&prefix, "csv")?.with_context(|| {
        format!(
            "no shard files {}.shard-KKKKK-of-NNNNN.csv (give the batch's --out path \
             without its extension)",
            prefix.display()
        )
    })?;
    let jsonl = find_shards(&prefix, "jsonl")?;
    let sets: Vec<&ShardSet> = std::iter::once(&csv).chain(jsonl.as_ref()).collect();
    let incomplete: Vec<&&ShardSet> = sets.iter().filter(|s| !s.missing().is_empty()).collect();
    if !incomplete.is_empty() {
        incomplete.iter().for_each(|s| report_missing(s));
        return Ok(ExitCode::from(1));
    }
    if let Some(j) = jsonl.as_ref().filter(|j| j.count != csv.count) {
        anyhow::bail!(
            "{}: CSV shards are split {} ways but JSONL shards {} ways; rerun one set",
            prefix.display(),
            csv.count,
            j.count
        );
    }
    let rows = merge_set(&csv, RecordFormat::Csv, &args.out)?;
    eprintln!(
        "reescan: merged {} shards, {rows} rows → {}",
        csv.count,
        args.out.display()
    );
    if let Some(j) = jsonl {
        let out = args.out.with_extension("jsonl");
        let lines = merge_set(&j, RecordFormat::Jsonl, &out)?;
        if lines != rows {
            anyhow::bail!(
                "{}: {lines} JSONL records but {rows} CSV rows; the shard sets disagree",
                out.display()
            );
        }
        eprintln!(
            "reescan: merged {} shards, {lines} rows → {}",
            j.count,
            out.display()
        );
    }
    if let Some(pq) = find_shards(&prefix, "parquet")? {
        eprintln!(
            "reescan: {} Parquet shards left as they are (columnar engines read them \
             together, e.g. DuckDB: SELECT * FROM '{}.shard-*.parquet')",
            pq.files.len(),
            prefix.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Accept `X` or `X.csv` (a common slip) as the prefix.
fn normalise_prefix(prefix: &Path) -> anyhow::Result<PathBuf> {
    let has_shards = |p: &Path| find_shards(p, "csv").map(|s| s.is_some());
    if !has_shards(prefix)? && prefix.extension().is_some_and(|e| e == "csv") {
        let stripped = prefix.with_extension("");
        if has_shards(&stripped)? {
            return Ok(stripped);
        }
    }
    Ok(prefix.to_path_buf())
}

/// One paragraph for the operator: which shards to rerun, and how.
fn report_missing(set: &ShardSet) {
    let missing = set.missing();
    let list: Vec<String> = missing.iter().map(usize::to_string).collect();
    eprintln!(
        "reescan: {}.shard-*.{}: {} of {} shards missing: {}",
        set.prefix.display(),
        set.extension,
        missing.len(),
        set.count,
        list.join(" ")
    );
    for k in &missing {
        eprintln!("  missing {}", set.expected_path(*k).display());
    }
    eprintln!(
        "  rerun exactly these: sbatch --array={} … (with --shards {}), or \
         `reescan batch … --shard K/{}` for each K above",
        list.join(","),
        set.count,
        set.count
    );
}
