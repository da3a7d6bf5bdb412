//! Generic line-group model: many lines sharing one area parameter (a PyMca *fit group*),
//! drawn with the detector resolution model, plus the detector artefacts that follow
//! from the strong lines (Si escape peaks and pile-up sum peaks).
//!
//! A group is a list of `(energy_keV, relative intensity)` lines; intensities are
//! normalised to sum to 1 so the group amplitude **is the group area in counts** (the
//! counts of the fluorescence lines; escape counts come on top of it, as in PyMca's
//! `fitarea`). Which lines form a group (element, family, rates, attenuation) is the
//! caller's business (xrf); this module knows no elements.
//!
//! # References
//! * Escape fraction: S.J.B. Reed & N.G. Ware, J. Phys. E 5 (1972) 582, eq. 3 (normal
//!   incidence, semi-infinite detector); Si ω_K = 0.050 (M.O. Krause, J. Phys. Chem. Ref.
//!   Data 8 (1979) 307); Si µ/ρ from Elam, Ravel & Sieber, Radiat. Phys. Chem. 63 (2002) 121.
//! * Pile-up: coincident pulses sum to `E_i + E_j` at a rate ∝ `r_i·r_j·τ`
//!   (G.F. Knoll, *Radiation Detection and Measurement*, 4th ed., Wiley 2010, §17.IV).

use super::detector::{Detector, SI_KA_KEV};
use super::linear::Template;
use super::lineshape::{gaussian, hypermet, Hypermet};
use crate::spectrum::Calibration;
use serde::Serialize;

/// One emission line of a group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Line {
    /// Line energy, keV.
    pub energy_kev: f64,
    /// Relative intensity within the group (normalised to Σ = 1 by [`LineGroup::new`]).
    pub intensity: f64,
}

/// Lines sharing one area parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineGroup {
    /// Display label, e.g. "Fe K" (never a lookup key).
    pub label: String,
    /// The lines, intensities summing to 1.
    pub lines: Vec<Line>,
}

impl LineGroup {
    /// A group from `(energy_keV, relative intensity)` pairs; non-positive or non-finite
    /// entries are dropped, intensities normalised to Σ = 1.
    pub fn new(label: impl Into<String>, lines: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let mut lines: Vec<Line> = lines
            .into_iter()
            .filter(|(e, i)| e.is_finite() && i.is_finite() && *e > 0.0 && *i > 0.0)
            .map(|(energy_kev, intensity)| Line {
                energy_kev,
                intensity,
            })
            .collect();
        lines.sort_by(|a, b| a.energy_kev.total_cmp(&b.energy_kev));
        let mut g = Self {
            label: label.into(),
            lines,
        };
        g.normalise();
        g
    }

    fn normalise(&mut self) {
        let s: f64 = self.lines.iter().map(|l| l.intensity).sum();
        if s > 0.0 {
            self.lines.iter_mut().for_each(|l| l.intensity /= s);
        }
    }

    /// Multiply each line by `weight(E)` (detector efficiency × attenuator transmission ×
    /// matrix absorption, supplied by the caller) and renormalise.
    pub fn weighted(mut self, weight: impl Fn(f64) -> f64) -> Self {
        for l in &mut self.lines {
            l.intensity *= weight(l.energy_kev).max(0.0);
        }
        self.lines.retain(|l| l.intensity > 0.0);
        self.normalise();
        self
    }

    /// Keep only lines with relative intensity ≥ `min_fraction` of the strongest.
    pub fn pruned(mut self, min_fraction: f64) -> Self {
        let max = self.lines.iter().map(|l| l.intensity).fold(0.0, f64::max);
        self.lines.retain(|l| l.intensity >= min_fraction * max);
        self.normalise();
        self
    }

    /// Merge lines closer than `delta_kev` into one at their intensity-weighted energy
    /// (PyMca `deltaonepeak`).
    pub fn merged(mut self, delta_kev: f64) -> Self {
        let mut out: Vec<Line> = Vec::with_capacity(self.lines.len());
        for l in self.lines.drain(..) {
            match out.last_mut() {
                Some(p) if (l.energy_kev - p.energy_kev).abs() < delta_kev => {
                    let s = p.intensity + l.intensity;
                    p.energy_kev = (p.energy_kev * p.intensity + l.energy_kev * l.intensity) / s;
                    p.intensity = s;
                }
                _ => out.push(l),
            }
        }
        self.lines = out;
        self
    }

