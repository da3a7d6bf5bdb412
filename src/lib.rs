//! # reescan — screening cargo X-ray scans for smuggled rare-earth material
//!
//! Data flow is one-way, files to verdicts:
//!
//! ```text
//! formats (bytes → Spectrum) → signal (background, peaks, fits on &[f64])
//!     → xrf (elements, wt %) | xrd (phases, wt %) → screen (declaration → Verdict)
//!     → batch (many scans) → station (watched folder, journal) | report (HTML, plots)
//!     → CLI (src/main.rs, src/cli/)
//! ```
//! A module uses only modules to its left; `xrf` and `xrd` never use each other.
//!
//! ## Conventions (stated once)
//! * Energies are keV (`_kev`), except tabulated eV values named `_ev`.
//! * Diffraction angles are degrees 2θ (`two_theta_deg`); d-spacings Å (`d_a`);
//!   wavelengths Å (`wavelength_a`); q = 4π sinθ / λ in Å⁻¹.
//! * Channels are 0-based; channel *i* has energy `offset + gain·i + quad·i²`.
//! * Times are seconds (`live_time_s`); counts are raw counts (not rates) as f64.
//! * Concentrations are mass fractions in weight percent (`wt_pct`).
//! * Uncertainties are 1σ unless a name says otherwise (`u2_` = k=2 expanded).

pub mod batch;
pub mod error;
pub mod formats;
pub mod report;
pub mod scale;
pub mod screen;
pub mod serve;
pub mod signal;
pub mod spectrum;
pub mod station;
pub mod tables;
pub mod xrd;
pub mod xrf;

pub use error::{Error, Result};
pub use spectrum::{Axis, Calibration, FilterLayer, Metadata, Spectrum, Technique};
