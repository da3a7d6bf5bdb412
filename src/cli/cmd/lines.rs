//! `reescan lines` (SPEC.md "Commands").

use crate::cli::args::LinesArgs;
use std::process::ExitCode;

/// Run `reescan lines`.
pub fn run(_args: LinesArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan lines` is not built yet")
}
