//! The excitation: what made the sample emit the spectrum, inferred from the file's
//! header and from the spectrum itself.
//!
//! * **Probe.** An X-ray tube (anode and accelerating voltage), a monochromatic beam
//!   (synchrotron, secondary target, monochromatised tube), or an electron beam
//!   (SEM/TEM energy-dispersive spectroscopy, recognised from the file's signal type).
//!   The fundamental-parameters (FP) quantification models photon excitation only: an
//!   electron-excited spectrum has its elements identified and no weight fractions.
//! * **Tube voltage.** Stated in the file or on the command line; otherwise estimated
//!   from the Duane–Hunt limit, the energy at which the scattered bremsstrahlung
//!   continuum reaches zero (no photon carries more than the electrons' kinetic energy,
//!   e·U); otherwise, when the continuum runs past the spectrum's end, a documented
//!   default ([`ExcitationSettings::default_kv`]); a continuum seen above the default
//!   puts the voltage between the spectrum's end and the highest voltage of the field's
//!   analysers ([`ExcitationSettings::max_kv`]). A stated voltage that the continuum
//!   contradicts is an input error.
//! * **Anode.** Stated, or recognised from its lines scattered by the sample: each
//!   characteristic line of the tube comes back as a Rayleigh (elastic) peak at its own
//!   energy and a broader Compton peak below it. Rh, Ag, Mo, Cu and Cr are recognised by
//!   their K lines, W and Au by their L lines.
//! * **Beam filter.** Stated (a `.pdz` beam record, EMSA `##FILTER`, an instrument
//!   file), stated absent, or — when the file does not say — inferred from the scattered
//!   continuum ([`infer_filter`]): a filter takes the continuum away below its cut-off,
//!   where an open beam's scatter runs down to a few keV. The open beam is kept unless
//!   the continuum refutes it with a clear margin; the filter inferred is an equivalent
//!   Al or Cu thickness, said as such in the excitation sentence.
//!
//! The kV's uncertainty reaches the reported weight fractions: see
//! [`ExcitationInfo::qualify`].

use super::fp::Setup;
use super::physics::{
    compton_energy, element, element_by_symbol, DetectorEfficiency, ElementData, Excitation,
    Family, Tube,
};
use super::{XrfAnalysis, XrfOptions};
use crate::{Calibration, Error, Result, Spectrum};
use serde::Serialize;

/// The thresholds of the excitation inference, in one place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExcitationSettings {
    /// Tube voltage assumed when the file states none and the spectrum does not reach
    /// the continuum's end, kV: a handheld analyser's tube (40–50 kV, most run at 40).
    pub default_kv: f64,
    /// 1σ of [`Self::default_kv`], kV: handheld and benchtop tubes run at 15–50 kV.
    pub default_kv_sigma: f64,
    /// The highest voltage of the X-ray tubes of handheld and benchtop analysers, kV
    /// (Bruker S1 TITAN, Evident Vanta, Thermo Niton XL5, Malvern Panalytical Epsilon 4:
    /// 50 kV). When the continuum runs past the spectrum's end at E keV, above
    /// [`Self::default_kv`] and below this, the voltage lies between the two: it is taken
    /// as the middle, with the standard deviation of a uniform spread over the interval
    /// (a 41-keV spectrum: 45.5 ± 2.6 kV instead of 41 ± 10 kV).
    pub max_kv: f64,
    /// Width of the bins in which the continuum is traced, keV.
    pub bin_kev: f64,
    /// Half-width (bins) of the running median that takes the peaks out of the traced
    /// continuum: 3 bins each side make a 1.4-keV window, over which a peak of up to
    /// 0.6 keV (a Compton peak) is a minority.
    pub median_half_bins: usize,
    /// The continuum's fall to zero is fitted from where it drops below this share of
    /// its reference level (the 90th percentile of the traced continuum above 2 keV)…
    pub fall_from: f64,
    /// … down to this share, above which pile-up (a few ‰ of the continuum on a busy
    /// detector) does not reach.
    pub fall_to: f64,
    /// The continuum has ended within the spectrum when the counts beyond the
    /// extrapolated end point average less than this share of the fitted fall's mean.
    /// A polycapillary lens (micro-XRF) leaves a long, slowly decaying tail instead
    /// (5–10 % on the NIST Bruker M4 set), read as a continuum running past.
    pub beyond_max_share: f64,
    /// A stated kV contradicts an observed end point when they differ by more than
    /// this share of the kV …
    pub contradiction_share: f64,
    /// … and by more than this many σ of the estimate.
    pub contradiction_sigmas: f64,
    /// A stated kV contradicts a continuum whose level 1–3 keV above the kV is more
    /// than this share of its level 1–3 keV below it. Near its end the continuum is
    /// weak and pile-up of the scatter peaks is not: on the independent corpus's Si-PIN
    /// portable (Ag tube, 35 kV) it reaches 36–64 % there, so only a level that has
    /// hardly fallen counts as running on.
    pub above_max_share: f64,
    /// Position tolerance of a scattered tube line, keV (plus 0.5 % of its energy).
    pub line_tolerance_kev: f64,
    /// A monochromatic beam leaves, pile-up aside, nothing above its scatter peak: when
    /// the tube's lines are seen, the mean counts 0.5–2.5 keV above the highest are
    /// under this share of those 0.3–2 keV below it (PyMca's XRFSpectrum.mca, a
    /// monochromatised Mo beam: 0.3 %; Rh, Au tubes: 16–27 %).
    pub mono_above_max_share: f64,
    /// A weak peak above the fluorescence lines is not a monochromatic beam when the
    /// peak-cleared continuum 0.5–2.5 keV above it is more than this share of its level
    /// 0.3–2 keV below (see `runs_on`).
    pub mono_runs_on_share: f64,
    /// The beam filter is inferred (see [`infer_filter`]) on 1-keV bands of the
    /// peak-cleared continuum from this energy, keV: below it the scattered continuum of
    /// any beam is weak beside the light elements' lines and the detector's noise.
    pub filter_from_kev: f64,
    /// The reference bands, where a beam filter passes most of the continuum, span this
    /// share of the kV …
    pub filter_ref_share: (f64, f64),
    /// … and end at this energy, keV, at the latest: above it lie the rare earths' K
    /// lines (La Kα 33.4 keV onwards), dense enough in a rare-earth carrier to lift the
    /// peak-cleared continuum.
    pub filter_ref_max_kev: f64,
    /// An unfiltered beam is refuted when a band's continuum is below this share of what
    /// the unfiltered tube's scatter gives it, scaled to the reference bands. The scatter
    /// model's matrix is a silicate without absorption edges between the band and the
    /// reference, the matrix that leaves the least continuum low down: tails, steps,
    /// escape and pile-up of the sample's lines and an edge in between (Zr K, 18.0 keV)
    /// only add to the band's share. The independent corpus's open beams keep at least
    /// 0.47, its Cu/Ti/Al stack leaves ≤ 0.06 on iron ores and ceramics (see
    /// `tests/xrf_excitation.rs`).
    pub filter_none_share: f64,
    /// A candidate filter is refuted when a band's continuum is below this share of what
    /// it predicts: the thinnest candidate not refuted is a lower bound on the
    /// equivalent thickness (the counts that tails and steps add to a band make a
    /// thinner filter look possible, never a thicker one).
    pub filter_refuted_share: f64,
    /// A band refutes only when its counts fall short of the prediction by this many σ
    /// of Poisson counting.
    pub filter_sigmas: f64,
    /// Copper is inferred (rather than aluminium's equivalent, a stack that closes the
    /// window) when a band below Cu's K edge holds at least this share of what a
    /// single copper foil passes there (a multi-beam corpus ceramic behind 100 µm Cu:
    /// 0.3; an independent-corpus ceramic behind the Cu/Ti/Al stack: 0.02).
    pub filter_window_share: f64,
    /// Least Kβ1/Kα1 area ratio of a K-line anode's scattered lines, when its Kβ1 is a
    /// peak at all: Rayleigh and Compton scatter keep the tube's ratio (0.15–0.25 for
    /// Mo, Rh, Ag) but for the detector's falling efficiency and the first peak
    /// search's rough areas (an Ag tube on a thin Si-PIN: 0.045). A "Kα1" with a Kβ1 a
    /// thousand times weaker is another element's line (a zirconia's Zr Kβ at 17.67
    /// keV taken for Mo Kα at 17.48, its Kβ1 a pile-up sum at 19.6: 0.0014).
    pub anode_kb_ka_min: f64,
}

impl Default for ExcitationSettings {
    fn default() -> Self {
        Self {
            default_kv: 40.0,
            default_kv_sigma: 10.0,
            max_kv: 50.0,
            bin_kev: 0.2,
            median_half_bins: 3,
            fall_from: 0.1,
            fall_to: 0.01,
            beyond_max_share: 0.03,
            contradiction_share: 0.2,
            contradiction_sigmas: 4.0,
            above_max_share: 0.9,
            line_tolerance_kev: 0.1,
            mono_above_max_share: 0.05,
            mono_runs_on_share: 0.3,
            filter_from_kev: 3.0,
            filter_ref_share: (0.5, 0.75),
            filter_ref_max_kev: 32.0,
            filter_none_share: 0.1,
            filter_refuted_share: 0.5,
            filter_sigmas: 4.0,
            filter_window_share: 0.1,
            anode_kb_ka_min: 0.02,
        }
    }
}

/// What excited the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// An X-ray tube: bremsstrahlung continuum and the anode's lines.
    #[default]
    Tube,
    /// One photon energy.
    Monochromatic,
    /// An electron beam (SEM/TEM-EDS): outside the FP model.
    Electrons,
}

/// Where a value of the excitation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The file's header, the command line or an instrument file.
    Stated,
    /// The kV: the Duane–Hunt limit of the continuum.
    DuaneHunt,
    /// The anode: its scattered lines.
    Recognised,
    /// Neither: [`ExcitationSettings`]' default (kV) or Rh, the handheld standard (anode).
    Default,
    /// The beam filter: the shape of the scattered continuum ([`infer_filter`]).
    ScatteredContinuum,
}

