//! `reescan phases` (SPEC.md "Commands").

use crate::cli::args::PhasesArgs;
use std::process::ExitCode;

/// Run `reescan phases`.
pub fn run(_args: PhasesArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan phases` is not built yet")
}
