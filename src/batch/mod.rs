//! Batch reprocessing: a manifest of shipments in, one result row per shipment out,
//! in manifest order, never stopping on one bad file.
//!
//! # Design
//! * **Streaming, constant memory.** The manifest is read row by row; at most
//!   [`BatchOptions::window`] scans are in flight, handed to the pool in chunks of up to
//!   8 rows (one wake-up per chunk); finished rows wait in a reorder buffer of at most
//!   that size and are written in manifest order as soon as the next one is ready.
//!   Workers turn each result into its CSV/JSONL lines and drop the analysis, so memory
//!   does not grow with the manifest (only the set of resumed scan_ids does).
//! * **Deterministic.** Each row depends only on its files, so the output is
//!   byte-identical for any thread count.
//! * **Crash-safe resume.** See [`output`]: whole lines, flushed; `--resume` cuts a
//!   partial last line and skips scan_ids already written.
//! * **Results are never lost.** The results file (and JSONL), or a shard's outputs,
//!   are locked for the run, so a second writer is refused; an existing results file is
//!   replaced only with `force`; an output that is the manifest or a scan file is
//!   refused.
//! * **Sharding.** With a [`Shard`] K/N only rows i with i mod N = K are processed, into
//!   `X.shard-KKKKK-of-NNNNN.csv` written through a temporary and renamed on completion.
//! * **No stop on a bad scan.** Unreadable files, corrupt data, unknown commodities and
//!   even a panic inside an analysis become `ERROR` rows with a reason.

pub mod manifest;
pub mod output;

pub use manifest::{Manifest, ManifestRow};

use crate::scale::Shard;
use crate::screen::{Input, Screener, ScreeningResult, Verdict};
use crate::Result;
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

/// A hook run on each finished result inside the worker (e.g. writing plots).
pub type ResultHook = Arc<dyn Fn(&ScreeningResult) + Send + Sync>;

/// What to run.
#[derive(Clone)]
pub struct BatchOptions {
    /// Manifest CSV.
    pub manifest: PathBuf,
    /// Results CSV (`--out`); for a shard, the name the shard name is derived from.
    pub out: PathBuf,
    /// JSONL (`--jsonl`).
    pub jsonl: Option<PathBuf>,
    /// Skip scan_ids already written.
    pub resume: bool,
    /// Replace an existing results file (`--force`); without it (or `resume`) an
    /// existing, non-empty results file is refused.
    pub force: bool,
    /// Only this shard of the manifest.
    pub shard: Option<Shard>,
    /// Most scans in flight at once (bounds memory); 0 = 16 × threads.
    pub window: usize,
    /// Run on each result in the worker (plots).
    pub hook: Option<ResultHook>,
    /// Hand each result (without fit curves) to the writer, in manifest order (Parquet).
    pub keep_results: bool,
}

