//! Spectrum model of an XRF scan as fixed-shape templates for the joint linear fit
//! ([`crate::signal::linear`]): one template per element family (all lines of the
//! family with FP-predicted relative intensities in the current matrix, plus their Si
//! escape peaks), Rayleigh and Compton scatter of the excitation lines, and pile-up.
//!
//! Peaks are drawn as hypermet profiles (Gaussian + short low-energy tail + step,
//! P. Van Espen, *Handbook of X-Ray Spectrometry*, 2nd ed., 2002, ch. 4) evaluated
//! from a table in units of σ (one table per shape, built once), so drawing a template
//! costs a table lookup per channel instead of `exp`/`erfc`.

use super::fp::{PrimaryCache, Setup};
use super::physics::{compton_energy, mu_total, ElementData, Family, Mixture};
use crate::signal::detector::{Detector, SI_KA_KEV};
use crate::signal::group::SiEscape;
use crate::signal::linear::Template;
use crate::signal::lineshape::{gaussian, hypermet, Hypermet};
use crate::Calibration;
use std::sync::OnceLock;

/// Tail of the analysis line shape (default; typical SDD, PyMca defaults scaled).
pub const TAIL: Hypermet = Hypermet {
    tail_area_ratio: 0.025,
    tail_slope_ratio: 0.7,
    step_height_ratio: 5e-5,
};

/// Tail area ratios the analysis chooses from (by χ²).
pub const TAIL_RATIOS: [f64; 5] = [0.005, 0.015, 0.025, 0.04, 0.07];

const TABLE_LO: f64 = -14.0;
const TABLE_HI: f64 = 6.0;
const TABLE_STEP: f64 = 0.01;

/// A line profile tabulated in units of σ (unit area, σ = 1).
#[derive(Debug)]
pub struct ProfileTable {
    values: Vec<f64>,
    lo: f64,
}

impl ProfileTable {
    fn build(shape: Option<Hypermet>, lo: f64) -> Self {
        let n = ((TABLE_HI - lo) / TABLE_STEP) as usize + 2;
        let values = (0..n)
            .map(|i| {
                let u = lo + i as f64 * TABLE_STEP;
                match shape {
                    Some(h) => hypermet(u, 0.0, 1.0, 1.0, &h),
                    None => gaussian(u, 0.0, 1.0, 1.0).value,
                }
            })
            .collect();
        Self { values, lo }
    }

    /// Profile density at `u` σ from the centre.
    #[inline]
    pub fn at(&self, u: f64) -> f64 {
        self.at_position((u - self.lo) / TABLE_STEP)
    }

    /// Profile density at table position `x` (`(u − lo) / TABLE_STEP`), linearly
    /// interpolated.
    #[inline]
    fn at_position(&self, x: f64) -> f64 {
        if x < 0.0 {
            return 0.0;
        }
        let i = x as usize;
        if i + 1 >= self.values.len() {
            return 0.0;
        }
        let f = x - i as f64;
        self.values[i] + f * (self.values[i + 1] - self.values[i])
    }

    /// `out[k] += scale × profile at table position positions[k]`: [`ProfileTable::at`]
    /// over a run of channels (with AVX2, four channels at a time by gathered table
    /// loads; the same operations in the same order, so the same bits).
    fn add_at_positions(&self, positions: &[f64], scale: f64, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && self.values.len() < i32::MAX as usize {
            // SAFETY: the CPU has AVX2 (checked above); the table's indices fit an i32
            unsafe { self.add_at_positions_avx2(positions, scale, out) };
            return;
        }
        for (v, &x) in out.iter_mut().zip(positions) {
            *v += scale * self.at_position(x);
        }
    }

