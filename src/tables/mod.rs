//! Reference data. X-ray line, edge, yield, attenuation and form-factor data come from
//! the `xraydb` crate (Elam, Ravel & Sieber, Radiat. Phys. Chem. 63 (2002) 121;
//! Waasmaier & Kirfel, Acta Cryst. A51 (1995) 416); this module adds only what it
//! lacks, embedded from `data/` with its source named there.

pub mod lines;
pub mod materials;

use std::sync::OnceLock;

/// The process-wide X-ray database, decoded once.
pub fn xraydb() -> &'static xraydb::XrayDb {
    static DB: OnceLock<xraydb::XrayDb> = OnceLock::new();
    DB.get_or_init(xraydb::XrayDb::new)
}

/// The rare-earth elements as customs uses the term: Sc, Y and La–Lu.
pub const RARE_EARTHS: [&str; 17] = [
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu",
];

/// True for Sc, Y and the lanthanides.
pub fn is_rare_earth(symbol: &str) -> bool {
    RARE_EARTHS.contains(&symbol)
}
