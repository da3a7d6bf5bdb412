//! Result files: the SPEC CSV (header + one line per row) and JSONL, written a whole line
//! at a time, and the recovery of what an interrupted run left behind (`--resume`).
//!
//! Crash safety: a line is written with one `write_all` and flushed; a run killed
//! mid-line leaves at most one line without its `\n`, which recovery cuts off. JSONL lines
//! are written before their CSV lines, so a scan_id in the CSV always has its JSONL line;
//! JSONL lines whose scan_id the CSV lacks are dropped on resume.
//!
//! One writer at a time: a results file written in place is held under an exclusive
//! lock ([`File::try_lock`]) from before it is truncated or recovered until the run
//! ends, so a second process is refused before it changes a byte. An existing results
//! file is replaced only when asked ([`Existing`]).
//!
//! Spreadsheet safety (SPEC "Results"): a CSV text cell that a spreadsheet would execute
//! gets a leading `'` ([`csv_cell`]); JSONL keeps the raw value.

use crate::scale::AtomicFile;
use crate::screen::{ScreeningResult, CSV_COLUMNS};
use crate::{Error, Result};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The CSV header line, `\n`-terminated.
pub fn csv_header() -> String {
    let mut s = CSV_COLUMNS.join(",");
    s.push('\n');
    s
}

/// One CSV line (RFC 4180 quoting), `\n`-terminated, its text cells through [`csv_cell`].
pub fn csv_line(r: &ScreeningResult) -> String {
    let mut record = r.csv_record();
    for (cell, column) in record.iter_mut().zip(CSV_COLUMNS) {
        if !NUMERIC_COLUMNS.contains(&column) {
            if let Cow::Owned(safe) = csv_cell(cell) {
                *cell = safe;
            }
        }
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(512));
    // Writing to a Vec cannot fail.
    let _ = w.write_record(&record);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Results columns that hold numbers: written as formatted, never prefixed.
const NUMERIC_COLUMNS: [&str; 2] = ["risk", "ree_wt_pct"];

/// First characters that make a spreadsheet evaluate a cell (a formula, or a DDE call
/// after a tab or carriage return): OWASP, "CSV Injection".
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as the results CSV holds it: with one `'` in front when a spreadsheet
/// would execute it (it starts with `=`, `+`, `-`, `@`, tab or carriage return), as the
/// OWASP CSV-injection guidance says. A cell that already starts with `'`s before such
/// a character gets one more, so that [`csv_cell_value`] recovers every value exactly
/// (`--resume` must find the scan_ids it wrote).
pub fn csv_cell(value: &str) -> Cow<'_, str> {
    if value.trim_start_matches('\'').starts_with(FORMULA_START) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The value a results CSV cell written by [`csv_cell`] stands for.
pub fn csv_cell_value(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

/// One JSONL line, `\n`-terminated.
///
/// # Errors
/// Serialisation failure (non-finite numbers are written as null by serde_json).
pub fn json_line(r: &ScreeningResult) -> Result<String> {
    let mut s = serde_json::to_string(r).map_err(|e| Error::Numerical(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// What an earlier run left in a results CSV.
#[derive(Debug, Default)]
pub struct Recovered {
    /// scan_ids with a complete row.
    pub done: HashSet<String>,
    /// Complete rows (deduplicated), header excluded, each `\n`-terminated.
    pub rows: usize,
    /// Byte length of the header plus the complete rows (where to truncate).
    pub valid_len: u64,
}

/// Read a results CSV left by an earlier run: the scan_ids done, and where its last
/// complete line ends.
///
/// # Errors
/// Unreadable file, or a file whose first line is not the results header (refusing to
/// append to something else).
pub fn recover_csv(path: &Path) -> Result<Recovered> {
    let file = File::open(path).map_err(|e| Error::Io(e).in_file(path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut rec = Recovered::default();
    let mut line = Vec::new();
    let header = csv_header();
    let mut first = true;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::Io(e).in_file(path))?;
        if n == 0 || line.last() != Some(&b'\n') {
            break; // end, or a cut-off last line
        }
        if first {
            if line != header.as_bytes() {
                return Err(Error::parse(
                    "results CSV",
                    "the first line is not the reescan results header; refusing to append to it",
                )
                .in_file(path));
            }
            first = false;
        } else if let Some(id) = first_field(&line) {
            rec.done.insert(id);
            rec.rows += 1;
        }
        rec.valid_len += n as u64;
    }
    Ok(rec)
}

/// The value of the first CSV field of a line (unquoting it, and undoing [`csv_cell`]).
fn first_field(line: &[u8]) -> Option<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => rec.get(0).map(|c| csv_cell_value(c).to_string()),
        _ => None,
    }
}

/// Copy the complete lines of `src` whose `scan_id` is in `keep` (first occurrence only)
/// into `dst`. `csv` selects the CSV (skip the header) or JSONL reading of the id.
fn copy_kept(src: &Path, dst: &mut dyn Write, keep: &HashSet<String>, csv: bool) -> Result<()> {
    let file = File::open(src).map_err(|e| Error::Io(e).in_file(src))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut seen = HashSet::new();
    let mut line = Vec::new();
    let mut first = csv;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::Io(e).in_file(src))?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(());
        }
        if first {
            first = false;
            continue;
        }
        let id = if csv {
            first_field(&line)
        } else {
            json_scan_id(&line)
        };
        if let Some(id) = id.filter(|id| keep.contains(id)) {
            if seen.insert(id) {
                dst.write_all(&line)
                    .map_err(|e| Error::Io(e).in_file(src))?;
            }
        }
    }
}

