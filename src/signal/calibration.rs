//! Energy-calibration check and refinement from recognised known lines.
//!
//! A drifted scanner shifts and stretches the channel → energy map. Given found peaks
//! (channels, significances) and the energies of lines that should be present (the
//! caller's choice: Fe Kα, the tube's Rayleigh lines, …), the calibration is recovered
//! in two steps:
//!
//! 1. **Search** — every pair of strong peaks assigned to every pair of known lines
//!    proposes a linear calibration (two points fix offset and gain); proposals outside
//!    the allowed drift are dropped and the rest are scored by the significance-weighted
//!    number of peaks landing within tolerance of a known line. This is the
//!    pattern-matching idea of line-pair voting, as in automatic γ-spectrum calibration; weighted calibration fits
//!    as in R. Gunnink, NIM A299 (1990) 372).
//! 2. **Refine** — weighted least squares of energy on channel over all matched peaks
//!    (weight = significance²), iterated twice with re-matching.
//!
//! The result reports the per-line residuals and the drift against the starting
//! calibration, so callers can flag a scanner whose calibration has moved.

use super::peaks::Peak;
use crate::spectrum::Calibration;
use serde::Serialize;

/// How far the true calibration may be from the nominal one, and match tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationSearch {
    /// Largest offset change considered, keV.
    pub max_offset_kev: f64,
    /// Largest relative gain change considered (0.05 = ±5 %).
    pub max_gain_change: f64,
    /// A peak matches a line within this distance, keV.
    pub tolerance_kev: f64,
    /// Strongest peaks used to propose calibrations.
    pub strongest: usize,
}

impl Default for CalibrationSearch {
    fn default() -> Self {
        Self {
            max_offset_kev: 0.5,
            max_gain_change: 0.05,
            tolerance_kev: 0.05,
            strongest: 12,
        }
    }
}

/// One known line matched to a peak.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LineMatch {
    /// Tabulated line energy, keV.
    pub line_kev: f64,
    /// Peak position, channels.
    pub channel: f64,
    /// Residual line − calibrated peak energy, keV.
    pub residual_kev: f64,
    /// Peak significance, σ.
    pub significance: f64,
}

/// Outcome of [`refine_calibration`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationCheck {
    /// The refined calibration (linear).
    pub calibration: Calibration,
    /// Matched lines.
    pub matches: Vec<LineMatch>,
    /// Weighted RMS residual, keV.
    pub rms_kev: f64,
    /// Change of the offset against the start, keV.
    pub offset_change_kev: f64,
    /// Relative change of the gain against the start.
    pub gain_change: f64,
}

/// Find and refine the calibration that maps `peaks` onto `known_lines_kev`, starting
/// from `start`. `None` when fewer than two lines can be matched.
pub fn refine_calibration(
    peaks: &[Peak],
    known_lines_kev: &[f64],
    start: &Calibration,
    search: &CalibrationSearch,
) -> Option<CalibrationCheck> {
    let mut strong: Vec<&Peak> = peaks.iter().filter(|p| p.significance > 0.0).collect();
    strong.sort_by(|a, b| b.significance.total_cmp(&a.significance));
    strong.truncate(search.strongest.max(2));
    let mut best: Option<(f64, f64, f64)> = None; // (score, offset, gain)
    for (i, pi) in strong.iter().enumerate() {
        for pj in strong.iter().skip(i + 1) {
            for (a, ea) in known_lines_kev.iter().enumerate() {
                for eb in known_lines_kev.iter().skip(a + 1) {
                    for (p, q) in [(pi, pj), (pj, pi)] {
                        let dc = q.channel - p.channel;
                        if dc.abs() < 1e-9 {
                            continue;
                        }
                        let gain = (eb - ea) / dc;
                        let offset = ea - gain * p.channel;
                        if !plausible(offset, gain, start, search) {
                            continue;
                        }
                        let score = score(peaks, known_lines_kev, offset, gain, search);
                        if best.is_none_or(|b| score > b.0) {
                            best = Some((score, offset, gain));
                        }
                    }
                }
            }
        }
    }
    let (_, mut offset, mut gain) = best?;
    for _ in 0..3 {
        let matches = match_lines(peaks, known_lines_kev, offset, gain, search.tolerance_kev);
        if matches.len() < 2 {
            return None;
        }
        (offset, gain) = weighted_line_fit(&matches)?;
    }
    let matches = match_lines(peaks, known_lines_kev, offset, gain, search.tolerance_kev);
    let wsum: f64 = matches.iter().map(|m| m.significance.powi(2)).sum();
    let rms = (matches
        .iter()
        .map(|m| m.significance.powi(2) * m.residual_kev.powi(2))
        .sum::<f64>()
        / wsum.max(1e-300))
    .sqrt();
    Some(CalibrationCheck {
        calibration: Calibration {
            offset_kev: offset,
            gain_kev: gain,
            quad_kev: 0.0,
        },
        matches,
        rms_kev: rms,
        offset_change_kev: offset - start.offset_kev,
        gain_change: gain / start.gain_kev - 1.0,
    })
}

