//! Whole-pattern profiles: a phase's reflections rendered on a measured axis with an
//! instrument (wavelengths, zero shift, peak widths), as sparse templates for the joint
//! linear fit of [`crate::signal::linear`].

use super::pattern::{Geometry, Reflection};
use crate::signal::linear::Template;
use crate::signal::lineshape::{caglioti_fwhm, lorentz_fwhm, pseudo_voigt, tch_fwhm_eta};

/// Cu Kα1, Kα2 (Å) (Hölzer et al., Phys. Rev. A 56 (1997) 4554).
pub const CU_KA: (f64, f64) = (1.540_598, 1.544_426);
/// Co Kα1, Kα2 (Å) (Hölzer et al. 1997).
pub const CO_KA: (f64, f64) = (1.788_965, 1.792_850);
/// Mo Kα1, Kα2 (Å) (Hölzer et al. 1997).
pub const MO_KA: (f64, f64) = (0.709_319, 0.713_609);
/// Fe Kα1, Kα2 (Å) (Hölzer et al. 1997).
pub const FE_KA: (f64, f64) = (1.936_042, 1.939_980);
/// Cr Kα1, Kα2 (Å) (Hölzer et al. 1997).
pub const CR_KA: (f64, f64) = (2.289_760, 2.293_663);
/// Kα2/Kα1 intensity ratio.
pub const KA2_RATIO: f64 = 0.5;

/// The anodes of laboratory diffractometer tubes, with their Kα1, Kα2 wavelengths:
/// the candidates when a pattern's file states no wavelength.
pub const TUBE_ANODES: [(&str, (f64, f64)); 5] = [
    ("Cu", CU_KA),
    ("Co", CO_KA),
    ("Fe", FE_KA),
    ("Cr", CR_KA),
    ("Mo", MO_KA),
];

/// The Kα2 partner of a Kα1 wavelength, for the tubes of [`TUBE_ANODES`].
pub fn kalpha2_of(wavelength_a: f64) -> Option<f64> {
    TUBE_ANODES
        .iter()
        .find(|(_, (k1, _))| (wavelength_a - k1).abs() < 0.002)
        .map(|(_, (_, k2))| *k2)
}

/// Goniometer radius (mm) assumed when converting a refined specimen-displacement
/// shift to millimetres: the radius of common laboratory Bragg–Brentano goniometers
/// (240 mm; benchtop and portable units are smaller, 145 mm and less).
pub const GONIOMETER_RADIUS_MM: f64 = 240.0;

/// Specimen displacement s (mm, positive = sample surface below the focusing circle)
/// of a displacement coefficient `d_deg` ([`Instrument::displacement`]) on a goniometer
/// of radius `radius_mm`: Δ2θ = −2 s cosθ / R (radians), so s = −D·R/2 with D in
/// radians (Klug & Alexander, *X-ray Diffraction Procedures*, 2nd ed. (1974), §5-2).
pub fn displacement_mm(d_deg: f64, radius_mm: f64) -> f64 {
    -0.5 * d_deg.to_radians() * radius_mm
}

/// Peak width model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Width {
    /// Thompson–Cox–Hastings: Caglioti Gaussian (U, V, W in deg²) and Lorentzian
    /// (X, Y in deg) (Thompson, Cox & Hastings, J. Appl. Cryst. 20 (1987) 79).
    Tch {
        /// U, deg².
        u: f64,
        /// V, deg².
        v: f64,
        /// W, deg².
        w: f64,
        /// X (size), deg.
        x: f64,
        /// Y (strain), deg.
        y: f64,
    },
    /// Γ² = w + u·t² with t = tanθ (angle axis) or t = E in keV (energy axis), fixed η.
    /// Used for widths measured from a pattern and for energy-dispersive detectors
    /// (electronic noise plus a term ∝ E).
    Empirical {
        /// Constant term, axis units².
        w: f64,
        /// Slope term.
        u: f64,
        /// Lorentzian fraction.
        eta: f64,
    },
}

impl Width {
    /// FWHM (axis units) and η at axis position `x`.
    #[inline]
    pub fn fwhm_eta(&self, geometry: Geometry, x: f64) -> (f64, f64) {
        match *self {
            Width::Tch { u, v, w, x: lx, y } => {
                tch_fwhm_eta(caglioti_fwhm(x, u, v, w), lorentz_fwhm(x, lx, y))
            }
            Width::Empirical { w, u, eta } => {
                let t = match geometry {
                    Geometry::BraggBrentano { .. } => (0.5 * x).to_radians().tan(),
                    Geometry::EnergyDispersive { .. } => x,
                };
                ((w + u * t * t).max(1e-10).sqrt(), eta)
            }
        }
    }
}

