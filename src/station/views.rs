//! The results CSV and JSONL of a station, derived from its journal: line *i* of a view is
//! entry *i*'s line (after the CSV header), so a view always agrees with the journal.
//!
//! On start a view is brought in line with the journal: appended to when it is a prefix
//! of what the journal says (the usual state after a crash between the journal's `fsync`
//! and the view's write; a torn last line is cut off), rewritten atomically when it is
//! out of order, and refused when it holds lines the journal does not (a file from
//! another run: never overwritten).

use crate::scale::AtomicFile;
use crate::{Error, Result};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What opening a view had to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// The file was absent or empty and was written from the journal.
    Created,
    /// The file already said what the journal says.
    Current,
    /// Lines the file lacked were appended (a torn last line cut off first).
    Appended(usize),
    /// The file was rewritten from the journal.
    Rewritten,
}

/// A results file open for appending, in step with the journal.
#[derive(Debug)]
pub struct View {
    path: PathBuf,
    out: File,
}

impl View {
    /// Bring `path` in line with `header` (if any) followed by `lines` (each
    /// `\n`-terminated) and open it for appending.
    ///
    /// # Errors
    /// I/O failures; a file that is not a results file of this kind (its first line is
    /// not `header`) or holds lines the journal lacks.
    pub fn open(path: &Path, header: Option<&str>, lines: &[&str]) -> Result<(View, Sync)> {
        let io = |e: std::io::Error| Error::Io(e).in_file(path);
        let expected: Vec<&str> = header.into_iter().chain(lines.iter().copied()).collect();
        let existing = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        if let Some(h) = header {
            let n = existing.len().min(h.len());
            if existing[..n] != h.as_bytes()[..n] {
                return Err(refuse(
                    path,
                    "its first line is not the reescan results header; refusing to replace it"
                        .into(),
                ));
            }
        }
        let valid_len = existing
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let complete: Vec<&[u8]> = existing[..valid_len]
            .split_inclusive(|&b| b == b'\n')
            .collect();
        let in_step = complete.len() <= expected.len()
            && complete
                .iter()
                .zip(&expected)
                .all(|(have, want)| *have == want.as_bytes());
        if in_step {
            let mut out = OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .map_err(io)?;
            if existing.len() > valid_len {
                out.set_len(valid_len as u64).map_err(io)?;
            }
            let missing = &expected[complete.len()..];
            out.write_all(missing.concat().as_bytes()).map_err(io)?;
            let sync = if existing.is_empty() {
                Sync::Created
            } else if missing.is_empty() && existing.len() == valid_len {
                Sync::Current
            } else {
                Sync::Appended(missing.len())
            };
            return Ok((
                View {
                    path: path.to_path_buf(),
                    out,
                },
                sync,
            ));
        }
        let known: HashSet<&[u8]> = expected.iter().map(|l| l.as_bytes()).collect();
        let foreign = complete.iter().filter(|l| !known.contains(*l)).count();
        if foreign > 0 {
            return Err(refuse(
                path,
                format!(
                    "it holds {foreign} line(s) that are not in the station journal (another \
                     run's results?); move it aside and restart, the station writes it anew \
                     from its journal"
                ),
            ));
        }
        let mut file = AtomicFile::create(path)?;
        file.write_all(expected.concat().as_bytes()).map_err(io)?;
        file.commit()?;
        let out = OpenOptions::new().append(true).open(path).map_err(io)?;
        Ok((
            View {
                path: path.to_path_buf(),
                out,
            },
            Sync::Rewritten,
        ))
    }

    /// Append one `\n`-terminated line (one write).
    ///
    /// # Errors
    /// I/O failure, naming the file.
    pub fn append(&mut self, line: &str) -> Result<()> {
        self.out
            .write_all(line.as_bytes())
            .map_err(|e| Error::Io(e).in_file(&self.path))
    }
}

fn refuse(path: &Path, message: String) -> Error {
    Error::Invalid {
        what: "results file",
        message,
    }
    .in_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_completed_a_torn_line_cut_and_foreign_lines_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let lines = ["a,1\n", "b,2\n", "c,3\n"];
        std::fs::write(&p, "h\na,1\nb,").unwrap();
        let (mut v, sync) = View::open(&p, Some("h\n"), &lines).unwrap();
        assert_eq!(sync, Sync::Appended(2));
        v.append("d,4\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "h\na,1\nb,2\nc,3\nd,4\n"
        );
        drop(v);
        let all = ["a,1\n", "b,2\n", "c,3\n", "d,4\n"];
        assert_eq!(View::open(&p, Some("h\n"), &all).unwrap().1, Sync::Current);
        let fresh = dir.path().join("new.csv");
        assert_eq!(
            View::open(&fresh, Some("h\n"), &all).unwrap().1,
            Sync::Created
        );
        assert_eq!(
            std::fs::read_to_string(&fresh).unwrap(),
            "h\na,1\nb,2\nc,3\nd,4\n"
        );
        // Out of order but nothing foreign: rewritten from the journal.
        std::fs::write(&p, "h\nb,2\na,1\n").unwrap();
        assert_eq!(
            View::open(&p, Some("h\n"), &all).unwrap().1,
            Sync::Rewritten
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "h\na,1\nb,2\nc,3\nd,4\n"
        );
        // A line the journal lacks: refused, file untouched.
        std::fs::write(&p, "h\nz,9\n").unwrap();
        let e = View::open(&p, Some("h\n"), &all).unwrap_err().to_string();
        assert!(e.contains("1 line(s)") && e.contains("r.csv"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "h\nz,9\n");
        std::fs::write(&p, "name,age\n").unwrap();
        let e = View::open(&p, Some("h\n"), &all).unwrap_err().to_string();
        assert!(e.contains("header"), "{e}");
    }
}