    /// Intensity-weighted mean energy of the group, keV.
    pub fn centroid_kev(&self) -> f64 {
        self.lines.iter().map(|l| l.energy_kev * l.intensity).sum()
    }
}

/// Si-detector escape-peak model (Reed & Ware 1972).
///
/// `f(E) = ½·ω_K·(1 − 1/r)·[1 − (µ_K/µ_E)·ln(1 + µ_E/µ_K)]` for E above the Si K edge,
/// with µ_E the Si photo-absorption coefficient at E and µ_K the Si attenuation at
/// Si Kα. The escape peak sits at `E − 1.740 keV`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiEscape {
    /// Si K-shell fluorescence yield.
    pub omega_k: f64,
    /// Si K-edge jump ratio r.
    pub jump_ratio: f64,
    /// Si K edge, keV.
    pub edge_kev: f64,
    /// µ/ρ of Si at Si Kα (cm²/g).
    pub mu_ka: f64,
    /// Tabulated `(E keV, µ_photo/ρ cm²/g)` of Si on a log grid, interpolated log-log.
    table: Vec<(f64, f64)>,
}

impl SiEscape {
    /// The model for a silicon detector, with Si cross-sections from the Elam tables.
    pub fn silicon() -> Self {
        let db = crate::tables::xraydb();
        let mu = |e_kev: f64, kind| db.mu_elam_at("Si", e_kev * 1000.0, kind).unwrap_or(0.0);
        let table = (0..=200)
            .map(|i| {
                let e = 1.84 * (60.0f64 / 1.84).powf(i as f64 / 200.0);
                (e, mu(e, xraydb::CrossSectionKind::Photo))
            })
            .collect();
        let (r, edge) = db
            .xray_edge("Si", "K")
            .map(|e| (e.jump_ratio, e.energy / 1000.0))
            .unwrap_or((10.4, 1.839));
        Self {
            omega_k: 0.050,
            jump_ratio: r,
            edge_kev: edge,
            mu_ka: mu(SI_KA_KEV, xraydb::CrossSectionKind::Total),
            table,
        }
    }

    fn mu_photo(&self, e: f64) -> f64 {
        let t = &self.table;
        let (Some(first), Some(last)) = (t.first(), t.last()) else {
            return 0.0;
        };
        if e <= first.0 {
            return first.1;
        }
        if e >= last.0 {
            return last.1;
        }
        let k = t.partition_point(|(x, _)| *x < e).clamp(1, t.len() - 1);
        let (x0, y0) = t[k - 1];
        let (x1, y1) = t[k];
        let f = (e / x0).ln() / (x1 / x0).ln();
        (y0.ln() + f * (y1 / y0).ln()).exp()
    }

    /// Escape fraction (escape-peak counts / parent-peak counts) at `energy_kev`.
    pub fn fraction(&self, energy_kev: f64) -> f64 {
        if energy_kev <= self.edge_kev || self.mu_ka <= 0.0 {
            return 0.0;
        }
        let q = self.mu_photo(energy_kev) / self.mu_ka;
        if q <= 0.0 {
            return 0.0;
        }
        let geom = 1.0 - q.recip() * (1.0 + q).ln();
        0.5 * self.omega_k * (1.0 - 1.0 / self.jump_ratio) * geom.max(0.0)
    }
}

/// How groups are drawn on the channel axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakModel {
    /// Channel → energy calibration.
    pub calibration: Calibration,
    /// Resolution model.
    pub detector: Detector,
    /// Low-energy tail/step; `None` for pure Gaussians.
    pub hypermet: Option<Hypermet>,
    /// Escape peaks; `None` to leave them out.
    pub escape: Option<SiEscape>,
    /// Half-width of a drawn peak in σ (default 5; the tail adds to it).
    pub span_sigmas: f64,
    /// Lowest energy at which an escape peak is drawn, keV.
    pub escape_min_kev: f64,
}

impl PeakModel {
    /// Pure-Gaussian model without escape peaks.
    pub fn gaussian(calibration: Calibration, detector: Detector) -> Self {
        Self {
            calibration,
            detector,
            hypermet: None,
            escape: None,
            span_sigmas: 5.0,
            escape_min_kev: 0.3,
        }
    }

