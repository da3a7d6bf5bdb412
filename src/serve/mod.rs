//! `reescan serve`: the checkpoint station's screen — a web page over the station journal
//! ([`crate::station`]), served by the process that runs the station.
//!
//! A handheld analyser shows its verdict and spectrum the moment an assay ends; this is
//! that screen for the station folder. The station thread (the CLI's) decides scans and
//! calls [`App::refresh`]; the pages read the journal, never the results CSV.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the queue: each scan once (its current decision), newest first, [`ServeConfig::page_rows`] a page; filters `verdict`, `declared` (`undeclared` for none), `date` (YYYY-MM-DD, UTC day analysed), `q` (scan id contains, any case), `page` |
//! | `GET /events` | server-sent events: one `scan` event per new decision (`id` = journal `seq`), the same filters, `after=SEQ` to start after an entry |
//! | `GET /scans/{id}` | the scan: verdict in words, reasons, declaration, evidence (elements with wt %, ±1σ and detection limit; phases with wt % and figure of merit), the XRF/XRD plots as inline SVG, input files with SHA-256, the shipment's history |
//! | `GET /scans/{id}/report.html`, `report.json` | the forensic report ([`crate::report`]), rendered on demand |
//! | `GET /scans/{id}/files/{name}` | a recorded input file, only while its bytes are the ones decided |
//! | `GET/POST /upload` | the lab bench's form: XRF and/or XRD file and the declared commodity, written into the folder with an `ID.json` sidecar |
//! | `GET /api/scans`, `/api/scans/{id}` | the same as JSON (`limit` up to [`ServeConfig::api_max_rows`]) |
//! | `GET /health` | `{"status": "ok", ...}`; 503 once the station has stopped |
//!
//! Plots and reports need the fit curves, which the journal does not keep: the scan is
//! decided again from its recorded files ([`crate::station::replay`]), only while their
//! bytes are the ones the verdict was made on; the last few are kept
//! ([`ServeConfig::replay_cache`]).
//!
//! # Security
//! * Loopback by default ([`DEFAULT_LISTEN`]); any other address needs a token
//!   ([`check_listen`]), and with a token every request must carry it: `Authorization:
//!   Bearer TOKEN`, or the cookie that `?token=TOKEN` sets once (the page is then reloaded
//!   without it). On loopback without a token, a `Host` that is not a loopback name is
//!   refused (a DNS-rebinding page cannot read the station).
//! * Scan ids in URLs are journal keys, never paths ([`valid_scan_id`]): one longer than
//!   [`ServeConfig::max_id_chars`], with a control character, or `.`/`..` is refused with
//!   400; any other is only looked up in the journal (`../../etc/passwd` is a scan it
//!   does not hold: 404). Raw files are served by the names the journal recorded, as
//!   plain files inside the folder whose SHA-256 is still the recorded one.
//! * The upload checks a per-process CSRF token (a hidden field that must come before the
//!   files) and the `Origin`/`Referer` against `Host`; files are limited to
//!   [`ServeConfig::max_file_bytes`] (413) and to the extensions the station reads (415);
//!   names are rebuilt from the scan id, never taken from the client.
//! * Every page is sent with a strict Content-Security-Policy ([`CSP`]: scripts and
//!   styles only from this server, `/static/app.js` and `/static/app.css`),
//!   `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (no address leaves
//!   the station; `no-referrer` would make browsers send `Origin: null` with the upload,
//!   which the origin check must refuse) and `X-Frame-Options: DENY`; everything that
//!   came from a file is escaped (maud escapes by default; plot titles are escaped by
//!   the SVG backend).

mod api;
mod pages;
mod query;
mod upload;

use crate::report::forensic::{ForensicReport, ReportContext, ReportInputs};
use crate::report::{html as report_html, json as report_json, provenance};
use crate::screen::{Screener, ScreeningResult};
use crate::station::{Entry, Journal, Role};
use crate::{Error, Result};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use query::{valid_scan_id, Filter};

/// The port `serve` listens on when `--listen` is not given.
pub const DEFAULT_PORT: u16 = 8640;
/// The address `serve` listens on when `--listen` is not given: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8640";

