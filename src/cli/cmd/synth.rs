//! `reescan synth` (SPEC.md "Commands").

use crate::cli::args::SynthArgs;
use std::process::ExitCode;

/// Run `reescan synth`.
pub fn run(_args: SynthArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`reescan synth` is not built yet")
}
