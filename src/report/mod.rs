//! Reporting: the forensic report (HTML and JSON) and the evidence plots (PNG/SVG).
//!
//! * [`plot`] draws an XRF spectrum with its fit, an XRD pattern with its phases, or a
//!   whole screening result, to PNG or SVG (chosen by the output file's extension).
//!   Text is drawn with an embedded font ([`font`]), so plotting works on a server with
//!   no fonts installed.
//! * [`forensic`] assembles everything a laboratory files for one item (ISO/IEC
//!   17025:2017 §7.8): identity, inputs with hashes, method, results with expanded
//!   uncertainty, the decision rule, and the fits that produced every number.
//! * [`lab`] holds the laboratory's side of it (§7.8.2.1): the laboratory profile
//!   (`--lab`), the customer, the dates, the person authorising the report, and the table of
//!   which item comes from where; a report without a laboratory is an unsigned draft.
//! * [`html`] renders that record as one self-contained HTML page (inline CSS and SVG,
//!   "Page x of y" and the report id on every printed page); [`json`] writes the same
//!   record for laboratory information systems.

pub mod escape;
pub mod font;
pub mod forensic;
pub mod html;
pub mod json;
pub mod lab;
pub mod plot;
pub mod provenance;

pub use forensic::{ForensicReport, ReportContext, ReportInputs};
pub use plot::{render_screening, render_xrd, render_xrf, PlotFormat, PlotOptions};
