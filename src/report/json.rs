//! The forensic report as JSON (`reescan report --format json`): the same record as the
//! HTML ([`ForensicReport`]), for laboratory information systems. Plots are not included
//! (they are pictures of the fits whose numbers are).

use super::forensic::ForensicReport;
use crate::{Error, Result};

/// Pretty-printed JSON of the report, ending with a newline.
///
/// # Errors
/// Only if a value cannot be represented (serde_json rejects nothing in this record;
/// non-finite numbers become `null`).
pub fn render(report: &ForensicReport) -> Result<String> {
    let mut s = serde_json::to_string_pretty(report).map_err(|e| Error::Invalid {
        what: "report",
        message: format!("cannot encode as JSON: {e}"),
    })?;
    s.push('\n');
    Ok(s)
}
