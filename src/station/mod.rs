//! The checkpoint station (`reescan watch`): a folder the scanner writes into, a durable
//! journal of every scan the station has decided, and the results files derived from it.
//!
//! # The folder
//! The scanner drops `ID.msa` (or another XRF format, see [`folder::XRF_EXT`]) and/or
//! `ID.xy` (XRD, [`folder::XRD_EXT`]) and declares the scan by a sidecar `ID.json`
//! (`{"declared": "iron-ore"}`, optionally `"scan_id"`, `"xrf"`, `"xrd"` file names) or a
//! line `ID,declared,xrf,xrd` in `manifest.csv`.
//!
//! A scan is taken when every file of it — the declaration's file included — has kept the
//! same size and modification time for the settle time ([`StationConfig::settle`]) and
//! each data file whose format ends with a marker (EMSA `#ENDOFDATA`, Amptek `<<END>>`,
//! XRDML and SPX closing tags) has it, so a writer that pauses longer than the settle
//! time is not read half-way (a file that never gets its marker is taken after
//! [`StationConfig::end_marker_wait`], and its reader says what is wrong). The files'
//! SHA-256 are taken then and checked again, with the hashes the analysis itself saw,
//! just before the verdict is committed: a file that changed meanwhile is waited for
//! again.
//!
//! A scan whose files nobody declares (no sidecar, a sidecar that is not a declaration,
//! no manifest line) is announced at once ([`Event::AwaitingDeclaration`]) and, once its
//! newest file is [`StationConfig::declaration_wait`] old, analysed and recorded as
//! **INSPECT**, reason "No declaration". Not ERROR: the SPEC keeps ERROR for a scan that
//! could not be analysed, and this one can be — its rare-earth content, elements and
//! phases are in the row — but nothing says what the cargo should be, so a CLEAR cannot
//! be earned and an officer must look (SPEC: INSPECT includes "a scan that cannot
//! support a CLEAR (the reason says what is missing)"). A declaration arriving later
//! decides the scan again (a re-scan, below).
//!
//! # The journal
//! `DIR/.reescan/journal.jsonl` ([`journal`]): JSON lines, one per decision, appended with
//! one write and `fsync`ed before the results files are touched. Fields of an entry
//! ([`Entry`]):
//!
//! | field | meaning |
//! |---|---|
//! | `seq` | 1, 2, 3, … in file order |
//! | `scan_id` | the scan |
//! | `declared` | the declared commodity, `null` without a declaration |
//! | `declared_in` | `ID.json`, `manifest.csv row N` (N-th data row), or why there is no declaration |
//! | `inputs` | `[{"role": "xrf"/"xrd", "file", "sha256", "bytes"}]` |
//! | `arrived` | RFC 3339 UTC: modification time of the scan's newest file |
//! | `analysed` | RFC 3339 UTC: when the verdict was committed |
//! | `verdict` | CLEAR / INSPECT / HOLD / ERROR |
//! | `supersedes` | `seq` of the entry this re-scan replaces, or `null` |
//! | `csv` | the results CSV line, as written |
//! | `result` | the full result object (SPEC JSONL), as written |
//!
//! A crash can leave only a torn last line (no `\n`): readers ignore it and the next
//! station cuts it off. The station holds an exclusive lock on the journal
//! ([`std::fs::File::try_lock`]) while it runs: one station per folder; a second is
//! refused. Readers ([`Journal::open`], [`Journal::latest`], [`Journal::by_id`],
//! [`Journal::refresh`]) take no lock.
//!
//! # Restart
//! The results CSV and JSONL are views of the journal ([`views`]): completed or rewritten
//! from it on start, appended after each journal entry. A scan is decided again only when
//! its inputs' bytes or its declaration changed (a re-scan: a new entry whose
//! `supersedes` names the old one) — an ERROR included: retrying the same bytes gives the
//! same ERROR. Files whose bytes were decided under a declaration are not decided again
//! when that declaration disappears.

pub mod folder;
pub mod journal;
pub mod views;

pub use folder::{Candidate, Declaration};
pub use journal::{Entry, InputFile, Journal, JournalWriter, Role};