impl BatchOptions {
    /// Options for a plain run.
    pub fn new(manifest: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        BatchOptions {
            manifest: manifest.into(),
            out: out.into(),
            jsonl: None,
            resume: false,
            force: false,
            shard: None,
            window: 0,
            hook: None,
            keep_results: false,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Manifest rows in this shard.
    pub rows: usize,
    /// Rows analysed in this run.
    pub processed: usize,
    /// Rows skipped because an earlier run wrote them (`--resume`).
    pub resumed: usize,
    /// Rows of this run by verdict: CLEAR, INSPECT, HOLD, ERROR.
    pub verdicts: [usize; 4],
    /// The CSV written.
    pub csv: PathBuf,
    /// The JSONL written.
    pub jsonl: Option<PathBuf>,
}

/// A finished row on its way to the writer.
struct Done {
    seq: usize,
    verdict: Verdict,
    csv: String,
    json: Option<String>,
    result: Option<ScreeningResult>,
}

/// The output files of one run.
struct Sinks {
    csv: output::Target,
    jsonl: Option<output::Target>,
    leftovers: Vec<PathBuf>,
    /// A shard's locks (a results file written in place holds its own).
    locks: Vec<output::ShardLock>,
}

/// Run a batch on `pool`. `on_row` receives each kept result in manifest order when
/// [`BatchOptions::keep_results`] is set.
///
/// # Errors
/// Only for the run as a whole: unreadable manifest, unwritable output, a results file
/// that is not ours, one another process is writing (locked), one that exists without
/// `resume` or `force`, an output that is one of the inputs. Problems with single scans
/// become `ERROR` rows.
pub fn run(
    opts: &BatchOptions,
    screener: Arc<Screener>,
    pool: &rayon::ThreadPool,
    progress: &ProgressBar,
    on_row: &mut dyn FnMut(&ScreeningResult) -> Result<()>,
) -> Result<Summary> {
    let shard = opts.shard.unwrap_or_else(Shard::whole);
    let total = Manifest::count_rows(&opts.manifest)?;
    let manifest = Manifest::open(&opts.manifest)?;
    let base = Arc::new(manifest.base().to_path_buf());
    check_outputs_are_not_inputs(opts)?;
    let (mut sinks, done) = open_sinks(opts)?;
    let mut summary = Summary {
        rows: shard.rows_of(total),
        csv: sinks.csv.path().to_path_buf(),
        jsonl: sinks.jsonl.as_ref().map(|j| j.path().to_path_buf()),
        ..Summary::default()
    };
    progress.set_length(summary.rows as u64);
    let window = match opts.window {
        0 => 16 * pool.current_num_threads().max(1),
        w => w,
    };
    // rows go to the pool in chunks: one wake-up of a worker and one of this thread per
    // chunk rather than per row (on a machine with as many workers as cores, each
    // wake-up of this thread preempts a worker)
    let chunk = chunk_rows(summary.rows, pool.current_num_threads(), window);
    let (tx, rx) = mpsc::channel::<Vec<Done>>();
    let mut pending: BTreeMap<usize, Done> = BTreeMap::new();
    let (mut submitted, mut written) = (0usize, 0usize);
    let mut rows: Vec<(usize, ManifestRow)> = Vec::with_capacity(chunk);
    let mut receive = |pending: &mut BTreeMap<usize, Done>,
                       written: usize,
                       sinks: &mut Sinks,
                       summary: &mut Summary|
     -> Result<usize> {
        let ds = rx.recv().map_err(|_| worker_gone())?;
        pending.extend(ds.into_iter().map(|d| (d.seq, d)));
        drain(pending, written, sinks, summary, progress, on_row)
    };
    let rows_left = manifest.filter(|r| shard.contains(r.index));
    let mut rows_left = rows_left.peekable();
    while let Some(row) = rows_left.next() {
        if done.contains(&row.scan_id) {
            summary.resumed += 1;
            progress.inc(1);
        } else {
            rows.push((submitted, row));
            submitted += 1;
        }
        if rows.len() < chunk && rows_left.peek().is_some() {
            continue;
        }
        while submitted - rows.len() - written >= window {
            written = receive(&mut pending, written, &mut sinks, &mut summary)?;
        }
        if rows.is_empty() {
            continue;
        }
        let job = Job {
            rows: std::mem::replace(&mut rows, Vec::with_capacity(chunk)),
            base: Arc::clone(&base),
            screener: Arc::clone(&screener),
            hook: opts.hook.clone(),
            jsonl: sinks.jsonl.is_some(),
            keep: opts.keep_results,
        };
        let tx = tx.clone();
        pool.spawn(move || {
            let _ = tx.send(job.run());
        });
    }
    drop(tx);
    while written < submitted {
        written = receive(&mut pending, written, &mut sinks, &mut summary)?;
    }
    if let Some(j) = sinks.jsonl {
        j.finish()?;
    }
    sinks.csv.finish()?;
    for p in sinks.leftovers {
        let _ = std::fs::remove_file(p);
    }
    for l in sinks.locks {
        l.release();
    }
    Ok(summary)
}

/// Rows per pool job: at most 8, and few enough that every thread gets at least 32 jobs
/// (rows differ in cost — a scan the quick analysis does not clear is analysed in full,
/// ~30 times longer — and the last jobs of a run should not leave a thread idle), and
/// a job fits in the window.
fn chunk_rows(rows: usize, threads: usize, window: usize) -> usize {
    let threads = threads.max(1);
    (rows / (32 * threads)).clamp(1, 8).min((window / 2).max(1))
}

fn worker_gone() -> crate::Error {
    crate::Error::Numerical("a batch worker stopped without a result".into())
}

/// The outputs of a run as they will be written (a shard's own file names).
fn output_paths(opts: &BatchOptions) -> Vec<PathBuf> {
    let name = |p: &Path| match opts.shard {
        Some(s) => s.output_path(p),
        None => p.to_path_buf(),
    };
    std::iter::once(&opts.out)
        .chain(&opts.jsonl)
        .map(|p| name(p))
        .collect()
}

/// Refuse a run whose output is one of its inputs: the manifest, another output, or
/// (when an output file exists and `force` would replace it) a scan file a row names.
/// Paths are compared as the files they name (canonical paths; for a scan file, device
/// and inode), so a link or `./` does not hide one.
///
/// # Errors
/// [`Error::Invalid`](crate::Error::Invalid) naming both paths.
fn check_outputs_are_not_inputs(opts: &BatchOptions) -> Result<()> {
    let outputs = output_paths(opts);
    let manifest = canonical(&opts.manifest);
    for (i, out) in outputs.iter().enumerate() {
        let c = canonical(out);
        if c == manifest {
            return Err(onto_input(out, "the manifest"));
        }
        if outputs[..i].iter().any(|o| canonical(o) == c) {
            return Err(onto_input(out, "another output of this run"));
        }
    }
    // Without --force an existing output is refused anyway, and --resume reads it as a
    // results file (a scan file is refused by its header): only --force could replace a
    // scan file, so only then are the scan files checked (one stat per file).
    if !opts.force || opts.resume {
        return Ok(());
    }
    let existing: Vec<(file_id::FileId, &PathBuf)> = outputs
        .iter()
        .filter_map(|o| Some((file_id::of(o)?, o)))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    let manifest = Manifest::open(&opts.manifest)?;
    let base = manifest.base().to_path_buf();
    for row in manifest {
        let xrf = row.xrf.iter().flat_map(|l| manifest::xrf_files(l));
        for rel in xrf.chain(row.xrd.as_deref()) {
            let Some(id) = file_id::of(&ManifestRow::resolve(&base, rel)) else {
                continue;
            };
            if let Some((_, out)) = existing.iter().find(|(o, _)| *o == id) {
                let what = format!("the scan file {rel} (manifest line {})", row.line);
                return Err(onto_input(out, &what));
            }
        }
    }
    Ok(())
}

fn onto_input(out: &Path, what: &str) -> crate::Error {
    crate::Error::Invalid {
        what: "output",
        message: format!("it is {what}; refusing to write results over an input"),
    }
    .in_file(out)
}

/// The absolute, link-free path of a file, or of its folder joined with its name when
/// the file does not exist yet.
fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), p.file_name()) {
        (Ok(d), Some(n)) => d.join(n),
        _ => p.to_path_buf(),
    }
}

