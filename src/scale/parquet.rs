//! Columnar results (`batch --parquet RESULTS.parquet`) for archive analytics in
//! DuckDB, Spark, pandas/pyarrow. Built only with `--features parquet`.
//!
//! Schema: the SPEC result columns in SPEC order — `scan_id, declared, verdict` (UTF-8),
//! `risk` (float64), `ree_wt_pct` (float64, null without XRF), `ree_elements,
//! controlled_elements, phases, mismatch, reasons` (list<utf8>, strongest first, as the
//! JSONL arrays), `xrf_sha256, xrd_sha256` (UTF-8, null when absent) — then one float64
//! column `wt_pct_<El>` per element of [`WT_PCT_ELEMENTS`] (the rare earths Sc, Y,
//! La–Lu, then the major and carrier elements of the declared commodities), null when
//! the element was not quantified. Snappy compression, row groups of 65 536 rows, so a
//! writer holds at most one row group in memory however long the manifest.
//!
//! The file is written through [`AtomicFile`]: it appears under its name only once
//! [`ParquetWriter::finish`] has written the footer.

use super::atomic::AtomicFile;
use crate::error::{Error, Result};
use crate::screen::ScreeningResult;
use arrow_array::builder::{Float64Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Elements with a fixed `wt_pct_<El>` column, in column order: the rare earths
/// (Sc, Y, La–Lu; Connelly et al., IUPAC Red Book 2005) then the majors and carriers of
/// iron ore, zircon, ceramics and rare-earth ores (see DOMAIN.md).
pub const WT_PCT_ELEMENTS: &[&str] = &[
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu", // rare earths
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "K", "Ca", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni",
    "Cu", "Zn", "Sr", "Zr", "Nb", "Mo", "Sn", "Ba", "Hf", "Ta", "W", "Pb", "Th",
    "U", // majors, carriers, radioactive companions
];

/// Rows buffered before they become one Arrow record batch.
const BATCH_ROWS: usize = 8192;
/// Rows per Parquet row group (bounds the writer's memory).
const ROW_GROUP_ROWS: usize = 65_536;

/// The Arrow schema of the results file (see the module docs).
pub fn results_schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let list = |name: &str| {
        let item = Arc::new(Field::new_list_field(DataType::Utf8, true));
        Field::new(name, DataType::List(item), false)
    };
    let mut fields = vec![
        text("scan_id", false),
        text("declared", false),
        text("verdict", false),
        Field::new("risk", DataType::Float64, false),
        Field::new("ree_wt_pct", DataType::Float64, true),
        list("ree_elements"),
        list("controlled_elements"),
        list("phases"),
        list("mismatch"),
        list("reasons"),
        text("xrf_sha256", true),
        text("xrd_sha256", true),
    ];
    fields.extend(
        WT_PCT_ELEMENTS
            .iter()
            .map(|el| Field::new(format!("wt_pct_{el}"), DataType::Float64, true)),
    );
    Arc::new(Schema::new(fields))
}

/// Streams [`ScreeningResult`] rows into a Parquet file.
pub struct ParquetWriter {
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<AtomicFile>,
    columns: Columns,
    rows: usize,
}

impl ParquetWriter {
    /// Start writing `path` (atomically: nothing appears there before `finish`).
    ///
    /// # Errors
    /// The folder is missing or not writable.
    pub fn new(path: &Path) -> Result<ParquetWriter> {
        let schema = results_schema();
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_size(ROW_GROUP_ROWS)
            .set_created_by(format!("reescan {}", env!("CARGO_PKG_VERSION")))
            .build();
        let file = AtomicFile::create(path)?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| parquet_error(path, e))?;
        Ok(ParquetWriter {
            path: path.to_path_buf(),
            schema,
            writer,
            columns: Columns::default(),
            rows: 0,
        })
    }

    /// Append one result row.
    ///
    /// # Errors
    /// Writing a full row batch failed (disk full, ...).
    pub fn write(&mut self, row: &ScreeningResult) -> Result<()> {
        self.columns.push(row);
        self.rows += 1;
        if self.columns.len >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Append many rows.
    ///
    /// # Errors
    /// As [`ParquetWriter::write`].
    pub fn write_all<'a>(
        &mut self,
        rows: impl IntoIterator<Item = &'a ScreeningResult>,
    ) -> Result<()> {
        rows.into_iter().try_for_each(|r| self.write(r))
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Write the footer and move the file to its final name; returns the row count.
    ///
    /// # Errors
    /// Any write failure (the final name is then left untouched).
    pub fn finish(mut self) -> Result<usize> {
        self.flush_batch()?;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| parquet_error(&self.path, e))?;
        file.commit()?;
        Ok(self.rows)
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.columns.len == 0 {
            return Ok(());
        }
        let arrays = self.columns.finish();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| parquet_error(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| parquet_error(&self.path, e))
    }
}