use crate::batch::output;
use crate::screen::{Input, Screener, ScreeningResult, Verdict};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The station's timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StationConfig {
    /// How long every file of a scan must keep its size and modification time before the
    /// scan is taken (`watch --settle-ms`, default 1 s).
    pub settle: Duration,
    /// How old the newest file of an undeclared scan must be before it is recorded as
    /// INSPECT "No declaration" (`watch --declaration-wait-ms`, default 30 s: a sidecar
    /// or manifest line normally follows its scan within seconds).
    pub declaration_wait: Duration,
    /// How long a file whose format has an end marker is waited for without it, once
    /// stable, before it is taken as it is (default 60 s: a scanner that stalls that long
    /// mid-file has failed, and the reader's message then says the file is truncated).
    pub end_marker_wait: Duration,
}

impl Default for StationConfig {
    fn default() -> Self {
        StationConfig {
            settle: Duration::from_secs(1),
            declaration_wait: Duration::from_secs(30),
            end_marker_wait: Duration::from_secs(60),
        }
    }
}

/// Something the station did or is waiting for (the CLI logs these; each waiting state
/// is reported once).
#[derive(Debug, Clone)]
pub enum Event {
    /// A verdict committed (journal, then JSONL, then CSV). `entry.supersedes` marks a
    /// re-scan; `entry.declared == None` a scan without a declaration.
    Decided(Box<Entry>),
    /// Scan files nobody declared yet; recorded as INSPECT after `wait` unless a
    /// declaration arrives.
    AwaitingDeclaration {
        /// Scan id (the files' stem).
        scan_id: String,
        /// The files.
        files: Vec<String>,
        /// Why there is no declaration.
        why: String,
        /// The configured wait.
        wait: Duration,
    },
    /// A stable file still lacks its format's end marker.
    AwaitingEndMarker {
        /// Scan id.
        scan_id: String,
        /// File name.
        file: String,
        /// The marker.
        marker: &'static str,
    },
    /// A file changed while its scan was analysed; the result was dropped and the scan
    /// waits to settle again.
    ChangedDuringAnalysis {
        /// Scan id.
        scan_id: String,
        /// File name.
        file: String,
    },
}

/// What one [`Station::poll`] found.
#[derive(Debug, Default)]
pub struct Poll {
    /// Decisions and notices, in order.
    pub events: Vec<Event>,
    /// True when some scan will become ready without anything new arriving (files
    /// settling or waiting for their end marker; not scans waiting for a declaration).
    pub settling: bool,
}

/// A size and modification time, and since when they have been seen unchanged.
#[derive(Debug, Clone, Copy)]
struct Seen {
    len: u64,
    mtime: SystemTime,
    since: Instant,
}

/// A file's bytes as last hashed.
#[derive(Debug, Clone)]
struct Hashed {
    len: u64,
    mtime: SystemTime,
    sha256: String,
    complete: bool,
}

/// Notices already given, so that each is logged once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Told {
    Undeclared(String, Vec<PathBuf>),
    NoMarker(PathBuf),
}

/// The station over one folder: the journal's owner, the results views, the screener.
#[derive(Debug)]
pub struct Station {
    dir: PathBuf,
    config: StationConfig,
    screener: Screener,
    follow_today: bool,
    journal: JournalWriter,
    csv: views::View,
    jsonl: Option<views::View>,
    ignore: Vec<PathBuf>,
    seen: HashMap<PathBuf, Seen>,
    hashed: HashMap<PathBuf, Hashed>,
    told: HashSet<Told>,
}

/// What [`Station::open`] found and did, for the start-up line.
#[derive(Debug, Clone)]
pub struct Opened {
    /// Entries in the journal.
    pub entries: usize,
    /// Bytes of a torn last journal line cut off.
    pub torn_bytes: u64,
    /// What the results CSV needed.
    pub csv: views::Sync,
    /// What the JSONL needed.
    pub jsonl: Option<views::Sync>,
}