fn plausible(offset: f64, gain: f64, start: &Calibration, s: &CalibrationSearch) -> bool {
    gain > 0.0
        && (gain / start.gain_kev - 1.0).abs() <= s.max_gain_change
        && (offset - start.offset_kev).abs() <= s.max_offset_kev
}

/// Significance-weighted count of peaks within tolerance of some known line
/// (log-compressed so one huge peak cannot outvote the pattern).
fn score(peaks: &[Peak], lines: &[f64], offset: f64, gain: f64, s: &CalibrationSearch) -> f64 {
    peaks
        .iter()
        .filter(|p| {
            let e = offset + gain * p.channel;
            lines.iter().any(|l| (l - e).abs() <= s.tolerance_kev)
        })
        .map(|p| (1.0 + p.significance.max(0.0)).ln())
        .sum()
}

/// For each known line, the most significant peak within tolerance.
fn match_lines(peaks: &[Peak], lines: &[f64], offset: f64, gain: f64, tol: f64) -> Vec<LineMatch> {
    lines
        .iter()
        .filter_map(|&l| {
            peaks
                .iter()
                .filter(|p| (offset + gain * p.channel - l).abs() <= tol)
                .max_by(|a, b| a.significance.total_cmp(&b.significance))
                .map(|p| LineMatch {
                    line_kev: l,
                    channel: p.channel,
                    residual_kev: l - (offset + gain * p.channel),
                    significance: p.significance,
                })
        })
        .collect()
}

/// Weighted least squares `E = offset + gain·channel`, weights significance².
fn weighted_line_fit(m: &[LineMatch]) -> Option<(f64, f64)> {
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for x in m {
        let w = x.significance.powi(2).max(1e-12);
        sw += w;
        sx += w * x.channel;
        sy += w * x.line_kev;
        sxx += w * x.channel * x.channel;
        sxy += w * x.channel * x.line_kev;
    }
    let det = sw * sxx - sx * sx;
    if det.abs() <= 1e-12 * sw * sxx {
        return None;
    }
    let gain = (sw * sxy - sx * sy) / det;
    let offset = (sy - gain * sx) / sw;
    (gain > 0.0).then_some((offset, gain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(channel: f64, significance: f64) -> Peak {
        Peak {
            channel,
            height: 100.0,
            area: 1000.0,
            significance,
            fwhm_channels: 15.0,
        }
    }

    #[test]
    fn recovers_a_drifted_calibration_from_a_line_pattern() {
        let truth = Calibration::linear(-0.05, 0.0102).unwrap();
        let lines = [3.69, 4.51, 6.40, 7.06, 8.05, 8.64, 14.16];
        let mut peaks: Vec<Peak> = lines
            .iter()
            .map(|e| peak(truth.channel(*e) + 0.2, 40.0))
            .collect();
        peaks.push(peak(500.0, 10.0)); // an unrelated peak
        let nominal = Calibration::linear(0.1, 0.0100).unwrap();
        let c = refine_calibration(&peaks, &lines, &nominal, &CalibrationSearch::default())
            .expect("calibration found");
        assert!(c.matches.len() >= 6, "{:?}", c.matches);
        assert!((c.calibration.gain_kev - 0.0102).abs() < 1e-5);
        assert!((c.calibration.energy_kev(600.0) - truth.energy_kev(600.2)).abs() < 0.005);
        assert!((c.gain_change - 0.02).abs() < 0.002);
    }

    #[test]
    fn too_few_peaks_give_none() {
        let nominal = Calibration::linear(0.0, 0.01).unwrap();
        assert!(refine_calibration(
            &[peak(100.0, 5.0)],
            &[1.0, 2.0],
            &nominal,
            &CalibrationSearch::default()
        )
        .is_none());
    }
}
