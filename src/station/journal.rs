//! The station journal: `DIR/.reescan/journal.jsonl`, one JSON object per line, one line
//! per decision, appended and `fsync`ed before anything else is written (see the
//! [module documentation](super) for the fields).
//!
//! [`Journal`] reads it (any process, no lock, e.g. a web page over the station);
//! [`JournalWriter`] owns it: it holds an exclusive lock on the file for its lifetime,
//! so that one station process owns a folder, and cuts off a torn last line a crash left.

use crate::screen::Verdict;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The station's own folder inside the watched folder (hidden, never scanned).
pub const STATE_DIR: &str = ".reescan";
/// The journal's file name inside [`STATE_DIR`].
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Which analysis an input file feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// XRF/EDS energy spectrum.
    Xrf,
    /// XRD pattern.
    Xrd,
}

/// One input file of a scan, as the station hashed it just before committing the result.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InputFile {
    /// XRF or XRD.
    pub role: Role,
    /// The file's name, relative to the watched folder.
    pub file: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// One decision: a scan, its inputs, its verdict and the full result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the journal, 1-based, without gaps.
    pub seq: u64,
    /// Scan id (the sidecar's `scan_id`, the manifest's, or the files' common stem).
    pub scan_id: String,
    /// The declared commodity; `None` when no declaration arrived (verdict INSPECT).
    pub declared: Option<String>,
    /// Where the declaration came from (`ID.json`, `manifest.csv row N` (N-th data row)) or, without one,
    /// why there is none.
    pub declared_in: String,
    /// The scan's files with their hashes and sizes.
    pub inputs: Vec<InputFile>,
    /// When the scan arrived: the modification time of its newest file.
    pub arrived: DateTime<Utc>,
    /// When the verdict was committed.
    pub analysed: DateTime<Utc>,
    /// The verdict (also inside `result`).
    #[serde(serialize_with = "verdict_ser", deserialize_with = "verdict_de")]
    pub verdict: Verdict,
    /// The `seq` of the earlier entry for the same scan id that this one replaces (a
    /// re-scan: the files' bytes or the declaration changed).
    pub supersedes: Option<u64>,
    /// The scan's results CSV line, exactly as written to the results file.
    pub csv: String,
    /// The full result object, exactly as written to the JSONL file.
    pub result: Box<RawValue>,
}

fn verdict_ser<S: serde::Serializer>(v: &Verdict, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

fn verdict_de<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Verdict, D::Error> {
    let s = String::deserialize(d)?;
    [
        Verdict::Clear,
        Verdict::Inspect,
        Verdict::Hold,
        Verdict::Error,
    ]
    .into_iter()
    .find(|v| v.as_str() == s)
    .ok_or_else(|| serde::de::Error::custom(format!("unknown verdict '{s}'")))
}

impl Entry {
    /// The JSONL line of this entry's result, `\n`-terminated.
    pub fn jsonl_line(&self) -> String {
        let mut s = String::with_capacity(self.result.get().len() + 1);
        s.push_str(self.result.get());
        s.push('\n');
        s
    }

    /// The result's reasons (sentences an officer can read aloud).
    pub fn reasons(&self) -> Vec<String> {
        #[derive(Deserialize)]
        struct Reasons {
            #[serde(default)]
            reasons: Vec<String>,
        }
        serde_json::from_str::<Reasons>(self.result.get())
            .map_or_else(|_| Vec::new(), |r| r.reasons)
    }

    /// True when this entry decided exactly these inputs under this declaration.
    pub fn decides(&self, declared: Option<&str>, inputs: &[InputFile]) -> bool {
        self.declared.as_deref() == declared && self.inputs == inputs
    }
}

/// The journal of a watched folder, read into memory: every complete entry, in order.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    entries: Vec<Entry>,
    /// Byte length of the complete lines read so far.
    valid_len: u64,
    /// scan_id → indices into `entries`, oldest first.
    index: HashMap<String, Vec<usize>>,
}