fn json_scan_id(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        scan_id: String,
    }
    serde_json::from_slice::<Id>(line).ok().map(|i| i.scan_id)
}

/// An output file: appended in place (a plain run) or written through a temporary and
/// renamed on completion (a shard).
pub enum Target {
    /// Written in place.
    Direct(BufWriter<File>, PathBuf),
    /// Temporary + rename ([`AtomicFile`]).
    Atomic(AtomicFile),
}

impl Target {
    /// Write one or more whole lines.
    ///
    /// # Errors
    /// I/O failure, naming the file.
    pub fn write_str(&mut self, s: &str) -> Result<()> {
        let r = match self {
            Target::Direct(w, _) => w.write_all(s.as_bytes()),
            Target::Atomic(a) => a.write_all(s.as_bytes()),
        };
        r.map_err(|e| Error::Io(e).in_file(self.path()))
    }

    /// Flush to the operating system.
    ///
    /// # Errors
    /// I/O failure, naming the file.
    pub fn flush(&mut self) -> Result<()> {
        let r = match self {
            Target::Direct(w, _) => w.flush(),
            Target::Atomic(a) => a.flush(),
        };
        r.map_err(|e| Error::Io(e).in_file(self.path()))
    }

    /// Finish: flush (and for a shard, rename to the final name).
    ///
    /// # Errors
    /// I/O failure, naming the file.
    pub fn finish(self) -> Result<()> {
        match self {
            Target::Direct(mut w, p) => w.flush().map_err(|e| Error::Io(e).in_file(p)),
            Target::Atomic(a) => a.commit(),
        }
    }

    /// The final file name.
    pub fn path(&self) -> &Path {
        match self {
            Target::Direct(_, p) => p,
            Target::Atomic(a) => a.dest(),
        }
    }
}

/// What to do with a results file that already holds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to touch it (the default: results are never lost silently).
    Refuse,
    /// Keep its complete rows and append (`--resume`).
    Resume,
    /// Replace it (`--force`).
    Replace,
}

impl Existing {
    /// `--resume` wins over `--force`; neither refuses.
    pub fn from_flags(resume: bool, force: bool) -> Existing {
        match (resume, force) {
            (true, _) => Existing::Resume,
            (false, true) => Existing::Replace,
            (false, false) => Existing::Refuse,
        }
    }
}

