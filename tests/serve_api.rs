//! `reescan serve` through its JSON API and event stream: the real binary on a loopback
//! port, scans dropped into its folder, and the verdicts it lists compared with what
//! `reescan batch --full` (the station's analysis) gives for the same files. Every
//! dropped scan must be listed exactly once (a scan's current decision), 100 scans
//! dropped at once included.

mod serve_support;

use serve_support::{batch_verdicts, drop_scans, http, multipart, Drop, Server};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

/// Scan id → verdict as the API lists them; fails on a scan listed twice.
fn listed(scans: &[serde_json::Value]) -> HashMap<String, String> {
    let mut seen = HashMap::new();
    for s in scans {
        let id = s["scan_id"].as_str().unwrap().to_string();
        let v = s["verdict"].as_str().unwrap().to_string();
        assert!(seen.insert(id.clone(), v).is_none(), "{id} listed twice");
    }
    seen
}

#[test]
fn each_dropped_scan_is_listed_once_with_the_verdict_batch_gives() {
    let server = Server::start(&[]);
    let scans: Vec<Drop> = ["S001", "S002", "S003", "S004", "S006", "S008", "S009"]
        .iter()
        .map(|id| Drop::sample(id, id))
        .collect();
    let want = batch_verdicts(&scans);
    assert!(
        want.values().any(|v| v == "HOLD") && want.values().any(|v| v != "HOLD"),
        "the set should hold both outcomes: {want:?}"
    );
    drop_scans(&server.dir, &scans);
    let got = listed(&server.wait_for(scans.len(), Duration::from_secs(120)));
    assert_eq!(got, want, "{}", server.stderr.lock().unwrap());

    // Dropping the same scan again (same bytes, same declaration) decides nothing new.
    drop_scans(&server.dir, &scans[..1]);
    std::thread::sleep(Duration::from_millis(600));
    let again = server.get("/api/scans?limit=1000").json();
    assert_eq!(again["matched"], scans.len());

    // A new declaration for S001 is a re-scan: a second entry, still one row.
    let mut redeclared = scans[0].clone();
    redeclared.declared = "ceramics".into();
    drop_scans(&server.dir, &[redeclared]);
    let t0 = Instant::now();
    let history = loop {
        let h = server.get("/api/scans/S001").json()["history"].clone();
        if h.as_array().unwrap().len() == 2 || t0.elapsed() > Duration::from_secs(60) {
            break h;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(history[0]["declared"], "ceramics");
    assert_eq!(history[0]["supersedes"], history[1]["seq"]);
    let all = server.get("/api/scans?limit=1000").json();
    assert_eq!(all["matched"], scans.len());
    assert_eq!(
        all["scans"][0]["scan_id"], "S001",
        "the re-scan is the newest"
    );
    drop_scans(&server.dir, &scans[..1]);
    let t0 = Instant::now();
    while server.get("/api/scans/S001").json()["history"]
        .as_array()
        .unwrap()
        .len()
        < 3
        && t0.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let back = server.get("/api/scans/S001").json();
    assert_eq!(back["declared"], "iron-ore");
    assert_eq!(
        back["verdict"].as_str(),
        want.get("S001").map(String::as_str)
    );

    // Filters: by verdict, by declared commodity, by id text.
    let holds = server.get("/api/scans?verdict=HOLD").json();
    let n_hold = want.values().filter(|v| *v == "HOLD").count();
    assert_eq!(holds["matched"], n_hold);
    for s in holds["scans"].as_array().unwrap() {
        assert_eq!(s["verdict"], "HOLD");
    }
    let zr = server.get("/api/scans?declared=zirconium").json();
    let ids: Vec<&str> = zr["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scan_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["S006", "S004"], "newest first");
    assert_eq!(
        server.get("/api/scans?q=s00").json()["matched"],
        scans.len()
    );
    assert_eq!(server.get("/api/scans?verdict=MAYBE").status, 400);

    let health = server.get("/health");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["journal_entries"],
        scans.len() + 2,
        "two re-scans of S001"
    );

    // One scan's record: the result and a history of one entry.
    let one = server.get("/api/scans/S002").json();
    assert_eq!(
        one["verdict"].as_str(),
        want.get("S002").map(String::as_str)
    );
    assert_eq!(one["result"]["scan_id"], "S002");
    assert_eq!(one["history"].as_array().unwrap().len(), 1);
    assert_eq!(one["inputs"].as_array().unwrap().len(), 2);

    // The scan page shows the verdict in words, the reasons and the plots.
    let page = server.get("/scans/S002");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains(&format!(">{}</p>", want["S002"])),
        "verdict word"
    );
    for r in one["reasons"].as_array().unwrap() {
        let r = r.as_str().unwrap();
        let shown = r
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(html.contains(&shown), "reason {r:?} not on the page");
    }
    assert_eq!(html.matches("<svg").count(), 2, "XRF and XRD plots inline");
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));

    // The forensic report, HTML and JSON, is rendered on demand from the same files.
    let report = server.get("/scans/S002/report.json");
    assert_eq!(report.status, 200, "{}", report.text());
    let report = report.json();
    assert_eq!(report["item"]["scan_id"], "S002");
    let html = server.get("/scans/S002/report.html");
    assert_eq!(html.status, 200);
    assert!(html.text().contains("<svg"));
    // The raw file, by the name the journal recorded, with the recorded hash.
    let raw = server.get("/scans/S002/files/S002.msa");
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, scans[1].xrf.clone().unwrap());
}

