//! `reescan batch`: screen many shipments from a manifest, in parallel.
//!
//! Reads MANIFEST.csv (scan_id,declared,xrf,xrd; paths relative to its folder) row by
//! row and writes one result row per shipment to RESULTS.csv in manifest order, whatever
//! `--jobs` is. Memory stays constant for any manifest size. A bad scan becomes an
//! `ERROR` row; the batch goes on and exits 0. `--resume` continues an interrupted run.
//! `--shard K/N` (or a Slurm array / Kubernetes Indexed Job) processes rows i mod N = K
//! into RESULTS.shard-KKKKK-of-NNNNN.csv, which appears only when the shard is complete.
//! RESULTS.csv is locked while the run writes it (a second writer is refused); an
//! existing one is refused unless `--resume` continues it or `--force` replaces it, and
//! an output that is the manifest or a scan file is refused.

use crate::cli::args::BatchArgs;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reescan::batch::{self, BatchOptions};
use reescan::scale::{resolve_shard, worker_threads};
use reescan::screen::{Screener, ScreeningResult};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

/// Run `reescan batch`.
pub fn run(args: BatchArgs) -> anyhow::Result<ExitCode> {
    let mut screener = Screener::from_flags(args.rules.as_deref(), args.date.as_deref())?;
    screener.triage = !args.full;
    crate::cli::input::apply_instrument(args.instrument.as_deref(), &mut screener)?;
    let shard = resolve_shard(args.shard.as_deref(), args.shards)?;
    if let Some((s, source)) = &shard {
        eprintln!("reescan batch: {}", source.describe(s));
    }
    let threads = worker_threads(args.jobs).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("reescan-batch-{i}"))
        .build()
        .context("starting the worker threads")?;
    let mut opts = BatchOptions::new(&args.manifest, &args.out);
    opts.jsonl = args.jsonl.clone();
    opts.resume = args.resume;
    opts.force = args.force;
    opts.shard = shard.map(|(s, _)| s);
    opts.hook = plot_hook(&args)?;
    let mut parquet = ParquetSink::open(&args, opts.shard)?;
    opts.keep_results = parquet.is_some();
    let progress = progress_bar();
    let mut on_row = |r: &ScreeningResult| -> reescan::Result<()> {
        match parquet.as_mut() {
            Some(p) => p.write(r),
            None => Ok(()),
        }
    };
    // the library error's message already holds its causes (`path: problem`): kept as
    // one message, or `{:#}` would print its source chain a second time
    let summary = batch::run(&opts, Arc::new(screener), &pool, &progress, &mut on_row)
        .map_err(|e| anyhow::anyhow!("batch {}: {e}", args.manifest.display()))?;
    progress.finish_and_clear();
    if let Some(p) = parquet {
        p.finish()?;
    }
    let [clear, inspect, hold, error] = summary.verdicts;
    eprintln!(
        "reescan batch: {} rows → {} ({} analysed, {} already done): {clear} CLEAR, {inspect} INSPECT, {hold} HOLD, {error} ERROR",
        summary.rows,
        summary.csv.display(),
        summary.processed,
        summary.resumed,
    );
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} scans ({per_sec}, ETA {eta})",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

/// `--plots DIR`: plots of INSPECT/HOLD rows (all rows with `--plots-all`).
fn plot_hook(args: &BatchArgs) -> anyhow::Result<Option<batch::ResultHook>> {
    let Some(dir) = args.plots.clone() else {
        return Ok(None);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let all = args.plots_all;
    Ok(Some(Arc::new(move |r: &ScreeningResult| {
        use reescan::screen::Verdict;
        if all || matches!(r.verdict, Verdict::Inspect | Verdict::Hold) {
            let safe: String = r
                .scan_id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let _ = super::scan::write_plot(r, &dir.join(format!("{safe}.png")));
        }
    })))
}

/// `--parquet`: written in manifest order alongside the CSV.
#[cfg(feature = "parquet")]
struct ParquetSink(reescan::scale::ParquetWriter);

#[cfg(feature = "parquet")]
impl ParquetSink {
    fn open(
        args: &BatchArgs,
        shard: Option<reescan::scale::Shard>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(p) = &args.parquet else {
            return Ok(None);
        };
        let path = match shard {
            Some(s) => s.output_path(p),
            None => p.clone(),
        };
        if shard.is_none() && !args.resume && !args.force && path.exists() {
            anyhow::bail!(
                "{}: the file already exists: give --force to replace it",
                path.display()
            );
        }
        if args.resume {
            eprintln!("reescan batch: note: --parquet holds only the rows analysed in this run");
        }
        Ok(Some(ParquetSink(reescan::scale::ParquetWriter::new(
            &path,
        )?)))
    }
    fn write(&mut self, r: &ScreeningResult) -> reescan::Result<()> {
        self.0.write(r)
    }
    fn finish(self) -> anyhow::Result<()> {
        self.0.finish()?;
        Ok(())
    }
}

#[cfg(not(feature = "parquet"))]
struct ParquetSink;

#[cfg(not(feature = "parquet"))]
impl ParquetSink {
    fn open(
        args: &BatchArgs,
        _shard: Option<reescan::scale::Shard>,
    ) -> anyhow::Result<Option<Self>> {
        if args.parquet.is_some() {
            anyhow::bail!("--parquet needs a build with the `parquet` feature (cargo build --release --features parquet)");
        }
        Ok(None)
    }
    fn write(&mut self, _r: &ScreeningResult) -> reescan::Result<()> {
        Ok(())
    }
    fn finish(self) -> anyhow::Result<()> {
        Ok(())
    }
}
