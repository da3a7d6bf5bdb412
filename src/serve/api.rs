//! The JSON API (`/api/scans`, `/api/scans/{id}`), the event stream (`/events`) and
//! `/health`.

use super::query::{self, RawQuery};
use super::{pages, App};
use crate::station::{Entry, InputFile};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

/// One decision as the API lists it.
#[derive(Debug, Serialize)]
pub(super) struct Summary<'a> {
    seq: u64,
    scan_id: &'a str,
    verdict: &'static str,
    declared: Option<&'a str>,
    declared_in: &'a str,
    arrived: DateTime<Utc>,
    analysed: DateTime<Utc>,
    supersedes: Option<u64>,
    reasons: Vec<String>,
    inputs: &'a [InputFile],
    url: String,
}

impl<'a> Summary<'a> {
    pub(super) fn of(e: &'a Entry) -> Self {
        Summary {
            seq: e.seq,
            scan_id: &e.scan_id,
            verdict: e.verdict.as_str(),
            declared: e.declared.as_deref(),
            declared_in: &e.declared_in,
            arrived: e.arrived,
            analysed: e.analysed,
            supersedes: e.supersedes,
            reasons: e.reasons(),
            inputs: &e.inputs,
            url: query::scan_url(&e.scan_id),
        }
    }
}

/// A query that does not parse: 400 with the reason.
fn bad_query(why: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": why })),
    )
        .into_response()
}

/// `GET /api/scans`: `{"matched", "page", "limit", "scans": [...]}`, each scan once,
/// newest first.
pub(super) async fn scans(State(app): State<Arc<App>>, Query(raw): Query<RawQuery>) -> Response {
    let q = match raw.parse() {
        Ok(q) => q,
        Err(why) => return bad_query(why),
    };
    let limit = q
        .limit
        .unwrap_or(app.config().page_rows)
        .clamp(1, app.config().api_max_rows);
    let j = app.journal();
    let page = query::page(&j, &q.filter, q.page, limit);
    Json(serde_json::json!({
        "matched": page.matched,
        "page": q.page,
        "limit": limit,
        "scans": page.rows.iter().map(|e| Summary::of(e)).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// `GET /api/scans/{id}`: the current decision with its full result, and the history
/// (newest first).
pub(super) async fn scan(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let history = match super::current(&app, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    #[derive(Serialize)]
    struct Detail<'a> {
        #[serde(flatten)]
        summary: Summary<'a>,
        result: &'a RawValue,
        history: Vec<Summary<'a>>,
    }
    let detail = Detail {
        summary: Summary::of(&history[0]),
        result: &history[0].result,
        history: history.iter().map(Summary::of).collect(),
    };
    Json(detail).into_response()
}

/// `GET /health`: 200 while the station runs, 503 once it has stopped.
pub(super) async fn health(State(app): State<Arc<App>>) -> Response {
    let stopped = app
        .stopped
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let j = app.journal();
    let body = serde_json::json!({
        "status": if stopped.is_some() { "station stopped" } else { "ok" },
        "station": stopped.as_deref().unwrap_or("running"),
        "journal_entries": j.entries().len(),
        "last_analysed": j.entries().last().map(|e| e.analysed),
    });
    let code = if stopped.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body)).into_response()
}

/// `GET /events`: a `scan` event for every decision after `after` (or the browser's
/// `Last-Event-ID`, or now) that passes the filter; its data is `{"seq", "scan_id",
/// "verdict", "row"}`, `row` being the queue's table row for it (the page's one
/// rendering).
pub(super) async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(raw): Query<RawQuery>,
) -> Response {
    let q = match raw.parse() {
        Ok(q) => q,
        Err(why) => return bad_query(why),
    };
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let now = app.journal().entries().len() as u64;
    let start = resumed.or(q.after).unwrap_or(now).min(now);
    let rx = app.latest.subscribe();
    struct Feed {
        app: Arc<App>,
        rx: tokio::sync::watch::Receiver<u64>,
        last: u64,
        ready: VecDeque<Event>,
        filter: query::Filter,
    }
    let feed = Feed {
        app: app.clone(),
        rx,
        last: start,
        ready: VecDeque::new(),
        filter: q.filter,
    };
    let stream = futures_util::stream::unfold(feed, |mut f| async move {
        loop {
            if let Some(ev) = f.ready.pop_front() {
                return Some((Ok::<_, Infallible>(ev), f));
            }
            {
                let j = f.app.journal();
                for e in j.entries().iter().skip(f.last as usize) {
                    if f.filter.matches(e) {
                        f.ready.push_back(scan_event(e));
                    }
                }
                f.last = j.entries().len() as u64;
            }
            if f.ready.is_empty() && f.rx.changed().await.is_err() {
                return None;
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(app.config().keep_alive))
        .into_response()
}

fn scan_event(e: &Entry) -> Event {
    let data = serde_json::json!({
        "seq": e.seq,
        "scan_id": e.scan_id,
        "verdict": e.verdict.as_str(),
        "row": pages::queue_row(e).into_string(),
    });
    Event::default()
        .event("scan")
        .id(e.seq.to_string())
        .data(data.to_string())
}
