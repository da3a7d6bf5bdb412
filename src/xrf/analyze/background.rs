//! The continuum: SNIP on the whole spectrum (or below a channel), re-stripped with the
//! fitted lines removed, plus the fitted spline corrections.

use super::*;

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