    /// [`ProfileTable::add_at_positions`] with AVX2 gathers.
    ///
    /// # Safety
    /// The CPU must support AVX2 and the table hold fewer than `i32::MAX` values.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_at_positions_avx2(&self, positions: &[f64], scale: f64, out: &mut [f64]) {
        use std::arch::x86_64::*;
        let n = positions.len().min(out.len());
        let n4 = n - n % 4;
        let table = self.values.as_ptr();
        // the last position whose interpolation reads inside the table (i + 1 < len)
        let top = _mm256_set1_pd((self.values.len() - 1) as f64);
        let zero = _mm256_setzero_pd();
        let sc = _mm256_set1_pd(scale);
        let mut k = 0;
        while k < n4 {
            // SAFETY: k + 4 ≤ n4 ≤ the length of both slices
            let x = unsafe { _mm256_loadu_pd(positions.as_ptr().add(k)) };
            // at_position's range checks: 0 ≤ x and ⌊x⌋ + 1 < len, i.e. x < len − 1
            let below = _mm256_cmp_pd::<_CMP_LT_OQ>(x, zero);
            let above = _mm256_cmp_pd::<_CMP_GE_OQ>(x, top);
            let outside = _mm256_or_pd(below, above);
            // truncation toward zero, as `x as usize` for 0 ≤ x < len − 1; positions
            // outside read index 0 and are zeroed below, a NaN reads index 0 and stays
            // NaN (as `NaN as usize` does there)
            let nan = _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x);
            let i = _mm256_cvttpd_epi32(_mm256_blendv_pd(x, zero, _mm256_or_pd(outside, nan)));
            let f = _mm256_sub_pd(x, _mm256_cvtepi32_pd(i));
            // SAFETY: 0 ≤ i and i + 1 < len for every lane (0 for the lanes outside)
            let (a, b) = unsafe {
                (
                    _mm256_i32gather_pd::<8>(table, i),
                    _mm256_i32gather_pd::<8>(table.add(1), i),
                )
            };
            let v = _mm256_add_pd(a, _mm256_mul_pd(f, _mm256_sub_pd(b, a)));
            let v = _mm256_blendv_pd(v, zero, outside);
            // SAFETY: k + 4 ≤ n4 ≤ out.len()
            unsafe {
                let o = out.as_mut_ptr().add(k);
                _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), _mm256_mul_pd(sc, v)));
            }
            k += 4;
        }
        for (v, &x) in out[n4..n].iter_mut().zip(&positions[n4..n]) {
            *v += scale * self.at_position(x);
        }
    }

    /// Lowest tabulated u.
    pub fn lo(&self) -> f64 {
        self.lo
    }
}

/// The fluorescence-line profile table with the default tail.
pub fn line_table() -> &'static ProfileTable {
    tail_table(2)
}

/// The fluorescence-line profile table with tail ratio `TAIL_RATIOS[i]`.
pub fn tail_table(i: usize) -> &'static ProfileTable {
    static T: [OnceLock<ProfileTable>; 5] = [const { OnceLock::new() }; 5];
    let i = i.min(TAIL_RATIOS.len() - 1);
    T[i].get_or_init(|| {
        let h = Hypermet {
            tail_area_ratio: TAIL_RATIOS[i],
            ..TAIL
        };
        ProfileTable::build(Some(h), TABLE_LO)
    })
}

impl ProfileTable {
    /// What a hypermet `h` adds to its Gaussian (tail and step), divided by `scale`,
    /// tabulated from `lo` σ: the free tail, long tail and step templates.
    fn beyond_gaussian(h: Hypermet, lo: f64, scale: f64) -> Self {
        let n = ((TABLE_HI - lo) / TABLE_STEP) as usize + 2;
        let values = (0..n)
            .map(|i| {
                let u = lo + i as f64 * TABLE_STEP;
                (hypermet(u, 0.0, 1.0, 1.0, &h) - gaussian(u, 0.0, 1.0, 1.0).value) / scale
            })
            .collect();
        ProfileTable { values, lo }
    }
}

/// The hypermet tail alone (unit area), for free-tail templates of strong families.
pub fn tail_only_table() -> &'static ProfileTable {
    static T: OnceLock<ProfileTable> = OnceLock::new();
    T.get_or_init(|| {
        let h = Hypermet {
            tail_area_ratio: 1.0,
            step_height_ratio: 0.0,
            ..TAIL
        };
        ProfileTable::beyond_gaussian(h, TABLE_LO, 1.0)
    })
}

/// Slopes of the long low-energy tail the analysis chooses from (by χ²), in σ:
/// incomplete charge collection near the detector's entrance window spreads 1–4 % of a
/// line's counts over 1–2 keV below it (PyMca's hypermet long tail: slope ratio
/// ~10–20, fitted per detector).
pub const LONG_TAIL_SLOPES: [f64; 4] = [8.0, 11.0, 15.0, 20.0];
/// Index into [`LONG_TAIL_SLOPES`] of the default long tail.
pub const DEFAULT_LONG_TAIL_SLOPE: usize = 2;
/// How far below a line its long tail and step are drawn, in σ.
const LONG_TABLE_LO: f64 = -90.0;