/// How the excitation was established (SPEC extension `xrf.excitation_basis`).
///
/// `quantified` is false for an electron-excited spectrum: its elements are identified
/// and carry no weight fraction (`wt_pct`, `sigma_wt_pct` and `lod_wt_pct` are `null` in
/// the JSON, NaN in Rust), so no decision may rest on them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct ExcitationBasis {
    /// "tube", "monochromatic" or "electrons".
    pub probe: Probe,
    /// The tube's anode symbol (tube only).
    pub anode: Option<&'static str>,
    /// Where the anode comes from (tube only).
    pub anode_from: Option<Basis>,
    /// Where the kV comes from (tube and electron beam).
    pub kv_from: Option<Basis>,
    /// 1σ of the kV, kV (0 when stated).
    #[serde(rename = "kv_sigma")]
    pub kv_sigma: Option<f64>,
    /// Where the beam filter modelled comes from (tube only): stated in the file, or
    /// inferred from the scattered continuum; none when the beam is modelled unfiltered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_from: Option<Basis>,
    /// Whether the weight fractions come from the FP model (false: electron excitation).
    pub quantified: bool,
    /// The air path (mm, on the beam's and on the detector's side) measured on the Ar K
    /// lines of the air (no detector stated; none when not measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub air_path_mm: Option<f64>,
}

/// How the sample was excited.
#[derive(Debug, Clone, PartialEq)]
pub struct ExcitationInfo {
    /// The primary spectrum model (for an electron-excited spectrum a tube at the beam
    /// voltage stands in for it, only to weigh the lines of a family).
    pub setup: Setup,
    /// Tube (or electron beam) voltage used, kV; none for a monochromatic beam.
    pub kv: Option<f64>,
    /// Highest excitation energy, keV.
    pub max_kev: f64,
    /// Anode symbol, "mono" or "electrons": names the source of scatter artefacts.
    pub source: String,
    /// Probe, anode and kV with where each comes from.
    pub basis: ExcitationBasis,
    /// The tube's beam filter as modelled (element, µm); none without one.
    pub filter: Option<(String, f64)>,
    /// Whether the detector side (window, air path, crystal) was stated (an instrument
    /// file) rather than assumed.
    pub detector_stated: bool,
}

impl ExcitationInfo {
    /// Whether a K family with its edge at `edge_kev` is excited only by the top of the
    /// beam, above `share` of its highest energy (La K, 38.9 keV, at 50 kV or at an
    /// assumed 41 kV): such a family's reading hangs on how the beam ends, which an
    /// assumed voltage or an inferred filter does not give.
    pub fn k_edge_in_top_band(&self, edge_kev: f64, share: f64) -> bool {
        edge_kev > share * self.max_kev
    }

    /// The excitation in words, for reports.
    pub fn describe(&self) -> String {
        let b = &self.basis;
        let kv = self.kv.unwrap_or(self.max_kev);
        match b.probe {
            Probe::Monochromatic => format!("monochromatic beam, {:.2} keV", self.max_kev),
            Probe::Electrons => format!(
                "electron beam, {kv:.0} kV: XRF quantification does not apply to an \
                 electron-excited spectrum; elements identified, no weight fractions"
            ),
            Probe::Tube => {
                let anode = match b.anode_from {
                    Some(Basis::Recognised) => {
                        format!("{} tube (recognised by its scattered lines)", self.source)
                    }
                    Some(Basis::Default) => {
                        format!(
                            "{} tube (anode assumed: not stated, not recognised)",
                            self.source
                        )
                    }
                    _ => format!("{} tube", self.source),
                };
                let anode = match (&self.filter, b.filter_from) {
                    (Some((el, um)), Some(Basis::ScatteredContinuum)) => format!(
                        "{anode} through a filter inferred from the scattered continuum \
                         (not stated): {el} ~{um:.0} µm equivalent"
                    ),
                    (Some((el, um)), _) => format!("{anode} through {el} {um:.0} µm"),
                    (None, _) => anode,
                };
                let sigma = b.kv_sigma.unwrap_or(0.0);
                let tube = match b.kv_from {
                    Some(Basis::DuaneHunt) => format!(
                        "{anode}, {kv:.1} ± {sigma:.1} kV (Duane–Hunt limit of the continuum)"
                    ),
                    Some(Basis::Default) => format!(
                        "{anode}, {kv:.0} kV assumed (not stated; the continuum runs past \
                         the spectrum's end), ± {sigma:.0} kV carried into the wt % σ"
                    ),
                    _ => format!("{anode}, {kv:.0} kV"),
                };
                match b.air_path_mm {
                    Some(mm) => {
                        format!("{tube}; air path {mm:.0} mm (measured on the air's Ar K lines)")
                    }
                    None => tube,
                }
            }
        }
    }

    /// Adjust a finished analysis to what the excitation allows: an electron-excited
    /// spectrum keeps its identified elements and loses its weight fractions (NaN, `null`
    /// in the JSON) and detection limits; a tube whose kV is estimated or assumed widens
    /// each element's σ by how much its reading moves when the kV moves by ±1σ.
    ///
    /// The kV term: an element's reading is its line's counts over the excitation that
    /// makes them, normalised with every other element's to 100 %. In a thick sample
    /// whose attenuation μ(E) stands for the matrix (a silicate, SiO₂, for the unseen
    /// light matrix of ores, sands and ceramics), the excitation is F_el(U) = Σ N_U(E)
    /// τ_el(E)/μ(E) over the tube spectrum above the element's edge (K, or L3 when its
    /// lines are L lines). With g_el = ln[F_el(U+σ)/F_el(U−σ)] and ḡ its mean over the
    /// elements weighted by their readings, the relative σ added in quadrature is
    /// |g_el − ḡ| / 2: the kV moves a reading only as far as it excites the element
    /// differently from the rest (Gd L3, 7.24 keV, and Fe K, 7.11 keV, of an iron ore
    /// move together; La L and Al K of a ceramic do not).
    pub fn qualify(&self, a: &mut XrfAnalysis) {
        a.excitation_basis = self.basis;
        if self.basis.probe == Probe::Electrons {
            for e in &mut a.elements {
                e.wt_pct = f64::NAN;
                e.sigma_wt_pct = f64::NAN;
                e.lod_wt_pct = f64::NAN;
            }
            a.not_detected.clear();
            return;
        }
        let (Some(kv), Some(sigma), Probe::Tube) = (self.kv, self.basis.kv_sigma, self.basis.probe)
        else {
            return;
        };
        if sigma <= 0.0 || a.elements.is_empty() {
            return;
        }
        let anode = self.source.clone();
        let tube = |u: f64| Tube {
            anode: anode.clone(),
            filter: self.filter.clone(),
            ..Tube::rh(u)
        };
        let lo = tube((kv - sigma).max(5.0)).spectrum(0.5);
        let hi = tube(kv + sigma).spectrum(0.5);
        let silicate = silicate();
        let mu = |e: f64| -> f64 { super::physics::mu_total(&silicate, e) };
        let excite = |x: &Excitation, edge: f64, cross: &dyn Fn(f64) -> f64| -> f64 {
            x.points()
                .filter(|p| p.0 > edge)
                .map(|p| p.1 * cross(p.0) / mu(p.0))
                .sum()
        };
        // ln of each element's excitation ratio F_el(U+σ)/F_el(U−σ)
        let moved: Vec<Option<f64>> = a
            .elements
            .iter()
            .map(|e| {
                let d = element_by_symbol(&e.symbol)?;
                let l_lines = e.lines.first().is_some_and(|l| l.starts_with('L'));
                let edge = d.levels[if l_lines { 3 } else { 0 }].edge_kev;
                let photo = |x: f64| d.mu.photo(x);
                let (flo, fhi) = (excite(&lo, edge, &photo), excite(&hi, edge, &photo));
                (flo > 0.0 && fhi > 0.0).then(|| (fhi / flo).ln())
            })
            .collect();
        // the readings are normalised to 100 %: what moves them is an element's
        // excitation against the weighted mean of all of theirs
        let basis = {
            let (w, m) = a
                .elements
                .iter()
                .zip(&moved)
                .filter_map(|(e, g)| Some((e.wt_pct, (*g)?)))
                .filter(|(w, _)| w.is_finite() && *w > 0.0)
                .fold((0.0, 0.0), |(sw, sm), (w, g)| (sw + w, sm + w * g));
            (w > 0.0).then(|| m / w)
        };
        let Some(basis) = basis else { return };
        for (e, g) in a.elements.iter_mut().zip(&moved) {
            if let Some(g) = g {
                e.excitation_sigma_wt_pct = (g - basis).abs() / 2.0 * e.wt_pct;
            }
        }
    }
}

/// The anodes recognised from their scattered lines, with the family that shows.
const ANODES: [(&str, Family); 7] = [
    ("Rh", Family::K),
    ("Ag", Family::K),
    ("Mo", Family::K),
    ("Cu", Family::K),
    ("Cr", Family::K),
    ("W", Family::L),
    ("Au", Family::L),
];

/// The family of `symbol` is one by which a tube's anode shows (see [`ANODES`]): where
/// the anode is not stated (one recognised from its scatter may be the wrong one), such
/// a family in the fit may be the tube's scatter, Rayleigh and Compton together, rather
/// than fluorescence.
pub(crate) fn anode_family(symbol: &str, family: Family) -> bool {
    ANODES.contains(&(symbol, family))
}

/// Where the continuum ends (see [`duane_hunt`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Continuum {
    /// It falls to zero within the spectrum: the Duane–Hunt limit, keV, and its 1σ.
    Ends { kev: f64, sigma: f64 },
    /// It is still there at `to_kev`, the spectrum's last energy where it is seen.
    RunsPast { to_kev: f64 },
    /// No continuum to trace.
    Absent,
}

/// The continuum traced in `bin_kev` bins (counts per keV) and cleared of peaks by a
/// running median, with each bin's centre energy.
struct Trace {
    centre: Vec<f64>,
    raw: Vec<f64>,
    median: Vec<f64>,
}