/// Column builders for the rows not yet handed to the writer.
struct Columns {
    len: usize,
    scan_id: StringBuilder,
    declared: StringBuilder,
    verdict: StringBuilder,
    risk: Float64Builder,
    ree_wt_pct: Float64Builder,
    lists: [ListBuilder<StringBuilder>; 5],
    xrf_sha256: StringBuilder,
    xrd_sha256: StringBuilder,
    wt_pct: Vec<Float64Builder>,
}

impl Default for Columns {
    fn default() -> Columns {
        Columns {
            len: 0,
            scan_id: StringBuilder::new(),
            declared: StringBuilder::new(),
            verdict: StringBuilder::new(),
            risk: Float64Builder::new(),
            ree_wt_pct: Float64Builder::new(),
            lists: std::array::from_fn(|_| ListBuilder::new(StringBuilder::new())),
            xrf_sha256: StringBuilder::new(),
            xrd_sha256: StringBuilder::new(),
            wt_pct: WT_PCT_ELEMENTS
                .iter()
                .map(|_| Float64Builder::new())
                .collect(),
        }
    }
}

impl Columns {
    fn push(&mut self, row: &ScreeningResult) {
        self.len += 1;
        self.scan_id.append_value(&row.scan_id);
        self.declared.append_value(&row.declared);
        self.verdict.append_value(row.verdict.as_str());
        self.risk.append_value(row.risk);
        self.ree_wt_pct.append_option(row.ree_wt_pct);
        let lists = [
            &row.ree_elements,
            &row.controlled_elements,
            &row.phases,
            &row.mismatch,
            &row.reasons,
        ];
        for (builder, values) in self.lists.iter_mut().zip(lists) {
            for v in values {
                builder.values().append_value(v);
            }
            builder.append(true);
        }
        self.xrf_sha256.append_option(row.xrf_sha256.as_deref());
        self.xrd_sha256.append_option(row.xrd_sha256.as_deref());
        let elements = row
            .xrf
            .as_ref()
            .map(|x| x.elements.as_slice())
            .unwrap_or(&[]);
        for (builder, symbol) in self.wt_pct.iter_mut().zip(WT_PCT_ELEMENTS) {
            let wt = elements
                .iter()
                .find(|e| e.symbol == *symbol)
                .map(|e| e.wt_pct);
            builder.append_option(wt);
        }
    }

    fn finish(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(self.scan_id.finish()),
            Arc::new(self.declared.finish()),
            Arc::new(self.verdict.finish()),
            Arc::new(self.risk.finish()),
            Arc::new(self.ree_wt_pct.finish()),
        ];
        arrays.extend(
            self.lists
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        arrays.push(Arc::new(self.xrf_sha256.finish()));
        arrays.push(Arc::new(self.xrd_sha256.finish()));
        arrays.extend(
            self.wt_pct
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        arrays
    }
}

fn parquet_error(path: &Path, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Io(std::io::Error::other(e)).in_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::Verdict;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn row(i: usize) -> ScreeningResult {
        ScreeningResult {
            scan_id: format!("S{i:05}"),
            declared: "iron-ore".into(),
            verdict: if i % 2 == 0 {
                Verdict::Clear
            } else {
                Verdict::Hold
            },
            risk: i as f64 / 10.0,
            ree_wt_pct: (i % 3 != 0).then_some(1.5),
            ree_elements: vec!["Nd".into(), "La".into()],
            controlled_elements: vec![],
            phases: vec!["hematite".into()],
            mismatch: vec![],
            reasons: vec!["a, \"quoted\" reason".into()],
            xrf_sha256: Some("ab".repeat(32)),
            xrd_sha256: None,
            xrf: None,
            xrd: None,
            xrf_beams: None,
        }
    }

    #[test]
    fn rows_round_trip_through_the_parquet_footer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.parquet");
        let mut w = ParquetWriter::new(&path).unwrap();
        let rows: Vec<_> = (0..10_000).map(row).collect();
        w.write_all(&rows).unwrap();
        assert!(!path.exists(), "visible before finish");
        assert_eq!(w.finish().unwrap(), 10_000);
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.num_rows(), 10_000);
        let names: Vec<_> = meta
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        assert_eq!(&names[..4], ["scan_id", "declared", "verdict", "risk"]);
        assert_eq!(names.len(), 12 + WT_PCT_ELEMENTS.len());
        assert!(names.contains(&"wt_pct_Nd".to_string()));
    }

    #[test]
    fn an_unfinished_writer_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.parquet");
        {
            let mut w = ParquetWriter::new(&path).unwrap();
            w.write(&row(1)).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
