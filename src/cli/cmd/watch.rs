//! `reescan watch DIR --out RESULTS.csv`: the checkpoint station.
//!
//! The folder rules, the journal and the restart behaviour are the library's
//! ([`reescan::station`]); this command parses the flags, runs the poll loop and logs:
//! one start-up line on stderr, one line per verdict on stdout (`ID  VERDICT  reason`),
//! and on stderr one line per notice (a scan without a declaration, a re-scan, a file
//! waiting for its end marker, a file that changed while it was analysed).

use crate::cli::args::{StationArgs, WatchArgs};
use reescan::screen::Screener;
use reescan::station::{views::Sync, Event, Poll, Station, StationConfig};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Run `reescan watch`.
pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let (mut station, _) = open(&args.dir, &args.out, &args.station, "watch")?;
    let limits = Limits {
        poll_ms: args.station.poll_ms,
        max_scans: args.max_scans,
        once: args.once,
    };
    poll_loop(&mut station, &limits, |_| true)?;
    Ok(ExitCode::SUCCESS)
}

/// Open the station on `dir` with the station flags and print the start-up line
/// (`reescan COMMAND: station on ...`); also returns the screener it runs with and
/// whether it screens each scan on the day it analyses it (no `--date`).
pub fn open(
    dir: &Path,
    out: &Path,
    args: &StationArgs,
    command: &str,
) -> anyhow::Result<(Station, (Screener, bool))> {
    let fixed_date = args.date.is_some();
    let mut screener = Screener::from_flags(args.rules.as_deref(), args.date.as_deref())?;
    crate::cli::input::apply_instrument(args.instrument.as_deref(), &mut screener)?;
    let config = StationConfig {
        settle: Duration::from_millis(args.settle_ms),
        declaration_wait: Duration::from_millis(args.declaration_wait_ms),
        ..StationConfig::default()
    };
    let (station, opened) = Station::open(
        dir,
        out,
        args.jsonl.as_deref(),
        screener.clone(),
        !fixed_date,
        config,
    )
    .map_err(|e| anyhow::Error::msg(e.to_string()))?;
    let mut views = format!("results {}", out.display());
    if let Some(j) = &args.jsonl {
        views.push_str(&format!(" and {}", j.display()));
    }
    eprintln!(
        "reescan {command}: station on {} (journal {}: {} decisions{}); {}{}; a scan is taken \
         once its files are unchanged for {} ms; undeclared scans are recorded after {} ms",
        dir.display(),
        station.journal().path().display(),
        opened.entries,
        if opened.torn_bytes > 0 {
            format!(", a torn last line of {} bytes cut off", opened.torn_bytes)
        } else {
            String::new()
        },
        views,
        sync_note(opened.csv, opened.jsonl),
        args.settle_ms,
        args.declaration_wait_ms,
    );
    Ok((station, (screener, !fixed_date)))
}

/// When the poll loop stops by itself.
pub struct Limits {
    /// Poll interval, milliseconds.
    pub poll_ms: u64,
    /// Stop after this many decisions.
    pub max_scans: Option<usize>,
    /// Stop once nothing in the folder is still settling.
    pub once: bool,
}

/// The station's poll loop: poll, log every event, then ask `go_on` (which sees the
/// poll) whether to continue; stops by itself as `limits` say.
///
/// # Errors
/// The station cannot list its folder or record a decision.
pub fn poll_loop(
    station: &mut Station,
    limits: &Limits,
    mut go_on: impl FnMut(&Poll) -> bool,
) -> anyhow::Result<()> {
    let mut analysed = 0usize;
    loop {
        let started = Instant::now();
        let budget = limits
            .max_scans
            .map_or(usize::MAX, |m| m.saturating_sub(analysed));
        let poll = station
            .poll(budget)
            .map_err(|e| anyhow::Error::msg(e.to_string()))?;
        for event in &poll.events {
            log(event);
            if matches!(event, Event::Decided(_)) {
                analysed += 1;
            }
        }
        if !go_on(&poll) || limits.max_scans.is_some_and(|m| analysed >= m) {
            return Ok(());
        }
        if limits.once && !poll.settling {
            return Ok(());
        }
        let nap = Duration::from_millis(limits.poll_ms.max(10));
        std::thread::sleep(nap.saturating_sub(started.elapsed()));
    }
}

/// What bringing the results files in line with the journal did, if anything.
fn sync_note(csv: Sync, jsonl: Option<Sync>) -> String {
    let one = |s: Sync| match s {
        Sync::Created | Sync::Current => None,
        Sync::Appended(n) => Some(format!("{n} line(s) completed from the journal")),
        Sync::Rewritten => Some("rewritten from the journal".to_string()),
    };
    let notes: Vec<String> = [("CSV", Some(csv)), ("JSONL", jsonl)]
        .into_iter()
        .filter_map(|(what, s)| s.and_then(one).map(|n| format!("{what}: {n}")))
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

fn log(event: &Event) {
    match event {
        Event::Decided(e) => {
            let reasons = e.reasons();
            let reason = reasons.first().map_or("", String::as_str);
            println!("{}  {}  {}", e.scan_id, e.verdict, reason);
            if let Some(old) = e.supersedes {
                eprintln!(
                    "{}: re-scan (its files or its declaration changed): {}, replacing journal \
                     entry {old}",
                    e.scan_id, e.verdict
                );
            }
            if e.declared.is_none() {
                eprintln!(
                    "{}: no declaration ({}): recorded as {}",
                    e.scan_id, e.declared_in, e.verdict
                );
            }
        }
        Event::AwaitingDeclaration {
            scan_id,
            files,
            why,
            wait,
        } => eprintln!(
            "{scan_id}: {} without a declaration ({why}); recorded as INSPECT \"No declaration\" \
             {} ms after it arrived unless one comes",
            files.join(", "),
            wait.as_millis()
        ),
        Event::AwaitingEndMarker {
            scan_id,
            file,
            marker,
        } => eprintln!("{scan_id}: {file} has no {marker} yet; waiting for the writer to finish"),
        Event::ChangedDuringAnalysis { scan_id, file } => eprintln!(
            "{scan_id}: {file} changed while it was analysed; result dropped, waiting for it to \
             settle"
        ),
    }
}
