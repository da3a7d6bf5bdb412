//! The air path, measured on the spectrum: the Ar K lines of the air against what the
//! FP model predicts per mm of air.
//!
//! A cm of air passes 24 % of Al Kα and 40 % of Si Kα; a handheld's air gap is 0.5–2 cm,
//! a benchtop's path vacuum or helium, and a spectrum file rarely says which. The path
//! decides how much of the light matrix (Al, Si) the detector sees, and through the
//! normalisation to 100 % how high every heavier element reads: an alumina ceramic
//! read with 5 mm of air where there were 15 mm gives its Y, Ca and Fe 5–20 times their
//! content. Air holds 1.28 wt % Ar, whose K lines the beam excites on its way to the
//! sample; their area, against what the FP model predicts per mm of air on the same
//! instrument constant as the sample's lines, measures the path. It is taken as long on
//! the beam's side as on the detector's (a reflection geometry with equal angles: the
//! beam loses its softest part in it too). Where the fit holds no Ar K lines
//! [`XrfThresholds::air_argon_min_sigma`] clear, the spectrum does not measure the path
//! and the assumed one stands (a vacuum or helium path would be none: what reading such
//! a spectrum as vacuum does to the light matrix is left for the tube model's soft
//! part — its anode L lines and continuum — to be checked first).

use super::*;
use crate::xrf::physics::{air_transmission, DetectorEfficiency, Excitation};

/// The beam and the detector side as the excitation model gave them, before the air
/// path measured on the spectrum.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// The tube's beam at the tube.
    pub(super) beam: Excitation,
    /// The detector side as stated or assumed.
    pub(super) detector: DetectorEfficiency,
}

impl Source {
    pub(super) fn of(setup: &Setup) -> Self {
        Source {
            beam: setup.excitation.clone(),
            detector: setup.detector,
        }
    }

    /// The beam after `mm` of air.
    fn beam_through_air(&self, mm: f64) -> Excitation {
        let through = |&(e, n): &(f64, f64)| (e, n * air_transmission(e, mm));
        Excitation {
            continuum: self.beam.continuum.iter().map(through).collect(),
            lines: self.beam.lines.iter().map(through).collect(),
        }
    }

    /// The detector side with `mm` of air.
    fn detector_through_air(&self, mm: f64) -> DetectorEfficiency {
        DetectorEfficiency {
            air_mm: mm,
            ..self.detector
        }
    }
}

