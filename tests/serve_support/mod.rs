//! Helpers for the `reescan serve` tests: the real binary on a loopback port of the
//! system's choosing (`--listen 127.0.0.1:0`, the address read from its stderr), a tiny
//! HTTP/1.1 client on `std::net::TcpStream`, the bundled samples dropped into the
//! station folder, and `reescan batch` on the same files for the verdicts to compare.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The scan date every test screens on (the controlled-element lists depend on it).
pub const DATE: &str = "2026-01-01";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reescan"))
}

/// A bundled synthetic sample: its XRF file and, where it has one, its XRD file.
pub fn sample(id: &str) -> (PathBuf, Option<PathBuf>) {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("spectra/synthetic");
    let xy = d.join(format!("{id}.xy"));
    (d.join(format!("{id}.msa")), xy.exists().then_some(xy))
}

/// The declared commodity of a bundled sample (`spectra/manifest.csv`).
pub fn declared_of(id: &str) -> String {
    let m =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spectra/manifest.csv"))
            .unwrap();
    m.lines()
        .find_map(|l| {
            let mut f = l.split(',');
            (f.next() == Some(id)).then(|| f.next().unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("{id} is not in spectra/manifest.csv"))
}

/// One scan to drop: its id, declaration and file bytes.
#[derive(Clone)]
pub struct Drop {
    pub id: String,
    pub declared: String,
    pub xrf: Option<Vec<u8>>,
    pub xrd: Option<Vec<u8>>,
}

impl Drop {
    /// The bundled sample `sample` under the scan id `id`.
    pub fn sample(id: &str, sample_id: &str) -> Drop {
        let (msa, xy) = self::sample(sample_id);
        Drop {
            id: id.into(),
            declared: declared_of(sample_id),
            xrf: Some(std::fs::read(msa).unwrap()),
            xrd: xy.map(|p| std::fs::read(p).unwrap()),
        }
    }

    fn files(&self) -> Vec<(String, &Vec<u8>)> {
        let mut f = Vec::new();
        if let Some(b) = &self.xrf {
            f.push((format!("{}.msa", self.id), b));
        }
        if let Some(b) = &self.xrd {
            f.push((format!("{}.xy", self.id), b));
        }
        f
    }
}

/// Put scans into `dir` the way a scanner does it safely: each file written beside the
/// folder and renamed in, the data first and the `ID.json` declaration last.
pub fn drop_scans(dir: &Path, scans: &[Drop]) {
    let staging = dir.parent().unwrap().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let put = |name: &str, bytes: &[u8]| {
        let tmp = staging.join(name);
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    };
    for s in scans {
        for (name, bytes) in s.files() {
            put(&name, bytes);
        }
    }
    for s in scans {
        let decl = serde_json::json!({"declared": s.declared});
        put(&format!("{}.json", s.id), decl.to_string().as_bytes());
    }
}

/// `reescan batch --full` (the station's own analysis) on the same files: scan id → verdict.
pub fn batch_verdicts(scans: &[Drop]) -> HashMap<String, String> {
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest = String::from("scan_id,declared,xrf,xrd\n");
    for s in scans {
        let mut paths = [String::new(), String::new()];
        for (name, bytes) in s.files() {
            std::fs::write(tmp.path().join(&name), bytes).unwrap();
            let slot = usize::from(name.ends_with(".xy"));
            paths[slot] = name;
        }
        manifest.push_str(&format!(
            "{},{},{},{}\n",
            s.id, s.declared, paths[0], paths[1]
        ));
    }
    std::fs::write(tmp.path().join("m.csv"), manifest).unwrap();
    let out = Command::new(bin())
        .current_dir(tmp.path())
        .args([
            "batch", "m.csv", "--out", "r.csv", "--jsonl", "r.jsonl", "--full", "--date", DATE,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(tmp.path().join("r.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["scan_id"].as_str().unwrap().to_string(),
                v["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Send one request (`Connection: close`) and read the whole answer.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // A server may answer (413, 403) before it has read all of a large body.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 2 + size + 2..];
        }
        body = out;
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// A running `reescan serve` on a temporary station folder.
pub struct Server {
    child: Child,
    pub addr: String,
    pub dir: PathBuf,
    pub stderr: Arc<Mutex<String>>,
    _tmp: tempfile::TempDir,
}

impl Server {
    /// `reescan serve` on a new folder with short station timings and `extra` flags.
    pub fn start(extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("inbox");
        std::fs::create_dir(&dir).unwrap();
        let mut child = Command::new(bin())
            .arg("serve")
            .arg(&dir)
            .args(["--listen", "127.0.0.1:0", "--date", DATE])
            .args([
                "--poll-ms",
                "20",
                "--settle-ms",
                "100",
                "--declaration-wait-ms",
                "300",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let mut reader = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(a) = line
                    .trim()
                    .strip_prefix("reescan serve: listening on http://")
                {
                    let _ = tx.send(a.trim_end_matches('/').to_string());
                }
                log.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve did not start: {}", stderr.lock().unwrap()));
        Server {
            child,
            addr,
            dir,
            stderr,
            _tmp: tmp,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        http(&self.addr, "GET", path, &[], b"")
    }

    /// The scans the API lists (up to 1000), polled until `want` ids are there or
    /// `timeout` passes.
    pub fn wait_for(&self, want: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let t0 = Instant::now();
        loop {
            let r = self.get("/api/scans?limit=1000");
            assert_eq!(r.status, 200, "{}", r.text());
            let scans = r.json()["scans"].as_array().unwrap().clone();
            if scans.len() >= want || t0.elapsed() > timeout {
                return scans;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl std::ops::Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `multipart/form-data` body: `(name, file name, bytes)`; the boundary it uses.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "reescan-test-boundary-7d1f".to_string();
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// The upload form's CSRF token.
pub fn csrf(server: &Server) -> String {
    let page = server.get("/upload").text();
    let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    page[at..at + 64].to_string()
}