/// How a pattern was measured: geometry, optional Kα2, peak widths, zero shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    /// Geometry (carries the Kα1 wavelength or the fixed 2θ).
    pub geometry: Geometry,
    /// Kα2 wavelength (Å) and intensity ratio, when present.
    pub kalpha2: Option<(f64, f64)>,
    /// Peak widths.
    pub width: Width,
    /// Zero shift added to every computed position (axis units: degrees 2θ or keV).
    pub zero_shift: f64,
    /// Specimen-displacement coefficient D (degrees 2θ): a Bragg–Brentano line at θ
    /// moves by D·cosθ on top of the zero shift (D = −2s/R, [`displacement_mm`]).
    /// Ignored for energy-dispersive patterns.
    pub displacement: f64,
}

impl Instrument {
    /// Total shift (axis units) of a line computed at `x`: zero shift plus the
    /// specimen-displacement term D·cosθ.
    #[inline]
    pub fn shift(&self, x: f64) -> f64 {
        match self.geometry {
            Geometry::BraggBrentano { .. } if self.displacement != 0.0 => {
                self.shift_at(displacement_factor(self.geometry, x))
            }
            _ => self.zero_shift,
        }
    }

    /// [`Instrument::shift`] of a line whose [`displacement_factor`] is `factor`
    /// (tabulated once per line when many instruments move the same lines).
    #[inline]
    pub fn shift_at(&self, factor: f64) -> f64 {
        self.zero_shift + self.displacement * factor
    }
}

/// How far specimen displacement moves a line at `x` per unit displacement
/// coefficient: cosθ for Bragg–Brentano, 0 for energy-dispersive patterns.
#[inline]
pub fn displacement_factor(geometry: Geometry, x: f64) -> f64 {
    match geometry {
        Geometry::BraggBrentano { .. } => (0.5 * x).to_radians().cos(),
        Geometry::EnergyDispersive { .. } => 0.0,
    }
}

/// A line to draw: position (axis units), integrated intensity, d.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Axis position (with zero shift).
    pub x: f64,
    /// Integrated intensity.
    pub area: f64,
}

/// Lines of `reflections` on an axis range, intensity per unit weight × `scale`
/// (Kα2 included when the instrument has it), with optional per-reflection factors
/// (preferred orientation; `factors[k]` multiplies reflection k).
pub fn lines(
    reflections: &[Reflection],
    instrument: &Instrument,
    x_range: (f64, f64),
    scale: f64,
    factors: Option<&[f64]>,
) -> Vec<Line> {
    LineTable::new(reflections, instrument.geometry, instrument.kalpha2)
        .lines(instrument, x_range, scale, factors)
}

/// The lines of a reflection list on one tube (geometry and Kα2) before any shift:
/// unshifted positions, Lorentz–polarisation-weighted intensities and displacement
/// factors. Instruments that differ only in zero shift, specimen displacement or peak
/// widths move these lines without one trigonometric function per reflection, so a
/// search that tries many such instruments tabulates each phase once per tube.
#[derive(Debug, Clone)]
pub struct LineTable {
    geometry: Geometry,
    kalpha2: Option<(f64, f64)>,
    entries: Vec<TableLine>,
}

/// One Kα1 or Kα2 line of a [`LineTable`].
#[derive(Debug, Clone, Copy)]
struct TableLine {
    /// Unshifted axis position.
    x: f64,
    /// F² sum × Lorentz–polarisation factor.
    intensity: f64,
    /// cosθ of the line (Bragg–Brentano), the specimen-displacement factor.
    cos_theta: f64,
    /// Index of the reflection in the list the table was made from.
    reflection: usize,
    /// A Kα2 line (its intensity takes the instrument's Kα2/Kα1 ratio).
    kalpha2: bool,
}