impl Trace {
    fn new(counts: &[f64], cal: &Calibration, s: &ExcitationSettings) -> Option<Self> {
        let e_end = cal.energy_kev(counts.len() as f64 - 0.5);
        let e_start = cal.energy_kev(-0.5).max(0.0);
        let nb = ((e_end - e_start) / s.bin_kev).floor() as usize;
        if nb < 2 * s.median_half_bins + 4 {
            return None;
        }
        let mut raw = vec![0.0; nb];
        let per_bin = 1.0 / s.bin_kev;
        for (c, &y) in counts.iter().enumerate() {
            let x = (cal.energy_kev(c as f64) - e_start) * per_bin;
            if x >= 0.0 {
                if let Some(r) = raw.get_mut(x as usize) {
                    *r += y.max(0.0);
                }
            }
        }
        raw.iter_mut().for_each(|r| *r *= per_bin);
        let h = s.median_half_bins;
        let mut window = Vec::with_capacity(2 * h + 1);
        let median = (0..nb)
            .map(|i| {
                window.clear();
                window.extend_from_slice(&raw[i.saturating_sub(h)..(i + h + 1).min(nb)]);
                let mid = window.len() / 2;
                *window.select_nth_unstable_by(mid, f64::total_cmp).1
            })
            .collect();
        let centre = (0..nb)
            .map(|i| e_start + (i as f64 + 0.5) * s.bin_kev)
            .collect();
        Some(Self {
            centre,
            raw,
            median,
        })
    }

    /// Lowest value of the median trace over bins centred in `lo..hi` keV.
    fn least(&self, lo: f64, hi: f64) -> Option<f64> {
        self.centre
            .iter()
            .zip(&self.median)
            .filter(|(e, _)| (lo..hi).contains(*e))
            .map(|(_, m)| *m)
            .reduce(f64::min)
    }

    /// Mean of the median trace over bins centred in `lo..hi` keV.
    fn mean(&self, lo: f64, hi: f64) -> Option<f64> {
        let v: Vec<f64> = self
            .centre
            .iter()
            .zip(&self.median)
            .filter(|(e, _)| (lo..hi).contains(*e))
            .map(|(_, m)| *m)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }
}

/// The Duane–Hunt limit: the continuum's last decade of fall (from
/// [`ExcitationSettings::fall_from`] to [`ExcitationSettings::fall_to`] of its reference
/// level, peaks removed by a running median) extrapolated to zero. Bremsstrahlung falls
/// as N(E) ∝ (E₀ − E)/E (Kramers), so N(E)·E is fitted with a straight line; the
/// detector's efficiency and the sample's scatter vary slowly over the fall.
///
/// The continuum has ended within the spectrum only when what lies beyond the end point
/// is pile-up-small ([`ExcitationSettings::beyond_max_share`]) and no strong element's
/// absorption edge lies in the fitted fall: a zirconium or tin sample absorbs the
/// scattered continuum above its K edge (18.0, 29.2 keV), a step that is not the end.
/// `peaks` (energy keV, area) names the elements present.
pub fn duane_hunt(
    counts: &[f64],
    cal: &Calibration,
    peaks: &[(f64, f64)],
    s: &ExcitationSettings,
) -> Continuum {
    Trace::new(counts, cal, s).map_or(Continuum::Absent, |t| end_of(&t, peaks, s))
}

/// [`duane_hunt`] on a traced continuum.
fn end_of(t: &Trace, peaks: &[(f64, f64)], s: &ExcitationSettings) -> Continuum {
    let above2: Vec<f64> = t
        .centre
        .iter()
        .zip(&t.median)
        .filter(|(e, _)| **e >= 2.0)
        .map(|(_, m)| *m)
        .collect();
    if above2.len() < 8 {
        return Continuum::Absent;
    }
    let mut sorted = above2.clone();
    sorted.sort_by(f64::total_cmp);
    let reference = sorted[(0.9 * (sorted.len() - 1) as f64) as usize];
    if reference <= 0.0 {
        return Continuum::Absent;
    }
    let first = t.centre.iter().position(|&e| e >= 2.0).unwrap_or(0);
    let Some(i_from) = (first..t.median.len())
        .rev()
        .find(|&i| t.median[i] >= s.fall_from * reference)
    else {
        return Continuum::Absent;
    };
    let fall: Vec<(f64, f64)> = (i_from..t.median.len())
        .filter(|&i| t.median[i] >= s.fall_to * reference)
        .map(|i| (t.centre[i], t.median[i]))
        .collect();
    let last_seen = fall.last().map_or(t.centre[i_from], |p| p.0);
    let e_end = *t.centre.last().unwrap_or(&0.0);
    let runs_past = Continuum::RunsPast { to_kev: last_seen };
    // Kramers: N(E)·E = k (E₀ − E), a straight line in E
    let linear: Vec<(f64, f64)> = fall.iter().map(|&(e, n)| (e, n * e)).collect();
    let Some((e0, sigma)) = line_to_zero(&linear) else {
        return runs_past;
    };
    let mean_fall = fall.iter().map(|p| p.1).sum::<f64>() / fall.len() as f64;
    let sigma = sigma.hypot(s.bin_kev);
    if !(e0.is_finite() && e0 + 0.5 < e_end) {
        return runs_past;
    }
    let beyond: Vec<f64> = t
        .centre
        .iter()
        .zip(&t.raw)
        .filter(|(e, _)| **e > e0 + 0.5)
        .map(|(_, r)| *r)
        .collect();
    if beyond.len() < 2 {
        return runs_past;
    }
    let beyond_mean = beyond.iter().sum::<f64>() / beyond.len() as f64;
    if beyond_mean >= s.beyond_max_share * mean_fall {
        return runs_past;
    }
    let fall_lo = fall.first().map_or(e0, |p| p.0) - 0.5;
    if strong_edge_in(peaks, fall_lo, e0 + 0.5, s) {
        return runs_past;
    }
    Continuum::Ends { kev: e0, sigma }
}

/// Least-squares line through `pts` (E, y): where it reaches zero and its 1σ (from the
/// residual scatter). None unless it falls.
fn line_to_zero(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = pts.len() as f64;
    if pts.len() < 4 {
        return None;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    if b >= 0.0 {
        return None;
    }
    let a = my - b * mx;
    let e0 = -a / b;
    let rss: f64 = pts.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    let s2 = rss / (n - 2.0);
    // zero crossing e0 = mx − my/b: var ≈ (s²/n + (e0 − mx)² s²/sxx) / b²
    let var = (s2 / n + (e0 - mx).powi(2) * s2 / sxx) / (b * b);
    Some((e0, var.sqrt()))
}

/// An element whose principal K (or L) line is among the strong peaks (≥ 2 % of the
/// strongest), with its Kβ1 (or Lβ1) seen, has its K (or L3) absorption edge in
/// `lo..hi` keV.
fn strong_edge_in(peaks: &[(f64, f64)], lo: f64, hi: f64, s: &ExcitationSettings) -> bool {
    let strongest = peaks.iter().map(|p| p.1).fold(0.0, f64::max);
    let strong: Vec<f64> = peaks
        .iter()
        .filter(|p| p.1 >= 0.02 * strongest)
        .map(|p| p.0)
        .collect();
    let seen = |list: &[f64], e: f64| list.iter().any(|&p| (p - e).abs() < tolerance(s, e));
    let weak: Vec<f64> = peaks
        .iter()
        .filter(|p| p.1 >= 2e-3 * strongest)
        .map(|p| p.0)
        .collect();
    (11..=92).filter_map(element).any(|d| {
        [(Family::K, 0), (Family::L, 3)].iter().any(|&(f, level)| {
            let sig = signature(d, f);
            (lo..hi).contains(&d.levels[level].edge_kev)
                && sig.len() >= 2
                && seen(&strong, sig[0].0)
                && seen(&weak, sig[1].0)
        })
    })
}

fn tolerance(s: &ExcitationSettings, e: f64) -> f64 {
    s.line_tolerance_kev + 0.005 * e
}

/// The anode whose lines the spectrum shows scattered (see [`recognise_anode`]), with
/// the energy of its highest line seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeenAnode {
    /// Anode symbol.
    pub symbol: &'static str,
    /// Energy of its highest scattered line, keV.
    pub top_kev: f64,
}

/// The lines of `d` in `family` by which its scatter is recognised: Kα1 and Kβ1, or
/// Lα1, Lβ1 and Lγ1.
fn signature(d: &ElementData, family: Family) -> Vec<(f64, &'static str)> {
    let labels: &[&'static str] = match family {
        Family::K => &["Ka1", "Kb1"],
        _ => &["La1", "Lb1", "Lg1"],
    };
    labels
        .iter()
        .filter_map(|&lab| {
            d.lines
                .iter()
                .find(|l| l.label == lab)
                .map(|l| (l.energy_kev, lab))
        })
        .collect()
}

