//! Joining shard outputs back into one file in manifest order (`reescan merge`).
//!
//! Shard K of N holds manifest rows K, K+N, K+2N, … in that order, so manifest row i
//! is record i div N of shard i mod N, and the merged file is the round-robin
//! interleave of the shards: record 0 of shards 0..N-1, then record 1 of each, … .
//! Records are copied byte for byte (CSV records are split at line ends outside
//! quotes, so quoted newlines survive), which makes the merge of N shard files
//! byte-identical to the output of one unsharded run.
//!
//! A shard is *present* when its final name `X.shard-KKKKK-of-NNNNN.EXT` exists
//! (writers rename complete files into place; temporaries never match the pattern).
//! Round-robin also fixes how many records each shard must hold: counts never grow
//! with K and differ by at most one. A set that breaks this (a shard from another
//! manifest, a file cut short by hand) is rejected, naming the shard.

use super::atomic::AtomicFile;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// How records are delimited in a shard file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// CSV with one header record (RFC 4180 quoting).
    Csv,
    /// One JSON object per line, no header.
    Jsonl,
}

impl RecordFormat {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            RecordFormat::Csv => "csv",
            RecordFormat::Jsonl => "jsonl",
        }
    }
}

/// The shard files found for one prefix and extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardSet {
    /// `X` in `X.shard-KKKKK-of-NNNNN.EXT`.
    pub prefix: PathBuf,
    /// The extension (`csv`, `jsonl`, `parquet`).
    pub extension: String,
    /// N.
    pub count: usize,
    /// Present shards: K → file.
    pub files: BTreeMap<usize, PathBuf>,
}

impl ShardSet {
    /// Shard indices 0..N-1 with no final file.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.count)
            .filter(|k| !self.files.contains_key(k))
            .collect()
    }

    /// The file name shard `k` should have.
    pub fn expected_path(&self, k: usize) -> PathBuf {
        let name = self
            .prefix
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = format!(
            "{name}.shard-{k:05}-of-{:05}.{}",
            self.count, self.extension
        );
        self.prefix.with_file_name(file)
    }
}

/// Find `prefix.shard-KKKKK-of-NNNNN.ext` files. `Ok(None)` when there are none.
///
/// # Errors
/// The folder cannot be read, or files for two different N are present
/// (the message lists them so the stale set can be removed).
pub fn find_shards(prefix: &Path, extension: &str) -> Result<Option<ShardSet>> {
    let dir = match prefix.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = prefix
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::from(e).in_file(&dir))?;
    let mut by_count: BTreeMap<usize, BTreeMap<usize, PathBuf>> = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((k, n)) = parse_shard_name(&name, &stem, extension) {
            by_count.entry(n).or_default().insert(k, entry.path());
        }
    }
    if by_count.len() > 1 {
        let sets: Vec<String> = by_count
            .iter()
            .map(|(n, files)| format!("N={n} ({} files)", files.len()))
            .collect();
        return Err(Error::Invalid {
            what: "shard set",
            message: format!(
                "{}.shard-*.{extension}: files from runs with different shard counts: {}; \
                 remove the stale ones",
                prefix.display(),
                sets.join(", ")
            ),
        });
    }
    Ok(by_count.into_iter().next().map(|(count, files)| ShardSet {
        prefix: prefix.to_path_buf(),
        extension: extension.to_string(),
        count,
        files,
    }))
}

/// Parse `STEM.shard-KKKKK-of-NNNNN.EXT` → (K, N); exactly five digits each, K < N.
pub fn parse_shard_name(name: &str, stem: &str, extension: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix(stem)?.strip_prefix(".shard-")?;
    let middle = rest.strip_suffix(extension)?.strip_suffix('.')?;
    let (k, n) = middle.split_once("-of-")?;
    let five = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !five(k) || !five(n) {
        return None;
    }
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (k < n).then_some((k, n))
}

/// Interleave a complete shard set into `out` (written atomically); returns the
/// number of data records.
///
/// # Errors
/// A shard is missing (call [`ShardSet::missing`] first for a friendly report),
/// CSV headers differ, or record counts are not those of a round-robin split.
pub fn merge_set(set: &ShardSet, format: RecordFormat, out: &Path) -> Result<usize> {
    let missing = set.missing();
    if !missing.is_empty() {
        return Err(Error::Invalid {
            what: "shard set",
            message: format!("missing shards {missing:?} of {}", set.count),
        });
    }
    let mut readers = Vec::with_capacity(set.count);
    for path in set.files.values() {
        let file = File::open(path).map_err(|e| Error::from(e).in_file(path))?;
        readers.push(RecordReader::new(
            BufReader::with_capacity(1 << 16, file),
            format,
            path,
        ));
    }
    let mut sink = AtomicFile::create(out)?;
    let io = |e: std::io::Error| Error::from(e).in_file(out);
    if format == RecordFormat::Csv {
        write_header(&mut readers, &mut sink)?;
    }
    let rows = interleave(&mut readers, &mut sink, out)?;
    sink.flush().map_err(io)?;
    sink.commit()?;
    Ok(rows)
}