impl Station {
    /// Take the folder: lock and read its journal, bring the results CSV (and JSONL) in
    /// line with it. With `follow_today`, each scan is screened on the day it is analysed
    /// (otherwise on `screener.date`).
    ///
    /// # Errors
    /// Not a folder; another station holds it; a corrupt journal; a results file that is
    /// not this station's; I/O failures.
    pub fn open(
        dir: &Path,
        csv: &Path,
        jsonl: Option<&Path>,
        screener: Screener,
        follow_today: bool,
        config: StationConfig,
    ) -> Result<(Station, Opened)> {
        if !dir.is_dir() {
            return Err(Error::Invalid {
                what: "station folder",
                message: format!("{}: not a folder", dir.display()),
            });
        }
        let journal = JournalWriter::acquire(dir)?;
        let entries = journal.journal().entries();
        let csv_lines: Vec<&str> = entries.iter().map(|e| e.csv.as_str()).collect();
        let header = output::csv_header();
        let (csv_view, csv_sync) = views::View::open(csv, Some(&header), &csv_lines)?;
        let (jsonl_view, jsonl_sync) = match jsonl {
            Some(p) => {
                let lines: Vec<String> = entries.iter().map(Entry::jsonl_line).collect();
                let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
                let (v, s) = views::View::open(p, None, &refs)?;
                (Some(v), Some(s))
            }
            None => (None, None),
        };
        let opened = Opened {
            entries: entries.len(),
            torn_bytes: journal.torn_bytes(),
            csv: csv_sync,
            jsonl: jsonl_sync,
        };
        let ignore = std::iter::once(csv)
            .chain(jsonl)
            .map(Path::to_path_buf)
            .collect();
        Ok((
            Station {
                dir: dir.to_path_buf(),
                config,
                screener,
                follow_today,
                journal,
                csv: csv_view,
                jsonl: jsonl_view,
                ignore,
                seen: HashMap::new(),
                hashed: HashMap::new(),
                told: HashSet::new(),
            },
            opened,
        ))
    }

    /// The journal as written so far.
    pub fn journal(&self) -> &Journal {
        self.journal.journal()
    }

    /// The watched folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Look at the folder once and decide every scan that is ready, at most `budget` of
    /// them.
    ///
    /// # Errors
    /// The folder cannot be listed; the journal or a results file cannot be written (the
    /// station must stop rather than decide without recording).
    pub fn poll(&mut self, budget: usize) -> Result<Poll> {
        let mut poll = Poll::default();
        let candidates = folder::discover(&self.dir, &self.ignore)?;
        let live: HashSet<&Path> = candidates
            .iter()
            .flat_map(|c| {
                c.files
                    .iter()
                    .map(|(_, p)| p.as_path())
                    .chain(c.declaration_file.as_deref())
            })
            .collect();
        self.seen.retain(|p, _| live.contains(p.as_path()));
        self.hashed.retain(|p, _| live.contains(p.as_path()));
        self.told.retain(|t| match t {
            Told::Undeclared(_, files) => files.iter().all(|f| live.contains(f.as_path())),
            Told::NoMarker(p) => live.contains(p.as_path()),
        });
        let mut decided = 0;
        for c in &candidates {
            if decided >= budget {
                break;
            }
            if let Some(entry) = self.consider(c, &mut poll)? {
                poll.events.push(Event::Decided(Box::new(entry)));
                decided += 1;
            }
        }
        Ok(poll)
    }

