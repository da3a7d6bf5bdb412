//! `reescan scan` (SPEC.md "Commands").

use crate::cli::args::ScanArgs;
use std::process::ExitCode;

/// Run `reescan scan`.
pub fn run(_args: ScanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan scan` is not built yet")
}