/// The Content-Security-Policy of every page but the forensic report: nothing inline,
/// nothing from elsewhere, no framing, forms post only here.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'; object-src 'none'";

/// The forensic report's policy: it is one self-contained page with its stylesheet
/// inline and no script at all.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The cookie that carries the access token once `?token=` has set it.
pub const TOKEN_COOKIE: &str = "reescan_token";

/// The web page's limits and sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Rows on a queue page (200: the page is served in a few ms from a journal of
    /// 10,000 decisions, see `benches/serve.rs`, and fits a screen's scroll).
    pub page_rows: usize,
    /// Most rows `/api/scans?limit=` returns in one answer.
    pub api_max_rows: usize,
    /// Largest uploaded file, bytes: the readers' own cap
    /// ([`crate::formats::InputLimits::max_file_bytes`], 64 MiB).
    pub max_file_bytes: u64,
    /// Longest scan id accepted in a URL or an upload, characters.
    pub max_id_chars: usize,
    /// Scans decided again for plots and reports that are kept in memory.
    pub replay_cache: usize,
    /// Shortest access token accepted (`--token`): a token guards a station on a
    /// network, so it must not be guessable.
    pub min_token_chars: usize,
    /// How often an idle event stream sends a comment, so proxies and the browser keep it.
    pub keep_alive: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            page_rows: 200,
            api_max_rows: 1000,
            max_file_bytes: crate::formats::LIMITS.max_file_bytes,
            max_id_chars: 128,
            replay_cache: 8,
            min_token_chars: 16,
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// Refuse an address that is not loopback unless a token guards it, and a token too short
/// to guard anything.
///
/// # Errors
/// One sentence saying what to change.
pub fn check_listen(
    addr: &SocketAddr,
    token: Option<&str>,
    config: &ServeConfig,
) -> std::result::Result<(), String> {
    if let Some(t) = token {
        if t.chars().count() < config.min_token_chars {
            return Err(format!(
                "--token must be at least {} characters",
                config.min_token_chars
            ));
        }
        if t.chars().any(|c| !c.is_ascii_graphic()) {
            return Err("--token must be printable ASCII without spaces".into());
        }
    } else if !addr.ip().is_loopback() {
        return Err(format!(
            "--listen {addr} is not a loopback address: give --token TOKEN (every request \
             must then carry it)"
        ));
    }
    Ok(())
}

/// What the web page needs to know about the station it shows.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The watched folder.
    pub dir: PathBuf,
    /// The station's screener (rules, instrument, date), to decide scans again for
    /// plots and reports.
    pub screener: Screener,
    /// The station screens each scan on the day it analyses it (no `--date`): a replay
    /// then takes the entry's day.
    pub follow_today: bool,
    /// `--rules FILE`, named in the forensic report; `None` for the built-in rules.
    pub rules_path: Option<PathBuf>,
    /// `--instrument FILE`, named in the forensic report.
    pub instrument_path: Option<PathBuf>,
    /// The access token; `None` on loopback.
    pub token: Option<String>,
    /// The address the server listens on (loopback decides the `Host` check).
    pub listen: SocketAddr,
    /// Limits and sizes.
    pub config: ServeConfig,
}

/// The web page's state: the journal as read so far, and what is needed to redraw a scan.
#[derive(Debug)]
pub struct App {
    setup: Setup,
    csrf: String,
    journal: RwLock<Journal>,
    latest: tokio::sync::watch::Sender<u64>,
    stopped: Mutex<Option<String>>,
    cache: Mutex<VecDeque<(u64, Arc<ScreeningResult>)>>,
}

