//! `reescan batch` (SPEC.md "Commands").

use crate::cli::args::BatchArgs;
use std::process::ExitCode;

/// Run `reescan batch`.
pub fn run(_args: BatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan batch` is not built yet")
}
