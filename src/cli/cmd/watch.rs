//! `reescan watch` (SPEC.md "Commands").

use crate::cli::args::WatchArgs;
use std::process::ExitCode;

/// Run `reescan watch`.
pub fn run(_args: WatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan watch` is not built yet")
}