/// The long tail alone (unit area) with slope `LONG_TAIL_SLOPES[s]`, for the free long
/// tail of strong families.
pub fn long_tail_table(s: usize) -> &'static ProfileTable {
    static T: [OnceLock<ProfileTable>; LONG_TAIL_SLOPES.len()] =
        [const { OnceLock::new() }; LONG_TAIL_SLOPES.len()];
    let s = s.min(LONG_TAIL_SLOPES.len() - 1);
    T[s].get_or_init(|| {
        let h = Hypermet {
            tail_area_ratio: 1.0,
            tail_slope_ratio: LONG_TAIL_SLOPES[s],
            step_height_ratio: 0.0,
        };
        ProfileTable::beyond_gaussian(h, LONG_TABLE_LO, 1.0)
    })
}

/// The step alone: ½ erfc(u/√2), height 1 far below the line (the free step of a
/// strong family; its amplitude is then the step's height in counts per σ).
pub fn step_table() -> &'static ProfileTable {
    static T: OnceLock<ProfileTable> = OnceLock::new();
    T.get_or_init(|| {
        let h = Hypermet {
            tail_area_ratio: 0.0,
            tail_slope_ratio: 1.0,
            step_height_ratio: 1.0,
        };
        ProfileTable::beyond_gaussian(h, LONG_TABLE_LO, gaussian(0.0, 0.0, 1.0, 1.0).value)
    })
}

/// The Gaussian profile table (scatter, pile-up).
pub fn gauss_table() -> &'static ProfileTable {
    static T: OnceLock<ProfileTable> = OnceLock::new();
    T.get_or_init(|| ProfileTable::build(None, -6.0))
}

/// The Si escape model, built once.
pub fn si_escape() -> &'static SiEscape {
    static E: OnceLock<SiEscape> = OnceLock::new();
    E.get_or_init(SiEscape::silicon)
}

/// Which profile a peak is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Hypermet with the region's tail (fluorescence lines).
    Line,
    /// Plain Gaussian (escape, scatter, pile-up; strong lines with a free tail).
    Gauss,
    /// The tail alone, unit area (free tail of a strong family).
    TailOnly,
    /// The long low-energy tail alone, unit area, with slope [`LONG_TAIL_SLOPES`]`[i]`
    /// (free long tail of a strong family).
    LongTailOnly(usize),
    /// The step alone, unit height (free step of a strong family).
    StepOnly,
}

/// A peak to draw: energy (keV), relative area, extra Gaussian σ (keV), shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawPeak {
    /// Centre, keV.
    pub energy_kev: f64,
    /// Relative area.
    pub area: f64,
    /// Extra σ added in quadrature to the detector σ, keV.
    pub extra_sigma_kev: f64,
    /// Profile.
    pub shape: Shape,
}

/// Channel geometry of the fit region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// Calibration of the full spectrum.
    pub calibration: Calibration,
    /// Detector resolution.
    pub detector: Detector,
    /// First channel of the region (full-spectrum index).
    pub first: usize,
    /// Number of channels.
    pub len: usize,
    /// Index into [`TAIL_RATIOS`] of the line tail.
    pub tail: usize,
}

thread_local! {
    /// Channel energies and table positions of the template being drawn (reused, so
    /// that drawing allocates only the template).
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<f64>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Table positions `((E − centre)/σ − lo)/TABLE_STEP` of the channel energies `e`:
/// the divisions of [`ProfileTable::at`] for a whole run of channels, vectorised.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn table_positions(e: &[f64], centre: f64, sigma: f64, lo: f64, out: &mut [f64]) {
    for (o, &e) in out.iter_mut().zip(e) {
        *o = ((e - centre) / sigma - lo) / TABLE_STEP;
    }
}

