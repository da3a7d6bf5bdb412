//! `reescan merge` (SPEC.md "Commands").

use crate::cli::args::MergeArgs;
use std::process::ExitCode;

/// Run `reescan merge`.
pub fn run(_args: MergeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan merge` is not built yet")
}