impl Journal {
    /// The journal file of the watched folder `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(STATE_DIR).join(JOURNAL_FILE)
    }

    /// Read the journal of the watched folder `dir` (an empty journal when the station
    /// has never run there). An incomplete last line (a write in progress, or one a
    /// crash cut short) is left out.
    ///
    /// # Errors
    /// Unreadable file; a complete line that is not a journal entry or is out of
    /// sequence (naming the line).
    pub fn open(dir: &Path) -> Result<Journal> {
        let mut j = Journal::empty(Journal::path_in(dir));
        if j.path.exists() {
            let mut f = File::open(&j.path).map_err(|e| Error::Io(e).in_file(&j.path))?;
            j.read_more(&mut f)?;
        }
        Ok(j)
    }

    fn empty(path: PathBuf) -> Journal {
        Journal {
            path,
            entries: Vec::new(),
            valid_len: 0,
            index: HashMap::new(),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The `n` newest entries, newest first.
    pub fn latest(&self, n: usize) -> impl Iterator<Item = &Entry> {
        self.entries.iter().rev().take(n)
    }

    /// The current decision for a scan id: its newest entry.
    pub fn by_id(&self, scan_id: &str) -> Option<&Entry> {
        self.history(scan_id).next()
    }

    /// Every entry for a scan id, newest first (re-scans supersede older entries).
    pub fn history<'a>(&'a self, scan_id: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.index
            .get(scan_id)
            .into_iter()
            .flat_map(|ix| ix.iter().rev().map(|&i| &self.entries[i]))
    }

    /// Read the entries appended since the last read (a reader following a running
    /// station). Returns how many were added.
    ///
    /// # Errors
    /// As [`Journal::open`].
    pub fn refresh(&mut self) -> Result<usize> {
        if !self.path.exists() {
            return Ok(0);
        }
        let before = self.entries.len();
        let mut f = File::open(&self.path).map_err(|e| Error::Io(e).in_file(&self.path))?;
        self.read_more(&mut f)?;
        Ok(self.entries.len() - before)
    }

    /// Parse the complete lines after `valid_len`.
    fn read_more(&mut self, f: &mut File) -> Result<()> {
        let path = self.path.clone();
        let io = |e: std::io::Error| Error::Io(e).in_file(&path);
        f.seek(SeekFrom::Start(self.valid_len)).map_err(io)?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(io)?;
        let mut start = 0;
        while let Some(n) = bytes[start..].iter().position(|&b| b == b'\n') {
            let line = &bytes[start..start + n];
            let number = self.entries.len() + 1;
            let entry: Entry = serde_json::from_slice(line).map_err(|e| {
                Error::parse(
                    "station journal",
                    format!("line {number} is not a journal entry: {e}"),
                )
                .in_file(&path)
            })?;
            if entry.seq != number as u64 {
                return Err(Error::parse(
                    "station journal",
                    format!("line {number} carries seq {}", entry.seq),
                )
                .in_file(&path));
            }
            self.push(entry);
            start += n + 1;
        }
        self.valid_len += start as u64;
        Ok(())
    }

    fn push(&mut self, entry: Entry) {
        self.index
            .entry(entry.scan_id.clone())
            .or_default()
            .push(self.entries.len());
        self.entries.push(entry);
    }
}

/// The owner of a folder's journal: an exclusive lock for its lifetime, and appends.
#[derive(Debug)]
pub struct JournalWriter {
    file: File,
    journal: Journal,
    torn_bytes: u64,
}

impl JournalWriter {
    /// Take the journal of the watched folder `dir` (creating it), lock it, read it, and
    /// cut off a torn last line.
    ///
    /// # Errors
    /// Another process holds the lock (an [`std::io::ErrorKind::WouldBlock`] I/O error
    /// naming the journal); I/O failures; a corrupt journal (as [`Journal::open`]).
    pub fn acquire(dir: &Path) -> Result<JournalWriter> {
        let path = Journal::path_in(dir);
        let io = |e: std::io::Error| Error::Io(e).in_file(&path);
        let state = dir.join(STATE_DIR);
        let created = !path.exists();
        std::fs::create_dir_all(&state).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(io(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    "another reescan station is watching this folder (its journal is locked); \
                     one station per folder",
                )));
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        if created {
            File::open(&state).and_then(|d| d.sync_all()).map_err(io)?;
        }
        let mut journal = Journal::empty(path.clone());
        journal.read_more(&mut file)?;
        let len = file.metadata().map_err(io)?.len();
        let torn_bytes = len - journal.valid_len;
        if torn_bytes > 0 {
            file.set_len(journal.valid_len).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        Ok(JournalWriter {
            file,
            journal,
            torn_bytes,
        })
    }