/// Open `path` for writing in place, without truncating it, and take its exclusive
/// lock; then refuse it if it holds something and `existing` is [`Existing::Refuse`].
/// The lock is held as long as the returned file is open.
///
/// # Errors
/// I/O failure; another process holds the lock; an existing non-empty file to refuse.
pub fn open_locked(path: &Path, existing: Existing) -> Result<File> {
    let io = |e: std::io::Error| Error::Io(e).in_file(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    lock(&file).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if existing == Existing::Refuse && len > 0 {
        return Err(exists(path));
    }
    Ok(file)
}

/// Refuse `path` when it exists and holds something (what [`Existing::Refuse`] does on
/// opening), before anything is opened.
///
/// # Errors
/// The file exists and is not empty.
pub fn refuse_existing(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > 0 => Err(exists(path)),
        _ => Ok(()),
    }
}

fn exists(path: &Path) -> Error {
    Error::Invalid {
        what: "output",
        message: "the file already exists and holds results: give --resume to continue \
                  it or --force to replace it"
            .into(),
    }
    .in_file(path)
}

/// Cut a regular file to `len` bytes and put the write position at its end (a device
/// such as `/dev/null` has no length to cut).
fn truncate(mut file: &File, len: u64) -> std::io::Result<()> {
    if file.metadata()?.is_file() {
        file.set_len(len)?;
    }
    file.seek(SeekFrom::End(0)).map(|_| ())
}

/// Take the exclusive lock of an open file without waiting.
fn lock(file: &File) -> std::io::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "another reescan process is writing this file (it holds the file's lock); \
             a results file takes one writer at a time",
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Open the results CSV in place, under its lock. With `resume`, keep the complete rows
/// already there (cutting off a partial last line) and return their scan_ids; otherwise
/// start it afresh.
///
/// # Errors
/// I/O failures; the lock held by another process; an existing file that is not a
/// results CSV.
pub fn open_direct_csv(path: &Path, resume: bool) -> Result<(Target, Recovered)> {
    let existing = if resume {
        Existing::Resume
    } else {
        Existing::Replace
    };
    open_results_csv(path, existing)
}

/// Open the results CSV in place, under its lock, doing with what it holds what
/// `existing` says.
///
/// # Errors
/// As [`open_locked`]; an existing file that is not a results CSV (on resume).
pub fn open_results_csv(path: &Path, existing: Existing) -> Result<(Target, Recovered)> {
    let io = |e: std::io::Error| Error::Io(e).in_file(path);
    let file = open_locked(path, existing)?;
    let rec = if existing == Existing::Resume {
        recover_csv(path)?
    } else {
        Recovered::default()
    };
    truncate(&file, rec.valid_len).map_err(io)?;
    let mut t = Target::Direct(BufWriter::with_capacity(1 << 16, file), path.to_path_buf());
    if rec.valid_len == 0 {
        t.write_str(&csv_header())?;
        t.flush()?;
    }
    Ok((t, rec))
}

/// Open the JSONL file in place, under its lock. With `resume`, keep only complete
/// lines whose scan_id is in `done` (rewritten through a temporary).
///
/// # Errors
/// I/O failures; the lock held by another process.
pub fn open_direct_jsonl(path: &Path, resume: bool, done: &HashSet<String>) -> Result<Target> {
    let existing = if resume {
        Existing::Resume
    } else {
        Existing::Replace
    };
    open_results_jsonl(path, existing, done)
}

