//! The XRF evidence plot: spectrum, fit, residuals, line markers.

use super::style::{self, greek_line};
use super::{Figure, PlotErr};
use crate::tables::{is_rare_earth, lines::element_lines};
use crate::xrf::XrfAnalysis;
use crate::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use style::GRID_MINOR;

/// Lowest count drawn on the log axis: zero-count channels sit on the axis floor.
const LOG_FLOOR: f64 = 0.5;
/// Labels (upright text) are kept at least this far apart, px.
const LABEL_GAP_PX: i32 = 15;
/// At most this many line/artefact labels.
const MAX_LABELS: usize = 28;
/// Above this a K line is not the line to look for: handheld tubes (≤ 50 kV) barely
/// excite K shells past Sn (K edge 29.2 keV), so rare earths are seen by their L lines.
const K_LINE_MAX_KEV: f64 = 26.0;
/// Width of the detection-limit box and its offset below the plot's top edge, px.
const LOD_BOX_PX: i32 = 300;
const LOD_BOX_TOP_PX: i32 = 78;
/// At most this many detection-limit markers, so the floor of the plot stays legible.
const MAX_LOD_MARKERS: usize = 12;

/// An XRF analysis as a figure.
#[derive(Debug, Clone)]
pub struct XrfFigure<'a> {
    analysis: &'a XrfAnalysis,
    title: Option<String>,
}

impl<'a> XrfFigure<'a> {
    /// The figure of `analysis`; `title` overrides the default fit summary line.
    pub fn new(analysis: &'a XrfAnalysis, title: Option<String>) -> Self {
        XrfFigure { analysis, title }
    }

    /// The default title: the file and the fit that produced every number on it.
    pub fn default_title(a: &XrfAnalysis) -> String {
        let c = &a.calibration;
        format!(
            "XRF {} · χ²/ν = {:.2} · channels {}–{} · gain {:.2} eV/ch, offset {:.1} eV",
            file_name(&a.file),
            a.reduced_chi2,
            a.fit_channels.0,
            a.fit_channels.1,
            c.gain_kev * 1e3,
            c.offset_kev * 1e3
        )
    }
}

impl Figure for XrfFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        area.fill(&WHITE).plot_err()?;
        let title = self
            .title
            .clone()
            .unwrap_or_else(|| Self::default_title(self.analysis));
        let Some(curves) = curves_of(self.analysis) else {
            return super::xrd::draw_message(area, &title, "no XRF fit curves to plot");
        };
        let (_, h) = area.dim_in_pixel();
        let (top, bottom) = area.split_vertically(h * 74 / 100);
        draw_spectrum(&top, self.analysis, &curves, &title)?;
        draw_residuals(&bottom, &curves)
    }
}

/// The XRF spectrum and its fit.
type Curves<'a> = super::Trace<'a>;

fn curves_of(a: &XrfAnalysis) -> Option<Curves<'_>> {
    let c = &a.curves;
    super::Trace::new(&c.energy_kev, &c.counts, &c.background, &c.model)
}

impl Curves<'_> {
    /// Highest measured count within ±`half_width_kev` of `energy_kev`.
    fn height_at(&self, energy_kev: f64, half_width_kev: f64) -> f64 {
        let lo = self.x.partition_point(|&e| e < energy_kev - half_width_kev);
        let hi = self
            .x
            .partition_point(|&e| e <= energy_kev + half_width_kev);
        self.counts[lo..hi.max(lo)]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(LOG_FLOOR, f64::max)
    }
}

fn points<'a>(x: &'a [f64], y: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + Clone + 'a {
    super::finite_points(x, y, LOG_FLOOR)
}

