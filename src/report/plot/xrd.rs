//! The XRD evidence plot: pattern, fit, phase stick patterns with wt %, residuals.

use super::style;
use super::xrf::file_name;
use super::{Figure, PlotErr};
use crate::xrd::XrdAnalysis;
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use style::GRID_MINOR;

/// An XRD analysis as a figure.
#[derive(Debug, Clone)]
pub struct XrdFigure<'a> {
    analysis: &'a XrdAnalysis,
    title: Option<String>,
}

impl<'a> XrdFigure<'a> {
    /// The figure of `analysis`; `title` overrides the default summary line.
    pub fn new(analysis: &'a XrdAnalysis, title: Option<String>) -> Self {
        XrdFigure { analysis, title }
    }

    /// The default title: file, wavelength and refined zero shift.
    pub fn default_title(a: &XrdAnalysis) -> String {
        format!(
            "XRD {} · λ = {:.4} Å · zero shift {:+.3}° · {} peaks",
            file_name(&a.file),
            a.wavelength_a,
            a.zero_shift_deg,
            a.peaks.len()
        )
    }
}

impl Figure for XrdFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        area.fill(&WHITE).plot_err()?;
        let a = self.analysis;
        let title = self.title.clone().unwrap_or_else(|| Self::default_title(a));
        let Some(p) = Pattern::of(a) else {
            return draw_message(area, &title, "no XRD pattern curves to plot");
        };
        let (_, h) = area.dim_in_pixel();
        let rows = p.sticks.len().max(1) as u32;
        let stick_px = (rows * 24 + 10).min(h * 30 / 100);
        // a residual panel needs ~80 px to be read; a small figure leaves it out
        let resid_px = h.saturating_sub(stick_px) * 24 / 100;
        let resid_px = if resid_px >= 80 { resid_px } else { 0 };
        let main_px = h.saturating_sub(stick_px + resid_px);
        let (top, rest) = area.split_vertically(main_px);
        let (sticks, bottom) = rest.split_vertically(stick_px);
        draw_pattern(&top, a, &p, &title)?;
        draw_sticks(&sticks, a, &p)?;
        if resid_px > 0 {
            draw_residuals(&bottom, &p)?;
        }
        Ok(())
    }
}

/// The pattern and its fit, plus the stick patterns of the phases.
struct Pattern<'a> {
    trace: super::Trace<'a>,
    sticks: &'a [(String, Vec<(f64, f64)>)],
}

impl<'a> Pattern<'a> {
    fn of(a: &'a XrdAnalysis) -> Option<Self> {
        let c = &a.curves;
        let trace = super::Trace::new(&c.two_theta_deg, &c.counts, &c.background, &c.model)?;
        Some(Pattern {
            trace,
            sticks: &c.sticks,
        })
    }

    fn x_range(&self) -> (f64, f64) {
        self.trace.x_range()
    }
}

fn points<'a>(x: &'a [f64], y: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + Clone + 'a {
    super::finite_points(x, y, f64::NEG_INFINITY)
}

fn phase_colour(i: usize) -> RGBColor {
    style::PHASES[i % style::PHASES.len()]
}

/// "hematite 91.0 wt %" when the phase table has the stick pattern's phase.
fn phase_legend(a: &XrdAnalysis, name: &str) -> String {
    match a.phases.iter().find(|p| p.name == name) {
        Some(p) => format!("{name} {:.1} wt % (FOM {:.2})", p.wt_pct, p.fom),
        None => name.to_string(),
    }
}

fn draw_pattern<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: &XrdAnalysis,
    p: &Pattern<'_>,
    title: &str,
) -> Result<()> {
    let (x0, x1) = p.x_range();
    let y_max = p.trace.y_max();
    let y_min = p
        .trace
        .counts
        .iter()
        .chain(p.trace.background)
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let mut chart = ChartBuilder::on(area)
        .caption(title, style::font(17.0))
        .margin(8)
        .margin_right(18)
        .x_label_area_size(22)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y_min..y_max * 1.12)
        .plot_err()?;
    chart
        .configure_mesh()
        .y_desc("Counts")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_labels(16)
        .light_line_style(GRID_MINOR)
        .max_light_lines(2)
        .label_style(style::font(12.0))
        .axis_desc_style(style::font(13.0))
        .draw()
        .plot_err()?;
    let measured = style::MEASURED.stroke_width(1);
    chart
        .draw_series(LineSeries::new(points(p.trace.x, p.trace.counts), measured))
        .plot_err()?
        .label("measured")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], measured));
    if !p.trace.background.is_empty() {
        let bg = style::BACKGROUND.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                points(p.trace.x, p.trace.background),
                6,
                4,
                bg,
            ))
            .plot_err()?
            .label("background")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], bg));
    }
    if !p.trace.model.is_empty() {
        let model = style::MODEL.stroke_width(1);
        chart
            .draw_series(LineSeries::new(points(p.trace.x, p.trace.model), model))
            .plot_err()?
            .label("fit")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], model));
    }
    for (i, (name, _)) in p.sticks.iter().enumerate() {
        let colour = phase_colour(i);
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .plot_err()?
            .label(phase_legend(a, name))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], colour.filled()));
    }
    super::draw_legend(&mut chart)
}

/// One row per phase: sticks at the reference 2θ, height ∝ relative intensity.
fn draw_sticks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: &XrdAnalysis,
    p: &Pattern<'_>,
) -> Result<()> {
    let (x0, x1) = p.x_range();
    let rows = p.sticks.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(18)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, 0.0..rows)
        .plot_err()?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(0)
        .draw()
        .plot_err()?;
    for (i, (name, sticks)) in p.sticks.iter().enumerate() {
        let colour = phase_colour(i);
        let base = rows - 1.0 - i as f64 + 0.05;
        let i_max = sticks
            .iter()
            .map(|s| s.1)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let scale = if i_max > 0.0 { 0.85 / i_max } else { 0.0 };
        chart
            .draw_series(
                sticks
                    .iter()
                    .filter(|(t, r)| t.is_finite() && r.is_finite() && *t >= x0 && *t <= x1)
                    .map(|&(t, r)| {
                        PathElement::new(
                            vec![(t, base), (t, base + (r * scale).max(0.04))],
                            colour.stroke_width(2),
                        )
                    }),
            )
            .plot_err()?;
        let label = EmptyElement::at((x0, base + 0.9))
            + Text::new(phase_legend(a, name), (4, 0), style::text(12.0, colour));
        chart.draw_series(std::iter::once(label)).plot_err()?;
    }
    Ok(())
}

fn draw_residuals<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Pattern<'_>,
) -> Result<()> {
    let residuals = p.trace.residuals(|y, m| y - m);
    let r_max = residuals.iter().map(|r| r.1.abs()).fold(1.0, f64::max) * 1.1;
    let mut chart =
        super::residual_chart(area, p.x_range(), r_max, ("2θ (degrees)", "obs − fit"), 16)?;
    chart
        .draw_series(LineSeries::new(residuals, style::MEASURED.stroke_width(1)))
        .plot_err()?;
    Ok(())
}

/// A titled empty panel saying why there is nothing to plot.
pub(crate) fn draw_message<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> Result<()> {
    area.draw(&Text::new(
        title.to_string(),
        (12, 10),
        style::text(17.0, BLACK),
    ))
    .plot_err()?;
    area.draw(&Text::new(
        message.to_string(),
        (12, 40),
        style::text(14.0, style::ARTEFACT),
    ))
    .plot_err()
}