impl LineTable {
    /// Tabulate `reflections` for `geometry` with the optional Kα2 (wavelength, ratio).
    pub fn new(
        reflections: &[Reflection],
        geometry: Geometry,
        kalpha2: Option<(f64, f64)>,
    ) -> Self {
        // cosθ = √(1 − (λ/2d)²): no trigonometric function.
        let cos_theta = |g: Geometry, d_a: f64| match g {
            Geometry::BraggBrentano { wavelength_a } => {
                let s = wavelength_a / (2.0 * d_a);
                (1.0 - s * s).max(0.0).sqrt()
            }
            Geometry::EnergyDispersive { .. } => 0.0,
        };
        let mut entries = Vec::with_capacity(reflections.len() * 2);
        for (k, r) in reflections.iter().enumerate() {
            let Some(x1) = geometry.position(r.d_a) else {
                continue;
            };
            entries.push(TableLine {
                x: x1,
                intensity: r.f2_sum * geometry.lp(r.d_a),
                cos_theta: cos_theta(geometry, r.d_a),
                reflection: k,
                kalpha2: false,
            });
            if let (Some((l2, _)), Geometry::BraggBrentano { .. }) = (kalpha2, geometry) {
                let g2 = Geometry::BraggBrentano { wavelength_a: l2 };
                if let Some(x2) = g2.position(r.d_a) {
                    entries.push(TableLine {
                        x: x2,
                        intensity: r.f2_sum * g2.lp(r.d_a),
                        cos_theta: cos_theta(g2, r.d_a),
                        reflection: k,
                        kalpha2: true,
                    });
                }
            }
        }
        Self {
            geometry,
            kalpha2,
            entries,
        }
    }

    /// Whether the table was made for this instrument's geometry and Kα2.
    pub fn fits(&self, instrument: &Instrument) -> bool {
        self.geometry == instrument.geometry && self.kalpha2 == instrument.kalpha2
    }

    /// The lines under `instrument` (whose geometry and Kα2 must be the table's) on an
    /// axis range, as [`lines`] gives them; `factors` are indexed as the reflection
    /// list the table was made from.
    pub fn lines(
        &self,
        instrument: &Instrument,
        x_range: (f64, f64),
        scale: f64,
        factors: Option<&[f64]>,
    ) -> Vec<Line> {
        debug_assert!(self.fits(instrument));
        let displaced = matches!(instrument.geometry, Geometry::BraggBrentano { .. })
            && instrument.displacement != 0.0;
        let ratio = instrument.kalpha2.map_or(1.0, |(_, r)| r);
        let mut out = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let shift = if displaced {
                instrument.shift_at(e.cos_theta)
            } else {
                instrument.zero_shift
            };
            let x = e.x + shift;
            if x < x_range.0 || x > x_range.1 {
                continue;
            }
            let f = factors.map_or(1.0, |f| f[e.reflection]);
            let area = e.intensity * scale * f;
            out.push(Line {
                x,
                area: if e.kalpha2 { area * ratio } else { area },
            });
        }
        out
    }
}

/// Distance from a line's centre (in FWHM) beyond which the Gaussian part of its
/// pseudo-Voigt, exp(−Δ²/2σ²) with σ = Γ/2.3548, is below 2⁻⁵³ (Δ > 8.57 σ) and is
/// left out of a rendered template.
const GAUSS_REACH_FWHM: f64 = 3.64;