    /// Decide one candidate if it is ready and not decided yet.
    fn consider(&mut self, c: &Candidate, poll: &mut Poll) -> Result<Option<Entry>> {
        if c.files.is_empty() {
            return Ok(None); // a declaration whose files have not arrived
        }
        let now = Instant::now();
        let mut all: Vec<&Path> = c.files.iter().map(|(_, p)| p.as_path()).collect();
        all.extend(c.declaration_file.as_deref());
        let mut stable = true;
        let mut newest = SystemTime::UNIX_EPOCH;
        for p in &all {
            match self.observe(p, now) {
                Some(s) => {
                    newest = newest.max(s.mtime);
                    stable &= now.duration_since(s.since) >= self.config.settle;
                }
                None => stable = false,
            }
        }
        if c.files.iter().any(|(_, p)| !self.seen.contains_key(p)) {
            return Ok(None); // a declared file that is not there (yet)
        }
        if let Declaration::Missing { why } = &c.declaration {
            let files: Vec<PathBuf> = c.files.iter().map(|(_, p)| p.clone()).collect();
            if self.told.insert(Told::Undeclared(c.scan_id.clone(), files)) {
                poll.events.push(Event::AwaitingDeclaration {
                    scan_id: c.scan_id.clone(),
                    files: c.files.iter().map(|(_, p)| folder::name(p)).collect(),
                    why: why.clone(),
                    wait: self.config.declaration_wait,
                });
            }
            let age = SystemTime::now()
                .duration_since(newest)
                .unwrap_or(Duration::ZERO);
            if age < self.config.declaration_wait {
                return Ok(None);
            }
        }
        if !stable {
            poll.settling = true;
            return Ok(None);
        }
        let mut inputs = Vec::with_capacity(c.files.len());
        for (role, p) in &c.files {
            let Some(h) = self.hash(p) else {
                poll.settling = true;
                return Ok(None);
            };
            if !h.complete {
                let marker = end_marker_of(p).unwrap_or("end marker");
                if self.told.insert(Told::NoMarker(p.clone())) {
                    poll.events.push(Event::AwaitingEndMarker {
                        scan_id: c.scan_id.clone(),
                        file: folder::name(p),
                        marker,
                    });
                }
                let since = self.seen.get(p).map_or(now, |s| s.since);
                if now.duration_since(since) < self.config.end_marker_wait {
                    poll.settling = true;
                    return Ok(None);
                }
            }
            inputs.push(InputFile {
                role: *role,
                file: folder::name(p),
                sha256: h.sha256,
                bytes: h.len,
            });
        }
        let declared = match &c.declaration {
            Declaration::Declared { commodity, .. } => Some(commodity.as_str()),
            Declaration::Missing { .. } => None,
        };
        let journal = self.journal.journal();
        let previous = journal.by_id(&c.scan_id).map(|e| e.seq);
        let done = match declared {
            Some(_) => journal
                .by_id(&c.scan_id)
                .is_some_and(|e| e.decides(declared, &inputs)),
            None => journal.history(&c.scan_id).any(|e| e.inputs == inputs),
        };
        if done {
            return Ok(None);
        }
        let result = self.analyse(c, declared);
        if let Some(file) = self.changed_since(c, &inputs, &result) {
            for p in &all {
                self.seen.remove(*p);
            }
            poll.events.push(Event::ChangedDuringAnalysis {
                scan_id: c.scan_id.clone(),
                file,
            });
            poll.settling = true;
            return Ok(None);
        }
        let json = output::json_line(&result)?;
        let raw = RawValue::from_string(json.trim_end().to_string())
            .map_err(|e| Error::Numerical(format!("result JSON: {e}")))?;
        let entry = Entry {
            seq: 0,
            scan_id: c.scan_id.clone(),
            declared: declared.map(str::to_string),
            declared_in: match &c.declaration {
                Declaration::Declared { source, .. } => source.clone(),
                Declaration::Missing { why } => why.clone(),
            },
            inputs,
            arrived: DateTime::<Utc>::from(newest),
            analysed: Utc::now(),
            verdict: result.verdict,
            supersedes: previous,
            csv: output::csv_line(&result),
            result: raw,
        };
        let entry = self.journal.append(entry)?.clone();
        if let Some(j) = self.jsonl.as_mut() {
            j.append(&entry.jsonl_line())?;
        }
        self.csv.append(&entry.csv)?;
        Ok(Some(entry))
    }

    /// Record a file's size and modification time; `None` when it is gone or empty.
    fn observe(&mut self, p: &Path, now: Instant) -> Option<Seen> {
        let found = std::fs::metadata(p)
            .ok()
            .filter(|m| m.is_file() && m.len() > 0)
            .and_then(|m| Some((m.len(), m.modified().ok()?)));
        let Some((len, mtime)) = found else {
            self.seen.remove(p);
            return None;
        };
        let s = self.seen.entry(p.to_path_buf()).or_insert(Seen {
            len,
            mtime,
            since: now,
        });
        if s.len != len || s.mtime != mtime {
            *s = Seen {
                len,
                mtime,
                since: now,
            };
        }
        Some(*s)
    }

    /// The file's hash and completeness, computed once per size and modification time.
    fn hash(&mut self, p: &Path) -> Option<Hashed> {
        let seen = *self.seen.get(p)?;
        if let Some(h) = self.hashed.get(p) {
            if h.len == seen.len && h.mtime == seen.mtime {
                return Some(h.clone());
            }
        }
        let bytes = crate::formats::read_file(p).ok()?;
        if bytes.len() as u64 != seen.len {
            self.seen.remove(p);
            return None;
        }
        let h = Hashed {
            len: seen.len,
            mtime: seen.mtime,
            sha256: crate::formats::sha256_hex(&bytes),
            complete: folder::is_complete(&bytes, &folder::name(p)),
        };
        self.hashed.insert(p.to_path_buf(), h.clone());
        Some(h)
    }