/// Open the JSONL file in place, under its lock, doing with what it holds what
/// `existing` says (on resume, keeping only complete lines whose scan_id is in `done`).
///
/// # Errors
/// As [`open_locked`].
pub fn open_results_jsonl(
    path: &Path,
    existing: Existing,
    done: &HashSet<String>,
) -> Result<Target> {
    let io = |e: std::io::Error| Error::Io(e).in_file(path);
    let mut file = open_locked(path, existing)?;
    let len = file.metadata().map_err(io)?.len();
    if existing == Existing::Resume && len > 0 {
        // the kept lines replace the file by a rename: lock the new file before the old
        // one's lock goes, so that no second writer slips in between
        let mut tmp = AtomicFile::create(path)?;
        copy_kept(path, &mut tmp, done, false)?;
        tmp.commit()?;
        let mut renamed = open_locked(path, Existing::Resume)?;
        renamed.seek(SeekFrom::End(0)).map_err(io)?;
        drop(file);
        file = renamed;
    } else {
        truncate(&file, 0).map_err(io)?;
    }
    Ok(Target::Direct(
        BufWriter::with_capacity(1 << 16, file),
        path.to_path_buf(),
    ))
}

/// The lock of a shard output, which appears under its name only when complete: a
/// hidden `.NAME.lock` beside it, held for the run and removed when the run ends. A
/// second run of the same shard is refused rather than left to take the first one's
/// temporary for a killed run's leftover (and delete it).
#[derive(Debug)]
pub struct ShardLock {
    _file: File,
    path: PathBuf,
}