    /// Every peak (energy keV, relative area) the group draws, escape peaks included.
    pub fn peaks(&self, group: &LineGroup) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = group
            .lines
            .iter()
            .map(|l| (l.energy_kev, l.intensity))
            .collect();
        if let Some(esc) = &self.escape {
            for l in &group.lines {
                let e = l.energy_kev - SI_KA_KEV;
                let f = esc.fraction(l.energy_kev);
                if e > self.escape_min_kev && f > 0.0 {
                    out.push((e, l.intensity * f));
                }
            }
        }
        out
    }

    /// Template of one group on the region `first_channel .. first_channel + n_channels`
    /// (counts per channel for a group area of 1 count).
    pub fn template(&self, group: &LineGroup, first_channel: usize, n_channels: usize) -> Template {
        self.template_of_peaks(&self.peaks(group), first_channel, n_channels)
    }

    /// Template of explicit `(energy keV, relative area)` peaks.
    pub fn template_of_peaks(
        &self,
        peaks: &[(f64, f64)],
        first_channel: usize,
        n_channels: usize,
    ) -> Template {
        let cal = &self.calibration;
        let gain = cal.gain_kev;
        let region_lo = first_channel as f64;
        let region_hi = (first_channel + n_channels) as f64;
        // Channel span (region indices) covered by all peaks.
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &(e, _) in peaks {
            let s = self.detector.sigma_kev(e);
            let tail = self.hypermet.map_or(0.0, |h| {
                8.0 * h.tail_slope_ratio * s * (h.tail_area_ratio > 0.0) as u8 as f64
            });
            let c_lo = cal.channel(e - self.span_sigmas * s - tail);
            let c_hi = cal.channel(e + self.span_sigmas * s);
            lo = lo.min(c_lo);
            hi = hi.max(c_hi);
        }
        let lo = lo.floor().max(region_lo);
        let hi = (hi.ceil() + 1.0).min(region_hi);
        if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
            return Template::new(n_channels, Vec::new());
        }
        let (lo, hi) = (lo as usize, hi as usize);
        let mut values = vec![0.0; hi - lo];
        for &(e, r) in peaks {
            let s = self.detector.sigma_kev(e);
            let c_lo = (cal.channel(e - self.span_sigmas * s).floor().max(lo as f64)) as usize;
            let c_hi = (cal.channel(e + self.span_sigmas * s).ceil() + 1.0).min(hi as f64) as usize;
            let start = match self.hypermet {
                Some(h) if h.tail_area_ratio > 0.0 || h.step_height_ratio > 0.0 => lo,
                _ => c_lo,
            };
            for ch in start..c_hi.max(start) {
                let x = cal.energy_kev(ch as f64);
                let v = match &self.hypermet {
                    Some(h) => hypermet(x, e, s, r, h),
                    None => gaussian(x, e, s, r).value,
                };
                values[ch - lo] += v * gain;
            }
        }
        Template::new(lo - first_channel, values)
    }
}

/// Pile-up (sum) peaks of the strongest lines: for lines with fitted counts `A_i`, the
/// pair (i, j) sums at `E_i + E_j` with relative area `A_i·A_j` (×2 for i ≠ j). Returns a
/// group normalised to Σ = 1 from the `max_lines` strongest inputs; its single amplitude
/// (the total pile-up counts) is fitted, as PyMca's detector `sum` parameter.
pub fn pileup_group(lines_with_counts: &[(f64, f64)], max_lines: usize) -> LineGroup {
    let mut strong: Vec<(f64, f64)> = lines_with_counts
        .iter()
        .copied()
        .filter(|(e, a)| *e > 0.0 && *a > 0.0)
        .collect();
    strong.sort_by(|a, b| b.1.total_cmp(&a.1));
    strong.truncate(max_lines);
    let mut pairs = Vec::new();
    for i in 0..strong.len() {
        for j in i..strong.len() {
            let w = if i == j { 1.0 } else { 2.0 };
            pairs.push((strong[i].0 + strong[j].0, w * strong[i].1 * strong[j].1));
        }
    }
    LineGroup::new("pile-up", pairs)
}

/// Kind of a detector artefact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum ArtefactKind {
    /// Si escape peak of a parent line at `parent_kev`.
    Escape {
        /// Parent line energy, keV.
        parent_kev: f64,
    },
    /// Pile-up sum of two lines.
    PileUp {
        /// First line, keV.
        a_kev: f64,
        /// Second line, keV.
        b_kev: f64,
    },
}

/// A predicted detector artefact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Artefact {
    /// Where it appears, keV.
    pub energy_kev: f64,
    /// Predicted counts.
    pub counts: f64,
    /// What produces it.
    pub kind: ArtefactKind,
}

