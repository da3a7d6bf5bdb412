//! The embedded plot font.
//!
//! plotters' `ab_glyph` text backend knows no fonts until one is registered; the
//! system-font backend (`ttf` feature) needs fontconfig and fails with `NoSuchFont`
//! on a bare server. We embed DejaVu Sans 2.37 (Bitstream Vera licence, see
//! `assets/README.md`) and register it once as `sans-serif`, the family every plot
//! asks for. In SVG output the family name is written as text, so a browser renders
//! the labels with its own sans-serif face.

use std::sync::OnceLock;

/// The font family name plots use.
pub const FAMILY: &str = "sans-serif";

/// DejaVu Sans 2.37 (Debian `fonts-dejavu-core`), unmodified.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Register the embedded font with plotters (idempotent, thread-safe).
///
/// # Errors
/// Only if the embedded bytes were not a valid font, which a unit test rules out.
pub fn ensure_registered() -> crate::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, DEJAVU_SANS)
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(crate::Error::Invalid {
            what: "embedded font",
            message: "DejaVuSans.ttf could not be parsed".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_registers() {
        assert!(ensure_registered().is_ok());
        assert!(ensure_registered().is_ok(), "second call is a no-op");
    }
}
