//! `reescan serve`'s queue page over a journal of 10,000 decisions, served in process
//! through the router (`tower::ServiceExt::oneshot`): the first page (200 rows, newest
//! first, each scan once), a filtered page, the JSON API's first 200 rows, and a scan's
//! page without plots (its files are not there, so nothing is analysed again).
//!
//! ```text
//! cargo bench --bench serve
//! ```
//!
//! The journal is written with the journal API (`JournalWriter::append`, one `fsync` each),
//! every entry carrying the full result of a real screened sample (S002, ~7 kB of JSON),
//! 10,000 entries, every eleventh a re-scan of the scan ten entries before it (so 9,091
//! scans are current).
//!
//! Figures (6 Dec 2026, the shared 2-core VM at load ~6, release; criterion medians):
//! queue page 1 18.7 ms, page 20 17.5 ms, filtered (HOLD, zirconium) 14.3 ms,
//! `/api/scans` (200 rows) 17.1 ms, a scan page without its files 0.13 ms.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use reescan::screen::{Input, Rules, Screener, Verdict};
use reescan::serve::{App, ServeConfig, Setup};
use reescan::station::{Entry, InputFile, JournalWriter, Role};
use serde_json::value::RawValue;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

const ENTRIES: usize = 10_000;

fn journal(dir: &Path, screener: &Screener) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("spectra/synthetic");
    let (msa, xy) = (root.join("S002.msa"), root.join("S002.xy"));
    let r = screener.screen_or_error(
        "S002",
        "iron-ore",
        Some(Input {
            path: &msa,
            shown: "S002.msa",
        }),
        Some(Input {
            path: &xy,
            shown: "S002.xy",
        }),
    );
    let json = serde_json::to_string(&r).unwrap();
    let mut w = JournalWriter::acquire(dir).unwrap();
    let verdicts = [
        Verdict::Clear,
        Verdict::Inspect,
        Verdict::Hold,
        Verdict::Error,
    ];
    let commodities = ["iron-ore", "zirconium", "ceramics"];
    let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
    let mut seq_of = std::collections::HashMap::new();
    for i in 0..ENTRIES {
        // Every eleventh entry re-scans the scan ten entries before it.
        let id = if i % 11 == 10 {
            format!("S{:05}", i - 10)
        } else {
            format!("S{i:05}")
        };
        let at = t0 + chrono::Duration::seconds(30 * i as i64);
        let e = Entry {
            seq: 0,
            scan_id: id.clone(),
            declared: Some(commodities[i % 3].into()),
            declared_in: format!("{id}.json"),
            inputs: vec![InputFile {
                role: Role::Xrf,
                file: format!("{id}.msa"),
                sha256: format!("{i:064x}"),
                bytes: 80_000,
            }],
            arrived: at,
            analysed: at + chrono::Duration::seconds(2),
            verdict: verdicts[i % 4],
            supersedes: seq_of.get(&id).copied(),
            csv: format!("{id},iron-ore,{}\n", verdicts[i % 4]),
            result: RawValue::from_string(json.clone()).unwrap(),
        };
        let seq = w.append(e).unwrap().seq;
        seq_of.insert(id, seq);
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let screener = Screener::new(
        Arc::new(Rules::builtin().clone()),
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    );
    journal(dir.path(), &screener);
    let app = App::new(Setup {
        dir: dir.path().to_path_buf(),
        screener,
        follow_today: false,
        rules_path: None,
        instrument_path: None,
        token: None,
        listen: reescan::serve::DEFAULT_LISTEN.parse().unwrap(),
        config: ServeConfig::default(),
    })
    .unwrap();
    let router = app.router();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |path: &str| {
        let req = Request::get(path)
            .header("host", "127.0.0.1:8640")
            .body(Body::empty())
            .unwrap();
        let r = rt.block_on(router.clone().oneshot(req)).unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        rt.block_on(axum::body::to_bytes(r.into_body(), usize::MAX))
            .unwrap()
    };
    let first = get("/");
    let rows = String::from_utf8_lossy(&first)
        .matches("data-scan-id=")
        .count();
    assert_eq!(rows, 200, "one page of rows");
    let mut g = c.benchmark_group("serve_10k_journal");
    g.bench_function("queue_page_1", |b| b.iter(|| get("/")));
    g.bench_function("queue_page_20", |b| b.iter(|| get("/?page=20")));
    g.bench_function("queue_filtered_hold_zirconium", |b| {
        b.iter(|| get("/?verdict=HOLD&declared=zirconium"))
    });
    g.bench_function("api_scans_200", |b| b.iter(|| get("/api/scans")));
    g.bench_function("scan_page_without_files", |b| {
        b.iter(|| get("/scans/S09997"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