/// The tube's anode from its scattered lines in `peaks` (energy keV, area): every line
/// of its signature is a peak, the second weaker than the first (Kβ1/Kα1 between
/// [`ExcitationSettings::anode_kb_ka_min`] and 1, Lβ1 < 1.5 Lα1). A K-line anode (at
/// 15 keV or more) whose principal line has a Compton peak 75–150° below it is
/// confirmed — a fluorescence line has no Compton companion — and a confirmed K-line
/// anode may lack its Kβ1 peak (too weak near the K edge); a confirmed anode beats an
/// unconfirmed one (a pure copper sample under a Rh tube shows Cu Kα and Kβ). For
/// L-line anodes the Compton shift (0.1–0.3 keV) is within a peak width: the third line
/// (Lγ1), the family's ratios and its strength are asked for instead. Lines below 15
/// keV must be the top of the spectrum; an L-line anode with the sample's K lines above
/// it (a W tube on a zirconia) is the last resort, taken when no other anode is seen.
/// Otherwise the anode whose lines lie highest wins: the tube's lines sit at the top of
/// the spectrum (a tungsten ore under a Rh tube shows both W L and Rh K).
pub fn recognise_anode(peaks: &[(f64, f64)], s: &ExcitationSettings) -> Option<SeenAnode> {
    let area_at = |e: f64| {
        peaks
            .iter()
            .filter(|p| (p.0 - e).abs() < tolerance(s, e))
            .map(|p| p.1)
            .fold(0.0, f64::max)
    };
    let strongest = peaks.iter().map(|p| p.1).fold(0.0, f64::max);
    let mut best: Option<(bool, bool, SeenAnode)> = None;
    for (symbol, family) in ANODES {
        let Some(d) = element_by_symbol(symbol) else {
            continue;
        };
        let sig = signature(d, family);
        if sig.len() < 2 {
            continue;
        }
        let areas: Vec<f64> = sig.iter().map(|&(e, _)| area_at(e)).collect();
        // a K-line anode's Kβ1 may be too weak to be a peak (Ag Kβ1 near the K edge's
        // overvoltage at 35–40 kV, a few tens of counts) where Kα1 and its Compton
        // companion stand: then the companion must confirm it (below)
        let kb_missing = family == Family::K && areas[0] > 0.0 && areas[1] <= 0.0;
        if (areas.iter().any(|&a| a <= 0.0) && !kb_missing) || areas[0] < 1e-4 * strongest {
            continue;
        }
        let ratio = areas[1] / areas[0];
        let plausible = match family {
            Family::K => kb_missing || (s.anode_kb_ka_min..1.0).contains(&ratio),
            // three lines that must each land on a peak can do so by chance among a
            // steel's pile-up and W L peaks: the L lines of a tube stand out (Lα1 ≥ 1 %
            // of the strongest peak) in a tube's ratios (Au at 20–25 kV: Lβ1/Lα1 0.24–0.28,
            // Lγ1/Lα1 0.05)
            _ => {
                let gamma = areas.get(2).map_or(0.0, |g| g / areas[0]);
                areas[0] >= 0.01 * strongest
                    && (0.15..1.5).contains(&ratio)
                    && (0.02..0.5).contains(&gamma)
            }
        };
        let top = if kb_missing {
            sig[0].0
        } else {
            sig.iter().map(|l| l.0).fold(0.0, f64::max)
        };
        // below 15 keV the Compton shift (≤ 0.2 keV) is within a peak width: such K lines
        // (Cr, Cu) must be the top of the spectrum, no strong peak above them but pile-up
        // sums (a steel's Cr Kα/Kβ lie below its Fe and Ni lines)
        let low = sig[0].0 < 15.0;
        // An L-line anode under the K lines of the sample (a W tube on zirconia: Zr Kα
        // above its Lγ1) is kept as a last resort: taken only when no other anode's
        // lines are seen (a tungsten ore under a Rh tube shows Rh K scatter, which wins).
        let buried = low && !on_top(peaks, top, strongest, 0.01);
        if buried && family == Family::K {
            continue;
        }
        let confirmed = match family {
            Family::K if !low => {
                let e = sig[0].0;
                let (hi, lo) = (compton_energy(e, 75.0), compton_energy(e, 150.0));
                peaks.iter().any(|p| {
                    p.0 > lo - tolerance(s, e) && p.0 < hi + 0.5 * tolerance(s, e) && p.0 < e - 0.15
                })
            }
            _ => false,
        };
        // … and nothing but pile-up sums may lie above where its Kβ1 would be (the
        // Kβ's own Compton and a Rayleigh peak too weak to be placed lie between): a
        // fluorescence line with a neighbour at a Compton-like distance below (Zr Kβ
        // over Y Kβ in a Y-stabilised zirconia, taken for Mo Kα) has the tube's scatter
        // above it. `on_top` looks from 0.5 keV above the energy it is given.
        let kb_top = sig[1].0 + tolerance(s, sig[1].0) - 0.5;
        if !plausible || (kb_missing && !(confirmed && on_top(peaks, kb_top, strongest, 0.0))) {
            continue;
        }
        let rank = (confirmed, !buried, top);
        if best.is_none_or(|(c, u, b)| rank > (c, u, b.top_kev)) {
            best = Some((
                confirmed,
                !buried,
                SeenAnode {
                    symbol: d.symbol,
                    top_kev: top,
                },
            ));
        }
    }
    best.map(|b| b.2)
}

/// No peak of `min_share` of the strongest or more lies 0.5 keV or more above
/// `top_kev`, but pile-up sums of two peaks of 5 % or more.
fn on_top(peaks: &[(f64, f64)], top_kev: f64, strongest: f64, min_share: f64) -> bool {
    let strong: Vec<f64> = peaks
        .iter()
        .filter(|p| p.1 >= 0.05 * strongest)
        .map(|p| p.0)
        .collect();
    let is_sum = |e: f64| {
        strong
            .iter()
            .any(|a| strong.iter().any(|b| (a + b - e).abs() < 0.15))
    };
    !peaks
        .iter()
        .any(|p| p.0 > top_kev + 0.5 && p.1 >= min_share * strongest && !is_sum(p.0))
}

/// The file says the spectrum was excited by electrons: EMSA `#SIGNALTYPE` EDS_SEM,
/// EDS_TEM or ELS, or a Bruker `.spx` with a SEM (ESMA) header.
pub fn electron_excited(spectrum: &Spectrum) -> bool {
    spectrum.meta.signal_type.as_deref().is_some_and(|t| {
        let t = t.trim().to_ascii_uppercase();
        t.starts_with("EDS_SEM") || t.starts_with("EDS_TEM") || t.starts_with("ELS")
    })
}

/// Choose the excitation model (see the module documentation). In order: a given
/// monochromatic beam or whole tube; an electron beam the file declares; then a tube
/// whose anode is stated, recognised or Rh, and whose kV is stated, the Duane–Hunt
/// limit or the default — or, when no tube line is seen and no kV stated, a
/// monochromatic beam at the highest strong scatter peak.
///
/// # Errors
/// [`Error::Invalid`] when a stated kV contradicts the continuum.
pub fn resolve_excitation(
    spectrum: &Spectrum,
    opts: &XrfOptions,
    cal: &Calibration,
    peaks: &[(f64, f64)],
) -> Result<ExcitationInfo> {
    let mut info = resolve_source(spectrum, opts, cal, peaks)?;
    info.detector_stated = opts.detector.is_some();
    Ok(info)
}

/// The body of [`resolve_excitation`].
fn resolve_source(
    spectrum: &Spectrum,
    opts: &XrfOptions,
    cal: &Calibration,
    peaks: &[(f64, f64)],
) -> Result<ExcitationInfo> {
    let s = ExcitationSettings::default();
    let det = opts.detector.unwrap_or_default();
    let counts = spectrum.counts_slice();
    if let Some(e) = opts.excitation_kev {
        return Ok(mono(e, det));
    }
    let stated_anode = opts
        .anode
        .clone()
        .or_else(|| spectrum.meta.anode.clone())
        .and_then(|a| element_by_symbol(&a).map(|d| d.symbol));
    let end_kev = cal.energy_kev(spectrum.len() as f64 - 1.0);
    let trace = Trace::new(counts, cal, &s);
    let continuum = || {
        trace
            .as_ref()
            .map_or(Continuum::Absent, |t| end_of(t, peaks, &s))
    };
    if electron_excited(spectrum) {
        let (kv, from, sigma) = match (opts.tube_kv.or(spectrum.meta.tube_kv), continuum()) {
            (Some(kv), _) => (kv, Basis::Stated, 0.0),
            (None, Continuum::Ends { kev, sigma }) => (kev, Basis::DuaneHunt, sigma),
            (None, _) => (end_kev.ceil(), Basis::Default, s.default_kv_sigma),
        };
        // The tube stands in only for the relative weights of the lines in the templates;
        // an electron beam's voltage (200 kV in a TEM) may lie beyond the tube model's range.
        let (lo, hi) = crate::formats::LIMITS.xrf_tube_kv;
        let mut info = tube(stated_anode.unwrap_or("Rh"), kv.clamp(lo, hi), None, det);
        info.kv = Some(kv);
        info.source = "electrons".into();
        info.basis = ExcitationBasis {
            probe: Probe::Electrons,
            anode: None,
            anode_from: None,
            kv_from: Some(from),
            kv_sigma: Some(sigma),
            filter_from: None,
            quantified: false,
            ..ExcitationBasis::default()
        };
        return Ok(info);
    }
    if let Some(t) = &opts.tube {
        check_stated_kv(t.kv, continuum(), &s, trace.as_ref())?;
        let mut info = tube_info(t, det);
        info.basis.anode_from = Some(Basis::Stated);
        info.basis.kv_from = Some(Basis::Stated);
        info.basis.filter_from = t.filter.as_ref().map(|_| Basis::Stated);
        return Ok(info);
    }
    let seen = recognise_anode(peaks, &s);
    let (anode, anode_from) = match (stated_anode, seen) {
        (Some(a), _) => (a, Basis::Stated),
        (None, Some(a)) => (a.symbol, Basis::Recognised),
        (None, None) => ("Rh", Basis::Default),
    };
    // the stated anode's lines seen, or those of the anode recognised
    let lines_seen = match (stated_anode, seen) {
        (Some(_), _) | (None, None) => element_by_symbol(anode).and_then(|d| {
            let family = ANODES
                .iter()
                .find(|x| x.0 == d.symbol)
                .map_or(Family::K, |x| x.1);
            let sig = signature(d, family);
            let (e, _) = *sig.first()?;
            peaks
                .iter()
                .any(|p| (p.0 - e).abs() < tolerance(&s, e))
                .then(|| sig.iter().map(|l| l.0).fold(0.0, f64::max))
        }),
        (None, Some(a)) => Some(a.top_kev),
    };
    let stated_kv = opts.tube_kv.or(spectrum.meta.tube_kv);
    let with = |kv: f64, kv_from: Basis, sigma: f64| {
        let (filter, filter_from) = match &spectrum.meta.beam_filter {
            Some(_) => (stated_filter(spectrum, kv), Basis::Stated),
            None => (
                trace
                    .as_ref()
                    .and_then(|t| infer_from_trace(t, anode, kv, det, &s).filter),
                Basis::ScatteredContinuum,
            ),
        };
        let filter_from = filter.as_ref().map(|_| filter_from);
        let mut info = tube(anode, kv, filter, det);
        info.basis.filter_from = filter_from;
        info.basis.anode_from = Some(anode_from);
        info.basis.kv_from = Some(kv_from);
        info.basis.kv_sigma = Some(sigma);
        info
    };
    let inferred = |c: Continuum| match c {
        Continuum::Ends { kev, sigma } => with(kev, Basis::DuaneHunt, sigma),
        Continuum::RunsPast { to_kev }
            if to_kev.ceil() > s.default_kv && to_kev.ceil() < s.max_kv =>
        {
            let lo = to_kev.ceil();
            with(
                0.5 * (lo + s.max_kv),
                Basis::Default,
                (s.max_kv - lo) / 12f64.sqrt(),
            )
        }
        Continuum::RunsPast { to_kev } => with(
            s.default_kv.max(to_kev.ceil()),
            Basis::Default,
            s.default_kv_sigma,
        ),
        Continuum::Absent => with(
            s.default_kv.max(end_kev.ceil()),
            Basis::Default,
            s.default_kv_sigma,
        ),
    };
    if let Some(kv) = stated_kv {
        check_stated_kv(kv, continuum(), &s, trace.as_ref())?;
        return Ok(with(kv, Basis::Stated, 0.0));
    }
    if let Some(top) = lines_seen {
        // the tube's lines seen: a monochromatised tube leaves nothing above them, not
        // even a continuum (the raw counts below may hold a strong line: Zr Kβ under
        // a Mo Kα taken for the tube's)
        if above_share(counts, cal, top).is_some_and(|r| r < s.mono_above_max_share)
            && !runs_on(trace.as_ref(), top, &s)
        {
            return Ok(mono(top, det));
        }
        return Ok(inferred(continuum()));
    }
    // No tube line seen and no kV stated: a continuum that ends cleanly is a tube's;
    // otherwise the highest strong peak is the scattered monochromatic beam — unless it
    // is the Kβ of an element whose Kα is a stronger peak (the spectrum then stops below
    // the scatter peaks, as a tube spectrum cut at its kV does), or the continuum runs
    // on above it (`runs_on`).
    let c = continuum();
    let tol = 0.12;
    let strongest = peaks.iter().map(|p| p.1).fold(0.0, f64::max);
    let e = peaks
        .iter()
        .filter(|p| p.1 > 0.02 * strongest)
        .map(|p| p.0)
        .fold(f64::NAN, f64::max);
    if let Continuum::Ends { kev, .. } = c {
        if !e.is_finite() || kev > e + 1.0 {
            return Ok(inferred(c));
        }
    }
    if !e.is_finite() {
        return Ok(inferred(c));
    }
    if is_k_beta_of_a_stronger_peak(e, peaks, tol) {
        if let Some(beam) = scatter_peak_above(e, peaks, tol)
            .filter(|&b| nothing_above(counts, cal, b) && !runs_on(trace.as_ref(), b, &s))
        {
            return Ok(mono(beam, det));
        }
        return Ok(inferred(c));
    }
    if runs_on(trace.as_ref(), e, &s) {
        return Ok(inferred(c));
    }
    Ok(mono(e, det))
}

