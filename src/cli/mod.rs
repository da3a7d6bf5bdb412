//! Command-line interface: clap definitions in `args.rs`, one file per SPEC
//! subcommand in `cmd/`. Errors print once as `reescan: {:#}`.
//!
//! Exit status (SPEC): 0 ran; 2 usage or unreadable input for `scan`/`report`;
//! 1 other failure.

pub mod args;
pub mod cmd;
pub mod input;

use clap::Parser;
use std::process::ExitCode;

/// An error the CLI maps to exit status 2 (usage or unreadable input).
#[derive(Debug)]
pub struct InputError(pub anyhow::Error);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for InputError {}

/// Wrap a library error: input problems become [`InputError`] (exit 2).
/// The error's message already includes its causes (`path: problem`), so it
/// is kept as one message; `{:#}` would print the source chain twice.
#[allow(dead_code)]
pub fn classify(e: reescan::Error) -> anyhow::Error {
    let message = anyhow::Error::msg(e.to_string());
    if e.is_input_error() {
        anyhow::Error::new(InputError(message))
    } else {
        message
    }
}

/// Parse arguments, run the command, print any error once, map to an exit code.
pub fn main() -> ExitCode {
    let args = match args::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cmd::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("reescan: {e:#}");
            if e.downcast_ref::<InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