impl ShardLock {
    /// Lock the shard output `dest`.
    ///
    /// # Errors
    /// I/O failure; another process holds the lock.
    pub fn take(dest: &Path) -> Result<ShardLock> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dest.with_file_name(format!(".{name}.lock"));
        let io = |e: std::io::Error| Error::Io(e).in_file(dest);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        lock(&file).map_err(io)?;
        Ok(ShardLock { _file: file, path })
    }

    /// Remove the lock file, then let the lock go.
    pub fn release(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Open a shard's CSV through a temporary. With `resume`, recover the complete rows of
/// the finished shard file or of the largest temporary a killed run left behind.
/// Returns the target, what was recovered, and the leftovers to delete on completion.
///
/// # Errors
/// I/O failures; a recovered file that is not a results CSV.
pub fn open_shard_csv(dest: &Path, resume: bool) -> Result<(Target, Recovered, Vec<PathBuf>)> {
    let leftovers = crate::scale::leftover_partials(dest);
    let source = resume
        .then(|| {
            if dest.exists() {
                Some(dest.to_path_buf())
            } else {
                leftovers.first().cloned()
            }
        })
        .flatten();
    let mut file = AtomicFile::create(dest)?;
    let header = csv_header();
    file.write_all(header.as_bytes())
        .map_err(|e| Error::Io(e).in_file(dest))?;
    let mut rec = Recovered::default();
    if let Some(src) = source {
        let found = recover_csv(&src)?;
        copy_kept(&src, &mut file, &found.done, true)?;
        rec = found;
    }
    Ok((Target::Atomic(file), rec, leftovers))
}

/// Open a shard's JSONL through a temporary, recovering lines whose scan_id is in `done`.
///
/// # Errors
/// I/O failures.
pub fn open_shard_jsonl(
    dest: &Path,
    resume: bool,
    done: &HashSet<String>,
) -> Result<(Target, Vec<PathBuf>)> {
    let leftovers = crate::scale::leftover_partials(dest);
    let source = if dest.exists() {
        Some(dest.to_path_buf())
    } else {
        leftovers.first().cloned()
    };
    let mut file = AtomicFile::create(dest)?;
    if let Some(src) = source.filter(|_| resume) {
        copy_kept(&src, &mut file, done, false)?;
    }
    Ok((Target::Atomic(file), leftovers))
}

/// Count complete lines of a file (tests, diagnostics).
///
/// # Errors
/// I/O failure.
pub fn count_lines(path: &Path) -> Result<usize> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(|e| Error::Io(e).in_file(path))?;
    Ok(buf.iter().filter(|&&b| b == b'\n').count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::Verdict;

    fn row(id: &str) -> ScreeningResult {
        ScreeningResult::error(id, "iron-ore", "It broke, badly.".into(), None, None)
    }

    #[test]
    fn csv_line_quotes_commas_and_has_twelve_fields() {
        let l = csv_line(&row("S1"));
        assert_eq!(l, "S1,iron-ore,ERROR,0.000,,,,,,\"It broke, badly.\",,\n");
        assert_eq!(csv_header().trim_end().split(',').count(), 12);
        let j = json_line(&row("S1")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["verdict"], "ERROR");
        assert_eq!(v["reasons"][0], "It broke, badly.");
        assert_eq!(Verdict::Error.as_str(), "ERROR");
    }

    #[test]
    fn resume_cuts_a_partial_last_line_and_keeps_complete_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let text = format!(
            "{}{}{}S3,iron-",
            csv_header(),
            csv_line(&row("S1")),
            csv_line(&row("S2"))
        );
        std::fs::write(&p, text).unwrap();
        let (mut t, rec) = open_direct_csv(&p, true).unwrap();
        assert_eq!(rec.rows, 2);
        assert!(rec.done.contains("S1") && rec.done.contains("S2") && !rec.done.contains("S3"));
        t.write_str(&csv_line(&row("S3"))).unwrap();
        t.finish().unwrap();
        let out = std::fs::read_to_string(&p).unwrap();
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(out.ends_with("\n"));
    }

    #[test]
    fn formula_cells_get_one_quote_and_read_back_exactly() {
        for (value, cell) in [
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("'x", "'x"),
            ("'", "'"),
            ("S-1", "S-1"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(value), cell, "{value:?}");
            assert_eq!(csv_cell_value(cell), value, "{cell:?}");
        }
    }

    #[test]
    fn csv_line_neutralises_text_cells_but_not_numbers() {
        let mut r = ScreeningResult::error("=id", "@d", "-why".into(), None, None);
        r.risk = -0.5;
        r.ree_wt_pct = Some(-1.0);
        let l = csv_line(&r);
        assert_eq!(l, "'=id,'@d,ERROR,-0.500,-1.0000,,,,,'-why,,\n");
        assert_eq!(first_field(l.as_bytes()).as_deref(), Some("=id"));
    }

    #[test]
    fn a_locked_results_file_is_refused_before_it_is_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let (mut t, _) = open_results_csv(&p, Existing::Refuse).unwrap();
        t.write_str(&csv_line(&row("S1"))).unwrap();
        t.flush().unwrap();
        let before = std::fs::read(&p).unwrap();
        for existing in [Existing::Resume, Existing::Replace] {
            let e = open_results_csv(&p, existing).err().unwrap().to_string();
            assert!(e.contains("lock") && e.contains("r.csv"), "{e}");
            assert_eq!(std::fs::read(&p).unwrap(), before);
        }
        t.finish().unwrap();
        let e = open_results_csv(&p, Existing::Refuse)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--force"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), before);
        let (_, rec) = open_results_csv(&p, Existing::Resume).unwrap();
        assert_eq!(rec.rows, 1);
    }

    #[test]
    fn resume_refuses_a_foreign_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, "name,age\nbob,3\n").unwrap();
        let e = open_direct_csv(&p, true).err().unwrap().to_string();
        assert!(e.contains("header"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "name,age\nbob,3\n");
    }

    #[test]
    fn jsonl_resume_drops_lines_the_csv_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let text = format!(
            "{}{}{}{{\"scan_id\":\"S4",
            json_line(&row("S1")).unwrap(),
            json_line(&row("S2")).unwrap(),
            json_line(&row("S1")).unwrap()
        );
        std::fs::write(&p, text).unwrap();
        let done: HashSet<String> = ["S1".to_string()].into();
        let mut t = open_direct_jsonl(&p, true, &done).unwrap();
        t.write_str(&json_line(&row("S2")).unwrap()).unwrap();
        t.finish().unwrap();
        let out = std::fs::read_to_string(&p).unwrap();
        let ids: Vec<_> = out
            .lines()
            .filter_map(|l| json_scan_id(l.as_bytes()))
            .collect();
        assert_eq!(ids, ["S1", "S2"], "{out}");
    }
}
