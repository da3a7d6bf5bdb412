//! The HTML pages (maud templates, compiled in; maud escapes every interpolated text).

use super::query::{self, RawQuery, UNDECLARED};
use super::App;
use crate::report::html::{plots_for, EmbeddedPlot};
use crate::report::plot::style::greek_line;
use crate::screen::Verdict;
use crate::station::Entry;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use std::sync::Arc;

/// The verdict as a badge: its word on its colour (the word carries it without colour).
fn badge(v: Verdict) -> Markup {
    html! { span class={ "badge v-" (v.as_str().to_ascii_lowercase()) } { (v.as_str()) } }
}

/// What the verdict asks of the officer, in words.
fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Hold => "Hold the shipment: rare-earth material the declaration cannot explain.",
        Verdict::Inspect => "Inspect the shipment: something an officer must look at.",
        Verdict::Clear => "Clear: the scan is consistent with the declared commodity.",
        Verdict::Error => "Not decided: the scan could not be analysed (see the reasons).",
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The frame of every page: title, navigation, the stylesheet and script from this server.
fn layout(title: &str, current: &str, body: Markup) -> Markup {
    let nav = [
        ("/", "Queue"),
        ("/upload", "Upload"),
        ("/api/scans", "JSON API"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — reescan station" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    span class="brand" { "reescan station" }
                    nav aria-label="Station" {
                        @for (href, label) in nav {
                            @if href == current {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    }
}

/// A page that says what went wrong, with its status.
pub(super) fn problem(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let page = layout(
        title,
        "",
        html! {
            h1 { (status.as_u16()) " " (title) }
            p class="problem" { (message) }
            p { a href="/" { "Back to the queue" } }
        },
    );
    (status, page).into_response()
}

/// One row of the queue table; the event stream sends the same row for a new decision.
pub(super) fn queue_row(e: &Entry) -> Markup {
    let reasons = e.reasons();
    let reason = reasons.first().map_or("", String::as_str);
    html! {
        tr data-scan-id=(e.scan_id) data-seq=(e.seq) {
            td { (badge(e.verdict)) }
            td class="id" { a href=(query::scan_url(&e.scan_id)) { (e.scan_id) } }
            td {
                @match &e.declared {
                    Some(d) => (d),
                    None => em { "none" },
                }
            }
            td class="when" { time datetime=(e.arrived.to_rfc3339()) { (time(&e.arrived)) } }
            td class="when" { time datetime=(e.analysed.to_rfc3339()) { (time(&e.analysed)) } }
            td class="reason" title=(reason) {
                @if e.supersedes.is_some() { span class="tag" { "re-scan" } " " }
                (reason)
            }
        }
    }
}

/// `GET /`: the queue.
pub(super) async fn queue(State(app): State<Arc<App>>, Query(raw): Query<RawQuery>) -> Response {
    let q = match raw.parse() {
        Ok(q) => q,
        Err(why) => return problem(StatusCode::BAD_REQUEST, &why),
    };
    let rows = app.config().page_rows;
    let j = app.journal();
    let page = query::page(&j, &q.filter, q.page, rows);
    let last_seq = j.entries().len();
    let pages = page.matched.div_ceil(rows).max(1);
    let link = |n: usize| {
        let mut p = q.filter.pairs();
        if n > 1 {
            p.push(("page", n.to_string()));
        }
        format!("/{}", query::query_string(p))
    };
    let mut events = q.filter.pairs();
    events.push(("after", last_seq.to_string()));
    let events = format!("/events{}", query::query_string(events));
    let commodities: Vec<&String> = app.setup.screener.rules.commodity.keys().collect();
    let declared = q
        .filter
        .declared
        .as_ref()
        .map(|d| d.clone().unwrap_or_else(|| UNDECLARED.into()));
    let body = html! {
        h1 { "Scan queue" }
        @if let Some(id) = &q.uploaded {
            p class="notice" role="status" {
                "Upload received: scan " strong { (id) } " was written to the station folder. \
                 Its row appears below as soon as the station has decided it."
            }
        }
        form class="filters" method="get" action="/" role="search" {
            label { "Verdict "
                select name="verdict" {
                    option value="" { "any" }
                    @for v in [Verdict::Hold, Verdict::Inspect, Verdict::Clear, Verdict::Error] {
                        option value=(v.as_str()) selected[q.filter.verdict == Some(v)] { (v.as_str()) }
                    }
                }
            }
            label { "Declared "
                select name="declared" {
                    option value="" { "any" }
                    @for c in &commodities {
                        option value=(c) selected[declared.as_deref() == Some(c.as_str())] { (c) }
                    }
                    option value=(UNDECLARED) selected[declared.as_deref() == Some(UNDECLARED)] { "no declaration" }
                }
            }
            label { "Analysed on (UTC) "
                input type="date" name="date" value=[q.filter.date.map(|d| d.format("%Y-%m-%d").to_string())];
            }
            label { "Scan id "
                input type="search" name="q" value=[q.filter.q.as_deref()] placeholder="contains…";
            }
            button type="submit" { "Apply" }
            @if !q.filter.is_empty() { a href="/" { "Clear filters" } }
        }
        p class="count" {
            span id="matched" data-n=(page.matched) {
                (page.matched) " scan" @if page.matched != 1 { "s" }
            }
            @if !q.filter.is_empty() { " with these filters" }
            " · page " (q.page) " of " (pages)
            @if q.page == 1 {
                " · " span id="live" role="status" aria-live="polite" { "live updates: connecting…" }
            }
        }
        table class="queue" {
            caption class="sr" { "Scans, newest first" }
            thead { tr {
                th scope="col" { "Verdict" }
                th scope="col" { "Scan" }
                th scope="col" { "Declared" }
                th scope="col" { "Arrived (UTC)" }
                th scope="col" { "Analysed (UTC)" }
                th scope="col" { "Reason" }
            } }
            tbody id="queue-body" data-events=[(q.page == 1).then_some(&events)] {
                @for e in &page.rows { (queue_row(e)) }
            }
        }
        @if page.rows.is_empty() {
            p id="queue-empty" class="empty" { "No scans yet. They appear here as the station decides them." }
        }
        nav class="pager" aria-label="Pages" {
            @if q.page > 1 { a href=(link(q.page - 1)) rel="prev" { "← Newer" } }
            @if q.page < pages { a href=(link(q.page + 1)) rel="next" { "Older →" } }
        }
    };
    drop(j);
    layout("Scan queue", "/", body).into_response()
}

/// The evidence the result JSON holds (SPEC fields; numbers that were not finite are
/// `null`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Evidence {
    risk: Option<f64>,
    ree_wt_pct: Option<f64>,
    controlled_elements: Vec<String>,
    mismatch: Vec<String>,
    xrf: Option<XrfEvidence>,
    xrd: Option<XrdEvidence>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct XrfEvidence {
    excitation: String,
    elements: Vec<ElementEvidence>,
    not_detected: Vec<NotDetected>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ElementEvidence {
    symbol: String,
    wt_pct: Option<f64>,
    sigma_wt_pct: Option<f64>,
    excitation_sigma_wt_pct: Option<f64>,
    lod_wt_pct: Option<f64>,
    lines: Vec<String>,
}

impl ElementEvidence {
    /// 1σ with the counting and the excitation terms together (as
    /// [`crate::xrf::ElementResult::total_sigma_wt_pct`]).
    fn total_sigma(&self) -> Option<f64> {
        Some(
            self.sigma_wt_pct?
                .hypot(self.excitation_sigma_wt_pct.unwrap_or(0.0)),
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NotDetected {
    symbol: String,
    lod_wt_pct: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct XrdEvidence {
    phases: Vec<PhaseEvidence>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PhaseEvidence {
    name: String,
    wt_pct: Option<f64>,
    fom: Option<f64>,
    matched_peaks: Option<u64>,
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "—".into(), |x| format!("{x:.decimals$}"))
}

/// What the scan page shows in place of the plots when they cannot be drawn.
enum Plots {
    Drawn(Vec<EmbeddedPlot>),
    Unavailable(String),
}

/// `GET /scans/{id}`: one scan.
pub(super) async fn scan(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let history = match super::current(&app, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let e = history[0].clone();
    let plots = {
        let app = app.clone();
        let e = e.clone();
        super::blocking(move || match app.replay(&e) {
            Ok(r) => match plots_for(&r) {
                Ok(p) => (Plots::Drawn(p), Some(r.verdict)),
                Err(err) => (Plots::Unavailable(err.to_string()), None),
            },
            Err(err) => (Plots::Unavailable(err.to_string()), None),
        })
        .await
    };
    let (plots, replayed) = plots;
    let ev: Evidence = serde_json::from_str(e.result.get()).unwrap_or_default();
    let reasons = e.reasons();
    let url = query::scan_url(&e.scan_id);
    let verdict = e.verdict.as_str().to_ascii_lowercase();
    let body = html! {
        p { a href="/" { "← Queue" } }
        h1 { "Scan " (e.scan_id) }
        section class={ "verdict v-" (verdict) } aria-label="Verdict" {
            p class="word" { (e.verdict.as_str()) }
            p { (verdict_words(e.verdict)) }
        }
        @if let Some(v) = replayed.filter(|v| *v != e.verdict) {
            p class="problem" {
                "Decided again from the same files with the station's rules today, this scan \
                 gives " (v.as_str()) ": the rules or the scan date differ from those of the \
                 recorded verdict."
            }
        }
        div class="columns" {
            section aria-labelledby="reasons-h" {
                h2 id="reasons-h" { "Reasons" }
                @if reasons.is_empty() { p { "No reasons recorded." } }
                ol class="reasons" { @for r in &reasons { li { (r) } } }
                @if !ev.mismatch.is_empty() {
                    h3 { "Against the declaration" }
                    ul { @for m in &ev.mismatch { li { (m) } } }
                }
            }
            section aria-labelledby="facts-h" {
                h2 id="facts-h" { "Shipment" }
                dl class="facts" {
                    dt { "Declared commodity" }
                    dd { @match &e.declared { Some(d) => (d), None => em { "none" } } }
                    dt { "Declaration" } dd { (e.declared_in) }
                    dt { "Risk" } dd { (num(ev.risk, 2)) }
                    dt { "Rare earths (XRF)" } dd { (num(ev.ree_wt_pct, 3)) " wt %" }
                    @if !ev.controlled_elements.is_empty() {
                        dt { "Controlled elements" } dd { (ev.controlled_elements.join(", ")) }
                    }
                    dt { "Arrived (UTC)" } dd { (time(&e.arrived)) }
                    dt { "Analysed (UTC)" } dd { (time(&e.analysed)) }
                    dt { "Journal entry" } dd {
                        (e.seq)
                        @if let Some(s) = e.supersedes { " (a re-scan, replacing entry " (s) ")" }
                    }
                }
                p class="links" {
                    a href={ (url) "/report.html" } { "Forensic report (HTML)" }
                    a href={ (url) "/report.json" } { "Forensic report (JSON)" }
                    a href={ "/api/scans/" (query::encode(&e.scan_id)) } { "API record" }
                }
            }
        }
        section aria-labelledby="evidence-h" {
            h2 id="evidence-h" { "Evidence" }
            @if let Some(x) = &ev.xrf {
                table class="evidence" {
                    caption { "Elements (XRF" @if !x.excitation.is_empty() { ", " (x.excitation) } ")" }
                    thead { tr {
                        th scope="col" { "Element" }
                        th scope="col" class="num" { "wt %" }
                        th scope="col" class="num" { "± (1σ)" }
                        th scope="col" class="num" { "Detection limit (3σ), wt %" }
                        th scope="col" { "Lines" }
                    } }
                    tbody {
                        @for el in &x.elements {
                            tr class=[crate::tables::is_rare_earth(&el.symbol).then_some("ree")] {
                                th scope="row" {
                                    (el.symbol)
                                    @if crate::tables::is_rare_earth(&el.symbol) { " " span class="tag" { "rare earth" } }
                                }
                                td class="num" { (num(el.wt_pct, 3)) }
                                td class="num" { (num(el.total_sigma(), 3)) }
                                td class="num" { (num(el.lod_wt_pct, 3)) }
                                td { (el.lines.iter().map(|l| greek_line(l)).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                        @if x.elements.is_empty() { tr { td colspan="5" { "No element detected." } } }
                    }
                }
                @if !x.not_detected.is_empty() {
                    p class="small" {
                        "Looked for and not found (detection limit, wt %): "
                        @for (i, n) in x.not_detected.iter().enumerate() {
                            @if i > 0 { ", " }
                            (n.symbol) " < " (num(n.lod_wt_pct, 3))
                        }
                    }
                }
            }
            @if let Some(d) = &ev.xrd {
                table class="evidence" {
                    caption { "Phases (XRD)" }
                    thead { tr {
                        th scope="col" { "Phase" }
                        th scope="col" class="num" { "wt %" }
                        th scope="col" class="num" { "Figure of merit" }
                        th scope="col" class="num" { "Matched peaks" }
                    } }
                    tbody {
                        @for p in &d.phases {
                            tr {
                                th scope="row" { (p.name) }
                                td class="num" { (num(p.wt_pct, 1)) }
                                td class="num" { (num(p.fom, 2)) }
                                td class="num" { (p.matched_peaks.map_or_else(|| "—".into(), |n| n.to_string())) }
                            }
                        }
                        @if d.phases.is_empty() { tr { td colspan="4" { "No phase identified." } } }
                    }
                }
            }
            @if ev.xrf.is_none() && ev.xrd.is_none() { p { "No analysis was recorded for this scan." } }
        }
        section aria-labelledby="plots-h" {
            h2 id="plots-h" { "Plots" }
            @match &plots {
                Plots::Drawn(list) => {
                    @if list.is_empty() { p { "Nothing to plot for this scan." } }
                    @for p in list {
                        figure class="plot" {
                            (PreEscaped(svg_element(&p.svg)))
                            figcaption { (p.caption) }
                        }
                    }
                }
                Plots::Unavailable(why) => p class="problem" {
                    "The plots are drawn from the scan's files as they were decided, and they \
                     cannot be: " (why)
                },
            }
        }
        section aria-labelledby="inputs-h" {
            h2 id="inputs-h" { "Input files" }
            table class="inputs" {
                thead { tr {
                    th scope="col" { "Role" } th scope="col" { "File" }
                    th scope="col" class="num" { "Bytes" } th scope="col" { "SHA-256" }
                } }
                tbody {
                    @for i in &e.inputs {
                        tr {
                            td { (format!("{:?}", i.role).to_uppercase()) }
                            td { a href={ (url) "/files/" (query::encode(&i.file)) } { (i.file) } }
                            td class="num" { (i.bytes) }
                            td { code { (i.sha256) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="history-h" {
            h2 id="history-h" { "History of this shipment" }
            table class="history" {
                thead { tr {
                    th scope="col" { "Entry" } th scope="col" { "Analysed (UTC)" }
                    th scope="col" { "Verdict" } th scope="col" { "Declared" }
                    th scope="col" { "Inputs (SHA-256, first 12)" }
                } }
                tbody {
                    @for (k, h) in history.iter().enumerate() {
                        tr {
                            td { (h.seq) @if k == 0 { " (current)" } }
                            td { (time(&h.analysed)) }
                            td { (badge(h.verdict)) }
                            td { @match &h.declared { Some(d) => (d), None => em { "none" } } }
                            td { @for i in &h.inputs { code { (i.sha256.get(..12).unwrap_or(&i.sha256)) } " " } }
                        }
                    }
                }
            }
        }
    };
    layout(&format!("Scan {}", e.scan_id), "", body).into_response()
}

/// The `<svg>` element of an SVG document (without an XML declaration before it).
fn svg_element(doc: &str) -> &str {
    doc.find("<svg").map_or("", |i| &doc[i..])
}

/// `GET /upload`: the lab bench's form.
pub(super) async fn upload_form(State(app): State<Arc<App>>) -> Response {
    upload_page(&app, None, StatusCode::OK)
}

/// The upload form, with a message above it when a submission was refused.
pub(super) fn upload_page(app: &App, refused: Option<&str>, status: StatusCode) -> Response {
    let xrf = accept(&crate::station::folder::XRF_EXT);
    let xrd = accept(&crate::station::folder::XRD_EXT);
    let mib = app.config().max_file_bytes / (1 << 20);
    let body = html! {
        h1 { "Upload a scan" }
        p {
            "The files are written into the station folder with a declaration (" code { "ID.json" }
            "); the station analyses them like any scan and the verdict appears in the queue."
        }
        @if let Some(m) = refused { p class="problem" role="alert" { (m) } }
        form class="upload" method="post" action="/upload" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(app.csrf);
            label { "Declared commodity"
                select name="declared" required {
                    @for c in app.setup.screener.rules.commodity.keys() { option value=(c) { (c) } }
                }
            }
            label { "Scan id (optional: the XRF or XRD file's name without extension)"
                input type="text" name="scan_id" maxlength=(app.config().max_id_chars) pattern="[A-Za-z0-9._\\-]+";
            }
            label { "XRF spectrum (" (xrf) ")"
                input type="file" name="xrf" accept=(xrf);
            }
            label { "XRD pattern (" (xrd) ")"
                input type="file" name="xrd" accept=(xrd);
            }
            p class="small" { "At most " (mib) " MiB a file; give an XRF file, an XRD file or both." }
            button type="submit" { "Upload for screening" }
        }
    };
    (status, layout("Upload", "/upload", body)).into_response()
}

/// `.a,.b,…` for a file input's `accept`.
fn accept(exts: &[&str]) -> String {
    exts.iter()
        .map(|e| format!(".{e}"))
        .collect::<Vec<_>>()
        .join(",")
}
