//! Reporting: result rows (CSV/JSONL), the forensic HTML report, and plots.