/// The identity of an existing file (the file a path leads to, links followed).
mod file_id {
    use std::path::Path;

    /// Device and inode on Unix; the canonical path elsewhere.
    #[cfg(unix)]
    pub type FileId = (u64, u64);
    #[cfg(not(unix))]
    pub type FileId = std::path::PathBuf;

    /// `None` when nothing exists at `p`.
    #[cfg(unix)]
    pub fn of(p: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(p).ok()?;
        Some((m.dev(), m.ino()))
    }

    #[cfg(not(unix))]
    pub fn of(p: &Path) -> Option<FileId> {
        std::fs::canonicalize(p).ok()
    }
}

/// Open the CSV (and JSONL) for this run; returns the scan_ids already done.
fn open_sinks(opts: &BatchOptions) -> Result<(Sinks, std::collections::HashSet<String>)> {
    match opts.shard {
        Some(shard) => {
            let dest = shard.output_path(&opts.out);
            let mut locks = vec![output::ShardLock::take(&dest)?];
            if let Some(j) = &opts.jsonl {
                locks.push(output::ShardLock::take(&shard.output_path(j))?);
            }
            let (csv, rec, mut leftovers) = output::open_shard_csv(&dest, opts.resume)?;
            let jsonl = match &opts.jsonl {
                Some(j) => {
                    let (t, l) =
                        output::open_shard_jsonl(&shard.output_path(j), opts.resume, &rec.done)?;
                    leftovers.extend(l);
                    Some(t)
                }
                None => None,
            };
            Ok((
                Sinks {
                    csv,
                    jsonl,
                    leftovers,
                    locks,
                },
                rec.done,
            ))
        }
        None => {
            let existing = output::Existing::from_flags(opts.resume, opts.force);
            if existing == output::Existing::Refuse {
                // both before either is opened, so that a refusal leaves no new file
                for p in std::iter::once(&opts.out).chain(&opts.jsonl) {
                    output::refuse_existing(p)?;
                }
            }
            let (csv, rec) = output::open_results_csv(&opts.out, existing)?;
            let jsonl = opts
                .jsonl
                .as_deref()
                .map(|j| output::open_results_jsonl(j, existing, &rec.done))
                .transpose()?;
            let sinks = Sinks {
                csv,
                jsonl,
                leftovers: Vec::new(),
                locks: Vec::new(),
            };
            Ok((sinks, rec.done))
        }
    }
}

