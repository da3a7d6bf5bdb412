//! `reescan serve`'s defences through the real binary: a non-loopback address without a
//! token is refused at start; with a token every request needs it; a traversal id names
//! no file; an oversize upload is refused (413) and one without the form's CSRF token,
//! with a wrong one or from another site's page too (403); text from a file (an EMSA
//! `#TITLE`, a scan id, a declaration) is shown escaped, never as markup.

mod serve_support;

use serve_support::{csrf, drop_scans, http, multipart, Drop, Server};
use std::process::Command;
use std::time::Duration;

const XSS: &str = "<script>alert(1)</script>";

#[test]
fn a_non_loopback_address_without_a_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(serve_support::bin())
        .arg("serve")
        .arg(dir.path())
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("not a loopback address") && err.contains("--token"),
        "{err}"
    );
    assert!(
        !dir.path().join(".reescan").exists(),
        "refused before taking the folder"
    );
    // A token too short to guard anything is refused as well.
    let out = Command::new(serve_support::bin())
        .arg("serve")
        .arg(dir.path())
        .args(["--listen", "0.0.0.0:0", "--token", "1234"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn with_a_token_every_request_needs_it() {
    let token = "station-7-token-of-some-length";
    let server = Server::start(&["--token", token]);
    for path in [
        "/",
        "/api/scans",
        "/health",
        "/upload",
        "/static/app.js",
        "/scans/S1",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 401, "{path}");
        assert!(r.header("www-authenticate").is_some());
    }
    let wrong = http(
        &server.addr,
        "GET",
        "/api/scans",
        &[("Authorization", "Bearer nope")],
        b"",
    );
    assert_eq!(wrong.status, 401);
    let bearer = format!("Bearer {token}");
    let ok = http(
        &server.addr,
        "GET",
        "/api/scans",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(ok.status, 200);
    // ?token= sets the cookie once and sends the browser on without the token in the URL.
    let r = server.get(&format!("/?verdict=HOLD&token={token}"));
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/?verdict=HOLD"));
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let page = http(
        &server.addr,
        "GET",
        "/?verdict=HOLD",
        &[("Cookie", pair)],
        b"",
    );
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Scan queue"));
}

#[test]
fn a_loopback_station_answers_only_to_loopback_host_names() {
    let server = Server::start(&[]);
    let r = http(&server.addr, "GET", "/api/scans", &[], b"");
    assert_eq!(r.status, 200);
    // A page on another site that rebinds its name to 127.0.0.1 sends its own Host.
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET /api/scans HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 421"), "{raw}");
}

#[test]
fn traversal_ids_and_file_names_name_no_file() {
    let server = Server::start(&[]);
    drop_scans(&server.dir, &[Drop::sample("S1", "S009")]);
    server.wait_for(1, Duration::from_secs(120));
    for path in [
        "/scans/..%2F..%2Fetc%2Fpasswd",
        "/scans/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd/files/passwd",
        "/api/scans/..%2F..%2Fetc%2Fpasswd",
        "/scans/..",
        "/scans/%2E%2E",
        "/scans/S1/files/..%2F..%2F..%2Fetc%2Fpasswd",
        "/scans/S1/files/..%2Finbox%2FS1.msa",
        "/scans/S1%00/report.json",
        "/../../etc/passwd",
        "/static/..%2F..%2FCargo.toml",
    ] {
        let r = server.get(path);
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        let body = r.text();
        assert!(
            !body.contains("root:") && !body.contains("[package]"),
            "{path}"
        );
    }
    assert_eq!(server.get("/scans/..").status, 400);
    assert_eq!(
        server.get(&format!("/scans/{}", "x".repeat(129))).status,
        400
    );
    // The recorded file itself is served, and refused once it changed.
    assert_eq!(server.get("/scans/S1/files/S1.msa").status, 200);
    std::fs::write(server.dir.join("S1.msa"), b"changed").unwrap();
    assert_eq!(server.get("/scans/S1/files/S1.msa").status, 410);
}

#[test]
fn uploads_need_the_forms_token_a_same_site_origin_and_a_size_within_the_limit() {
    let server = Server::start(&[]);
    let token = csrf(&server);
    let msa = std::fs::read(serve_support::sample("S009").0).unwrap();
    let post = |parts: &[(&str, Option<&str>, &[u8])], origin: Option<&str>| {
        let (boundary, body) = multipart(parts);
        let kind = format!("multipart/form-data; boundary={boundary}");
        let mut headers = vec![("Content-Type", kind.as_str())];
        if let Some(o) = origin {
            headers.push(("Origin", o));
        }
        http(&server.addr, "POST", "/upload", &headers, &body)
    };
    let here = format!("http://{}", server.addr);
    let declared: &[u8] = b"ceramics";
    // No token, a wrong token, a token after the file, a foreign origin: 403.
    let r = post(
        &[("declared", None, declared), ("xrf", Some("a.msa"), &msa)],
        Some(&here),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let bad = "0".repeat(64);
    let r = post(
        &[
            ("csrf", None, bad.as_bytes()),
            ("declared", None, declared),
            ("xrf", Some("a.msa"), &msa),
        ],
        Some(&here),
    );
    assert_eq!(r.status, 403);
    let r = post(
        &[
            ("declared", None, declared),
            ("xrf", Some("a.msa"), &msa),
            ("csrf", None, token.as_bytes()),
        ],
        Some(&here),
    );
    assert_eq!(r.status, 403);
    let r = post(
        &[
            ("csrf", None, token.as_bytes()),
            ("declared", None, declared),
            ("xrf", Some("a.msa"), &msa),
        ],
        Some("http://evil.example"),
    );
    assert_eq!(r.status, 403);
    // A file the station cannot read by its extension: 415.
    let r = post(
        &[
            ("csrf", None, token.as_bytes()),
            ("declared", None, declared),
            ("xrf", Some("a.exe"), &msa),
        ],
        Some(&here),
    );
    assert_eq!(r.status, 415);
    // One byte over the readers' 64 MiB cap: 413, and nothing is left in the folder.
    let big = vec![b'1'; 64 * 1024 * 1024 + 1];
    let r = post(
        &[
            ("csrf", None, token.as_bytes()),
            ("declared", None, declared),
            ("xrf", Some("big.msa"), &big),
        ],
        Some(&here),
    );
    assert_eq!(r.status, 413, "{}", r.text());
    let left: Vec<_> = std::fs::read_dir(&server.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != ".reescan")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let uploads = server.dir.join(".reescan/uploads");
    assert_eq!(
        std::fs::read_dir(uploads).unwrap().count(),
        0,
        "partial uploads removed"
    );
    // The same form, right: accepted.
    let r = post(
        &[
            ("csrf", None, token.as_bytes()),
            ("declared", None, declared),
            ("xrf", Some("a.msa"), &msa),
        ],
        Some(&here),
    );
    assert_eq!(r.status, 303, "{}", r.text());
}

#[test]
fn text_from_files_is_rendered_inert() {
    let server = Server::start(&[]);
    // An EMSA file whose #TITLE holds a script, under a scan id that is one.
    let (msa, _) = serve_support::sample("S001");
    let text = std::fs::read_to_string(msa).unwrap();
    let mut titled = String::new();
    for line in text.lines() {
        if line.starts_with("#TITLE") {
            titled.push_str(&format!("#TITLE       : {XSS}\n"));
        } else {
            titled.push_str(line);
            titled.push('\n');
        }
    }
    assert!(titled.contains(XSS), "the sample has a #TITLE line");
    let dir = &server.dir;
    std::fs::write(dir.join("T1.msa"), &titled).unwrap();
    let decl = serde_json::json!({"declared": "iron-ore", "scan_id": XSS});
    std::fs::write(dir.join("T1.json"), decl.to_string()).unwrap();
    // A declaration that is a script: an ERROR whose reason quotes it.
    std::fs::write(dir.join("T2.msa"), &titled).unwrap();
    let decl = serde_json::json!({"declared": XSS});
    std::fs::write(dir.join("T2.json"), decl.to_string()).unwrap();
    let scans = server.wait_for(2, Duration::from_secs(120));
    assert_eq!(scans.len(), 2, "{}", server.stderr.lock().unwrap());
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let id = "%3Cscript%3Ealert%281%29%3C%2Fscript%3E";
    for path in [
        "/".to_string(),
        format!("/scans/{id}"),
        format!("/scans/{id}/report.html"),
        "/scans/T2".to_string(),
    ] {
        let r = server.get(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let body = r.text();
        assert!(
            !body.contains("<script>alert"),
            "{path} carries the raw tag"
        );
        assert!(body.contains(escaped), "{path} lacks the escaped text");
    }
}
