//! One file per SPEC subcommand.

pub mod batch;
pub mod lines;
pub mod merge;
pub mod phases;
pub mod report;
pub mod scan;
pub mod serve;
pub mod synth;
pub mod watch;

use super::args::{Cli, Command};
use std::process::ExitCode;

/// Dispatch a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Batch(a) => batch::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Watch(a) => watch::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Report(a) => report::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Lines(a) => lines::run(a),
        Command::Phases(a) => phases::run(a),
    }
}
