//! `reescan scan` (SPEC.md "Commands"). For now: read the inputs and print
//! what was parsed (the verdict is built on top of `cli::input`).

use crate::cli::args::ScanArgs;
use crate::cli::input;
use std::process::ExitCode;

/// Run `reescan scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let inputs = input::load_inputs(&args.input)?;
    for s in [&inputs.xrf, &inputs.xrd].into_iter().flatten() {
        println!("{}", input::summary(s));
    }
    Ok(ExitCode::SUCCESS)
}
