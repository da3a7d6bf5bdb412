//! The continuum: SNIP on the whole spectrum (or below a channel), re-stripped with the
//! fitted lines removed, plus the fitted spline corrections and the ramps below the
//! strongest K families' absorption edges.

use super::*;
use crate::signal::lineshape::erfc;
use crate::xrf::physics::ElementData;

/// SNIP continuum of a whole spectrum, clipping window twice the default detector's
/// FWHM at 8 keV, with the LLS (log-log-sqrt) transform.
pub(super) fn snip_continuum(counts: Vec<f64>, cal: &Calibration) -> Vec<f64> {
    let n = counts.len();
    snip_continuum_below(counts, cal, n)
}

/// [`snip_continuum`], exact for the channels below `end` only: SNIP's clipping passes
/// (p = w … 1) carry what lies above a cut down by p channels each, w(w + 1)/2 in all,
/// so the passes run up to that far above `end`, and the channels beyond keep their
/// counts.
pub(super) fn snip_continuum_below(
    mut counts: Vec<f64>,
    cal: &Calibration,
    end: usize,
) -> Vec<f64> {
    let fwhm8 = Detector::default().fwhm_kev(8.0) / cal.gain_kev;
    let width = ((2.0 * fwhm8).round() as usize).max(3);
    let n = counts.len();
    // the cut stays out of reach of the channels below `end`, and leaves whole
    // spectra (and the clamp of the width to the spectrum) as they were
    let reach = width * (width + 1) / 2;
    let cut = if end + reach + 2 * width + 1 < n {
        end + reach + 1
    } else {
        n
    };
    let mut scratch = vec![0.0; cut];
    snip_in_place(
        &mut counts[..cut],
        &mut scratch,
        &SnipOptions { width, lls: true },
    );
    counts
}

/// Re-estimate the continuum by SNIP on the data with the fitted lines removed.
///
/// SNIP clips peaks narrower than its window, but a dense forest of lines (the L lines
/// of several light rare earths, 4.5–6.5 keV, ~1 FWHM apart) never shows it the
/// continuum: it bridges from peak to peak and can sit at twice the true continuum,
/// which the non-negative spline corrections cannot lower. On data − fitted lines the
/// forest is gone and SNIP finds the continuum between the remaining small residuals.
pub(super) fn restrip_background(work: &mut Work, comps: &[Component], fit: &LinearFit) {
    let (first, len) = (work.region.first, work.region.len);
    // the fitted lines: the model less its continuum
    let lines: Vec<f64> = fit
        .model
        .iter()
        .zip(continuum(work, comps, fit))
        .map(|(m, c)| m - c)
        .collect();
    let mut stripped = work.counts.to_vec();
    for (i, l) in lines.iter().enumerate() {
        stripped[first + i] = (stripped[first + i] - l).max(0.0);
    }
    let stripped = snip_continuum(stripped, &work.region.calibration);
    // only ever lower the continuum (the first estimate is an upper bound)
    for (b, s) in work.bg[first..first + len]
        .iter_mut()
        .zip(&stripped[first..first + len])
    {
        *b = b.min(*s);
    }
}

/// The fitted continuum: the SNIP estimate plus the fitted spline corrections.
pub(super) fn continuum(work: &Work, comps: &[Component], fit: &LinearFit) -> Vec<f64> {
    let mut b = work.bg().to_vec();
    for (c, a) in comps.iter().zip(&fit.amplitudes) {
        if matches!(c.kind, Kind::Background) {
            c.template.add_to(*a, &mut b);
        }
    }
    b
}

impl Work<'_> {
    /// Continuum corrections at the K absorption edges of the strongest families'
    /// elements ([`Work::free_tail`]; edges up to [`XrfThresholds::edge_ramp_max_kev`]):
    /// the scattered continuum of a thick sample steps up below a major element's edge
    /// (Fe K, 7.11 keV, just above Fe Kβ), where its peaks hide the step from SNIP, which
    /// bridges from the higher level below the peaks to the lower one above the edge.
    /// What SNIP misses is a ramp from the foot of the bridge
    /// ([`XrfThresholds::edge_ramp_snip_windows`]) to the edge, cut at the edge by the
    /// detector's resolution; its amplitude is free and non-negative. Without it the
    /// step's counts between Fe Kα and Kβ and below Fe Kα were read as Gd L lines on
    /// honest iron ore.
    pub(super) fn edge_ramps(&self) -> Vec<Component> {
        let key = (self.free_tail.clone(), self.region);
        let mut memo = self.edge_ramp_memo.borrow_mut();
        if let Some((k, ramps)) = memo.as_ref() {
            if *k == key {
                return ramps.clone();
            }
        }
        let ramps = self.draw_edge_ramps();
        *memo = Some((key, ramps.clone()));
        ramps
    }

    /// [`Work::edge_ramps`], drawn: none where the plan leaves them out, nor under a beam
    /// filter (it leaves next to no continuum below the edges to step).
    fn draw_edge_ramps(&self) -> Vec<Component> {
        let mut out = Vec::new();
        if !self.plan.edge_ramps || self.exc.filter.is_some() {
            return out;
        }
        let cal = &self.region.calibration;
        let (lo, hi) = (self.lo_kev(), self.hi_kev());
        for &(z, _) in self.free_tail.iter().filter(|f| f.1 == Family::K) {
            let Some((start, edge)) = element(z).and_then(|d| edge_ramp_span(d, &self.th)) else {
                continue;
            };
            if start <= lo || edge >= hi {
                continue;
            }
            let sigma = self.fwhm_kev(edge) / FWHM_PER_SIGMA;
            let end = edge + 4.0 * sigma;
            let first = (cal.channel(start).ceil().max(0.0) as usize).max(self.region.first);
            let last = (cal.channel(end).floor().max(0.0) as usize)
                .min(self.region.first + self.region.len - 1);
            if last <= first {
                continue;
            }
            let values: Vec<f64> = (first..=last)
                .map(|ch| {
                    let e = cal.energy_kev(ch as f64);
                    let ramp = ((e - start) / (edge - start)).clamp(0.0, 1.0);
                    ramp * 0.5 * erfc((e - edge) / (std::f64::consts::SQRT_2 * sigma))
                })
                .collect();
            out.push(Component {
                kind: Kind::Background,
                template: Template::new(first - self.region.first, values),
            });
        }
        out
    }
}

/// Where the full analysis draws the continuum ramp of `d`'s K edge
/// ([`Work::edge_ramps`]), keV: from [`XrfThresholds::edge_ramp_snip_windows`] SNIP
/// windows below its Kα1 to the edge; none above [`XrfThresholds::edge_ramp_max_kev`].
pub fn edge_ramp_span(d: &ElementData, th: &XrfThresholds) -> Option<(f64, f64)> {
    let edge = d.levels[0].edge_kev;
    if edge <= 0.0 || edge > th.edge_ramp_max_kev {
        return None;
    }
    let principal = d.principal_line(Family::K)?.energy_kev;
    // SNIP's clipping window (see `snip_continuum_below`)
    let window = 2.0 * Detector::default().fwhm_kev(8.0);
    Some((principal - th.edge_ramp_snip_windows * window, edge))
}
