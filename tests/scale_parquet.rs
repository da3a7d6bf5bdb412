//! `batch --parquet` (feature `parquet`): the file reads back through the Arrow reader
//! with the documented schema and the same rows, in the same order, as the CSV.
#![cfg(feature = "parquet")]

mod scale_util;

use arrow_array::{Array, Float64Array, ListArray, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use reescan::scale::{results_schema, WT_PCT_ELEMENTS};
use scale_util::{ok, reescan, write_manifest, write_scans};

fn column<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> &'a T {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

#[test]
fn parquet_rows_match_the_csv_with_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    write_scans(dir.path());
    let manifest = write_manifest(dir.path(), 12);
    let (csv, pq) = (dir.path().join("r.csv"), dir.path().join("r.parquet"));
    ok(reescan()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(&csv)
        .arg("--parquet")
        .arg(&pq));
    let file = std::fs::File::open(&pq).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    assert_eq!(reader.schema().fields(), results_schema().fields());
    let batches: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 12);
    let b = &batches[0];
    let mut records = csv::Reader::from_path(&csv).unwrap();
    for (i, rec) in records.records().enumerate() {
        let rec = rec.unwrap();
        assert_eq!(column::<StringArray>(b, "scan_id").value(i), &rec[0]);
        assert_eq!(column::<StringArray>(b, "verdict").value(i), &rec[2]);
        let ree = column::<ListArray>(b, "ree_elements").value(i);
        let ree = ree.as_any().downcast_ref::<StringArray>().unwrap();
        let joined: Vec<&str> = (0..ree.len()).map(|j| ree.value(j)).collect();
        assert_eq!(joined.join(";"), &rec[5]);
        let sha = column::<StringArray>(b, "xrf_sha256");
        assert_eq!(if sha.is_null(i) { "" } else { sha.value(i) }, &rec[10]);
    }
    // The NdFeB-spiked iron ore (row 2) carries Nd in its wt % column, and the
    // per-element columns sum to no more than 100 %.
    let nd = column::<Float64Array>(b, "wt_pct_Nd");
    assert!(
        !nd.is_null(2) && nd.value(2) > 0.0,
        "Nd wt % of the NdFeB row"
    );
    let total: f64 = WT_PCT_ELEMENTS
        .iter()
        .map(|el| column::<Float64Array>(b, &format!("wt_pct_{el}")))
        .filter(|c| !c.is_null(2))
        .map(|c| c.value(2))
        .sum();
    assert!(total > 0.0 && total <= 100.5, "sum of wt % columns {total}");
    // ERROR rows (corrupt / missing scan) have no wt % values.
    assert_eq!(column::<StringArray>(b, "verdict").value(3), "ERROR");
    assert!(column::<Float64Array>(b, "wt_pct_Fe").is_null(3));
}
