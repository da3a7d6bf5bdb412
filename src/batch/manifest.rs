//! The batch manifest (SPEC "Batch manifest"): CSV with a header naming at least
//! `scan_id` and `declared`, and `xrf` and/or `xrd`; extra columns are ignored; paths are
//! relative to the manifest's folder. Rows are streamed, never all held in memory.

use crate::{Error, Result};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// One manifest row.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestRow {
    /// 0-based data-row index (header excluded): the sharding key.
    pub index: usize,
    /// 1-based line number in the file, for messages.
    pub line: u64,
    /// Scan id.
    pub scan_id: String,
    /// Declared commodity.
    pub declared: String,
    /// XRF path as written.
    pub xrf: Option<String>,
    /// XRD path as written.
    pub xrd: Option<String>,
    /// A problem with the row itself (e.g. unreadable CSV); the row becomes an ERROR row.
    pub problem: Option<String>,
}

impl ManifestRow {
    /// Resolve a manifest path against the manifest's folder.
    pub fn resolve(base: &Path, rel: &str) -> PathBuf {
        let p = Path::new(rel);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    }
}

/// The files of an `xrf` entry (manifest column, sidecar, `scan --xrf`): several,
/// `;`-separated, are the beams of one multi-beam assay (SPEC), in order.
pub fn xrf_files(list: &str) -> impl Iterator<Item = &str> {
    list.split(';').map(str::trim).filter(|f| !f.is_empty())
}

/// Column positions found in the header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    scan_id: usize,
    declared: usize,
    xrf: Option<usize>,
    xrd: Option<usize>,
}

/// A streaming manifest reader.
pub struct Manifest {
    reader: csv::Reader<BufReader<File>>,
    cols: Columns,
    base: PathBuf,
    next_index: usize,
    record: csv::StringRecord,
}

impl Manifest {
    /// Open a manifest and check its header.
    ///
    /// # Errors
    /// Unreadable file, or a header lacking `scan_id`, `declared`, or both `xrf` and `xrd`.
    pub fn open(path: &Path) -> Result<Manifest> {
        let file = File::open(path).map_err(|e| Error::Io(e).in_file(path))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        let header = reader
            .headers()
            .map_err(|e| Error::parse("manifest", e.to_string()).in_file(path))?
            .clone();
        let cols = columns(&header).map_err(|e| e.in_file(path))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Manifest {
            reader,
            cols,
            base,
            next_index: 0,
            record: csv::StringRecord::new(),
        })
    }

    /// The folder manifest paths are relative to.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Count the data rows of a manifest (one streaming pass).
    ///
    /// # Errors
    /// As [`Manifest::open`].
    pub fn count_rows(path: &Path) -> Result<usize> {
        let mut m = Manifest::open(path)?;
        let mut n = 0;
        let mut rec = csv::ByteRecord::new();
        while let Ok(true) = m.reader.read_byte_record(&mut rec) {
            n += 1;
        }
        Ok(n)
    }
}

impl Iterator for Manifest {
    type Item = ManifestRow;

    fn next(&mut self) -> Option<ManifestRow> {
        let index = self.next_index;
        let result = self.reader.read_record(&mut self.record);
        let line = self.reader.position().line();
        let row = match result {
            Ok(false) => return None,
            Ok(true) => row_from(&self.record, self.cols, index, line),
            Err(e) => {
                // A broken record (bad UTF-8, I/O): keep going with an ERROR row unless the
                // reader cannot advance at all.
                if e.is_io_error() {
                    return None;
                }
                ManifestRow {
                    index,
                    line,
                    scan_id: format!("line-{line}"),
                    declared: String::new(),
                    xrf: None,
                    xrd: None,
                    problem: Some(format!("Manifest line {line} cannot be read: {e}.")),
                }
            }
        };
        self.next_index += 1;
        Some(row)
    }
}

fn columns(header: &csv::StringRecord) -> Result<Columns> {
    let find = |name: &str| {
        header.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let missing = |name: &str| {
        Error::parse(
            "manifest",
            format!(
                "the header has no '{name}' column (expected scan_id,declared,xrf,xrd; found {})",
                header.iter().collect::<Vec<_>>().join(",")
            ),
        )
    };
    let cols = Columns {
        scan_id: find("scan_id").ok_or_else(|| missing("scan_id"))?,
        declared: find("declared").ok_or_else(|| missing("declared"))?,
        xrf: find("xrf"),
        xrd: find("xrd"),
    };
    if cols.xrf.is_none() && cols.xrd.is_none() {
        return Err(missing("xrf' or 'xrd"));
    }
    Ok(cols)
}

fn row_from(rec: &csv::StringRecord, cols: Columns, index: usize, line: u64) -> ManifestRow {
    let field = |i: Option<usize>| {
        i.and_then(|i| rec.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let scan_id = field(Some(cols.scan_id));
    let problem = scan_id
        .is_none()
        .then(|| format!("Manifest line {line} has no scan_id."));
    ManifestRow {
        index,
        line,
        scan_id: scan_id.unwrap_or_else(|| format!("line-{line}")),
        declared: field(Some(cols.declared)).unwrap_or_default(),
        xrf: field(cols.xrf),
        xrd: field(cols.xrd),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_rows_ignoring_extra_columns_and_order() {
        let (_d, p) =
            manifest("note,xrd,declared,scan_id,xrf\nx,,iron-ore,S1,a.msa\ny,b.xy,zirconium,S2,\n");
        let rows: Vec<_> = Manifest::open(&p).unwrap().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].scan_id, "S1");
        assert_eq!(rows[0].xrf.as_deref(), Some("a.msa"));
        assert_eq!(rows[0].xrd, None);
        assert_eq!(rows[1].xrd.as_deref(), Some("b.xy"));
        assert_eq!(rows[1].index, 1);
        assert_eq!(Manifest::count_rows(&p).unwrap(), 2);
    }

    #[test]
    fn missing_header_column_is_named() {
        let (_d, p) = manifest("id,declared,xrf\nS1,iron-ore,a.msa\n");
        let e = Manifest::open(&p).err().unwrap().to_string();
        assert!(e.contains("scan_id") && e.contains("m.csv"), "{e}");
    }

    #[test]
    fn short_rows_and_blank_ids_become_problem_rows() {
        let (_d, p) = manifest("scan_id,declared,xrf,xrd\nS1\n,iron-ore,a.msa,\n");
        let rows: Vec<_> = Manifest::open(&p).unwrap().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].scan_id, "S1");
        assert!(rows[0].problem.is_none() && rows[0].xrf.is_none());
        assert!(rows[1].problem.as_deref().unwrap().contains("no scan_id"));
    }
}
