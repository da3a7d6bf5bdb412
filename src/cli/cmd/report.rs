//! `reescan report` (SPEC.md "Commands").

use crate::cli::args::ReportArgs;
use std::process::ExitCode;

/// Run `reescan report`.
pub fn run(_args: ReportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan report` is not built yet")
}
