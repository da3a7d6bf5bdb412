//! Signal processing shared by XRF and XRD: pure functions on `&[f64]`, no I/O,
//! no element knowledge.

pub mod detector;
