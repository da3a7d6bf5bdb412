//! The queue's filters (the same for the page, the API and the event stream), scan-id
//! validation and URL encoding.

use crate::screen::Verdict;
use crate::station::{Entry, Journal};
use chrono::NaiveDate;
use serde::Deserialize;

/// The query string as sent (every field optional; an empty field means "any", as a form
/// sends its "any" choice).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawQuery {
    verdict: Option<String>,
    declared: Option<String>,
    date: Option<String>,
    q: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    after: Option<String>,
    uploaded: Option<String>,
}

/// Which decisions to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// One verdict.
    pub verdict: Option<Verdict>,
    /// A declared commodity (any case); `Some(None)` for scans without a declaration.
    pub declared: Option<Option<String>>,
    /// The UTC day the verdict was committed.
    pub date: Option<NaiveDate>,
    /// Text the scan id contains (any case).
    pub q: Option<String>,
}

/// The filter's spelling of "no declaration".
pub const UNDECLARED: &str = "undeclared";

/// A parsed query: the filter, the page (1-based), the row limit and where an event
/// stream starts.
#[derive(Debug, Clone, Default)]
pub(super) struct Query {
    pub filter: Filter,
    pub page: usize,
    pub limit: Option<usize>,
    pub after: Option<u64>,
    pub uploaded: Option<String>,
}

impl RawQuery {
    /// Check every field; the message names the bad one.
    pub fn parse(self) -> Result<Query, String> {
        let given = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let number = |name: &str, v: Option<String>| -> Result<Option<u64>, String> {
            given(v)
                .map(|s| {
                    s.parse::<u64>()
                        .map_err(|_| format!("{name}={s} is not a whole number"))
                })
                .transpose()
        };
        let verdict = given(self.verdict)
            .map(|v| {
                parse_verdict(&v)
                    .ok_or_else(|| format!("verdict={v}: expected CLEAR, INSPECT, HOLD or ERROR"))
            })
            .transpose()?;
        let declared = given(self.declared).map(|d| {
            if d.eq_ignore_ascii_case(UNDECLARED) {
                None
            } else {
                Some(d)
            }
        });
        let date = given(self.date)
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| format!("date={d}: expected YYYY-MM-DD"))
            })
            .transpose()?;
        let page = number("page", self.page)?.unwrap_or(1).max(1) as usize;
        Ok(Query {
            filter: Filter {
                verdict,
                declared,
                date,
                q: given(self.q),
            },
            page,
            limit: number("limit", self.limit)?.map(|n| n as usize),
            after: number("after", self.after)?,
            uploaded: given(self.uploaded),
        })
    }
}

/// A verdict by its SPEC spelling (any case).
pub fn parse_verdict(s: &str) -> Option<Verdict> {
    [
        Verdict::Hold,
        Verdict::Inspect,
        Verdict::Clear,
        Verdict::Error,
    ]
    .into_iter()
    .find(|v| v.as_str().eq_ignore_ascii_case(s))
}

impl Filter {
    /// True when the entry passes every given criterion.
    pub fn matches(&self, e: &Entry) -> bool {
        self.verdict.is_none_or(|v| e.verdict == v)
            && self
                .declared
                .as_ref()
                .is_none_or(|d| match (d, &e.declared) {
                    (None, None) => true,
                    (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
                    _ => false,
                })
            && self.date.is_none_or(|d| e.analysed.date_naive() == d)
            && self
                .q
                .as_ref()
                .is_none_or(|q| e.scan_id.to_lowercase().contains(q.to_lowercase().as_str()))
    }

    /// True when no criterion is given.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// The filter as query-string pairs (for links that keep it).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(v) = self.verdict {
            p.push(("verdict", v.as_str().to_string()));
        }
        if let Some(d) = &self.declared {
            p.push(("declared", d.clone().unwrap_or_else(|| UNDECLARED.into())));
        }
        if let Some(d) = self.date {
            p.push(("date", d.format("%Y-%m-%d").to_string()));
        }
        if let Some(q) = &self.q {
            p.push(("q", q.clone()));
        }
        p
    }
}

