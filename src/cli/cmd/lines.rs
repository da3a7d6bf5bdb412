//! `reescan lines` (SPEC.md "Commands"): the emission lines of elements from
//! the xraydb tables (Elam, Ravel & Sieber, Radiat. Phys. Chem. 63 (2002) 121),
//! grouped by family (K, L, M, N by initial level), strongest relative
//! intensity within a level first.

use crate::cli::args::LinesArgs;
use crate::cli::input::lib_input_error;
use reescan::tables::lines::{element_lines, EmissionLine};
use std::fmt::Write;
use std::process::ExitCode;

/// Line family from the initial (vacancy) level: "K", "L", "M", "N".
fn family(level: &str) -> &str {
    level.get(..1).unwrap_or(level)
}

/// The table for one element.
fn table(symbol: &str, lines: &[EmissionLine]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{symbol}");
    let _ = writeln!(
        out,
        "  {:<7} {:<8} {:<8} {:>10} {:>10}",
        "family", "line", "level", "energy_keV", "rel_int"
    );
    let mut sorted: Vec<&EmissionLine> = lines.iter().collect();
    sorted.sort_by(|a, b| {
        family(&a.initial_level)
            .cmp(family(&b.initial_level))
            .then(a.initial_level.cmp(&b.initial_level))
            .then(b.rel_intensity.total_cmp(&a.rel_intensity))
    });
    for l in sorted {
        let _ = writeln!(
            out,
            "  {:<7} {:<8} {:<8} {:>10.4} {:>10.5}",
            family(&l.initial_level),
            l.label,
            format!("{}-{}", l.initial_level, l.final_level),
            l.energy_kev,
            l.rel_intensity
        );
    }
    out
}

/// Run `reescan lines`.
pub fn run(args: LinesArgs) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    for el in &args.elements {
        let lines = element_lines(el).map_err(lib_input_error)?;
        let symbol = lines.first().map_or(el.as_str(), |l| l.element.as_str());
        out.push_str(&table(symbol, &lines));
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