impl App {
    /// Read the folder's journal (empty when the station has not written one yet).
    ///
    /// # Errors
    /// A corrupt journal ([`Journal::open`]).
    pub fn new(setup: Setup) -> Result<Arc<App>> {
        let journal = Journal::open(&setup.dir)?;
        let last = journal.entries().len() as u64;
        let mut secret = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut secret[..]);
        Ok(Arc::new(App {
            setup,
            csrf: secret.iter().map(|b| format!("{b:02x}")).collect(),
            journal: RwLock::new(journal),
            latest: tokio::sync::watch::channel(last).0,
            stopped: Mutex::new(None),
            cache: Mutex::new(VecDeque::new()),
        }))
    }

    /// Read what the station appended to the journal and tell the open pages; returns the
    /// number of new entries.
    ///
    /// # Errors
    /// As [`Journal::refresh`].
    pub fn refresh(&self) -> Result<usize> {
        let (added, last) = {
            let mut j = self.journal.write().unwrap_or_else(|p| p.into_inner());
            let added = j.refresh()?;
            (added, j.entries().len() as u64)
        };
        if added > 0 {
            self.latest.send_replace(last);
        }
        Ok(added)
    }

    /// Record that the station stopped (`/health` then answers 503 with `why`).
    pub fn station_stopped(&self, why: String) {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    /// The routes, with the access and security-header layers.
    pub fn router(self: &Arc<Self>) -> Router {
        let upload_limit = (2 * self.setup.config.max_file_bytes + (1 << 20)) as usize;
        Router::new()
            .route("/", get(pages::queue))
            .route("/scans/{id}", get(pages::scan))
            .route("/scans/{id}/report.html", get(report_page))
            .route("/scans/{id}/report.json", get(report_json_file))
            .route("/scans/{id}/files/{name}", get(raw_file))
            .route(
                "/upload",
                get(pages::upload_form)
                    .post(upload::receive)
                    .layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
            )
            .route("/api/scans", get(api::scans))
            .route("/api/scans/{id}", get(api::scan))
            .route("/events", get(api::events))
            .route("/health", get(api::health))
            .route("/static/app.js", get(static_js))
            .route("/static/app.css", get(static_css))
            .fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(self.clone(), guard))
            .layer(axum::middleware::from_fn(security_headers))
            .with_state(self.clone())
    }

    /// The watched folder.
    pub fn dir(&self) -> &Path {
        &self.setup.dir
    }

    fn config(&self) -> &ServeConfig {
        &self.setup.config
    }

    fn journal(&self) -> std::sync::RwLockReadGuard<'_, Journal> {
        self.journal.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The current entry of a scan id and its history, newest first (a copy: the caller
    /// may hold it across an await).
    fn history(&self, id: &str) -> Vec<Entry> {
        self.journal().history(id).cloned().collect()
    }

    /// The scan decided again from its recorded files (kept for the next few asks).
    fn replay(&self, entry: &Entry) -> Result<Arc<ScreeningResult>> {
        let cached = |app: &App| {
            let c = app.cache.lock().unwrap_or_else(|p| p.into_inner());
            c.iter()
                .find(|(seq, _)| *seq == entry.seq)
                .map(|(_, r)| r.clone())
        };
        if let Some(r) = cached(self) {
            return Ok(r);
        }
        let mut screener = self.setup.screener.clone();
        if self.setup.follow_today {
            screener.date = entry.analysed.with_timezone(&chrono::Local).date_naive();
        }
        let r = Arc::new(crate::station::replay(&screener, &self.setup.dir, entry)?);
        let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        c.push_front((entry.seq, r.clone()));
        c.truncate(self.setup.config.replay_cache);
        Ok(r)
    }

    /// The forensic report of a scan's current decision.
    fn report(&self, entry: &Entry) -> Result<(ForensicReport, Arc<ScreeningResult>)> {
        let result = self.replay(entry)?;
        let screener = &self.setup.screener;
        let read = |i: &crate::station::journal::InputFile, technique: &str| -> Result<_> {
            let role = i.role;
            let path = crate::station::recorded_path(&self.setup.dir, i)?;
            let opts = crate::formats::ReadOptions {
                technique: Some(match role {
                    Role::Xrf => crate::Technique::Xrf,
                    Role::Xrd => crate::Technique::Xrd,
                }),
                ..screener.read.clone()
            };
            let spectrum = crate::screen::pipeline::read_spectrum(&path, &opts)?;
            Ok(provenance::input_file(technique, &path, &spectrum))
        };
        // every XRF file (the beams of a multi-beam assay, in order) and the XRD file
        let xrf: Vec<_> = entry
            .inputs
            .iter()
            .filter(|i| i.role == Role::Xrf)
            .collect();
        let xrf_files = xrf
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let technique = if xrf.len() > 1 {
                    format!("XRF beam {} of {}", k + 1, xrf.len())
                } else {
                    "XRF".to_string()
                };
                read(i, &technique)
            })
            .collect::<Result<Vec<_>>>()?;
        let xrd_file = entry
            .inputs
            .iter()
            .find(|i| i.role == Role::Xrd)
            .map(|i| read(i, "XRD"))
            .transpose()?;
        let mut reference_data = Vec::new();
        if let Some(p) = &self.setup.instrument_path {
            reference_data.push(provenance::instrument_reference(p)?);
        }
        if result.xrd.is_some() {
            reference_data.push(provenance::phase_library_reference(
                screener.xrd.extra_phase_dir.as_deref(),
            )?);
        }
        let rules = &screener.rules;
        let declared = entry.declared.as_deref().unwrap_or("");
        let inputs = ReportInputs {
            result: &result,
            xrf_files,
            xrd_file,
            rules: provenance::rules_record(self.setup.rules_path.as_deref(), rules)?,
            limits: provenance::commodity_limits(rules, declared, &result),
            reference_data,
            coverage_k: rules.decision.coverage_k,
        };
        Ok((
            ForensicReport::build(&inputs, &ReportContext::now()),
            result,
        ))
    }
}