#[test]
fn a_hundred_scans_dropped_at_once_all_appear_once() {
    let server = Server::start(&[]);
    let scans: Vec<Drop> = (0..100)
        .map(|i| Drop::sample(&format!("B{i:03}"), "S009"))
        .collect();
    let want = batch_verdicts(&scans[..1])["B000"].clone();
    drop_scans(&server.dir, &scans);
    let got = listed(&server.wait_for(100, Duration::from_secs(300)));
    assert_eq!(got.len(), 100, "{}", server.stderr.lock().unwrap());
    for s in &scans {
        assert_eq!(got.get(&s.id), Some(&want), "{}", s.id);
    }
    // The queue page lists each once too.
    let page = server.get("/").text();
    assert_eq!(page.matches("data-scan-id=").count(), 100);
}

#[test]
fn a_new_verdict_is_pushed_to_the_open_event_stream() {
    let server = Server::start(&[]);
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "GET /events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut lines = BufReader::new(s).lines();
    let status = lines.next().unwrap().unwrap();
    assert!(status.contains(" 200 "), "{status}");
    drop_scans(&server.dir, &[Drop::sample("LIVE1", "S003")]);
    let t0 = Instant::now();
    let mut events = Vec::new();
    while events.is_empty() && t0.elapsed() < Duration::from_secs(120) {
        let line = lines.next().unwrap().unwrap();
        if let Some(data) = line.strip_prefix("data: ") {
            events.push(serde_json::from_str::<serde_json::Value>(data).unwrap());
        }
    }
    let e = &events[0];
    assert_eq!(e["scan_id"], "LIVE1");
    let api = server.get("/api/scans/LIVE1").json();
    assert_eq!(e["verdict"], api["verdict"]);
    let row = e["row"].as_str().unwrap();
    assert!(row.starts_with("<tr data-scan-id=\"LIVE1\""), "{row}");
    assert!(row.contains(&format!(">{}</span>", api["verdict"].as_str().unwrap())));
}

#[test]
fn an_upload_from_the_form_is_written_declared_and_analysed() {
    let server = Server::start(&[]);
    let token = serve_support::csrf(&server);
    let (msa, xy) = serve_support::sample("S002");
    let (msa, xy) = (
        std::fs::read(msa).unwrap(),
        std::fs::read(xy.unwrap()).unwrap(),
    );
    let (boundary, body) = multipart(&[
        ("csrf", None, token.as_bytes()),
        ("declared", None, b"iron-ore"),
        ("scan_id", None, b""),
        ("xrf", Some("bench lot 7.msa"), &msa),
        ("xrd", Some("bench lot 7.xy"), &xy),
    ]);
    let kind = format!("multipart/form-data; boundary={boundary}");
    let origin = format!("http://{}", server.addr);
    let r = http(
        &server.addr,
        "POST",
        "/upload",
        &[("Content-Type", &kind), ("Origin", &origin)],
        &body,
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("/?q=bench_lot_7&uploaded=bench_lot_7")
    );
    for f in ["bench_lot_7.msa", "bench_lot_7.xy", "bench_lot_7.json"] {
        assert!(server.dir.join(f).is_file(), "{f}");
    }
    let scans = server.wait_for(1, Duration::from_secs(120));
    assert_eq!(scans[0]["scan_id"], "bench_lot_7");
    assert_eq!(scans[0]["declared"], "iron-ore");
    let want = batch_verdicts(&[Drop::sample("bench_lot_7", "S002")]);
    assert_eq!(
        scans[0]["verdict"].as_str(),
        want.get("bench_lot_7").map(String::as_str)
    );
    // The same id again is refused rather than replacing the files.
    let r = http(
        &server.addr,
        "POST",
        "/upload",
        &[("Content-Type", &kind)],
        &body,
    );
    assert_eq!(r.status, 409, "{}", r.text());
}