    /// Screen a candidate; a panic inside the analysis becomes an ERROR result.
    fn analyse(&mut self, c: &Candidate, declared: Option<&str>) -> ScreeningResult {
        if self.follow_today {
            self.screener.date = crate::screen::pipeline::today();
        }
        decide(&self.screener, c, declared)
    }

    /// The first input whose bytes differ from `inputs` now, or differed from what the
    /// analysis read.
    fn changed_since(
        &mut self,
        c: &Candidate,
        inputs: &[InputFile],
        result: &ScreeningResult,
    ) -> Option<String> {
        for ((role, p), want) in c.files.iter().zip(inputs) {
            let now = crate::formats::read_file(p)
                .ok()
                .map(|b| crate::formats::sha256_hex(&b));
            // a multi-beam scan's XRF hashes are `;`-joined, one per file
            let seen_by_analysis = match role {
                Role::Xrf => result.xrf_sha256.as_deref(),
                Role::Xrd => result.xrd_sha256.as_deref(),
            };
            if now.as_deref() != Some(want.sha256.as_str())
                || seen_by_analysis.is_some_and(|s| !s.split(';').any(|h| h == want.sha256))
            {
                self.hashed.remove(p);
                return Some(want.file.clone());
            }
        }
        None
    }
}

/// Screen a candidate as the station does: the declared commodity's screening, or the
/// analysis of an undeclared scan; a panic inside the analysis becomes an ERROR result.
fn decide(screener: &Screener, c: &Candidate, declared: Option<&str>) -> ScreeningResult {
    let shown: Vec<(Role, &Path, String)> = c
        .files
        .iter()
        .map(|(r, p)| (*r, p.as_path(), folder::name(p)))
        .collect();
    let input = |role: Role| {
        shown
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, path, name)| Input { path, shown: name })
    };
    // every XRF file of the scan: the beams of a multi-beam assay, in order
    let xrf: Vec<Input> = shown
        .iter()
        .filter(|(r, _, _)| *r == Role::Xrf)
        .map(|(_, path, name)| Input { path, shown: name })
        .collect();
    let run = || match declared {
        Some(d) => screener.screen_scan_or_error(&c.scan_id, d, &xrf, input(Role::Xrd)),
        None => undeclared(screener, c, input(Role::Xrf), input(Role::Xrd)),
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        ScreeningResult::error(
            &c.scan_id,
            declared.unwrap_or(""),
            "The analysis failed with an internal error.".into(),
            None,
            None,
        )
    })
}

/// The path of a file a journal entry recorded: `dir` joined with the recorded name, which
/// must be one plain file name (no folder, no `..`), the way the station records its
/// inputs.
///
/// # Errors
/// [`Error::Invalid`] when the name is not one plain file name.
pub fn recorded_path(dir: &Path, input: &InputFile) -> Result<PathBuf> {
    let mut parts = Path::new(&input.file).components();
    match (parts.next(), parts.next()) {
        (Some(std::path::Component::Normal(n)), None) if n == input.file.as_str() => {
            Ok(dir.join(n))
        }
        _ => Err(Error::Invalid {
            what: "recorded input",
            message: format!("'{}' is not a file name inside the folder", input.file),
        }),
    }
}

/// The bytes of a file a journal entry recorded, as they were decided: a regular file (not
/// a symbolic link) in `dir` whose SHA-256 is still the recorded one.
///
/// # Errors
/// The name is not a plain file name ([`recorded_path`]); the file is gone, is a link
/// or not a regular file, or cannot be read; its bytes changed since the verdict
/// ([`Error::Invalid`] saying so).
pub fn recorded_bytes(dir: &Path, input: &InputFile) -> Result<Vec<u8>> {
    let path = recorded_path(dir, input)?;
    let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::Io(e).in_file(&path))?;
    if !meta.file_type().is_file() {
        return Err(Error::Invalid {
            what: "recorded input",
            message: format!("{} is no longer a plain file", input.file),
        });
    }
    let bytes = crate::formats::read_file(&path)?;
    if crate::formats::sha256_hex(&bytes) != input.sha256 {
        return Err(Error::Invalid {
            what: "recorded input",
            message: format!(
                "{} changed since the verdict (its SHA-256 is no longer the recorded one)",
                input.file
            ),
        });
    }
    Ok(bytes)
}