/// Access: the token when one is set, the loopback `Host` check when not.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    match &app.setup.token {
        None => {
            if app.setup.listen.ip().is_loopback() && !loopback_host(headers) {
                return pages::problem(
                    StatusCode::MISDIRECTED_REQUEST,
                    "This station answers only on its loopback address (the Host header \
                     names another).",
                );
            }
        }
        Some(token) => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let cookie = cookie(headers, TOKEN_COOKIE);
            let ok = |t: Option<&str>| t.is_some_and(|t| same_secret(t, token));
            if !ok(bearer) && !ok(cookie.as_deref()) {
                if let Some(r) = token_from_query(&req, token) {
                    return r;
                }
                let mut r = pages::problem(
                    StatusCode::UNAUTHORIZED,
                    "This station needs its access token: open the address given with \
                     ?token=TOKEN once, or send Authorization: Bearer TOKEN.",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"reescan\""),
                );
                return r;
            }
        }
    }
    next.run(req).await
}

/// `?token=TOKEN` with the right token: set the cookie and send the browser to the same
/// address without the token (so it stays out of the history and the address bar).
fn token_from_query(req: &Request, token: &str) -> Option<Response> {
    req.uri().query()?;
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(req.uri()).ok()?;
    let mut given = None;
    let mut rest = Vec::new();
    for (k, v) in pairs.0 {
        if k == "token" {
            given = Some(v);
        } else {
            rest.push(format!("{}={}", query::encode(&k), query::encode(&v)));
        }
    }
    if !same_secret(&given?, token) {
        return None;
    }
    let mut to = req.uri().path().to_string();
    if !rest.is_empty() {
        to.push('?');
        to.push_str(&rest.join("&"));
    }
    let mut r = Redirect::to(&to).into_response();
    let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Some(r)
}

/// True when the `Host` header names a loopback address (`localhost`, `127.x.y.z`,
/// `[::1]`), with any port.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A cookie's value from the `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Compare two secrets in time that depends on their length only.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The headers every answer carries; pages are not cached (they change with each scan).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// The page script: live rows on the queue (server-sent events).
const APP_JS: &str = include_str!("static/app.js");
/// The stylesheet of every page.
const APP_CSS: &str = include_str!("static/app.css");