    /// The journal as written so far.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Bytes of an incomplete last line cut off when the journal was taken.
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Append one entry (its `seq` is assigned here) as one line, and `fsync` it: when
    /// this returns, the decision survives a crash.
    ///
    /// # Errors
    /// Serialisation or I/O failure; the journal is then left as it was.
    pub fn append(&mut self, mut entry: Entry) -> Result<&Entry> {
        let path = self.journal.path.clone();
        let io = |e: std::io::Error| Error::Io(e).in_file(&path);
        entry.seq = self.journal.entries.len() as u64 + 1;
        let mut line = serde_json::to_vec(&entry)
            .map_err(|e| Error::Numerical(format!("journal entry: {e}")))?;
        line.push(b'\n');
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Leave no partial line for the next append to run into.
            let _ = self.file.set_len(self.journal.valid_len);
            return Err(io(e));
        }
        self.journal.valid_len += line.len() as u64;
        self.journal.push(entry);
        Ok(self.journal.entries.last().expect("just pushed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, verdict: Verdict, sha: &str) -> Entry {
        Entry {
            seq: 0,
            scan_id: id.into(),
            declared: Some("iron-ore".into()),
            declared_in: format!("{id}.json"),
            inputs: vec![InputFile {
                role: Role::Xrf,
                file: format!("{id}.msa"),
                sha256: sha.into(),
                bytes: 10,
            }],
            arrived: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            analysed: DateTime::from_timestamp(1_800_000_005, 0).unwrap(),
            verdict,
            supersedes: None,
            csv: format!("{id},iron-ore,{verdict}\n"),
            result: RawValue::from_string(format!(r#"{{"scan_id":"{id}","risk":0.1}}"#)).unwrap(),
        }
    }

    #[test]
    fn entries_survive_a_reopen_and_are_found_by_id_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut w = JournalWriter::acquire(dir.path()).unwrap();
            w.append(entry("A", Verdict::Clear, "aa")).unwrap();
            w.append(entry("B", Verdict::Hold, "bb")).unwrap();
            let mut again = entry("A", Verdict::Inspect, "a2");
            again.supersedes = Some(1);
            assert_eq!(w.append(again).unwrap().seq, 3);
        }
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.entries().len(), 3);
        let ids: Vec<_> = j.latest(2).map(|e| e.scan_id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
        assert_eq!(j.by_id("A").unwrap().verdict, Verdict::Inspect);
        assert_eq!(j.by_id("A").unwrap().supersedes, Some(1));
        assert_eq!(j.history("A").map(|e| e.seq).collect::<Vec<_>>(), [3, 1]);
        assert_eq!(j.by_id("B").unwrap().verdict, Verdict::Hold);
        assert!(j.by_id("C").is_none());
        assert_eq!(
            j.by_id("B").unwrap().jsonl_line(),
            "{\"scan_id\":\"B\",\"risk\":0.1}\n"
        );
    }

    #[test]
    fn a_torn_last_line_is_ignored_by_readers_and_cut_by_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut w = JournalWriter::acquire(dir.path()).unwrap();
            w.append(entry("A", Verdict::Clear, "aa")).unwrap();
        }
        let path = Journal::path_in(dir.path());
        let whole = std::fs::read(&path).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&whole[..whole.len() / 2]).unwrap();
        drop(f);
        assert_eq!(Journal::open(dir.path()).unwrap().entries().len(), 1);
        let mut w = JournalWriter::acquire(dir.path()).unwrap();
        assert_eq!(w.torn_bytes(), (whole.len() / 2) as u64);
        w.append(entry("B", Verdict::Hold, "bb")).unwrap();
        drop(w);
        let j = Journal::open(dir.path()).unwrap();
        let ids: Vec<_> = j.entries().iter().map(|e| e.scan_id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = JournalWriter::acquire(dir.path()).unwrap();
        let e = JournalWriter::acquire(dir.path()).unwrap_err();
        assert!(e.to_string().contains("another reescan station"), "{e}");
        // Readers are never locked out.
        assert!(Journal::open(dir.path()).is_ok());
        drop(first);
        assert!(JournalWriter::acquire(dir.path()).is_ok());
    }

    #[test]
    fn a_reader_follows_appends_and_a_corrupt_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::acquire(dir.path()).unwrap();
        let mut r = Journal::open(dir.path()).unwrap();
        w.append(entry("A", Verdict::Clear, "aa")).unwrap();
        w.append(entry("B", Verdict::Error, "bb")).unwrap();
        assert_eq!(r.refresh().unwrap(), 2);
        assert_eq!(r.refresh().unwrap(), 0);
        drop(w);
        let path = Journal::path_in(dir.path());
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"not\": \"an entry\"}\n").unwrap();
        let e = Journal::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("journal.jsonl"), "{e}");
    }
}