fn draw_spectrum<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: &XrfAnalysis,
    c: &Curves<'_>,
    title: &str,
) -> Result<()> {
    let (x0, x1) = c.x_range();
    let y_top = c.y_max() * 30.0;
    let mut chart = ChartBuilder::on(area)
        .caption(title, style::font(17.0))
        .margin(8)
        .margin_right(18)
        .x_label_area_size(22)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, (LOG_FLOOR..y_top).log_scale())
        .plot_err()?;
    chart
        .configure_mesh()
        .y_desc("Counts")
        .y_label_formatter(&|v| format_count(*v))
        .x_labels(14)
        .light_line_style(GRID_MINOR)
        .max_light_lines(2)
        .label_style(style::font(12.0))
        .axis_desc_style(style::font(13.0))
        .draw()
        .plot_err()?;

    let half_fwhm = half_fwhm_kev(a);
    let markers = Markers::collect(a, c, (x0, x1), half_fwhm);
    markers.draw_bands(&mut chart, y_top)?;

    chart
        .draw_series(LineSeries::new(points(c.x, c.counts), MEASURED_STYLE))
        .plot_err()?
        .label("measured")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], MEASURED_STYLE));
    if !c.background.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(
                thin(points(c.x, c.background), c.x.len(), SMOOTH_CURVE_POINTS),
                6,
                4,
                style::BACKGROUND.stroke_width(2),
            ))
            .plot_err()?
            .label("background")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], style::BACKGROUND.stroke_width(2))
            });
    }
    if !c.model.is_empty() {
        chart
            .draw_series(LineSeries::new(
                points(c.x, c.model),
                style::MODEL.stroke_width(1),
            ))
            .plot_err()?
            .label(format!("fit (χ²/ν {:.2})", a.reduced_chi2))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style::MODEL));
    }
    markers.draw(&mut chart, y_top)?;
    draw_lod_box(&mut chart, a, (x0, x1), y_top)?;
    super::draw_legend(&mut chart)
}

/// The continuum is smooth: this many points draw it exactly at plot resolution, and
/// a thick dashed line is costly per segment (a filled polygon each).
const SMOOTH_CURVE_POINTS: usize = 600;

/// Every k-th point (and the last), so that at most about `max` remain.
pub(crate) fn thin<I>(points: I, len: usize, max: usize) -> Vec<(f64, f64)>
where
    I: Iterator<Item = (f64, f64)>,
{
    let step = len.div_ceil(max.max(1)).max(1);
    let mut out = Vec::with_capacity(len / step + 2);
    let mut last = None;
    for (i, p) in points.enumerate() {
        if i % step == 0 {
            out.push(p);
            last = None;
        } else {
            last = Some(p);
        }
    }
    out.extend(last);
    out
}

const MEASURED_STYLE: ShapeStyle = ShapeStyle {
    color: RGBAColor(30, 30, 30, 1.0),
    filled: false,
    stroke_width: 1,
};

/// Half the detector FWHM at ~6 keV (keV), from the calibration or a typical SDD.
fn half_fwhm_kev(a: &XrfAnalysis) -> f64 {
    let fwhm_ev = a.calibration.fwhm_mn_ka_ev;
    let fwhm_ev = if fwhm_ev.is_finite() && fwhm_ev > 20.0 {
        fwhm_ev
    } else {
        140.0
    };
    fwhm_ev / 2000.0
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Element { rare_earth: bool, principal: bool },
    Artefact,
    NotDetected,
}

#[derive(Debug, Clone)]
struct Marker {
    energy_kev: f64,
    height: f64,
    label: String,
    kind: Kind,
    /// Whether the marker gets a text label (all get a stem).
    labelled: bool,
}

impl Marker {
    fn colour(&self) -> RGBColor {
        match self.kind {
            Kind::Element {
                rare_earth: true, ..
            } => style::RARE_EARTH,
            Kind::Element { .. } => style::ELEMENT,
            Kind::Artefact => style::ARTEFACT,
            Kind::NotDetected => style::NOT_DETECTED,
        }
    }

    /// Lower sorts first: rare-earth evidence is labelled before anything else.
    fn priority(&self) -> u8 {
        match self.kind {
            Kind::Element {
                rare_earth: true,
                principal: true,
            } => 0,
            Kind::Element {
                principal: true, ..
            } => 1,
            Kind::Element {
                rare_earth: true, ..
            } => 2,
            Kind::Artefact => 3,
            Kind::Element { .. } => 4,
            Kind::NotDetected => 5,
        }
    }
}

