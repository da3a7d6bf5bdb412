//! `reescan phases` (SPEC.md "Commands"): the XRD reference phase library — the
//! embedded crystal structures (data/xrd/*.cif, sources in data/xrd/SOURCES.md) plus
//! any `--phases DIR` CIFs — with cell, density, computed RIR (I/I_corundum, Cu Kα1)
//! and the three strongest lines (d in Å, relative intensity, Cu Kα1).
//!
//! Usage: `reescan phases [--element EL] [--phases DIR]`

use crate::cli::args::PhasesArgs;
use crate::cli::input::lib_input_error;
use reescan::xrd::library::{with_extra, Phase, CU_KA1_A};
use reescan::xrd::pattern::{scale_to_100, sticks, Geometry};
use std::fmt::Write;
use std::process::ExitCode;

/// The three strongest Cu Kα1 lines as `d(I)`.
fn strongest_lines(phase: &Phase) -> String {
    let g = Geometry::BraggBrentano {
        wavelength_a: CU_KA1_A,
    };
    let mut s = sticks(&phase.reflections, g, 5.0, 90.0);
    scale_to_100(&mut s);
    s.sort_by(|a, b| b.intensity.total_cmp(&a.intensity));
    s.iter()
        .take(3)
        .map(|l| format!("{:.3}({:.0})", l.d_a, l.intensity))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One table row.
fn row(phase: &Phase) -> String {
    let c = &phase.structure.cell;
    format!(
        "{:<18} {:<22} {:>7.4} {:>7.4} {:>8.4} {:>6.2} {:>6.2} {:>6.2} {:>6.3} {:>6.2} {:<3} {}",
        phase.name,
        phase.structure.cell_formula(),
        c.a,
        c.b,
        c.c,
        c.alpha_deg,
        c.beta_deg,
        c.gamma_deg,
        phase.density_g_cm3,
        phase.rir,
        if phase.rare_earth { "REE" } else { "" },
        strongest_lines(phase)
    )
}

/// Run `reescan phases`.
pub fn run(args: PhasesArgs) -> anyhow::Result<ExitCode> {
    let lib = with_extra(args.phases.as_deref()).map_err(lib_input_error)?;
    let element = match &args.element {
        Some(el) => Some(
            reescan::tables::xraydb()
                .symbol(el)
                .map_err(|_| lib_input_error(unknown_element(el)))?
                .to_string(),
        ),
        None => None,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:<22} {:>7} {:>7} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:<3} strongest d_A(I) Cu Ka1",
        "phase", "cell contents", "a_A", "b_A", "c_A", "alpha", "beta", "gamma", "rho", "RIR", "ree"
    );
    for phase in lib.phases.iter().filter(|p| {
        element
            .as_ref()
            .is_none_or(|el| p.structure.elements().contains(el))
    }) {
        let _ = writeln!(out, "{}", row(phase));
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn unknown_element(name: &str) -> reescan::Error {
    reescan::Error::Unknown {
        what: "element",
        name: name.to_string(),
        known: "element symbols H … U".into(),
    }
}