/// Decide a journal entry's scan again from the files it recorded, the way the station
/// decided it (the same declaration, the same analysis), for what the journal does not
/// keep: the fit curves that plots and the forensic report draw. `screener` should carry
/// the scan date the station used.
///
/// # Errors
/// A recorded file that is gone or changed ([`recorded_bytes`]), or changed while it
/// was analysed again.
pub fn replay(screener: &Screener, dir: &Path, entry: &Entry) -> Result<ScreeningResult> {
    let mut files = Vec::with_capacity(entry.inputs.len());
    for input in &entry.inputs {
        recorded_bytes(dir, input)?;
        files.push((input.role, recorded_path(dir, input)?));
    }
    let c = Candidate {
        scan_id: entry.scan_id.clone(),
        declaration: match &entry.declared {
            Some(d) => Declaration::Declared {
                commodity: d.clone(),
                source: entry.declared_in.clone(),
            },
            None => Declaration::Missing {
                why: entry.declared_in.clone(),
            },
        },
        files,
        declaration_file: None,
    };
    let result = decide(screener, &c, entry.declared.as_deref());
    for input in &entry.inputs {
        let seen = match input.role {
            Role::Xrf => result.xrf_sha256.as_deref(),
            Role::Xrd => result.xrd_sha256.as_deref(),
        };
        if seen.is_some_and(|s| s != input.sha256) {
            return Err(Error::Invalid {
                what: "recorded input",
                message: format!("{} changed while it was analysed again", input.file),
            });
        }
    }
    Ok(result)
}

fn end_marker_of(p: &Path) -> Option<&'static str> {
    let bytes = crate::formats::read_file(p).ok()?;
    folder::end_marker(&bytes, &folder::name(p))
}

/// The risk of an undeclared scan: the bottom of the INSPECT band (CLEAR < 0.3 ≤ INSPECT <
/// 0.7 ≤ HOLD, as the screener combines its findings) — nothing was found against the
/// cargo, but nothing could be checked either.
pub const UNDECLARED_RISK: f64 = 0.3;