struct Markers {
    items: Vec<Marker>,
    half_fwhm_kev: f64,
}

impl Markers {
    fn collect(a: &XrfAnalysis, c: &Curves<'_>, x: (f64, f64), half_fwhm_kev: f64) -> Self {
        let in_range = |e: f64| e.is_finite() && e >= x.0 && e <= x.1;
        let mut items = Vec::new();
        for el in &a.elements {
            let rare_earth = is_rare_earth(&el.symbol);
            for (i, (line, energy)) in line_energies(&el.symbol, &el.lines, x)
                .into_iter()
                .enumerate()
            {
                items.push(Marker {
                    energy_kev: energy,
                    height: c.height_at(energy, half_fwhm_kev),
                    label: format!("{} {}", el.symbol, greek_line(&line)),
                    kind: Kind::Element {
                        rare_earth,
                        principal: i == 0,
                    },
                    // The strongest line names the element; rare earths also their second.
                    labelled: i == 0 || (rare_earth && i == 1),
                });
            }
        }
        let first_artefact = items.len();
        for art in a.artefacts.iter().filter(|t| in_range(t.energy_kev)) {
            items.push(Marker {
                energy_kev: art.energy_kev,
                height: c.height_at(art.energy_kev, half_fwhm_kev),
                label: style::artefact_label(&art.kind, &art.parent),
                kind: Kind::Artefact,
                labelled: false,
            });
        }
        label_strongest_per_group(&mut items[first_artefact..], a);
        for nd in &a.not_detected {
            if items.iter().filter(|m| m.kind == Kind::NotDetected).count() >= MAX_LOD_MARKERS {
                break;
            }
            if let Some((_, energy)) = line_energies(&nd.symbol, &[], x).into_iter().next() {
                items.push(Marker {
                    energy_kev: energy,
                    height: LOG_FLOOR * 4.0,
                    label: nd.symbol.clone(),
                    kind: Kind::NotDetected,
                    labelled: true,
                });
            }
        }
        items.sort_by_key(Marker::priority);
        Markers {
            items,
            half_fwhm_kev,
        }
    }

    /// Light bands under rare-earth lines, drawn before the data so the curve stays on top.
    fn draw_bands<DB: DrawingBackend>(
        &self,
        chart: &mut XrfChart<'_, DB>,
        y_top: f64,
    ) -> Result<()> {
        let w = self.half_fwhm_kev;
        let bands = self.items.iter().filter(|m| m.labelled).filter(|m| {
            matches!(
                m.kind,
                Kind::Element {
                    rare_earth: true,
                    ..
                }
            )
        });
        chart
            .draw_series(bands.map(|m| {
                Rectangle::new(
                    [(m.energy_kev - w, LOG_FLOOR), (m.energy_kev + w, y_top)],
                    style::RARE_EARTH.mix(0.10).filled(),
                )
            }))
            .plot_err()?;
        Ok(())
    }

    /// Stems from the axis floor to the peak, then the labels.
    fn draw<DB: DrawingBackend>(&self, chart: &mut XrfChart<'_, DB>, y_top: f64) -> Result<()> {
        for m in &self.items {
            let colour = m.colour();
            let stem = vec![(m.energy_kev, LOG_FLOOR), (m.energy_kev, m.stem_top(y_top))];
            match m.kind {
                Kind::Artefact | Kind::NotDetected => chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        stem,
                        4,
                        3,
                        colour.stroke_width(1),
                    )))
                    .plot_err()?,
                Kind::Element { rare_earth, .. } => {
                    let width = if rare_earth { 2 } else { 1 };
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            stem,
                            colour.stroke_width(width),
                        )))
                        .plot_err()?
                }
            };
        }
        let (upper, floor): (Vec<&Marker>, Vec<&Marker>) = self
            .items
            .iter()
            .filter(|m| m.labelled)
            .partition(|m| m.kind != Kind::NotDetected);
        draw_labels(chart, &upper, y_top, MAX_LABELS)?;
        draw_labels(chart, &floor, y_top, MAX_LOD_MARKERS)
    }
}