fn write_header(readers: &mut [RecordReader], sink: &mut AtomicFile) -> Result<()> {
    let mut first: Option<Vec<u8>> = None;
    for r in readers.iter_mut() {
        let header = r
            .next_record()?
            .ok_or_else(|| r.error("empty file (no CSV header)"))?;
        match &first {
            None => first = Some(header),
            Some(h) if *h != header => {
                return Err(r.error("CSV header differs from shard 0's"));
            }
            Some(_) => {}
        }
    }
    let header = first.unwrap_or_default();
    sink.write_all(&header)
        .map_err(|e| Error::from(e).in_file(sink.dest()))
}

/// Round-robin copy; checks the round-robin record counts on the way.
fn interleave(readers: &mut [RecordReader], sink: &mut AtomicFile, out: &Path) -> Result<usize> {
    let mut rows = 0;
    loop {
        let mut ended_at = None;
        for (k, r) in readers.iter_mut().enumerate() {
            match (r.next_record()?, ended_at) {
                (Some(rec), None) => {
                    sink.write_all(&rec)
                        .map_err(|e| Error::from(e).in_file(out))?;
                    rows += 1;
                }
                (None, None) => ended_at = Some(k),
                (Some(_), Some(j)) => {
                    return Err(r.error(&format!(
                        "holds more records than shard {j}: not a round-robin split of \
                         the same manifest (stale or foreign shard file?)"
                    )))
                }
                (None, Some(_)) => {}
            }
        }
        if let Some(j) = ended_at {
            // Shards before j delivered their last record in this round.
            for r in readers[..j].iter_mut() {
                if r.next_record()?.is_some() {
                    return Err(r.error(&format!(
                        "holds two or more records more than shard {j}: not a round-robin \
                         split of the same manifest (stale or foreign shard file?)"
                    )));
                }
            }
            return Ok(rows);
        }
    }
}

/// Reads whole records, bytes untouched (line end included).
struct RecordReader {
    input: BufReader<File>,
    format: RecordFormat,
    path: PathBuf,
}

impl RecordReader {
    fn new(input: BufReader<File>, format: RecordFormat, path: &Path) -> RecordReader {
        RecordReader {
            input,
            format,
            path: path.to_path_buf(),
        }
    }

    /// The next record with its line end, `None` at end of file. A final record
    /// without a line end gets one, so that records never run together.
    fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        let mut record = Vec::new();
        loop {
            let n = self
                .input
                .read_until(b'\n', &mut record)
                .map_err(|e| Error::from(e).in_file(&self.path))?;
            if n == 0 {
                break;
            }
            let open_quote = self.format == RecordFormat::Csv
                && record.iter().filter(|&&b| b == b'"').count() % 2 == 1;
            if !open_quote && record.ends_with(b"\n") {
                return Ok(Some(record));
            }
        }
        if record.is_empty() {
            return Ok(None);
        }
        if self.format == RecordFormat::Csv
            && record.iter().filter(|&&b| b == b'"').count() % 2 == 1
        {
            return Err(self.error("ends inside a quoted CSV field (file cut short?)"));
        }
        record.push(b'\n');
        Ok(Some(record))
    }

    fn error(&self, message: &str) -> Error {
        Error::Invalid {
            what: "shard file",
            message: format!("{}: {message}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_need_five_digits_and_k_below_n() {
        assert_eq!(
            parse_shard_name("r.shard-00003-of-00008.csv", "r", "csv"),
            Some((3, 8))
        );
        assert_eq!(parse_shard_name("r.shard-3-of-8.csv", "r", "csv"), None);
        assert_eq!(
            parse_shard_name("r.shard-00008-of-00008.csv", "r", "csv"),
            None
        );
        assert_eq!(
            parse_shard_name("r.shard-00003-of-00008.jsonl", "r", "csv"),
            None
        );
        assert_eq!(
            parse_shard_name(".r.shard-00003-of-00008.csv.tmp-1-0", "r", "csv"),
            None
        );
        assert_eq!(
            parse_shard_name("rr.shard-00003-of-00008.csv", "r", "csv"),
            None
        );
    }

    #[test]
    fn quoted_newlines_stay_inside_one_record() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "h1,h2\n1,\"two\nlines, \"\"quoted\"\"\"\n2,x").unwrap();
        let f = BufReader::new(File::open(&p).unwrap());
        let mut r = RecordReader::new(f, RecordFormat::Csv, &p);
        assert_eq!(r.next_record().unwrap().unwrap(), b"h1,h2\n");
        assert_eq!(
            r.next_record().unwrap().unwrap(),
            b"1,\"two\nlines, \"\"quoted\"\"\"\n".to_vec()
        );
        assert_eq!(r.next_record().unwrap().unwrap(), b"2,x\n");
        assert_eq!(r.next_record().unwrap(), None);
    }
}
