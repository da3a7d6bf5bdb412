//! Emission lines from the xraydb crate, in the project's units (keV).

use crate::{Error, Result};
use serde::Serialize;

/// One emission line of an element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmissionLine {
    /// Element symbol.
    pub element: String,
    /// Siegbahn label as xraydb spells it ("Ka1", "La1", "Lb2,15"...).
    pub label: String,
    /// Initial (vacancy) level: "K", "L1", "L2", "L3", "M5"...
    pub initial_level: String,
    /// Final level.
    pub final_level: String,
    /// Emission energy, keV.
    pub energy_kev: f64,
    /// Relative intensity within the initial level (Elam: lines of one level sum to ~1).
    pub rel_intensity: f64,
}

/// All emission lines of an element, sorted by energy.
pub fn element_lines(symbol: &str) -> Result<Vec<EmissionLine>> {
    let db = super::xraydb();
    let map = db
        .xray_lines(symbol, None, None)
        .map_err(|_| Error::Unknown {
            what: "element",
            name: symbol.to_string(),
            known: "element symbols H..Cf".into(),
        })?;
    let sym = db.symbol(symbol).unwrap_or(symbol).to_string();
    let mut out: Vec<EmissionLine> = map
        .into_iter()
        .map(|(label, l)| EmissionLine {
            element: sym.clone(),
            label,
            initial_level: l.initial_level,
            final_level: l.final_level,
            energy_kev: l.energy / 1000.0,
            rel_intensity: l.intensity,
        })
        .collect();
    out.sort_by(|a, b| {
        a.energy_kev
            .total_cmp(&b.energy_kev)
            .then(a.label.cmp(&b.label))
    });
    Ok(out)
}