/// Label one artefact per kind and source element (the tallest): a tube's Rayleigh lines
/// or a family of escape peaks are named once, not a dozen times.
fn label_strongest_per_group(artefacts: &mut [Marker], a: &XrfAnalysis) {
    let in_range: Vec<&crate::xrf::Artefact> = a.artefacts.iter().collect();
    let mut best: Vec<(String, usize)> = Vec::new();
    for (i, m) in artefacts.iter().enumerate() {
        let key = in_range
            .iter()
            .find(|t| {
                t.energy_kev == m.energy_kev && style::artefact_label(&t.kind, &t.parent) == m.label
            })
            .map(|t| format!("{}|{}", t.kind, t.parent.split(' ').next().unwrap_or("")))
            .unwrap_or_else(|| m.label.clone());
        match best.iter_mut().find(|(k, _)| *k == key) {
            Some((_, j)) if artefacts[*j].height < m.height => *j = i,
            Some(_) => {}
            None => best.push((key, i)),
        }
    }
    for (_, i) in best {
        artefacts[i].labelled = true;
    }
}

impl Marker {
    fn stem_top(&self, y_top: f64) -> f64 {
        (self.height * 1.4).min(y_top)
    }
}

/// Labels stand upright on their stems; where stems are closer than a label is wide,
/// the labels are spread sideways (keeping their order) and joined to their stems by
/// short leader lines. Markers come sorted by priority; only the first `max` get labels.
fn draw_labels<DB: DrawingBackend>(
    chart: &mut XrfChart<'_, DB>,
    markers: &[&Marker],
    y_top: f64,
    max: usize,
) -> Result<()> {
    let mut chosen: Vec<(i32, &Marker)> = markers
        .iter()
        .take(max)
        .map(|m| {
            (
                chart.backend_coord(&(m.energy_kev, m.stem_top(y_top))).0,
                *m,
            )
        })
        .collect();
    chosen.sort_by_key(|c| c.0);
    let (left, right) = {
        let area = chart.plotting_area().get_pixel_range();
        (area.0.start + 6, area.0.end - 6)
    };
    let slots = spread(
        &chosen.iter().map(|c| c.0).collect::<Vec<_>>(),
        LABEL_GAP_PX,
        left,
        right,
    );
    for ((stem_px, m), slot) in chosen.into_iter().zip(slots) {
        let colour = m.colour();
        let size = if matches!(
            m.kind,
            Kind::Element {
                rare_earth: true,
                ..
            }
        ) {
            14.0
        } else {
            12.0
        };
        let dx = slot - stem_px;
        let rise = if dx == 0 { 4 } else { 14 };
        let label = EmptyElement::at((m.energy_kev, m.stem_top(y_top)))
            + PathElement::new(vec![(0, 0), (0, -4), (dx, -rise)], colour.stroke_width(1))
            + Text::new(
                m.label.clone(),
                (dx - size as i32 / 2, -rise - 2),
                style::vertical_text(size, colour),
            );
        chart.draw_series(std::iter::once(label)).plot_err()?;
    }
    Ok(())
}

/// Positions ≥ `gap` apart, as close as possible to the sorted `wanted` ones, inside
/// `left..=right` where room allows.
fn spread(wanted: &[i32], gap: i32, left: i32, right: i32) -> Vec<i32> {
    let mut x = wanted.to_vec();
    for i in 1..x.len() {
        x[i] = x[i].max(x[i - 1] + gap);
    }
    if let Some(last) = x.last_mut() {
        *last = (*last).min(right);
    }
    for i in (0..x.len().saturating_sub(1)).rev() {
        x[i] = x[i].min(x[i + 1] - gap);
    }
    if let Some(first) = x.first_mut() {
        *first = (*first).max(left);
    }
    for i in 1..x.len() {
        x[i] = x[i].max(x[i - 1] + gap);
    }
    x
}

type XrfChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::combinators::LogCoord<f64>,
    >,
>;

