//! Evidence plots with plotters: PNG (bitmap) or SVG, chosen by the output path's
//! extension.
//!
//! * [`render_xrf`]: counts on a log axis vs energy, fitted background and total model,
//!   a normalised-residuals panel, every identified element's lines marked and labelled
//!   (rare earths highlighted), detector/source artefacts labelled as such, and the
//!   detection limits of elements looked for and not found.
//! * [`render_xrd`]: pattern vs 2θ with background and model, each fitted phase as a
//!   coloured stick pattern under the pattern, residuals, legend with wt %.
//! * [`render_screening`]: a verdict banner over the XRF and/or XRD panels of one
//!   screened shipment (what `scan --plot` and `batch --plots` write).
//!
//! In-memory variants ([`svg_string`], [`png_bytes`], [`rgb_buffer`]) serve the HTML
//! report (inline SVG) and the benchmarks.
//!
//! ```no_run
//! # fn demo(r: &reescan::screen::ScreeningResult) -> reescan::Result<()> {
//! use reescan::report::plot::{render_screening, PlotOptions};
//! render_screening(r, &PlotOptions::default(), std::path::Path::new("S0001.png"))?;
//! # Ok(()) }
//! ```

mod screening;
pub(crate) mod style;
mod xrd;
mod xrf;

use crate::screen::ScreeningResult;
use crate::xrd::XrdAnalysis;
use crate::xrf::XrfAnalysis;
use crate::{Error, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

pub(crate) use screening::beam_title;
pub use screening::ScreeningFigure;
pub use xrd::XrdFigure;
pub use xrf::XrfFigure;

/// Size and title of a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Width in pixels (SVG: user units).
    pub width: u32,
    /// Height in pixels (SVG: user units).
    pub height: u32,
    /// Title above the plot; `None` uses the analysed file's name and the fit summary.
    pub title: Option<String>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            width: 1200,
            height: 800,
            title: None,
        }
    }
}

impl PlotOptions {
    /// Options with this size and no title override.
    pub fn sized(width: u32, height: u32) -> Self {
        PlotOptions {
            width,
            height,
            title: None,
        }
    }

    fn check(&self) -> Result<(u32, u32)> {
        let ok = |v: u32| (120..=16_384).contains(&v);
        if ok(self.width) && ok(self.height) {
            Ok((self.width, self.height))
        } else {
            Err(Error::Invalid {
                what: "plot size",
                message: format!(
                    "{}×{} px; width and height must be 120..=16384",
                    self.width, self.height
                ),
            })
        }
    }
}

/// Output format of a plot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// Portable Network Graphics (bitmap).
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

impl PlotFormat {
    /// The format named by a path's extension (`.png` or `.svg`, any case).
    ///
    /// # Errors
    /// [`Error::Invalid`] for any other extension, naming the two that work.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(PlotFormat::Png),
            Some("svg") => Ok(PlotFormat::Svg),
            _ => Err(Error::Invalid {
                what: "plot file name",
                message: format!("{}: the extension must be .png or .svg", path.display()),
            }),
        }
    }
}

/// Something that draws itself onto any plotters drawing area.
pub trait Figure {
    /// Draw onto `area` (already sized; the figure fills it).
    ///
    /// # Errors
    /// A drawing failure from the backend.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Plot an XRF analysis (its fit curves, lines, artefacts, detection limits) to a
/// `.png` or `.svg` file.
///
/// # Errors
/// Bad extension or size ([`Error::Invalid`]), or the file cannot be written.
pub fn render_xrf(a: &XrfAnalysis, opts: &PlotOptions, out: &Path) -> Result<()> {
    render_to_path(&XrfFigure::new(a, opts.title.clone()), opts, out)
}

/// Plot an XRD analysis (pattern, fit, phase sticks with wt %) to a `.png` or `.svg`.
///
/// # Errors
/// As [`render_xrf`].
pub fn render_xrd(a: &XrdAnalysis, opts: &PlotOptions, out: &Path) -> Result<()> {
    render_to_path(&XrdFigure::new(a, opts.title.clone()), opts, out)
}

/// Plot a screened shipment: verdict banner, then its XRF and/or XRD evidence.
///
/// # Errors
/// As [`render_xrf`].
pub fn render_screening(r: &ScreeningResult, opts: &PlotOptions, out: &Path) -> Result<()> {
    render_to_path(&ScreeningFigure::new(r, opts.title.clone()), opts, out)
}

/// Draw a figure to a file, PNG or SVG by the path's extension.
///
/// # Errors
/// As [`render_xrf`].
pub fn render_to_path(fig: &impl Figure, opts: &PlotOptions, out: &Path) -> Result<()> {
    let bytes = match PlotFormat::from_path(out)? {
        PlotFormat::Png => png_bytes(fig, opts)?,
        PlotFormat::Svg => svg_string(fig, opts)?.into_bytes(),
    };
    std::fs::write(out, bytes).map_err(|e| Error::Io(e).in_file(out))
}

/// Draw a figure as an SVG document.
///
/// # Errors
/// A bad size, or a drawing failure.
pub fn svg_string(fig: &impl Figure, opts: &PlotOptions) -> Result<String> {
    let size = opts.check()?;
    crate::report::font::ensure_registered()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        fig.draw(&root)?;
        root.present().plot_err()?;
    }
    Ok(svg)
}