impl Region {
    fn table(&self, shape: Shape) -> &'static ProfileTable {
        match shape {
            Shape::Line => tail_table(self.tail),
            Shape::Gauss => gauss_table(),
            Shape::TailOnly => tail_only_table(),
            Shape::LongTailOnly(i) => long_tail_table(i),
            Shape::StepOnly => step_table(),
        }
    }

    /// Draw peaks into a template (region-relative), clipped to the region.
    pub fn template(&self, peaks: &[DrawPeak]) -> Template {
        let cal = &self.calibration;
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let spans: Vec<(f64, f64, f64)> = peaks
            .iter()
            .filter(|p| p.area > 0.0 && p.energy_kev.is_finite())
            .map(|p| {
                let s = (self.detector.sigma_kev(p.energy_kev).powi(2) + p.extra_sigma_kev.powi(2))
                    .sqrt();
                let tl = self.table(p.shape).lo();
                let a = cal.channel(p.energy_kev + tl * s);
                let b = cal.channel(p.energy_kev + TABLE_HI * s);
                lo = lo.min(a);
                hi = hi.max(b);
                (s, a, b)
            })
            .collect();
        let first = self.first as f64;
        let last = (self.first + self.len) as f64;
        let lo = lo.floor().max(first);
        let hi = (hi.ceil() + 1.0).min(last);
        if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
            return Template::new(self.len, Vec::new());
        }
        let (lo, hi) = (lo as usize, hi as usize);
        let mut values = vec![0.0; hi - lo];
        let gain = cal.gain_kev;
        SCRATCH.with(|scratch| {
            let (energies, positions) = &mut *scratch.borrow_mut();
            // channel energies once for all peaks
            energies.clear();
            energies.extend((lo..hi).map(|ch| cal.energy_kev(ch as f64)));
            for (p, (s, a, b)) in peaks
                .iter()
                .filter(|p| p.area > 0.0 && p.energy_kev.is_finite())
                .zip(spans)
            {
                let table = self.table(p.shape);
                let c0 = (a.floor().max(lo as f64)) as usize;
                let c1 = ((b.ceil() + 1.0).min(hi as f64)) as usize;
                if c1 <= c0 {
                    continue;
                }
                let scale = p.area * gain / s;
                positions.resize(c1 - c0, 0.0);
                table_positions(
                    &energies[c0 - lo..c1 - lo],
                    p.energy_kev,
                    s,
                    table.lo,
                    positions,
                );
                table.add_at_positions(positions, scale, &mut values[c0 - lo..c1 - lo]);
            }
        });
        Template::new(lo - self.first, values)
    }
}

impl Region {
    /// Uniform cubic B-splines in energy with knots every `spacing_kev`, covering the
    /// region: smooth positive corrections to the SNIP continuum (the continuum is
    /// fitted jointly with the peaks; C. de Boor, *A Practical Guide to Splines*, 1978).
    pub fn background_splines(&self, spacing_kev: f64) -> Vec<Template> {
        let cal = &self.calibration;
        let e0 = cal.energy_kev(self.first as f64);
        let e1 = cal.energy_kev((self.first + self.len) as f64 - 1.0);
        let n_knots = ((e1 - e0) / spacing_kev).ceil() as i64;
        let mut out = Vec::new();
        for j in -1..=n_knots + 1 {
            let c = e0 + j as f64 * spacing_kev;
            let lo = cal
                .channel(c - 2.0 * spacing_kev)
                .ceil()
                .max(self.first as f64) as usize;
            let hi = (cal.channel(c + 2.0 * spacing_kev).floor() as usize + 1)
                .min(self.first + self.len);
            if lo >= hi {
                continue;
            }
            let values: Vec<f64> = (lo..hi)
                .map(|ch| cubic_bspline((cal.energy_kev(ch as f64) - c) / spacing_kev))
                .collect();
            out.push(Template::new(lo - self.first, values));
        }
        out
    }
}

/// Uniform cubic B-spline centred at 0, support (−2, 2), peak 2/3.
fn cubic_bspline(x: f64) -> f64 {
    let a = x.abs();
    if a >= 2.0 {
        0.0
    } else if a >= 1.0 {
        (2.0 - a).powi(3) / 6.0
    } else {
        (4.0 - 6.0 * a * a + 3.0 * a * a * a) / 6.0
    }
}

/// The lines of one element family as the fit sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyLines {
    /// Element symbol.
    pub symbol: &'static str,
    /// Atomic number.
    pub z: usize,
    /// Family.
    pub family: Family,
    /// (label, energy keV, relative intensity Σ = 1) of the fluorescence lines.
    pub lines: Vec<(&'static str, f64, f64)>,
    /// FP intensity of the whole family per unit mass fraction (primary, this matrix).
    pub sensitivity: f64,
}

