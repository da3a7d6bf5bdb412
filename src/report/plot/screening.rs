//! One screened shipment on one figure: verdict banner, XRF and XRD evidence.

use super::style;
use super::xrd::{draw_message, XrdFigure};
use super::xrf::XrfFigure;
use super::{Figure, PlotErr};
use crate::screen::ScreeningResult;
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Height of the verdict banner, px.
const BANNER_PX: u32 = 34;

/// A screening result as a figure.
#[derive(Debug, Clone)]
pub struct ScreeningFigure<'a> {
    result: &'a ScreeningResult,
    title: Option<String>,
}

impl<'a> ScreeningFigure<'a> {
    /// The figure of `result`; `title` overrides the banner text.
    pub fn new(result: &'a ScreeningResult, title: Option<String>) -> Self {
        ScreeningFigure { result, title }
    }

    /// "S0001 · declared iron-ore · HOLD · risk 0.93 · ΣREE 1.80 wt % (Nd, Pr)".
    pub fn banner(r: &ScreeningResult) -> String {
        let mut s = format!(
            "{} · declared {} · {} · risk {:.2}",
            r.scan_id, r.declared, r.verdict, r.risk
        );
        if let Some(ree) = r.ree_wt_pct {
            s.push_str(&format!(" · ΣREE {}", super::xrf::format_wt(ree)));
            if !r.ree_elements.is_empty() {
                s.push_str(&format!(" ({})", r.ree_elements.join(", ")));
            }
        }
        if !r.phases.is_empty() {
            s.push_str(&format!(" · phases: {}", r.phases.join(", ")));
        }
        s
    }
}

impl Figure for ScreeningFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let r = self.result;
        area.fill(&WHITE).plot_err()?;
        let (w, h) = area.dim_in_pixel();
        let (banner, body) = area.split_vertically(BANNER_PX.min(h / 4));
        let colour = style::verdict_colour(r.verdict);
        banner.fill(&colour).plot_err()?;
        let text = self.title.clone().unwrap_or_else(|| Self::banner(r));
        banner
            .draw(&Text::new(text, (10, 8), style::text(17.0, WHITE)))
            .plot_err()?;
        let _ = w;
        let (_, body_h) = body.dim_in_pixel();
        match (&r.xrf, &r.xrd) {
            (Some(_), Some(xrd)) => {
                let (upper, lower) = body.split_vertically(body_h * 58 / 100);
                draw_xrf(r, &upper)?;
                XrdFigure::new(xrd, None).draw(&lower)
            }
            (Some(_), None) => draw_xrf(r, &body),
            (None, Some(xrd)) => XrdFigure::new(xrd, None).draw(&body),
            (None, None) => {
                let reasons = if r.reasons.is_empty() {
                    "no XRF or XRD analysis".to_string()
                } else {
                    r.reasons.join(" ")
                };
                draw_message(&body, "No spectrum", &reasons)
            }
        }
    }
}

/// The XRF evidence: the spectrum and its fit, or for a multi-beam scan one panel per
/// beam (stacked, each titled with its beam's excitation).
fn draw_xrf<DB: DrawingBackend>(r: &ScreeningResult, area: &DrawingArea<DB, Shift>) -> Result<()> {
    let Some(m) = r.xrf_beams.as_ref().filter(|m| !m.beams.is_empty()) else {
        return match &r.xrf {
            Some(x) => XrfFigure::new(x, None).draw(area),
            None => Ok(()),
        };
    };
    let panels = area.split_evenly((m.beams.len(), 1));
    for (b, panel) in m.beams.iter().zip(&panels) {
        XrfFigure::new(&b.analysis, Some(beam_title(b))).draw(panel)?;
    }
    Ok(())
}

/// A beam panel's title: "beam 2: 40 kV, Rh, filter Al 300 µm, 30 s live · file".
pub(crate) fn beam_title(b: &crate::xrf::beams::BeamRecord) -> String {
    format!("{} · {}", b.description, super::xrf::file_name(&b.file))
}