/// The energies of `lines` of `symbol` inside `x` (keV); without `lines`, the principal
/// line in range: Kα1 below [`K_LINE_MAX_KEV`], else Lα1, else Mα. Unknown labels match by
/// prefix ("Ka" → "Ka1").
fn line_energies(symbol: &str, lines: &[String], x: (f64, f64)) -> Vec<(String, f64)> {
    let Ok(table) = element_lines(symbol) else {
        return Vec::new();
    };
    let find = |want: &str| {
        table
            .iter()
            .find(|l| l.label == want)
            .or_else(|| {
                table
                    .iter()
                    .filter(|l| l.label.starts_with(want))
                    .max_by(|a, b| a.rel_intensity.total_cmp(&b.rel_intensity))
            })
            .map(|l| (l.label.clone(), l.energy_kev))
    };
    let in_range = |&(_, e): &(String, f64)| e >= x.0 && e <= x.1;
    if lines.is_empty() {
        return ["Ka1", "La1", "Ma"]
            .iter()
            .filter_map(|w| find(w))
            .filter(|(l, e)| l != "Ka1" || *e <= K_LINE_MAX_KEV)
            .find(in_range)
            .into_iter()
            .collect();
    }
    let mut out: Vec<(String, f64)> = lines
        .iter()
        .filter_map(|l| find(l))
        .filter(in_range)
        .collect();
    // The line that names the element first (Kα1, else Lα1, …).
    out.sort_by_key(|(label, _)| line_rank(label));
    out
}

/// Conventional order of diagnostic lines: the strongest of each family first.
/// (Elam's relative intensities are per initial level, so Lβ1 from L2 would outrank Lα1
/// from L3 if compared directly.)
fn line_rank(label: &str) -> usize {
    const ORDER: [&str; 10] = [
        "Ka1", "La1", "Ma", "Ka2", "Lb1", "Kb1", "Lb2,15", "Lb2", "Lg1", "La2",
    ];
    ORDER
        .iter()
        .position(|l| *l == label)
        .unwrap_or(ORDER.len())
}

fn draw_lod_box<DB: DrawingBackend>(
    chart: &mut XrfChart<'_, DB>,
    a: &XrfAnalysis,
    x: (f64, f64),
    y_top: f64,
) -> Result<()> {
    if a.not_detected.is_empty() {
        return Ok(());
    }
    let mut rows = vec!["Not detected (3σ detection limit):".to_string()];
    let (per_row, max_rows) = (3, 6);
    for chunk in a.not_detected.chunks(per_row).take(max_rows) {
        let row: Vec<String> = chunk
            .iter()
            .map(|n| format!("{} < {}", n.symbol, format_wt(n.lod_wt_pct)))
            .collect();
        rows.push(row.join("   "));
    }
    if a.not_detected.len() > per_row * max_rows {
        let more = a.not_detected.len() - per_row * max_rows;
        rows.push(format!("… and {more} more"));
    }
    // Under the legend, at the right: the high-energy end of a spectrum is the emptiest.
    let anchor = (x.1, y_top);
    let (left, top) = (-LOD_BOX_PX, LOD_BOX_TOP_PX);
    let bottom = top + 4 + 15 * rows.len() as i32;
    let backdrop = EmptyElement::at(anchor)
        + Rectangle::new(
            [(left - 4, top - 2), (-4, bottom)],
            WHITE.mix(0.85).filled(),
        );
    chart.draw_series(std::iter::once(backdrop)).plot_err()?;
    let block = rows.into_iter().enumerate().map(|(i, row)| {
        EmptyElement::at(anchor)
            + Text::new(
                row,
                (left, top + 15 * i as i32),
                style::text(12.0, style::NOT_DETECTED),
            )
    });
    chart.draw_series(block).plot_err()?;
    Ok(())
}

fn draw_residuals<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Curves<'_>) -> Result<()> {
    let (x0, x1) = c.x_range();
    let residuals = c.residuals(|y, m| (y - m) / m.max(1.0).sqrt());
    let r_max = residuals
        .iter()
        .map(|p| p.1.abs())
        .fold(3.0, f64::max)
        .min(30.0)
        * 1.1;
    let mut chart =
        super::residual_chart(area, (x0, x1), r_max, ("Energy (keV)", "(obs−fit)/σ"), 14)?;
    for level in [-3.0, 3.0] {
        chart
            .draw_series(DashedLineSeries::new(
                [(x0, level), (x1, level)],
                4,
                4,
                RGBColor(170, 170, 170).stroke_width(1),
            ))
            .plot_err()?;
    }
    chart
        .draw_series(LineSeries::new(
            residuals.iter().map(|&(e, r)| (e, r.clamp(-r_max, r_max))),
            MEASURED_STYLE,
        ))
        .plot_err()?;
    Ok(())
}