/// Draw a figure into an RGB8 buffer (`width × height × 3` bytes, row-major).
///
/// # Errors
/// A bad size, or a drawing failure.
pub fn rgb_buffer(fig: &impl Figure, opts: &PlotOptions) -> Result<Vec<u8>> {
    let (w, h) = opts.check()?;
    crate::report::font::ensure_registered()?;
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        fig.draw(&root)?;
        root.present().plot_err()?;
    }
    Ok(buf)
}

/// Draw a figure as PNG file bytes (8-bit RGB, fast deflate).
///
/// # Errors
/// A bad size, or a drawing/encoding failure.
pub fn png_bytes(fig: &impl Figure, opts: &PlotOptions) -> Result<Vec<u8>> {
    let rgb = rgb_buffer(fig, opts)?;
    encode_png(&rgb, opts.width, opts.height)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().plot_err()?;
        writer.write_image_data(rgb).plot_err()?;
        writer.finish().plot_err()?;
    }
    Ok(out)
}

/// Turns a plotters/png error into the library error.
pub(crate) trait PlotErr<T> {
    /// Map the error, saying it happened while drawing.
    fn plot_err(self) -> Result<T>;
}

impl<T, E: std::fmt::Display> PlotErr<T> for std::result::Result<T, E> {
    fn plot_err(self) -> Result<T> {
        self.map_err(|e| Error::Io(std::io::Error::other(format!("drawing the plot: {e}"))))
    }
}

/// A fitted curve cut to the `n` measured points; empty when the fit did not cover them
/// all (the plots then leave that curve out).
fn trim_curve(v: &[f64], n: usize) -> &[f64] {
    v.get(..n).unwrap_or(&[])
}

/// The finite, equal-length part of a measured curve and its fit (x in keV or °2θ).
struct Trace<'a> {
    x: &'a [f64],
    counts: &'a [f64],
    background: &'a [f64],
    model: &'a [f64],
}

impl<'a> Trace<'a> {
    /// The curves cut to the measured points; `None` when fewer than two points or no
    /// finite x range.
    fn new(
        x: &'a [f64],
        counts: &'a [f64],
        background: &'a [f64],
        model: &'a [f64],
    ) -> Option<Self> {
        let n = x.len().min(counts.len());
        if n < 2 {
            return None;
        }
        let t = Trace {
            x: &x[..n],
            counts: &counts[..n],
            background: trim_curve(background, n),
            model: trim_curve(model, n),
        };
        let (x0, x1) = t.x_range();
        (x1 > x0).then_some(t)
    }

    /// First and last finite x.
    fn x_range(&self) -> (f64, f64) {
        let first = self.x.iter().copied().find(|v| v.is_finite());
        let last = self.x.iter().rev().copied().find(|v| v.is_finite());
        (first.unwrap_or(0.0), last.unwrap_or(0.0))
    }

    /// Highest finite count or model value (at least 1).
    fn y_max(&self) -> f64 {
        self.counts
            .iter()
            .chain(self.model)
            .copied()
            .filter(|v| v.is_finite())
            .fold(1.0, f64::max)
    }

    /// `(x, r(y, m))` at every finite point; empty without a model.
    fn residuals(&self, r: impl Fn(f64, f64) -> f64) -> Vec<(f64, f64)> {
        if self.model.is_empty() {
            return Vec::new();
        }
        self.x
            .iter()
            .zip(self.counts.iter().zip(self.model))
            .filter(|(x, (y, m))| x.is_finite() && y.is_finite() && m.is_finite())
            .map(|(&x, (&y, &m))| (x, r(y, m)))
            .collect()
    }
}

/// The residual panel's axes: x as the main panel, y symmetric in ±`r_max`.
fn residual_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    (x0, x1): (f64, f64),
    r_max: f64,
    (x_desc, y_desc): (&str, &str),
    x_labels: usize,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(18)
        .margin_top(0)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, -r_max..r_max)
        .plot_err()?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_labels(x_labels)
        .y_labels(5)
        .light_line_style(style::GRID_MINOR)
        .max_light_lines(2)
        .label_style(style::font(12.0))
        .axis_desc_style(style::font(13.0))
        .draw()
        .plot_err()?;
    Ok(chart)
}

/// The series legend, upper right, on a translucent white box (both evidence plots).
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .label_font(style::font(12.0))
        .draw()
        .plot_err()
}

/// The finite (x, y) points of a curve, y floored at `floor` (log axes).
fn finite_points<'a>(
    x: &'a [f64],
    y: &'a [f64],
    floor: f64,
) -> impl Iterator<Item = (f64, f64)> + Clone + 'a {
    x.iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(move |(&a, &b)| (a, b.max(floor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_extension() {
        assert_eq!(
            PlotFormat::from_path(Path::new("a/b.PNG")).ok(),
            Some(PlotFormat::Png)
        );
        assert_eq!(
            PlotFormat::from_path(Path::new("b.svg")).ok(),
            Some(PlotFormat::Svg)
        );
        assert!(PlotFormat::from_path(Path::new("b.jpg")).is_err());
        assert!(PlotFormat::from_path(Path::new("noext")).is_err());
    }

    #[test]
    fn absurd_sizes_are_rejected() {
        assert!(PlotOptions::sized(10, 800).check().is_err());
        assert!(PlotOptions::sized(800, 100_000).check().is_err());
        assert!(PlotOptions::sized(800, 600).check().is_ok());
    }
}