impl Work<'_> {
    /// Ar K intensity per mm of an air path `air_mm` long, per unit instrument constant
    /// (see [`crate::xrf::fp::air_argon_lines`]): the air's Ar sees the beam and is seen
    /// through half the path on average.
    fn argon_per_mm(&self, air_mm: f64) -> f64 {
        let half = air_mm / 2.0;
        let s = &self.exc.setup;
        crate::xrf::fp::air_argon_lines(&Setup {
            excitation: self.source.beam_through_air(half),
            detector: self.source.detector_through_air(half),
            psi_in_deg: s.psi_in_deg,
            psi_out_deg: s.psi_out_deg,
            scatter_deg: s.scatter_deg,
        })
        .iter()
        .map(|l| l.1)
        .sum()
    }

    /// The set-up's beam and detector with `air_mm` of air on the beam's and on the
    /// detector's side; the FP tables of the set-up are dropped.
    fn set_air_path(&mut self, air_mm: f64) {
        self.exc.setup.excitation = self.source.beam_through_air(air_mm);
        self.exc.setup.detector = self.source.detector_through_air(air_mm);
        self.lines_cache.get_mut().fp = PrimaryCache::default();
    }

    /// Measure the air path on the fit's Ar K family (see the module documentation),
    /// set it in the set-up and say so in the excitation's basis; without Ar K lines
    /// the set-up is left as it is. The path is the L at which
    /// the predicted Ar area G(L) · per_mm(L) · L equals the fitted one, G the
    /// instrument constant of the sample quantified (`measured`, oxides, primary only)
    /// with that path. Only for a tube, and only where no detector side was stated.
    pub(super) fn measure_air_path(
        &mut self,
        comps: &[Component],
        fit: &LinearFit,
        measured: &[(usize, Measured)],
    ) {
        if self.exc.basis.probe != crate::xrf::excitation::Probe::Tube || self.exc.detector_stated {
            return;
        }
        let (argon, sigma) = comps
            .iter()
            .zip(fit.amplitudes.iter().zip(&fit.sigmas))
            .filter(|(c, (a, _))| matches!(&c.kind, Kind::Family(fl) if fl.z == ARGON) && **a > 0.0)
            .fold((0.0, 0.0), |(a, v), (_, (x, s))| (a + x, v + s * s));
        if argon <= self.th.air_argon_min_sigma * sigma.sqrt() {
            return;
        }
        let start = self.source.detector.air_mm.max(1.0);
        // ln(predicted / fitted) rises with L, faster than ln L in a light matrix (G
        // grows as the path hides Al and Si)
        let h = |w: &mut Work, mm: f64| {
            w.set_air_path(mm);
            let g = quantify_fit(w, measured, MatrixModel::Oxides, false).instrument_constant;
            (g * w.argon_per_mm(mm) * mm / argon).ln()
        };
        let (lo, hi) = (self.th.air_path_min_mm, self.th.air_path_max_mm);
        let mm = solve_increasing(|mm| h(self, mm), lo, hi, start);
        self.set_air_path(mm);
        self.exc.basis.air_path_mm = Some(mm);
    }
}

/// The root of `h`, increasing in x, on [lo, hi] (lo or hi when it has none there),
/// from `start`: a secant in ln x kept inside a bracket (false position, Illinois
/// variant), to |h| < 0.03 or 12 evaluations.
fn solve_increasing(mut h: impl FnMut(f64) -> f64, lo: f64, hi: f64, start: f64) -> f64 {
    const DONE: f64 = 0.03;
    let x0 = start.clamp(lo, hi).ln();
    let h0 = h(x0.exp());
    if !h0.is_finite() {
        return start;
    }
    if h0.abs() < DONE {
        return x0.exp();
    }
    let (mut a, mut ha, mut b, mut hb) = if h0 < 0.0 {
        let hb = h(hi);
        if hb <= 0.0 {
            return hi;
        }
        (x0, h0, hi.ln(), hb)
    } else {
        let ha = h(lo);
        if ha >= 0.0 {
            return lo;
        }
        (lo.ln(), ha, x0, h0)
    };
    let mut side = 0;
    for _ in 0..10 {
        let x = (a * hb - b * ha) / (hb - ha);
        let hx = h(x.exp());
        if !hx.is_finite() || hx.abs() < DONE {
            return x.exp();
        }
        if hx < 0.0 {
            (a, ha) = (x, hx);
            if side == -1 {
                hb *= 0.5;
            }
            side = -1;
        } else {
            (b, hb) = (x, hx);
            if side == 1 {
                ha *= 0.5;
            }
            side = 1;
        }
    }
    ((a + b) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solver_finds_the_root_of_an_increasing_function_or_an_end() {
        // ln(x · e^(x/10) / 15): the shape of ln(predicted / fitted) Ar in a light matrix
        let h = |x: f64| (x * (x / 10.0).exp() / 15.0).ln();
        let x = solve_increasing(h, 0.1, 40.0, 5.0);
        assert!(h(x).abs() < 0.03, "{x}");
        assert!((x - 7.33).abs() < 0.2, "{x}");
        assert_eq!(solve_increasing(|x| x.ln() + 10.0, 0.1, 40.0, 5.0), 0.1);
        assert_eq!(solve_increasing(|x| x.ln() - 10.0, 0.1, 40.0, 5.0), 40.0);
    }
}