/// One page of the queue: each scan once (its current decision), newest first.
pub(super) struct Page<'a> {
    /// The rows of this page.
    pub rows: Vec<&'a Entry>,
    /// Scans that pass the filter, on all pages.
    pub matched: usize,
}

/// The `page`-th page (1-based) of `rows` rows of the scans that pass `filter`.
pub(super) fn page<'a>(j: &'a Journal, filter: &Filter, page: usize, rows: usize) -> Page<'a> {
    let skip = (page.max(1) - 1).saturating_mul(rows);
    let mut out = Vec::with_capacity(rows.min(1024));
    let mut matched = 0;
    for e in j.entries().iter().rev() {
        if !is_current(j, e) || !filter.matches(e) {
            continue;
        }
        if matched >= skip && out.len() < rows {
            out.push(e);
        }
        matched += 1;
    }
    Page { rows: out, matched }
}

/// True when `e` is its scan's newest decision (not superseded by a re-scan).
pub(super) fn is_current(j: &Journal, e: &Entry) -> bool {
    j.by_id(&e.scan_id).is_some_and(|c| c.seq == e.seq)
}

/// True when `id` can be a scan id: 1 to `max_chars` characters, no control character,
/// not `.` or `..`. Ids are journal keys (a manifest may write `LOT/2026/17`) and are only
/// ever looked up in the journal, never joined to a path: `../../etc/passwd` passes this
/// check and is then a scan the journal does not hold (404).
pub fn valid_scan_id(id: &str, max_chars: usize) -> bool {
    let n = id.chars().count();
    (1..=max_chars).contains(&n) && id != "." && id != ".." && !id.chars().any(char::is_control)
}

/// Percent-encode text for a URL path segment or query value: everything but ASCII
/// letters, digits and `-._~` (RFC 3986 "unreserved") as `%XX` of its UTF-8 bytes.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string (`?a=b&c=d`, or empty) from pairs.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let parts: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode(&v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The page of a scan.
pub fn scan_url(id: &str) -> String {
    format!("/scans/{}", encode(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_printable_text_of_bounded_length() {
        assert!(valid_scan_id("S001", 128));
        assert!(valid_scan_id("lot 7 <b>", 128));
        assert!(valid_scan_id("LOT/2026/17", 128));
        assert!(!valid_scan_id("..", 128));
        assert!(!valid_scan_id("a\nb", 128));
        assert!(!valid_scan_id("a\u{0}b", 128));
        assert!(!valid_scan_id("", 128));
        assert!(!valid_scan_id(&"x".repeat(129), 128));
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("S-1_a.b~"), "S-1_a.b~");
        assert_eq!(encode("a/b c<"), "a%2Fb%20c%3C");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(
            query_string([("q", "a&b".to_string()), ("page", "2".into())]),
            "?q=a%26b&page=2"
        );
    }

    #[test]
    fn queries_are_checked_field_by_field() {
        let raw = |verdict: &str, date: &str| RawQuery {
            verdict: Some(verdict.into()),
            date: Some(date.into()),
            ..RawQuery::default()
        };
        let q = raw("hold", "2026-12-06").parse().unwrap();
        assert_eq!(q.filter.verdict, Some(Verdict::Hold));
        assert_eq!(q.filter.date, NaiveDate::from_ymd_opt(2026, 12, 6));
        assert_eq!(q.page, 1);
        assert!(raw("", "").parse().unwrap().filter.is_empty());
        assert!(raw("MAYBE", "").parse().unwrap_err().contains("verdict"));
        assert!(raw("", "6/12/2026").parse().unwrap_err().contains("date"));
        let undeclared = RawQuery {
            declared: Some("Undeclared".into()),
            ..RawQuery::default()
        };
        assert_eq!(undeclared.parse().unwrap().filter.declared, Some(None));
    }
}