impl FamilyLines {
    /// Peaks to draw: lines (hypermet) and their escape peaks.
    pub fn draw_peaks(&self) -> Vec<DrawPeak> {
        self.draw_peaks_with(Shape::Line)
    }

    /// The lines alone drawn with `shape` (no escape): the free long tail and step of
    /// a strong family.
    pub fn shaped_peaks(&self, shape: Shape) -> Vec<DrawPeak> {
        self.lines
            .iter()
            .map(|&(_, e, r)| DrawPeak {
                energy_kev: e,
                area: r,
                extra_sigma_kev: 0.0,
                shape,
            })
            .collect()
    }

    /// A copy with the intensity of the lines whose label matches scaled by `factor`
    /// (lines scaled to zero are left out).
    pub fn scaled_where(&self, matches: impl Fn(&str) -> bool, factor: f64) -> Self {
        let mut out = self.clone();
        for l in &mut out.lines {
            if matches(l.0) {
                l.2 *= factor;
            }
        }
        out.lines.retain(|l| l.2 > 0.0);
        out
    }

    /// Lines drawn with `shape`, and their (Gaussian) escape peaks.
    pub fn draw_peaks_with(&self, shape: Shape) -> Vec<DrawPeak> {
        let esc = si_escape();
        let mut out: Vec<DrawPeak> = self
            .lines
            .iter()
            .map(|&(_, e, r)| DrawPeak {
                energy_kev: e,
                area: r,
                extra_sigma_kev: 0.0,
                shape,
            })
            .collect();
        for &(_, e, r) in &self.lines {
            let f = esc.fraction(e);
            if f > 0.0 && e - SI_KA_KEV > 0.5 {
                out.push(DrawPeak {
                    energy_kev: e - SI_KA_KEV,
                    area: r * f,
                    extra_sigma_kev: 0.0,
                    shape: Shape::Gauss,
                });
            }
        }
        out
    }

    /// Intensity-weighted energy of the strongest line, keV.
    pub fn principal_kev(&self) -> f64 {
        self.lines
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .map_or(0.0, |l| l.1)
    }

