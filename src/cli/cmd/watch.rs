//! `reescan watch DIR --out RESULTS.csv`: the checkpoint station.
//!
//! The scanner drops `ID.msa` (or another XRF format) and/or `ID.xy` (XRD) into DIR, then
//! either `ID.json` (`{"declared": "iron-ore"}`, optionally `"xrf"`/`"xrd"` file names) or a
//! line `ID,declared,xrf,xrd` in `DIR/manifest.csv`. Each scan is analysed once its
//! declaration is there and its files have kept the same size for `--settle-ms`, and its
//! verdict is appended to RESULTS.csv (flushed per row). A scan is never analysed twice:
//! the (XRF, XRD) SHA-256 pairs already in RESULTS.csv are remembered, across restarts too.

use crate::cli::args::WatchArgs;
use anyhow::Context;
use reescan::batch::output;
use reescan::screen::{Input, Screener, ScreeningResult};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// XRF file extensions looked for beside `ID.json`.
const XRF_EXT: [&str; 7] = ["msa", "emsa", "mca", "spe", "spx", "pdz", "csv"];
/// XRD file extensions looked for beside `ID.json`.
const XRD_EXT: [&str; 7] = ["xy", "xye", "dat", "xrdml", "raw", "brml", "ras"];

/// A scan announced by a declaration.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    scan_id: String,
    declared: String,
    xrf: Option<PathBuf>,
    xrd: Option<PathBuf>,
}

/// Run `reescan watch`.
pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    if !args.dir.is_dir() {
        anyhow::bail!("{}: not a folder", args.dir.display());
    }
    let fixed_date = args.date.is_some();
    let mut screener = Screener::from_flags(args.rules.as_deref(), args.date.as_deref())?;
    crate::cli::input::apply_instrument(args.instrument.as_deref(), &mut screener)?;
    let (mut csv, rec) = output::open_direct_csv(&args.out, true)?;
    let mut jsonl = args
        .jsonl
        .as_deref()
        .map(|p| output::open_direct_jsonl(p, true, &rec.done))
        .transpose()?;
    let mut seen = hashes_in(&args.out)?;
    let mut sizes: HashMap<PathBuf, (u64, Instant)> = HashMap::new();
    let settle = Duration::from_millis(args.settle_ms);
    let mut analysed = 0usize;
    loop {
        let started = Instant::now();
        let mut waiting = false;
        for p in pending_scans(&args.dir)? {
            let files: Vec<&PathBuf> = p.xrf.iter().chain(p.xrd.iter()).collect();
            if files.is_empty() || !files.iter().all(|f| stable(f, &mut sizes, settle)) {
                waiting = true;
                continue;
            }
            let key = (sha_of(p.xrf.as_deref()), sha_of(p.xrd.as_deref()));
            if seen.contains(&key) {
                continue;
            }
            if !fixed_date {
                screener.date = reescan::screen::pipeline::today();
            }
            let r = screen(&screener, &p);
            if let Some(j) = jsonl.as_mut() {
                j.write_str(&output::json_line(&r)?)?;
                j.flush()?;
            }
            csv.write_str(&output::csv_line(&r))?;
            csv.flush()?;
            println!(
                "{}  {}  {}",
                r.scan_id,
                r.verdict,
                r.reasons.first().map_or("", |s| s)
            );
            seen.insert(key);
            analysed += 1;
            if args.max_scans.is_some_and(|m| analysed >= m) {
                return Ok(ExitCode::SUCCESS);
            }
        }
        if args.once && !waiting {
            return Ok(ExitCode::SUCCESS);
        }
        let nap = Duration::from_millis(args.poll_ms.max(10));
        std::thread::sleep(nap.saturating_sub(started.elapsed()));
    }
}

fn screen(screener: &Screener, p: &Pending) -> ScreeningResult {
    let xrf_shown = p.xrf.as_deref().map(file_name);
    let xrd_shown = p.xrd.as_deref().map(file_name);
    screener.screen_or_error(
        &p.scan_id,
        &p.declared,
        p.xrf
            .as_deref()
            .zip(xrf_shown.as_deref())
            .map(|(path, shown)| Input { path, shown }),
        p.xrd
            .as_deref()
            .zip(xrd_shown.as_deref())
            .map(|(path, shown)| Input { path, shown }),
    )
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// True once a file exists and its size has not changed for `settle`.
fn stable(path: &Path, sizes: &mut HashMap<PathBuf, (u64, Instant)>, settle: Duration) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let now = Instant::now();
    let entry = sizes.entry(path.to_path_buf()).or_insert((meta.len(), now));
    if entry.0 != meta.len() {
        *entry = (meta.len(), now);
    }
    meta.len() > 0 && now.duration_since(entry.1) >= settle
}

/// SHA-256 of a file's bytes ("" when absent or unreadable).
fn sha_of(path: Option<&Path>) -> String {
    path.and_then(|p| std::fs::read(p).ok())
        .map(|b| reescan::formats::sha256_hex(&b))
        .unwrap_or_default()
}

/// (xrf_sha256, xrd_sha256) pairs already in the results file.
fn hashes_in(out: &Path) -> anyhow::Result<HashSet<(String, String)>> {
    let mut set = HashSet::new();
    if !out.exists() {
        return Ok(set);
    }
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(out)
        .with_context(|| format!("reading {}", out.display()))?;
    for rec in r.records().flatten() {
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        set.insert((get(10), get(11)));
    }
    Ok(set)
}

/// Scans announced by `ID.json` companions or `manifest.csv` lines.
fn pending_scans(dir: &Path) -> anyhow::Result<Vec<Pending>> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in &entries {
        if path.extension().is_some_and(|e| e == "json") {
            if let Some(p) = from_companion(path) {
                out.push(p);
            }
        }
    }
    let manifest = dir.join("manifest.csv");
    if manifest.is_file() {
        if let Ok(rows) = reescan::batch::Manifest::open(&manifest) {
            for row in rows.filter(|r| r.problem.is_none()) {
                out.push(Pending {
                    xrf: row.xrf.as_deref().map(|p| dir.join(p)),
                    xrd: row.xrd.as_deref().map(|p| dir.join(p)),
                    scan_id: row.scan_id,
                    declared: row.declared,
                });
            }
        }
    }
    Ok(out)
}

/// `ID.json`: {"declared": "...", "xrf": "...", "xrd": "...", "scan_id": "..."}; a JSON
/// file that does not parse yet (half written) is skipped until it does.
fn from_companion(path: &Path) -> Option<Pending> {
    #[derive(serde::Deserialize)]
    struct Companion {
        declared: String,
        scan_id: Option<String>,
        xrf: Option<String>,
        xrd: Option<String>,
    }
    let text = std::fs::read_to_string(path).ok()?;
    let c: Companion = serde_json::from_str(&text).ok()?;
    let dir = path.parent()?;
    let id = path.file_stem()?.to_string_lossy().into_owned();
    let find = |exts: &[&str]| {
        exts.iter()
            .map(|e| dir.join(format!("{id}.{e}")))
            .find(|p| p.is_file())
    };
    Some(Pending {
        xrf: c.xrf.map(|f| dir.join(f)).or_else(|| find(&XRF_EXT)),
        xrd: c.xrd.map(|f| dir.join(f)).or_else(|| find(&XRD_EXT)),
        scan_id: c.scan_id.unwrap_or(id),
        declared: c.declared,
    })
}