/// An undeclared scan: analysed for the officer (rare earths, elements, phases), verdict
/// INSPECT "No declaration"; ERROR only when the files cannot be analysed.
fn undeclared(
    screener: &Screener,
    c: &Candidate,
    xrf: Option<Input>,
    xrd: Option<Input>,
) -> ScreeningResult {
    let why = match &c.declaration {
        Declaration::Missing { why } => why.as_str(),
        Declaration::Declared { .. } => "",
    };
    let x = xrf.map(|i| screener.analyse_xrf(i)).transpose();
    let d = xrd.map(|i| screener.analyse_xrd(i)).transpose();
    let (x, d) = match (x, d) {
        (Ok(x), Ok(d)) => (x, d),
        (Err(e), _) | (_, Err(e)) => {
            return ScreeningResult::error(
                &c.scan_id,
                "",
                format!("No declaration ({why}), and the scan could not be analysed: {e}."),
                None,
                None,
            )
        }
    };
    let mut ree: Vec<(String, f64)> = x
        .iter()
        .flat_map(|a| &a.elements)
        .filter(|e| crate::tables::is_rare_earth(&e.symbol))
        .map(|e| (e.symbol.clone(), e.wt_pct))
        .collect();
    ree.sort_by(|a, b| b.1.total_cmp(&a.1));
    ScreeningResult {
        scan_id: c.scan_id.clone(),
        declared: String::new(),
        verdict: Verdict::Inspect,
        risk: UNDECLARED_RISK,
        ree_wt_pct: x.as_ref().map(|a| a.ree_total_wt_pct().0),
        ree_elements: ree.into_iter().map(|(s, _)| s).collect(),
        controlled_elements: vec![],
        phases: d
            .iter()
            .flat_map(|a| &a.phases)
            .map(|p| p.name.clone())
            .collect(),
        mismatch: vec![],
        reasons: vec![format!(
            "No declaration: {why}; the scan was analysed but cannot be checked against a \
             declared commodity."
        )],
        xrf_sha256: x.as_ref().map(|a| a.sha256.clone()),
        xrd_sha256: d.as_ref().map(|a| a.sha256.clone()),
        xrf: x,
        xrd: d,
        xrf_beams: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::Rules;
    use std::sync::Arc;

    const NO_END: &str = "#FORMAT : EMSA/MAS Spectral Data File\n#VERSION : 1.0\n\
#NPOINTS : 4.\n#XPERCHAN : 0.01\n#OFFSET : 0.0\n#SPECTRUM : \n1, 2, 3, 4\n";

    fn station(dir: &Path, config: StationConfig) -> Station {
        let screener = Screener::new(
            Arc::new(Rules::builtin().clone()),
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        );
        let out = dir.join("out.csv");
        Station::open(dir, &out, None, screener, false, config)
            .unwrap()
            .0
    }

    #[test]
    fn a_stable_file_without_its_end_marker_waits_then_is_taken_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("A.msa"), NO_END).unwrap();
        std::fs::write(dir.path().join("A.json"), r#"{"declared": "iron-ore"}"#).unwrap();
        let config = StationConfig {
            settle: Duration::ZERO,
            declaration_wait: Duration::ZERO,
            end_marker_wait: Duration::from_millis(300),
        };
        let mut s = station(dir.path(), config);
        let p = s.poll(usize::MAX).unwrap();
        assert!(p.settling);
        assert!(
            matches!(
                &p.events[..],
                [Event::AwaitingEndMarker {
                    marker: "#ENDOFDATA",
                    ..
                }]
            ),
            "{:?}",
            p.events
        );
        assert!(s.poll(usize::MAX).unwrap().events.is_empty(), "told once");
        std::thread::sleep(Duration::from_millis(350));
        let p = s.poll(usize::MAX).unwrap();
        let [Event::Decided(e)] = &p.events[..] else {
            panic!("{:?}", p.events)
        };
        assert_eq!(e.scan_id, "A");
        assert!(!p.settling);
        assert!(
            s.poll(usize::MAX).unwrap().events.is_empty(),
            "decided once"
        );
    }

    #[test]
    fn recorded_files_are_plain_names_in_the_folder_with_their_recorded_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("A.msa"), "bytes").unwrap();
        let input = |file: &str, sha: &str| InputFile {
            role: Role::Xrf,
            file: file.into(),
            sha256: sha.into(),
            bytes: 5,
        };
        let sha = crate::formats::sha256_hex(b"bytes");
        assert_eq!(
            recorded_bytes(dir.path(), &input("A.msa", &sha)).unwrap(),
            b"bytes"
        );
        for bad in ["../A.msa", "sub/A.msa", "/etc/passwd", "..", ".", ""] {
            assert!(
                recorded_path(dir.path(), &input(bad, &sha)).is_err(),
                "{bad}"
            );
        }
        let other = crate::formats::sha256_hex(b"other");
        let e = recorded_bytes(dir.path(), &input("A.msa", &other)).unwrap_err();
        assert!(e.to_string().contains("changed since the verdict"), "{e}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("A.msa"), dir.path().join("L.msa")).unwrap();
            assert!(recorded_bytes(dir.path(), &input("L.msa", &sha)).is_err());
        }
    }

    #[test]
    fn a_result_is_dropped_when_the_bytes_differ_from_those_hashed_or_analysed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("A.msa");
        std::fs::write(&file, "now").unwrap();
        let mut s = station(dir.path(), StationConfig::default());
        let c = Candidate {
            scan_id: "A".into(),
            declaration: Declaration::Missing { why: "test".into() },
            files: vec![(Role::Xrf, file.clone())],
            declaration_file: None,
        };
        let now = crate::formats::sha256_hex(b"now");
        let input = |sha: &str| {
            vec![InputFile {
                role: Role::Xrf,
                file: "A.msa".into(),
                sha256: sha.into(),
                bytes: 3,
            }]
        };
        let mut result = ScreeningResult::error("A", "", "x".into(), Some(now.clone()), None);
        assert_eq!(s.changed_since(&c, &input(&now), &result), None);
        let before = crate::formats::sha256_hex(b"before");
        assert_eq!(
            s.changed_since(&c, &input(&before), &result).as_deref(),
            Some("A.msa")
        );
        result.xrf_sha256 = Some(before);
        assert_eq!(
            s.changed_since(&c, &input(&now), &result).as_deref(),
            Some("A.msa")
        );
    }
}