    /// Clusters of lines closer than `fwhm_kev`: (centroid keV, summed intensity),
    /// strongest first.
    pub fn clusters(&self, fwhm_kev: f64) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut lines: Vec<(f64, f64)> = self.lines.iter().map(|l| (l.1, l.2)).collect();
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (e, r) in lines {
            match out.last_mut() {
                Some(c) if e - c.0 < fwhm_kev => {
                    let s = c.1 + r;
                    c.0 = (c.0 * c.1 + e * r) / s;
                    c.1 = s;
                }
                _ => out.push((e, r)),
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// Relative detected intensities of one element family's lines in a matrix
/// (primary fluorescence only; coarse excitation grid is enough for ratios).
pub fn family_lines(
    d: &'static ElementData,
    family: Family,
    setup: &Setup,
    matrix: &Mixture,
    min_fraction: f64,
) -> Option<FamilyLines> {
    family_lines_cached(
        d,
        family,
        setup,
        matrix,
        min_fraction,
        &mut PrimaryCache::default(),
    )
}

/// [`family_lines`], taking the excitation points, the element's vacancy cross-sections
/// there and the matrix's µ/ρ there from `cache`, which must serve this same `setup`
/// only (an analysis asks for the lines of tens of families in one matrix).
pub fn family_lines_cached(
    d: &'static ElementData,
    family: Family,
    setup: &Setup,
    matrix: &Mixture,
    min_fraction: f64,
    cache: &mut PrimaryCache,
) -> Option<FamilyLines> {
    let s1 = setup.psi_in_deg.to_radians().sin();
    let s2 = setup.psi_out_deg.to_radians().sin();
    let idx: Vec<usize> = (0..d.lines.len())
        .filter(|&k| d.lines[k].family() == family)
        .collect();
    if idx.is_empty() {
        return None;
    }
    let mu_l: Vec<f64> = idx
        .iter()
        .map(|&k| mu_total(matrix, d.lines[k].energy_kev))
        .collect();
    let eff: Vec<f64> = idx
        .iter()
        .map(|&k| setup.detector.efficiency(d.lines[k].energy_kev))
        .collect();
    let mut inten = vec![0.0; idx.len()];
    let points = cache.points(setup);
    let vacancies = cache.vacancies(d, &points);
    let mu_points = cache.matrix_mu(matrix, &points);
    for ((&(_, n), v), mu_e) in points.iter().zip(vacancies.iter()).zip(mu_points.iter()) {
        if v.iter().all(|x| *x == 0.0) {
            continue;
        }
        let mu_e = mu_e.max(1e-9);
        for (j, &k) in idx.iter().enumerate() {
            let l = &d.lines[k];
            inten[j] += n * v[l.level] * d.levels[l.level].yield_ * l.fraction * eff[j]
                / (mu_e / s1 + mu_l[j] / s2);
        }
    }
    let max = inten.iter().copied().fold(0.0, f64::max);
    let total: f64 = inten.iter().sum();
    if max <= 0.0 {
        return None;
    }
    let mut lines: Vec<(&'static str, f64, f64)> = idx
        .iter()
        .zip(&inten)
        .filter(|(_, i)| **i >= min_fraction * max)
        .map(|(&k, i)| (d.lines[k].label.as_str(), d.lines[k].energy_kev, i / total))
        .collect();
    let kept: f64 = lines.iter().map(|l| l.2).sum();
    lines.iter_mut().for_each(|l| l.2 /= kept);
    Some(FamilyLines {
        symbol: d.symbol,
        z: d.z,
        family,
        lines,
        sensitivity: total,
    })
}

/// The excitation lines split into groups (Kα-like, Kβ-like...) whose scattered
/// ratio the fit leaves free: lines within 0.6 keV of each other stay together.
pub fn excitation_groups(setup: &Setup) -> Vec<Vec<(f64, f64)>> {
    let mut lines = setup.excitation.lines.clone();
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some(g) if g.last().is_some_and(|p| l.0 - p.0 < 0.6) => g.push(l),
            _ => out.push(vec![l]),
        }
    }
    out
}

/// Family lines from a full FP calculation (primary + secondary fluorescence) of the
/// element inside its matrix: secondary excitation by matrix lines (Fe Kα on the
/// rare-earth L3/L2 shells) changes the L-subshell line ratios.
pub fn family_lines_from(
    el: &super::fp::ElementIntensity,
    family: Family,
    min_fraction: f64,
) -> Option<FamilyLines> {
    let d = el.element;
    let max = d
        .lines
        .iter()
        .zip(&el.lines)
        .filter(|(l, _)| l.family() == family)
        .map(|(_, i)| *i)
        .fold(0.0, f64::max);
    if max <= 0.0 || el.mass_fraction <= 0.0 {
        return None;
    }
    let total = el.family_total(family);
    let mut lines: Vec<(&'static str, f64, f64)> = d
        .lines
        .iter()
        .zip(&el.lines)
        .filter(|(l, i)| l.family() == family && **i >= min_fraction * max)
        .map(|(l, i)| (l.label.as_str(), l.energy_kev, *i))
        .collect();
    let kept: f64 = lines.iter().map(|l| l.2).sum();
    lines.iter_mut().for_each(|l| l.2 /= kept);
    Some(FamilyLines {
        symbol: d.symbol,
        z: d.z,
        family,
        lines,
        sensitivity: total / el.mass_fraction,
    })
}

/// Rayleigh peaks of excitation lines (relative areas from the primary spectrum).
pub fn rayleigh_peaks(lines: &[(f64, f64)]) -> Vec<DrawPeak> {
    lines
        .iter()
        .map(|&(e, n)| DrawPeak {
            energy_kev: e,
            area: n,
            extra_sigma_kev: 0.0,
            shape: Shape::Line,
        })
        .collect()
}

/// Compton peaks of excitation lines at one scattering angle, Doppler-broadened.
pub fn compton_peaks(lines: &[(f64, f64)], theta_deg: f64) -> Vec<DrawPeak> {
    lines
        .iter()
        .map(|&(e, n)| DrawPeak {
            energy_kev: compton_energy(e, theta_deg),
            area: n,
            extra_sigma_kev: super::synth::compton_doppler_sigma(e),
            shape: Shape::Gauss,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::physics::{element_by_symbol, mixture, DetectorEfficiency, Tube};
    use super::*;

    #[test]
    fn table_profile_matches_direct_hypermet() {
        let t = line_table();
        for u in [-8.0, -3.3, -1.0, 0.0, 0.7, 2.5] {
            let d = hypermet(u, 0.0, 1.0, 1.0, &TAIL);
            assert!((t.at(u) - d).abs() < 1e-4 * d.max(1e-3), "{u}");
        }
    }

    /// The vectorised accumulation gives the bits of the scalar lookup, at the table's
    /// ends and outside it too.
    #[test]
    fn add_at_positions_matches_the_scalar_lookup_bit_for_bit() {
        for t in [
            line_table(),
            long_tail_table(1),
            step_table(),
            gauss_table(),
        ] {
            let len = t.values.len() as f64;
            let mut x: Vec<f64> = (0..997)
                .map(|k| -7.3 + k as f64 * (len + 20.0) / 997.0)
                .collect();
            x.extend([
                -0.0,
                0.0,
                len - 2.0,
                len - 1.5,
                len - 1.0,
                len,
                len + 1e6,
                f64::NEG_INFINITY,
            ]);
            let start: Vec<f64> = (0..x.len()).map(|k| 0.1 * k as f64).collect();
            let mut fast = start.clone();
            t.add_at_positions(&x, 1.7, &mut fast);
            for ((f, s), &x) in fast.iter().zip(&start).zip(&x) {
                let expected = s + 1.7 * t.at_position(x);
                assert_eq!(f.to_bits(), expected.to_bits(), "x = {x}");
            }
        }
    }

    #[test]
    fn la_lines_in_hematite_have_weaker_lb_than_in_silica() {
        let setup = Setup::new(Tube::rh(50.0).spectrum(1.0), DetectorEfficiency::default());
        let la = element_by_symbol("Nd").unwrap();
        let fe = mixture(&[("Fe".into(), 0.7), ("O".into(), 0.3)]);
        let si = mixture(&[("Si".into(), 0.467), ("O".into(), 0.533)]);
        let ratio = |m: &Mixture| {
            let f = family_lines(la, Family::L, &setup, m, 0.001).unwrap();
            let a: f64 = f.lines.iter().filter(|l| l.0 == "La1").map(|l| l.2).sum();
            let b: f64 = f.lines.iter().filter(|l| l.0 == "Lb1").map(|l| l.2).sum();
            b / a
        };
        let (rf, rs) = (ratio(&fe), ratio(&si));
        // Nd Lβ1 (5.72 keV) and Lα1 (5.23) both below the Fe K edge: similar ratios
        assert!(rf > 0.3 && rs > 0.3, "{rf} {rs}");
    }

    /// Kβ lines scaled and Kα lines dropped, as the full analysis draws a strong K
    /// family with a free Kβ/Kα ratio: the Kα lines keep their intensities.
    #[test]
    fn scaled_where_scales_the_matching_lines_and_drops_zeroed_ones() {
        let setup = Setup::new(Tube::rh(50.0).spectrum(1.0), DetectorEfficiency::default());
        let fe = element_by_symbol("Fe").unwrap();
        let m = mixture(&[("Fe".into(), 0.7), ("O".into(), 0.3)]);
        let f = family_lines(fe, Family::K, &setup, &m, 0.001).unwrap();
        let sum = |f: &FamilyLines, kb: bool| -> f64 {
            f.lines
                .iter()
                .filter(|l| l.0.starts_with("Kb") == kb)
                .map(|l| l.2)
                .sum()
        };
        let g = f.scaled_where(|l| l.starts_with("Kb"), 0.8);
        assert!((sum(&g, true) - 0.8 * sum(&f, true)).abs() < 1e-12);
        assert!((sum(&g, false) - sum(&f, false)).abs() < 1e-12);
        let kb_only = f.scaled_where(|l| !l.starts_with("Kb"), 0.0);
        assert!(kb_only.lines.iter().all(|l| l.0.starts_with("Kb")));
        assert!((sum(&kb_only, true) - sum(&f, true)).abs() < 1e-12);
        assert!(
            sum(&f, true) > 0.05 && sum(&f, true) < 0.3,
            "Fe Kβ share {}",
            sum(&f, true)
        );
    }
}