/// Render lines as a sparse template on the axis `xs` (increasing), each a
/// pseudo-Voigt integrated over the step (value at the centre × local step), cut at
/// ±`cut` FWHM. Lines weaker than `min_rel` of the strongest are skipped.
pub fn render(
    lines: &[Line],
    instrument: &Instrument,
    xs: &[f64],
    cut: f64,
    min_rel: f64,
) -> Template {
    let n = xs.len();
    if n < 2 || lines.is_empty() {
        return Template::new(0, Vec::new());
    }
    let max_area = lines.iter().map(|l| l.area).fold(0.0, f64::max);
    let mut lo = n;
    let mut hi = 0;
    let mut spans = Vec::with_capacity(lines.len());
    for l in lines.iter().filter(|l| l.area > min_rel * max_area) {
        let (fwhm, eta) = instrument.width.fwhm_eta(instrument.geometry, l.x);
        let a = xs.partition_point(|&x| x < l.x - cut * fwhm);
        let b = xs.partition_point(|&x| x <= l.x + cut * fwhm);
        if a < b {
            lo = lo.min(a);
            hi = hi.max(b);
            spans.push((a, b, *l, fwhm, eta));
        }
    }
    if lo >= hi {
        return Template::new(0, Vec::new());
    }
    let mut values = vec![0.0; hi - lo];
    // Local step of each point of lo..hi (the last point takes the one before it).
    let steps: Vec<f64> = (lo..hi)
        .map(|i| {
            if i + 1 < n {
                xs[i + 1] - xs[i]
            } else {
                xs[i] - xs[i - 1]
            }
        })
        .collect();
    for (a, b, l, fwhm, eta) in spans {
        // Beyond GAUSS_REACH_FWHM the Gaussian part is below 2⁻⁵³ of its peak: there
        // only the Lorentzian part, γ/(π(Δ² + γ²)), is evaluated (no exponential). Δ
        // grows with the index, so the points within reach are one run p..q: the
        // tails a..p and q..b are loops without a branch or a call.
        let reach = GAUSS_REACH_FWHM * fwhm;
        let gamma = 0.5 * fwhm;
        let span = &xs[a..b];
        let p = a + span.partition_point(|&x| x - l.x <= -reach);
        let q = a + span.partition_point(|&x| x - l.x < reach);
        let lorentz = |x: f64| {
            let dx = x - l.x;
            l.area * (eta * gamma / (std::f64::consts::PI * (dx * dx + gamma * gamma)))
        };
        for (r, s) in [(a, p), (q, b)] {
            let out = values[r - lo..s - lo].iter_mut();
            for ((v, &x), &step) in out.zip(&xs[r..s]).zip(&steps[r - lo..s - lo]) {
                *v += lorentz(x) * step;
            }
        }
        let out = values[p - lo..q - lo].iter_mut();
        for ((v, &x), &step) in out.zip(&xs[p..q]).zip(&steps[p - lo..q - lo]) {
            *v += pseudo_voigt(x, l.x, fwhm, eta, l.area).value * step;
        }
    }
    Template::new(lo, values)
}

/// March–Dollase preferred-orientation factor averaged over the reflection's
/// equivalent hkl: P(α) = (r² cos²α + sin²α / r)^(−3/2) (Dollase, J. Appl. Cryst. 19
/// (1986) 267, eq. 9), α the angle between hkl and the preferred axis.
pub fn march_dollase(
    cell: &super::crystal::Cell,
    r: &Reflection,
    axis: [i32; 3],
    ratio: f64,
) -> f64 {
    let norm = |h: [i32; 3]| cell.inv_d2(h).sqrt();
    let dot = |h: [i32; 3], k: [i32; 3]| {
        let g = &cell.g_star;
        let (hv, kv) = (h.map(f64::from), k.map(f64::from));
        (0..3)
            .map(|i| (0..3).map(|j| hv[i] * g[i][j] * kv[j]).sum::<f64>())
            .sum::<f64>()
    };
    let na = norm(axis);
    if na <= 0.0 || ratio <= 0.0 || r.members.is_empty() {
        return 1.0;
    }
    let sum: f64 = r
        .members
        .iter()
        .map(|&h| {
            let c = (dot(h, axis) / (norm(h) * na)).clamp(-1.0, 1.0);
            let s2 = 1.0 - c * c;
            (ratio * ratio * c * c + s2 / ratio).powf(-1.5)
        })
        .sum();
    sum / r.members.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_area_equals_line_intensity() {
        let inst = Instrument {
            geometry: Geometry::BraggBrentano {
                wavelength_a: CU_KA.0,
            },
            kalpha2: None,
            width: Width::Empirical {
                w: 0.01,
                u: 0.0,
                eta: 0.5,
            },
            zero_shift: 0.0,
            displacement: 0.0,
        };
        let xs: Vec<f64> = (0..4000).map(|i| 10.0 + 0.02 * i as f64).collect();
        let t = render(
            &[Line {
                x: 40.0,
                area: 1000.0,
            }],
            &inst,
            &xs,
            40.0,
            0.0,
        );
        assert!((t.sum() - 1000.0).abs() < 10.0, "{}", t.sum());
        let t = render(
            &[Line {
                x: 40.0,
                area: 1000.0,
            }],
            &inst,
            &xs,
            5.0,
            0.0,
        );
        assert!(t.sum() > 920.0 && t.sum() < 1000.0, "{}", t.sum());
    }

    #[test]
    fn kalpha2_partner_is_found_for_tubes() {
        assert_eq!(kalpha2_of(1.5406), Some(CU_KA.1));
        assert_eq!(kalpha2_of(1.78897), Some(CO_KA.1));
        assert_eq!(kalpha2_of(1.2), None);
    }
}