/// Predict escape and pile-up peaks from strong lines `(energy keV, counts)`.
/// `pileup_per_count` is the pile-up probability per counted photon (τ·rate, e.g. the
/// fitted total pile-up counts divided by the square of total counts ×… — or any
/// estimate); escape fractions follow [`SiEscape::fraction`].
pub fn predict_artefacts(
    lines_with_counts: &[(f64, f64)],
    escape: Option<&SiEscape>,
    pileup_per_count: f64,
    max_lines: usize,
) -> Vec<Artefact> {
    let mut out = Vec::new();
    if let Some(esc) = escape {
        for &(e, a) in lines_with_counts {
            let f = esc.fraction(e);
            if f > 0.0 && a > 0.0 {
                out.push(Artefact {
                    energy_kev: e - SI_KA_KEV,
                    counts: a * f,
                    kind: ArtefactKind::Escape { parent_kev: e },
                });
            }
        }
    }
    let mut strong: Vec<(f64, f64)> = lines_with_counts.to_vec();
    strong.sort_by(|a, b| b.1.total_cmp(&a.1));
    strong.truncate(max_lines);
    let total: f64 = lines_with_counts.iter().map(|l| l.1.max(0.0)).sum();
    if total > 0.0 && pileup_per_count > 0.0 {
        for i in 0..strong.len() {
            for j in i..strong.len() {
                let w = if i == j { 1.0 } else { 2.0 };
                out.push(Artefact {
                    energy_kev: strong[i].0 + strong[j].0,
                    counts: pileup_per_count * w * strong[i].1 * strong[j].1 / total,
                    kind: ArtefactKind::PileUp {
                        a_kev: strong[i].0,
                        b_kev: strong[j].0,
                    },
                });
            }
        }
    }
    out.sort_by(|a, b| b.counts.total_cmp(&a.counts));
    out
}

/// The most intense predicted artefact within `tolerance_kev` of `energy_kev` with at
/// least `min_counts` predicted counts, if any.
pub fn explain_as_artefact(
    energy_kev: f64,
    artefacts: &[Artefact],
    tolerance_kev: f64,
    min_counts: f64,
) -> Option<&Artefact> {
    artefacts
        .iter()
        .filter(|a| (a.energy_kev - energy_kev).abs() <= tolerance_kev && a.counts >= min_counts)
        .max_by(|a, b| a.counts.total_cmp(&b.counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_fraction_is_a_few_permille_at_fe_ka_and_falls_with_energy() {
        let esc = SiEscape::silicon();
        let fe = esc.fraction(6.40);
        assert!(fe > 0.0015 && fe < 0.006, "Fe Kα escape fraction {fe}");
        let ca = esc.fraction(3.69);
        let sr = esc.fraction(14.16);
        assert!(ca > fe && fe > sr, "{ca} {fe} {sr}");
        assert_eq!(esc.fraction(1.5), 0.0);
    }

    #[test]
    fn template_area_equals_one_count_per_unit_amplitude() {
        let cal = Calibration::linear(0.0, 0.01).unwrap();
        let m = PeakModel::gaussian(cal, Detector::default());
        let g = LineGroup::new("X", [(6.4, 2.0), (7.06, 0.3)]);
        let t = m.template(&g, 0, 2048);
        assert!((t.sum() - 1.0).abs() < 1e-4, "{}", t.sum());
        // region that cuts the group keeps only the part inside
        let t2 = m.template(&g, 0, 680);
        assert!(t2.sum() < 0.95 && t2.sum() > 0.8);
    }

    #[test]
    fn merged_lines_keep_intensity_and_centroid() {
        let g = LineGroup::new("X", [(6.404, 0.58), (6.391, 0.30), (7.058, 0.12)]);
        let c = g.centroid_kev();
        let m = g.merged(0.02);
        assert_eq!(m.lines.len(), 2);
        assert!((m.centroid_kev() - c).abs() < 1e-12);
    }

    #[test]
    fn pileup_of_one_dominant_line_is_at_twice_its_energy() {
        let p = pileup_group(&[(6.4, 1000.0), (7.06, 150.0)], 5);
        let top = p
            .lines
            .iter()
            .max_by(|a, b| a.intensity.total_cmp(&b.intensity))
            .unwrap();
        assert!((top.energy_kev - 12.8).abs() < 1e-9);
    }
}