/// A stated kV against the continuum: an error when the continuum ends well away from
/// it ([`ExcitationSettings::contradiction_share`] and
/// [`ExcitationSettings::contradiction_sigmas`]), or runs on 1–3 keV above it at more
/// than [`ExcitationSettings::above_max_share`] of its level 1–3 keV below.
fn check_stated_kv(
    kv: f64,
    c: Continuum,
    s: &ExcitationSettings,
    trace: Option<&Trace>,
) -> Result<()> {
    let contradiction = |what: String| Error::Invalid {
        what: "tube voltage",
        message: format!("{kv} kV stated, but {what}"),
    };
    if let Continuum::Ends { kev, sigma } = c {
        let gap = (kev - kv).abs();
        if gap > s.contradiction_share * kv && gap > s.contradiction_sigmas * sigma {
            return Err(contradiction(format!(
                "the continuum ends at {kev:.1} ± {sigma:.1} keV (Duane–Hunt limit)"
            )));
        }
    }
    if let Some(t) = trace {
        let end = *t.centre.last().unwrap_or(&0.0);
        if end > kv + 3.0 {
            if let (Some(above), Some(below)) =
                (t.mean(kv + 1.0, kv + 3.0), t.mean(kv - 3.0, kv - 1.0))
            {
                // below: at least ~25 counts per bin for the ratio to mean anything
                if below * s.bin_kev >= 25.0 && above > s.above_max_share * below {
                    return Err(contradiction(format!(
                        "the continuum runs on above it ({:.0} % of its level below {kv} keV \
                         at {:.0}–{:.0} keV)",
                        100.0 * above / below,
                        kv + 1.0,
                        kv + 3.0
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Mean counts 0.5–2.5 keV above `kev` over those 0.3–2 keV below it; none with less
/// than 1 keV of spectrum above.
fn above_share(counts: &[f64], cal: &Calibration, kev: f64) -> Option<f64> {
    let mean = |lo: f64, hi: f64| {
        let n = counts.len() as f64;
        let a = cal.channel(lo).round().clamp(0.0, n) as usize;
        let b = cal.channel(hi).round().clamp(0.0, n) as usize;
        (b > a).then(|| counts[a..b].iter().sum::<f64>() / (b - a) as f64)
    };
    let end = cal.energy_kev(counts.len() as f64 - 1.0);
    if end < kev + 1.0 {
        return None;
    }
    match (mean(kev + 0.5, kev + 2.5), mean(kev - 2.0, kev - 0.3)) {
        (Some(above), Some(below)) if below > 0.0 => Some(above / below),
        _ => None,
    }
}

/// A weak peak far above every strong fluorescence line that is not a pile-up sum of
/// two strong lines: the beam of a monochromatic source (synchrotron, secondary
/// target) scattered by the sample. Its Rayleigh peak is the highest such peak (the
/// Compton peak sits below it). PyMca's `Steel.spe` is such a spectrum: 16 keV beam,
/// its scatter peak at ~0.3 % of Fe Kα, no Mo K lines although the steel holds 2.3 %
/// Mo (the Mo K edge, 20.0 keV, is above the beam).
fn scatter_peak_above(highest_line: f64, peaks: &[(f64, f64)], tol: f64) -> Option<f64> {
    let strongest = peaks.iter().map(|p| p.1).fold(0.0, f64::max);
    let strong: Vec<f64> = peaks
        .iter()
        .filter(|p| p.1 > 0.05 * strongest)
        .map(|p| p.0)
        .collect();
    let is_sum = |e: f64| {
        strong
            .iter()
            .any(|a| strong.iter().any(|b| (a + b - e).abs() < 2.0 * tol))
    };
    peaks
        .iter()
        .filter(|p| p.0 > highest_line + 2.0 && p.1 > 1e-3 * strongest && !is_sum(p.0))
        .map(|p| p.0)
        .reduce(f64::max)
}

/// A monochromatic beam leaves (pile-up aside) nothing above its scatter peak, where a
/// tube's continuum goes on to its kV: the mean counts 0.5–2.5 keV above `beam_kev`
/// are under a fifth of those 0.3–2 keV below it (Steel.spe: ~5 against ~60). This
/// keeps a weak trace line above the strong ones (Sr Kα in an ore scanned at an
/// unknown kV) from being taken for the beam. With less than 1 keV of spectrum above
/// the peak there is nothing to compare, and the peak is accepted.
fn nothing_above(counts: &[f64], cal: &Calibration, beam_kev: f64) -> bool {
    above_share(counts, cal, beam_kev).is_none_or(|r| r < 0.2)
}

/// The peak-cleared continuum runs on above `beam_kev`: its mean level 0.5–2.5 keV
/// above is more than [`ExcitationSettings::mono_runs_on_share`] of its lowest level
/// 0.3–2 keV below. A tube's bremsstrahlung does (zircon under a W tube at 50 kV, read
/// without its kV: a weak pile-up peak at 19.6 keV sits on a continuum that goes on to
/// the spectrum's end); a monochromatic beam leaves only pile-up above its scatter peak.
/// The raw counts ([`nothing_above`], [`above_share`]) cannot tell these apart when a
/// strong line (Zr Kβ) and an absorption edge (Zr K, 18.0 keV) lie in the window below:
/// the lowest level below is the continuum beyond the edge.
fn runs_on(trace: Option<&Trace>, beam_kev: f64, s: &ExcitationSettings) -> bool {
    let Some(t) = trace else { return false };
    match (
        t.mean(beam_kev + 0.5, beam_kev + 2.5),
        t.least(beam_kev - 2.0, beam_kev - 0.3),
    ) {
        (Some(above), Some(below)) if below > 0.0 => above > s.mono_runs_on_share * below,
        _ => false,
    }
}

/// A peak at `e` sits on the Kβ1 of an element whose Kα1 is a stronger peak.
fn is_k_beta_of_a_stronger_peak(e: f64, peaks: &[(f64, f64)], tol: f64) -> bool {
    let area_at = |x: f64| {
        peaks
            .iter()
            .filter(|p| (p.0 - x).abs() < tol)
            .map(|p| p.1)
            .fold(0.0, f64::max)
    };
    let here = area_at(e);
    (11..=56).filter_map(element).any(|d| {
        let line = |label: &str| {
            d.lines
                .iter()
                .find(|l| l.label == label)
                .map(|l| l.energy_kev)
        };
        match (line("Ka1"), line("Kb1")) {
            (Some(ka), Some(kb)) => (kb - e).abs() < tol && area_at(ka) > 2.0 * here,
            _ => false,
        }
    })
}

/// What the scattered continuum says of the beam filter (see [`infer_filter`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FilterEvidence {
    /// The lowest share, over the bands below the reference, of the continuum that an
    /// unfiltered beam's scatter predicts there ([`ExcitationSettings::filter_none_share`]);
    /// none when no band has counts enough to tell.
    pub none_share: Option<f64>,
    /// The filter inferred, (element, µm): the thinnest candidate the bands do not
    /// refute, once the unfiltered beam is refuted; none otherwise.
    pub filter: Option<(String, f64)>,
}

/// Candidate beam filters, by element, thinnest first (µm). Copper, the common hard
/// filter, passes a window below its K edge (100 µm Cu: ~4 % at 8.5 keV, 10⁻⁸ at 10
/// keV); aluminium stands for the soft filters and, thick, for the stacks that close
/// that window (Cu + Ti + Al: 1 µm Cu attenuates as ~31 µm Al above 9 keV, where the
/// two fall alike with energy).
const FILTER_CANDIDATES: [(&str, &[f64]); 2] = [
    (
        "Al",
        &[
            25.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 700.0, 1000.0, 1250.0,
            1500.0, 1800.0, 2200.0, 2600.0, 3000.0, 3500.0, 4000.0, 4500.0, 5000.0, 6000.0, 8000.0,
        ],
    ),
    (
        "Cu",
        &[
            25.0, 35.0, 50.0, 60.0, 75.0, 90.0, 100.0, 110.0, 125.0, 150.0, 175.0, 200.0, 250.0,
            300.0,
        ],
    ),
];

/// The beam filter of a tube spectrum whose file does not state one, inferred from its
/// scattered continuum, the way an analyst reads it: a filter takes the primary beam's
/// continuum away below its cut-off (100 µm Cu leaves ~10⁻³ at 15 keV, 300 µm Al 2 % at
/// 8 keV) and passes most of it well above, where an unfiltered beam's scatter runs
/// down to a few keV.
///
/// The peak-cleared continuum (the trace of the Duane–Hunt fit) is taken in 1-keV
/// bands and compared with the tube's scatter for each candidate: the anode's
/// bremsstrahlung at `kv` through the filter, scattered by a silicate (coherent and
/// incoherent over total attenuation) and detected with `det`'s efficiency, scaled to
/// the measured continuum on the reference bands (the lowest scale over them, so that
/// a line left in one does not lift it). A band refutes a candidate when its continuum is
/// below a share of the candidate's prediction by more than counting noise. The
/// unfiltered beam is refuted only below [`ExcitationSettings::filter_none_share`], a
/// clear margin. Then, per element, the bands above its K edge bound the thickness from
/// below (the thinnest candidate not refuted at
/// [`ExcitationSettings::filter_refuted_share`]), and the estimate is, from that bound
/// on, the first candidate whose prediction the bands hold in the median (tails and
/// steps of the sample's lines only add to a band, so the estimate leans thin: 0.84 of
/// the attenuation on the independent corpus's filtered beam, in the median). Copper is
/// inferred when its window below the K edge is seen
/// ([`ExcitationSettings::filter_window_share`]), aluminium's equivalent otherwise.
/// `counts` on `cal`; `anode` and `kv` as resolved.
pub fn infer_filter(
    counts: &[f64],
    cal: &Calibration,
    anode: &str,
    kv: f64,
    det: DetectorEfficiency,
    s: &ExcitationSettings,
) -> FilterEvidence {
    match Trace::new(counts, cal, s) {
        Some(t) => infer_from_trace(&t, anode, kv, det, s),
        None => FilterEvidence {
            none_share: None,
            filter: None,
        },
    }
}

/// [`infer_filter`] on a traced continuum.
fn infer_from_trace(
    t: &Trace,
    anode: &str,
    kv: f64,
    det: DetectorEfficiency,
    s: &ExcitationSettings,
) -> FilterEvidence {
    let nothing = FilterEvidence {
        none_share: None,
        filter: None,
    };
    let (lo, hi) = crate::formats::LIMITS.xrf_tube_kv;
    if !(lo..=hi).contains(&kv) {
        return nothing;
    }
    let end = t.centre.last().copied().unwrap_or(0.0);
    let ref_lo = s.filter_ref_share.0 * kv;
    let ref_hi = (s.filter_ref_share.1 * kv)
        .min(s.filter_ref_max_kev)
        .min(end);
    if ref_hi < ref_lo + 2.0 || ref_lo < s.filter_from_kev + 2.0 {
        return nothing;
    }
    // 1-keV bands: centre, peak-cleared continuum (counts/keV, the median of its bins)
    let bands: Vec<(f64, f64)> = {
        let mut out = Vec::new();
        let mut e = s.filter_from_kev;
        while e + 1.0 <= ref_hi + 1e-9 {
            let mut v: Vec<f64> = t
                .centre
                .iter()
                .zip(&t.median)
                .filter(|(c, _)| (e..e + 1.0).contains(*c))
                .map(|(_, m)| *m)
                .collect();
            if !v.is_empty() {
                let mid = v.len() / 2;
                out.push((e + 0.5, *v.select_nth_unstable_by(mid, f64::total_cmp).1));
            }
            e += 1.0;
        }
        out
    };
    let open = open_beam_scatter(anode, kv, det, &bands);
    let is_ref = |e: f64| e >= ref_lo && e <= ref_hi;
    // a candidate's prediction against the bands centred in lo..hi keV (below the
    // reference): the lowest share of it the bands hold and the share where it is
    // highest, where told apart from counting noise, and whether a band refutes it at
    // `refute_below`
    struct Shares {
        lowest: Option<f64>,
        at_most: Option<f64>,
        refuted: bool,
        /// Median of ln(counts / prediction) over the bands told.
        median_log: Option<f64>,
    }
    let share = |transmission: &dyn Fn(f64) -> f64, refute_below: f64, lo: f64, hi: f64| {
        let mut out = Shares {
            lowest: None,
            at_most: None,
            refuted: false,
            median_log: None,
        };
        let mut logs = Vec::new();
        let model: Vec<f64> = bands
            .iter()
            .zip(&open)
            .map(|(&(e, _), &m)| m * transmission(e))
            .collect();
        let scale = bands
            .iter()
            .zip(&model)
            .filter(|((e, _), m)| is_ref(*e) && **m > 0.0)
            .map(|((_, d), m)| d / m)
            .reduce(f64::min);
        let Some(scale) = scale.filter(|a| *a > 0.0 && a.is_finite()) else {
            return out;
        };
        let mut most = 0.0;
        for (&(e, d), m) in bands.iter().zip(&model) {
            if e >= ref_lo.min(hi) || e < lo {
                continue;
            }
            let predicted = scale * m;
            if predicted <= 0.0 {
                continue;
            }
            // counts in the band (the trace is counts per keV, the bands 1 keV wide)
            // short of `limit` times the prediction by more than counting noise
            let significant =
                |limit: f64| predicted * limit - d > s.filter_sigmas * (predicted * limit).sqrt();
            // a share is told where the prediction's relative noise is ≤ 1/(2σ)
            if predicted >= (2.0 * s.filter_sigmas).powi(2) {
                let r = d / predicted;
                logs.push(r.max(1e-6).ln());
                out.lowest = Some(out.lowest.map_or(r, |l: f64| l.min(r)));
                if predicted > most {
                    most = predicted;
                    out.at_most = Some(r);
                }
            }
            out.refuted |= d < refute_below * predicted && significant(refute_below);
        }
        if !logs.is_empty() {
            let mid = logs.len() / 2;
            out.median_log = Some(*logs.select_nth_unstable_by(mid, f64::total_cmp).1);
        }
        out
    };
    let open_beam = share(&|_| 1.0, s.filter_none_share, 0.0, ref_lo);
    let none_share = open_beam.lowest;
    if !open_beam.refuted {
        return FilterEvidence {
            none_share,
            filter: None,
        };
    }
    // per element the thinnest candidate not refuted by the bands above the element's
    // K edge (below it a single foil passes a window that a stack of foils closes),
    // whether it is the thinnest of the list, and the share of its window's most
    // transmitting band the spectrum holds
    let lower_bound = |el: &str| -> Option<(&'static str, f64, bool, Option<f64>)> {
        let d = element_by_symbol(el)?;
        let list = FILTER_CANDIDATES.iter().find(|c| c.0 == el)?.1;
        let rho = crate::tables::xraydb().density(d.symbol).unwrap_or(2.7);
        let edge = d.levels[0].edge_kev;
        let judged: Vec<(f64, Shares)> = list
            .iter()
            .map(|&um| {
                let through = |e: f64| (-d.mu.total(e) * rho * um * 1e-4).exp();
                (
                    um,
                    share(&through, s.filter_refuted_share, edge + 0.5, ref_lo),
                )
            })
            .collect();
        let thinnest = judged.iter().position(|j| !j.1.refuted)?;
        // the estimate: from the lower bound on, the first candidate the bands hold as
        // much as it predicts (in the median), or the lower bound
        let um = judged[thinnest..]
            .iter()
            .find(|j| !j.1.refuted && j.1.median_log.is_some_and(|m| m >= 0.0))
            .map_or(judged[thinnest].0, |j| j.0);
        let through = |e: f64| (-d.mu.total(e) * rho * um * 1e-4).exp();
        let window = share(&through, 1.0, 0.0, edge - 0.4);
        Some((d.symbol, um, thinnest == 0, window.at_most))
    };
    // copper when harder than its thinnest candidate and its window below the K edge is
    // seen; aluminium (a soft filter, or a stack's equivalent) otherwise
    let filter = match (lower_bound("Cu"), lower_bound("Al")) {
        (Some(cu), _) if !cu.2 && cu.3.is_some_and(|w| w >= s.filter_window_share) => Some(cu),
        (_, Some(al)) => Some(al),
        (cu, None) => cu,
    }
    .map(|(el, um, ..)| (el.to_string(), um));
    FilterEvidence { none_share, filter }
}

/// The open beam's scatter at `bands`' centres (keV; the first element of each pair):
/// the anode's bremsstrahlung at `kv`, scattered by a silicate (coherent and incoherent
/// over total attenuation) and detected with `det`'s efficiency. The bands sit on a
/// fixed 1-keV grid, so an archive's scans from a few instruments share it: a
/// thread-local memo of the last few.
fn open_beam_scatter(
    anode: &str,
    kv: f64,
    det: DetectorEfficiency,
    bands: &[(f64, f64)],
) -> Vec<f64> {
    type Memo = Vec<((String, u64, DetectorEfficiency, Vec<u64>), Vec<f64>)>;
    thread_local! {
        static MEMO: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let key = (
        anode.to_string(),
        kv.to_bits(),
        det,
        bands.iter().map(|b| b.0.to_bits()).collect::<Vec<u64>>(),
    );
    if let Some(m) = MEMO.with_borrow(|memo| memo.iter().find(|m| m.0 == key).map(|m| m.1.clone()))
    {
        return m;
    }
    let tube = Tube {
        anode: anode.to_string(),
        ..Tube::rh(kv)
    }
    .spectrum(0.5);
    let primary = |e: f64| -> f64 {
        let c = &tube.continuum;
        let i = c.partition_point(|p| p.0 < e);
        match (i.checked_sub(1).and_then(|j| c.get(j)), c.get(i)) {
            (Some(a), Some(b)) => a.1 + (b.1 - a.1) * (e - a.0) / (b.0 - a.0),
            (None, Some(b)) => b.1,
            (Some(a), None) => a.1,
            (None, None) => 0.0,
        }
    };
    let silicate = silicate();
    let scatter = |e: f64| -> f64 {
        let (coh, inc) = super::physics::mu_scatter(&silicate, e);
        (coh + inc) / super::physics::mu_total(&silicate, e)
    };
    let open: Vec<f64> = bands
        .iter()
        .map(|&(e, _)| primary(e) * scatter(e) * det.efficiency(e))
        .collect();
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= 8 {
            memo.remove(0);
        }
        memo.push((key, open.clone()));
    });
    open
}

/// The scatterer the excitation's checks assume when the sample is not yet known:
/// silica (SiO2 by mass), the matrix of most cargo the tube model is judged on.
fn silicate() -> Vec<(&'static ElementData, f64)> {
    super::physics::mixture(&[("O".into(), 0.533), ("Si".into(), 0.467)])
}

/// An X-ray tube with `anode` at `kv` (Rh-type window and geometry).
fn tube(
    anode: &str,
    kv: f64,
    filter: Option<(String, f64)>,
    det: DetectorEfficiency,
) -> ExcitationInfo {
    let t = Tube {
        anode: anode.to_string(),
        filter,
        ..Tube::rh(kv)
    };
    tube_info(&t, det)
}

/// The beam filter a spectrum's metadata states, as the tube model takes it: one layer
/// (element, µm). A filter of several layers becomes its most attenuating layer's element
/// at the thickness that gives the whole filter's attenuation μ·ρ·t at half the tube
/// voltage, the middle of the band a filtered beam is used for: exact for one layer, an
/// approximation for several (the layers' absorption edges differ). None when the file
/// states no filter, or that there is none.
pub fn stated_filter(spectrum: &Spectrum, kv: f64) -> Option<(String, f64)> {
    let layers = spectrum.meta.beam_filter.as_ref()?;
    let e = (kv / 2.0).max(1.0);
    let att = |l: &crate::FilterLayer| -> Option<(&'static ElementData, f64)> {
        let d = element_by_symbol(&l.element)?;
        let rho = crate::tables::xraydb().density(d.symbol).unwrap_or(2.7);
        Some((d, d.mu.total(e) * rho * l.thickness_um * 1e-4))
    };
    let parts: Vec<(&ElementData, f64)> = layers.iter().filter_map(att).collect();
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let (main, main_att) = parts.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let rho = crate::tables::xraydb().density(main.symbol).unwrap_or(2.7);
    let per_um = main.mu.total(e) * rho * 1e-4;
    let um = if parts.len() == 1 || per_um <= 0.0 {
        layers
            .iter()
            .find(|l| element_by_symbol(&l.element).map(|d| d.symbol) == Some(main.symbol))
            .map_or(0.0, |l| l.thickness_um)
    } else {
        main_att.max(total) / per_um
    };
    (um > 0.0).then(|| (main.symbol.to_string(), um))
}

/// The excitation of a tube (its primary spectrum integrated over Elam
/// cross-sections), computed once per tube and detector: an archive's scans come from
/// a few instruments (a thread-local memo of the last few). Its basis says a tube with
/// this anode and kV, stated; callers set where each comes from.
pub(crate) fn tube_info(t: &Tube, det: DetectorEfficiency) -> ExcitationInfo {
    type Memo = Vec<(Tube, DetectorEfficiency, ExcitationInfo)>;
    thread_local! {
        static MEMO: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(Vec::new()) };
    }
    MEMO.with_borrow_mut(|memo| {
        if let Some(m) = memo.iter().find(|m| m.0 == *t && m.1 == det) {
            return m.2.clone();
        }
        let ex = t.spectrum(0.5);
        let info = ExcitationInfo {
            max_kev: ex.max_energy_kev(),
            setup: Setup::new(ex, det),
            kv: Some(t.kv),
            source: t.anode.clone(),
            filter: t.filter.clone(),
            basis: ExcitationBasis {
                probe: Probe::Tube,
                anode: element_by_symbol(&t.anode).map(|d| d.symbol),
                anode_from: Some(Basis::Stated),
                kv_from: Some(Basis::Stated),
                kv_sigma: Some(0.0),
                filter_from: t.filter.as_ref().map(|_| Basis::Stated),
                quantified: true,
                ..ExcitationBasis::default()
            },
            detector_stated: false,
        };
        if memo.len() >= 8 {
            memo.remove(0);
        }
        memo.push((t.clone(), det, info.clone()));
        info
    })
}

/// A monochromatic beam at `e` keV.
pub(crate) fn mono(e: f64, det: DetectorEfficiency) -> ExcitationInfo {
    ExcitationInfo {
        setup: Setup::new(Excitation::monochromatic(e), det),
        kv: None,
        max_kev: e,
        source: "mono".into(),
        filter: None,
        detector_stated: false,
        basis: ExcitationBasis {
            probe: Probe::Monochromatic,
            quantified: true,
            ..ExcitationBasis::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tube given whole (as a PyMca cfg describes it) is the excitation, whatever the
    /// spectrum shows: its anode and kV, and its beam filter — 1.1 mm Al leaves almost
    /// nothing of the primary continuum below 8 keV and passes most of it at 25 keV.
    #[test]
    fn a_tube_given_whole_sets_the_excitation_and_its_filter_hardens_it() {
        let cal = crate::Calibration {
            offset_kev: 0.0,
            gain_kev: 0.02,
            quad_kev: 0.0,
        };
        let s = Spectrum {
            // a continuum that ends at the tube's 30 kV (one above would contradict it)
            counts: (0..2048)
                .map(|c| if c < 1500 { 10.0 } else { 0.0 })
                .collect::<Vec<f64>>()
                .into(),
            axis: crate::spectrum::Axis::Energy(cal),
            meta: Default::default(),
        };
        let tube = |filter: Option<(String, f64)>| XrfOptions {
            tube: Some(Tube {
                anode: "Ag".into(),
                kv: 30.0,
                window_be_um: 125.0,
                takeoff_deg: 20.0,
                filter,
            }),
            ..XrfOptions::default()
        };
        let photons_near = |info: &ExcitationInfo, e: f64| -> f64 {
            info.setup
                .excitation
                .continuum
                .iter()
                .filter(|p| (p.0 - e).abs() < 1.0)
                .map(|p| p.1)
                .sum()
        };
        let open = resolve_excitation(&s, &tube(None), &cal, &[]).unwrap();
        let filtered =
            resolve_excitation(&s, &tube(Some(("Al".into(), 1100.0))), &cal, &[]).unwrap();
        for info in [&open, &filtered] {
            assert_eq!(info.kv, Some(30.0));
            assert_eq!(info.source, "Ag");
            assert!((info.max_kev - 30.0).abs() < 0.5, "{}", info.max_kev);
        }
        let soft = photons_near(&filtered, 6.0) / photons_near(&open, 6.0);
        let hard = photons_near(&filtered, 25.0) / photons_near(&open, 25.0);
        assert!(soft < 1e-6, "6 keV transmission {soft}");
        assert!(hard > 0.4 && hard < 0.9, "25 keV transmission {hard}");
    }

    /// No tube line, Fe Kβ the highest strong peak and a weak peak at 15.0 keV above it:
    /// the scattered beam of a monochromatic source when nothing comes after it, a trace
    /// line (Y Kα, 14.96 keV) on a tube's continuum when the counts go on.
    #[test]
    fn a_weak_peak_above_the_lines_is_the_beam_only_when_nothing_follows_it() {
        let cal = crate::Calibration {
            offset_kev: 0.0,
            gain_kev: 0.01,
            quad_kev: 0.0,
        };
        let peaks = [(6.40, 1.0e6), (7.06, 2.0e5), (15.0, 2.0e3)];
        let spectrum = |above: f64| Spectrum {
            counts: (0..3000)
                .map(|c| if c as f64 * 0.01 > 15.3 { above } else { 60.0 })
                .collect::<Vec<f64>>()
                .into(),
            axis: crate::spectrum::Axis::Energy(cal),
            meta: Default::default(),
        };
        let mono =
            resolve_excitation(&spectrum(4.0), &XrfOptions::default(), &cal, &peaks).unwrap();
        assert_eq!(mono.source, "mono");
        assert!((mono.max_kev - 15.0).abs() < 1e-9, "{}", mono.max_kev);
        let tube =
            resolve_excitation(&spectrum(55.0), &XrfOptions::default(), &cal, &peaks).unwrap();
        // the continuum runs to the spectrum's end (30 keV): the default kV, at least 30
        assert_eq!(
            tube.basis.kv_from,
            Some(Basis::Default),
            "{}",
            tube.describe()
        );
        assert_eq!(tube.kv, Some(40.0), "{}", tube.describe());
    }

    /// Zircon under a tube read without its kV: a strong Zr Kβ line (17.67 keV) and the
    /// Zr K edge (18.0 keV, the scattered continuum a twentieth as high beyond it) below a
    /// weak peak at 19.61 keV, the continuum going on to the spectrum's end. The raw
    /// counts take the peak for a monochromatic beam (nothing above it against Zr Kβ
    /// below); the peak-cleared continuum runs on. A beam with only a pile-up floor
    /// above it does not.
    #[test]
    fn a_continuum_beyond_an_edge_runs_on_above_a_weak_peak() {
        let cal = Calibration {
            offset_kev: 0.0,
            gain_kev: 0.01,
            quad_kev: 0.0,
        };
        let s = ExcitationSettings::default();
        let spectrum = |beyond: f64| -> Vec<f64> {
            (0..4000)
                .map(|c| {
                    let e = c as f64 * 0.01;
                    if (17.6..17.75).contains(&e) {
                        20_000.0
                    } else if e < 18.0 {
                        2_000.0
                    } else if e < 20.0 {
                        100.0
                    } else {
                        beyond
                    }
                })
                .collect()
        };
        let tube = spectrum(100.0);
        assert!(nothing_above(&tube, &cal, 19.61));
        let t = Trace::new(&tube, &cal, &s).unwrap();
        assert!(runs_on(Some(&t), 19.61, &s));
        let beam = spectrum(2.0);
        let t = Trace::new(&beam, &cal, &s).unwrap();
        assert!(!runs_on(Some(&t), 19.61, &s));
    }

    /// A continuum of Kramers' shape, k (E₀ − E)/E up to E₀ = 30 keV, on 10-eV channels
    /// to 40 keV, with a flat pile-up floor of 0.2 % of its level at 10 keV above E₀:
    /// the Duane–Hunt fit finds 30 keV; cut at 25 keV (a spectrum that stops short) the
    /// continuum runs past; with its level divided by 6 above 18 keV (a zirconium sample's
    /// K edge, Zr Kα and Kβ strong peaks) the step is no end point.
    #[test]
    fn duane_hunt_finds_the_end_of_a_kramers_continuum_and_not_an_edge() {
        let cal = Calibration {
            offset_kev: 0.0,
            gain_kev: 0.01,
            quad_kev: 0.0,
        };
        let e0 = 30.0;
        let kramers = |e: f64| if e < e0 { 400.0 * (e0 - e) / e } else { 0.0 };
        let floor = 0.002 * kramers(10.0);
        let counts: Vec<f64> = (0..4000)
            .map(|c| {
                let e = cal.energy_kev(c as f64).max(0.5);
                kramers(e) + floor
            })
            .collect();
        let s = ExcitationSettings::default();
        match duane_hunt(&counts, &cal, &[], &s) {
            Continuum::Ends { kev, sigma } => {
                assert!((kev - e0).abs() < 0.5, "{kev} ± {sigma}");
                assert!(sigma < 0.5, "{sigma}");
            }
            other => panic!("{other:?}"),
        }
        let short = &counts[..2500];
        assert!(matches!(
            duane_hunt(short, &cal, &[], &s),
            Continuum::RunsPast { .. }
        ));
        let zr = element_by_symbol("Zr").unwrap();
        let line = |l: &str| zr.lines.iter().find(|x| x.label == l).unwrap().energy_kev;
        let edge = zr.levels[0].edge_kev;
        let stepped: Vec<f64> = counts
            .iter()
            .enumerate()
            .map(|(c, &y)| {
                if cal.energy_kev(c as f64) > edge {
                    y / 6.0
                } else {
                    y
                }
            })
            .collect();
        let peaks = [(line("Ka1"), 1.0e6), (line("Kb1"), 1.5e5)];
        let c = duane_hunt(&stepped, &cal, &peaks, &s);
        assert!(
            !matches!(c, Continuum::Ends { kev, .. } if kev < 25.0),
            "{c:?}"
        );
    }

    /// The energy (keV) of `sym`'s line `label` ("Ka1", "Lb1").
    fn line(sym: &str, label: &str) -> f64 {
        element_by_symbol(sym)
            .unwrap()
            .lines
            .iter()
            .find(|x| x.label == label)
            .unwrap()
            .energy_kev
    }

    /// Scattered tube lines name the anode: Ag Kα/Kβ with the Compton peak of Kα are an Ag
    /// tube, not Rh (nor Pd); W Lα/Lβ1/Lγ1 a W tube; a Cu sample's Kα/Kβ (no Compton
    /// companion) lose to the Rh tube's confirmed lines.
    #[test]
    fn anodes_are_recognised_by_their_scattered_lines() {
        let s = ExcitationSettings::default();
        let ag = [
            (6.40, 1.0e6),
            (compton_energy(line("Ag", "Ka1"), 110.0), 3.0e4),
            (line("Ag", "Ka1"), 2.0e4),
            (line("Ag", "Kb1"), 4.0e3),
        ];
        assert_eq!(recognise_anode(&ag, &s).map(|a| a.symbol), Some("Ag"));
        let w = [
            (6.40, 1.0e6),
            (line("W", "La1"), 5.0e4),
            (line("W", "Lb1"), 3.0e4),
            (line("W", "Lg1"), 5.0e3),
        ];
        assert_eq!(recognise_anode(&w, &s).map(|a| a.symbol), Some("W"));
        let cu_under_rh = [
            (line("Cu", "Ka1"), 6.0e6),
            (line("Cu", "Kb1"), 8.5e5),
            (compton_energy(line("Rh", "Ka1"), 120.0), 300.0),
            (line("Rh", "Ka1"), 2.8e3),
            (line("Rh", "Kb1"), 4.4e2),
        ];
        assert_eq!(
            recognise_anode(&cu_under_rh, &s).map(|a| a.symbol),
            Some("Rh")
        );
        assert_eq!(recognise_anode(&[(6.40, 1.0e6), (7.06, 1.5e5)], &s), None);
    }

    /// A W tube on a zirconia (the corpus's zirconia-0070.mca, its peak list above 7
    /// keV): Zr Kβ (17.63) with Y Kβ below it and a pile-up sum at 19.7 looks like Mo Kα,
    /// Compton and Kβ1, but a Kβ1 at 0.14 % of the "Kα1" is no tube's; the W L lines
    /// under the Zr K lines are the only anode seen. A tungsten ore under a Rh tube
    /// shows W L too, and the Rh K scatter wins.
    #[test]
    fn a_w_tube_under_the_samples_k_lines_is_recognised() {
        let s = ExcitationSettings::default();
        let zirconia_under_w = [
            (7.372, 4611.0),
            (7.878, 159364.0),
            (8.376, 117204.0),
            (9.002, 56179.0),
            (9.328, 25383.0),
            (9.651, 71878.0),
            (9.962, 16707.0),
            (10.497, 14157.0),
            (11.262, 17059.0),
            (14.909, 303671.0),
            (15.721, 4519186.0),
            (16.703, 49128.0),
            (17.631, 698492.0),
            (19.694, 1006.0),
            (30.635, 11668.0),
            (31.448, 85359.0),
        ];
        assert_eq!(
            recognise_anode(&zirconia_under_w, &s).map(|a| a.symbol),
            Some("W")
        );
        let tungsten_ore_under_rh = [
            (line("W", "La1"), 5.0e5),
            (line("W", "Lb1"), 3.0e5),
            (line("W", "Lg1"), 5.0e4),
            (line("Fe", "Ka1"), 8.0e5),
            (compton_energy(line("Rh", "Ka1"), 120.0), 4.0e3),
            (line("Rh", "Ka1"), 2.0e4),
            (line("Rh", "Kb1"), 3.5e3),
        ];
        assert_eq!(
            recognise_anode(&tungsten_ore_under_rh, &s).map(|a| a.symbol),
            Some("Rh")
        );
    }

    /// An Ag tube near its K edge's overvoltage (35–40 kV) scatters a Kβ1 too weak to be
    /// a peak: Kα1 with its Compton companion, and only pile-up sums above, still name
    /// it (the independent corpus's portable unit: Kα1 Rayleigh 370 counts, Compton 198,
    /// no Kβ1 peak). A Y-stabilised zirconia's Y Kβ and Zr Kβ, a Compton-like distance
    /// apart, are not a Mo tube: the Ag tube's scatter lies above them.
    #[test]
    fn a_confirmed_k_anode_may_lack_its_kbeta_peak() {
        let s = ExcitationSettings::default();
        let ka = |sym: &str| line(sym, "Ka1");
        let fe = 6.40;
        let ag_without_kb = [
            (fe, 1.0e5),
            (compton_energy(ka("Ag"), 100.0), 198.0),
            (ka("Ag"), 370.0),
            (2.0 * fe, 900.0),
        ];
        assert_eq!(
            recognise_anode(&ag_without_kb, &s).map(|a| a.symbol),
            Some("Ag")
        );
        // without the Compton companion it is an Ag fluorescence line, not the tube
        assert_eq!(recognise_anode(&ag_without_kb[..1], &s), None);
        assert_eq!(recognise_anode(&[(fe, 1.0e5), (ka("Ag"), 370.0)], &s), None);
        // the peaks above 12 keV of the corpus's zirconia-0071.mca (3Y-TZP, Ag tube,
        // portable): Y Kβ 16.73 and Zr Kβ 17.65 would make a "Mo Kα" with its "Compton"
        // and no Kβ1, but Ag scatter and sums lie above
        let zirconia_under_ag = [
            (14.93, 54633.0),
            (15.74, 846585.0),
            (16.73, 8668.0),
            (17.65, 134813.0),
            (18.71, 133.0),
            (22.13, 578.0),
            (22.76, 145.0),
            (23.63, 705.0),
            (24.81, 496.0),
            (30.64, 2892.0),
            (31.47, 25061.0),
            (32.52, 836.0),
            (33.39, 6897.0),
            (35.31, 518.0),
            (37.92, 45.0),
        ];
        assert_ne!(
            recognise_anode(&zirconia_under_ag, &s).map(|a| a.symbol),
            Some("Mo")
        );
        // the peaks above 14 keV of the corpus's zircon-0211.mca (zircon sand, Ag tube at
        // 35 kV, portable): the Kβ's Compton (23.57) and a Rayleigh peak placed 0.24 keV
        // low (24.70) lie above Kα1; they are the tube's own, not a line above it
        let zircon_under_ag = [
            (14.91, 3050.0),
            (15.73, 728578.0),
            (16.73, 506.0),
            (17.64, 119633.0),
            (18.74, 158.0),
            (21.31, 158.0),
            (22.01, 385.0),
            (22.67, 1383.0),
            (23.57, 201.0),
            (24.70, 319.0),
            (31.46, 8238.0),
            (33.37, 2570.0),
            (35.28, 180.0),
        ];
        assert_eq!(
            recognise_anode(&zircon_under_ag, &s).map(|a| a.symbol),
            Some("Ag")
        );
    }
}