/// Write every row that is next in manifest order: their JSONL lines, a flush, then their
/// CSV lines and a flush (so the CSV never holds a row the JSONL lacks).
fn drain(
    pending: &mut BTreeMap<usize, Done>,
    mut written: usize,
    sinks: &mut Sinks,
    summary: &mut Summary,
    progress: &ProgressBar,
    on_row: &mut dyn FnMut(&ScreeningResult) -> Result<()>,
) -> Result<usize> {
    let mut ready = Vec::new();
    while let Some(d) = pending.remove(&written) {
        ready.push(d);
        written += 1;
    }
    if ready.is_empty() {
        return Ok(written);
    }
    if let Some(j) = sinks.jsonl.as_mut() {
        for line in ready.iter().filter_map(|d| d.json.as_deref()) {
            j.write_str(line)?;
        }
        j.flush()?;
    }
    for d in &ready {
        sinks.csv.write_str(&d.csv)?;
        if let Some(r) = &d.result {
            on_row(r)?;
        }
        summary.processed += 1;
        summary.verdicts[verdict_slot(d.verdict)] += 1;
    }
    sinks.csv.flush()?;
    progress.inc(ready.len() as u64);
    Ok(written)
}

fn verdict_slot(v: Verdict) -> usize {
    match v {
        Verdict::Clear => 0,
        Verdict::Inspect => 1,
        Verdict::Hold => 2,
        Verdict::Error => 3,
    }
}

/// A chunk of rows, worked through on a pool thread.
struct Job {
    /// (sequence number in this run, row)
    rows: Vec<(usize, ManifestRow)>,
    base: Arc<PathBuf>,
    screener: Arc<Screener>,
    hook: Option<ResultHook>,
    jsonl: bool,
    keep: bool,
}

impl Job {
    fn run(self) -> Vec<Done> {
        self.rows
            .iter()
            .map(|(seq, row)| self.run_row(*seq, row))
            .collect()
    }

    /// One row; a panic inside its analysis becomes its `ERROR` row.
    fn run_row(&self, seq: usize, row: &ManifestRow) -> Done {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.work(seq, row)));
        outcome.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let r = ScreeningResult::error(
                &row.scan_id,
                &row.declared,
                format!("Internal error while analysing this scan ({what}); please report it."),
                None,
                None,
            );
            Done {
                seq,
                verdict: Verdict::Error,
                csv: output::csv_line(&r),
                json: self
                    .jsonl
                    .then(|| output::json_line(&r).unwrap_or_default()),
                result: self.keep.then_some(r),
            }
        })
    }

    fn work(&self, seq: usize, row: &ManifestRow) -> Done {
        let mut r = screen_row(&self.screener, &self.base, row);
        if let Some(hook) = &self.hook {
            // A failing plot must not lose the row.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&r)));
        }
        let json = self.jsonl.then(|| {
            output::json_line(&r).unwrap_or_else(|e| {
                let err = ScreeningResult::error(
                    &r.scan_id,
                    &r.declared,
                    format!("The result could not be written as JSON: {e}."),
                    r.xrf_sha256.clone(),
                    r.xrd_sha256.clone(),
                );
                output::json_line(&err).unwrap_or_default()
            })
        });
        let csv = output::csv_line(&r);
        let verdict = r.verdict;
        let result = self.keep.then(|| {
            if let Some(x) = r.xrf.as_mut() {
                x.curves = Default::default();
            }
            for b in r.xrf_beams.iter_mut().flat_map(|m| &mut m.beams) {
                b.analysis.curves = Default::default();
            }
            if let Some(x) = r.xrd.as_mut() {
                x.curves = Default::default();
            }
            r
        });
        Done {
            seq,
            verdict,
            csv,
            json,
            result,
        }
    }
}

/// Screen one manifest row; every failure becomes an `ERROR` row.
pub fn screen_row(screener: &Screener, base: &Path, row: &ManifestRow) -> ScreeningResult {
    if let Some(problem) = &row.problem {
        return ScreeningResult::error(&row.scan_id, &row.declared, problem.clone(), None, None);
    }
    if row.declared.is_empty() {
        let reason = format!("Manifest line {} declares no commodity.", row.line);
        return ScreeningResult::error(&row.scan_id, "", reason, None, None);
    }
    // several `;`-separated XRF files: the beams of one multi-beam assay
    let xrf: Vec<(PathBuf, &str)> = row
        .xrf
        .iter()
        .flat_map(|l| manifest::xrf_files(l))
        .map(|f| (ManifestRow::resolve(base, f), f))
        .collect();
    let xrd_path = row.xrd.as_deref().map(|p| ManifestRow::resolve(base, p));
    let inputs: Vec<Input> = xrf
        .iter()
        .map(|(p, s)| Input { path: p, shown: s })
        .collect();
    let d = xrd_path.as_ref().zip(row.xrd.as_deref());
    screener.screen_scan_or_error(
        &row.scan_id,
        &row.declared,
        &inputs,
        d.map(|(p, s)| Input { path: p, shown: s }),
    )
}
