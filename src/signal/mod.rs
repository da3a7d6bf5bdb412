//! Signal processing shared by XRF and XRD: pure functions on `&[f64]`, no I/O,
//! no element knowledge.
//!
//! Conventions (stated once): channel `i` is the bin centred on `i` of the slice given;
//! x values are keV for energy axes and degrees 2θ for diffraction; widths given "in
//! FWHM" are converted to channels by the caller's calibration. Profiles are
//! area-normalised ([`lineshape`]); template amplitudes are areas in counts.
//!
//! | stage | module |
//! |---|---|
//! | resolution, escape, pile-up | [`detector`], [`group`] |
//! | background | [`snip`], [`strip`] |
//! | smoothing, derivatives | [`savitzky_golay`] |
//! | peak search | [`peaks`] |
//! | FFT convolution/correlation, alignment | [`fft`] |
//! | line shapes | [`lineshape`] |
//! | joint linear fit (screening fast path) | [`linear`] |
//! | non-linear refinement | [`lm`] |
//! | energy calibration check | [`calibration`] |

pub mod detector;
pub mod fft;
pub mod group;
pub mod linear;
pub mod lineshape;
pub mod lm;
pub mod peaks;
pub mod savitzky_golay;
pub mod snip;
pub mod strip;