async fn static_js() -> Response {
    static_asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn static_css() -> Response {
    static_asset(APP_CSS, "text/css; charset=utf-8")
}

fn static_asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn not_found() -> Response {
    pages::problem(
        StatusCode::NOT_FOUND,
        "There is no such page on this station.",
    )
}

/// The current entry of the scan id in the path, or the answer to give instead (400 for
/// an id that is not one, 404 for one the journal does not hold).
fn current(app: &App, id: &str) -> std::result::Result<Vec<Entry>, Response> {
    if !valid_scan_id(id, app.config().max_id_chars) {
        return Err(pages::problem(
            StatusCode::BAD_REQUEST,
            "That is not a scan id (ids are 1 to 128 characters, without control \
             characters).",
        ));
    }
    let history = app.history(id);
    if history.is_empty() {
        return Err(pages::problem(
            StatusCode::NOT_FOUND,
            "The station has no scan with that id.",
        ));
    }
    Ok(history)
}

/// Run blocking work (an analysis, a file read) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

async fn report_page(
    State(app): State<Arc<App>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let entry = match current(&app, &id) {
        Ok(h) => h.into_iter().next().expect("non-empty history"),
        Err(r) => return r,
    };
    let made = blocking(move || {
        let (report, result) = app.report(&entry)?;
        let plots = report_html::plots_for(&result)?;
        Ok::<_, Error>(report_html::render(&report, &plots))
    })
    .await;
    match made {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, REPORT_CSP),
            ],
            html,
        )
            .into_response(),
        Err(e) => unavailable(&e),
    }
}

async fn report_json_file(
    State(app): State<Arc<App>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let entry = match current(&app, &id) {
        Ok(h) => h.into_iter().next().expect("non-empty history"),
        Err(r) => return r,
    };
    let made = blocking(move || report_json::render(&app.report(&entry)?.0)).await;
    match made {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// The answer when a scan cannot be decided again (its files are gone or changed).
fn unavailable(e: &Error) -> Response {
    pages::problem(
        StatusCode::CONFLICT,
        &format!(
            "The report needs the scan's files as they were decided, and they are not \
             available: {e}."
        ),
    )
}

async fn raw_file(
    State(app): State<Arc<App>>,
    axum::extract::Path((id, name)): axum::extract::Path<(String, String)>,
) -> Response {
    let entry = match current(&app, &id) {
        Ok(h) => h.into_iter().next().expect("non-empty history"),
        Err(r) => return r,
    };
    let Some(input) = entry.inputs.iter().find(|i| i.file == name).cloned() else {
        return pages::problem(
            StatusCode::NOT_FOUND,
            "This scan recorded no input file of that name.",
        );
    };
    let dir = app.dir().to_path_buf();
    match blocking(move || crate::station::recorded_bytes(&dir, &input)).await {
        Ok(bytes) => {
            let disposition = format!(
                "attachment; filename=\"{}\"",
                upload::safe_file_name(&name).unwrap_or_else(|| "scan".into())
            );
            let mut r =
                ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => pages::problem(
            StatusCode::GONE,
            &format!("The file is not available as it was decided: {e}."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_loopback_address_needs_a_long_enough_token() {
        let c = ServeConfig::default();
        let lan: SocketAddr = "0.0.0.0:8640".parse().unwrap();
        let lo: SocketAddr = DEFAULT_LISTEN.parse().unwrap();
        let lo6: SocketAddr = "[::1]:8640".parse().unwrap();
        assert!(check_listen(&lo, None, &c).is_ok());
        assert!(check_listen(&lo6, None, &c).is_ok());
        assert!(check_listen(&lan, None, &c)
            .unwrap_err()
            .contains("not a loopback address"));
        assert!(check_listen(&lan, Some("short"), &c).is_err());
        assert!(check_listen(&lan, Some("a-long-enough-token-1"), &c).is_ok());
        assert!(check_listen(&lan, Some("a long enough token 1"), &c).is_err());
    }

    #[test]
    fn hosts_are_loopback_only_by_name_or_address() {
        let host = |h: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            loopback_host(&m)
        };
        assert!(host("127.0.0.1:8640"));
        assert!(host("localhost:1"));
        assert!(host("[::1]:8640"));
        assert!(host("127.0.0.2"));
        assert!(!host("evil.example:8640"));
        assert!(!host("192.168.1.4:8640"));
        assert!(!loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