/// "1e3" style tick labels for a log count axis.
fn format_count(v: f64) -> String {
    if v >= 1e4 {
        format!("1e{}", v.log10().round() as i32)
    } else if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A mass fraction for a label: "0.080 %" below 1 %, "1.8 %" above.
pub(crate) fn format_wt(wt_pct: f64) -> String {
    if !wt_pct.is_finite() {
        "n/a".into()
    } else if wt_pct < 0.01 {
        format!("{:.0} ppm", wt_pct * 1e4)
    } else if wt_pct < 1.0 {
        format!("{wt_pct:.3} %")
    } else {
        format!("{wt_pct:.2} %")
    }
}

/// The last path component of a file name as written in the analysis.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_line_of_iron_in_range_is_ka1() {
        let l = line_energies("Fe", &[], (1.0, 20.0));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].0, "Ka1");
        assert!((l[0].1 - 6.404).abs() < 0.01, "{l:?}");
    }

    #[test]
    fn the_line_naming_the_element_comes_first() {
        let fe = line_energies(
            "Fe",
            &["Ka2".into(), "Kb1".into(), "Ka1".into()],
            (0.0, 40.0),
        );
        assert_eq!(fe[0].0, "Ka1", "{fe:?}");
        let nd = line_energies(
            "Nd",
            &["Lb1".into(), "Lg1".into(), "La1".into()],
            (0.0, 40.0),
        );
        assert_eq!(
            (nd[0].0.as_str(), nd[1].0.as_str()),
            ("La1", "Lb1"),
            "{nd:?}"
        );
    }

    #[test]
    fn principal_line_of_a_rare_earth_is_its_l_line_not_its_k_line() {
        let l = line_energies("Sm", &[], (0.0, 41.0));
        assert_eq!(l[0].0, "La1", "{l:?}");
        assert!((l[0].1 - 5.636).abs() < 0.01, "{l:?}");
    }

    #[test]
    fn neodymium_l_lines_by_label_and_prefix() {
        let l = line_energies("Nd", &["La1".into(), "Lb".into()], (1.0, 20.0));
        assert_eq!(l.len(), 2, "{l:?}");
        assert!((l[0].1 - 5.23).abs() < 0.01, "{l:?}");
        assert!(l[1].1 > 5.6 && l[1].1 < 6.3, "{l:?}");
    }

    #[test]
    fn spread_keeps_order_and_gap_and_moves_only_what_collides() {
        assert_eq!(spread(&[100, 200], 15, 0, 1000), vec![100, 200]);
        assert_eq!(spread(&[100, 105, 108], 15, 0, 1000), vec![100, 115, 130]);
        assert_eq!(spread(&[990, 995], 15, 0, 1000), vec![985, 1000]);
    }

    #[test]
    fn thinning_keeps_both_ends_and_the_budget() {
        let pts: Vec<(f64, f64)> = (0..4096).map(|i| (i as f64, 0.0)).collect();
        let t = thin(pts.iter().copied(), pts.len(), 600);
        assert!(t.len() <= 602, "{}", t.len());
        assert_eq!(t.first().map(|p| p.0), Some(0.0));
        assert_eq!(t.last().map(|p| p.0), Some(4095.0));
        assert_eq!(thin(pts[..10].iter().copied(), 10, 600).len(), 10);
    }

    #[test]
    fn concentrations_are_formatted_with_units() {
        assert_eq!(format_wt(0.005), "50 ppm");
        assert_eq!(format_wt(0.08), "0.080 %");
        assert_eq!(format_wt(1.8), "1.80 %");
        assert_eq!(file_name("a/b/c.msa"), "c.msa");
    }
}
