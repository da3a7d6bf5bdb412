//! Fundamental-parameters (FP) model of a thick, homogeneous sample: primary and
//! secondary fluorescence, Rayleigh and Compton scatter, and the inverse problem
//! (mass fractions from line areas, normalised to 100 % with the unseen light matrix
//! taken as oxygen bound by stoichiometry).
//!
//! Primary fluorescence of line *l* of element *i* (J. Sherman, Spectrochim. Acta 7
//! (1955) 283):
//!
//! `P_il = C_i Σ_E N(E) τ_i,s(E) ω_s p_l ε(E_l) / (µ(E)/sinψ₁ + µ(E_l)/sinψ₂)`
//!
//! with `τ_i,s` the photo-ionisation of the line's initial level *s*
//! ([`ElementData::vacancies`]), N(E) the tube spectrum, ε the detector efficiency.
//! Secondary fluorescence by line *m* of element *j* (T. Shiraiwa & N. Fujino, Jpn. J.
//! Appl. Phys. 5 (1966) 886; D.K.G. de Boer, X-Ray Spectrom. 19 (1990) 145):
//!
//! `S_ilm = ½ C_i Σ_E N(E) C_j τ_j(E) ω_m p_m τ_i,s(E_m) ω_s p_l ε(E_l) L / (µ(E)/sinψ₁ + µ(E_l)/sinψ₂)`,
//! `L = (sinψ₁/µ(E)) ln(1 + µ(E)/(µ(E_m) sinψ₁)) + (sinψ₂/µ(E_l)) ln(1 + µ(E_l)/(µ(E_m) sinψ₂))`.
//!
//! The instrument constant (flux × solid angle × time) is unknown; it cancels in the
//! normalisation to 100 %.

use super::physics::{
    compton_energy, element_by_symbol, mixture, mu_total, DetectorEfficiency, ElementData,
    Excitation, Family, Mixture, AIR_DENSITY,
};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Measurement geometry and detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Primary spectrum.
    pub excitation: Excitation,
    /// Incidence angle to the surface, degrees.
    pub psi_in_deg: f64,
    /// Take-off angle to the surface, degrees.
    pub psi_out_deg: f64,
    /// Scattering angle, degrees (180 − ψ₁ − ψ₂ for a reflection geometry).
    pub scatter_deg: f64,
    /// Detector efficiency.
    pub detector: DetectorEfficiency,
}

impl Setup {
    /// A reflection geometry with ψ₁ = ψ₂ = 45° (scatter angle 90°).
    pub fn new(excitation: Excitation, detector: DetectorEfficiency) -> Self {
        Self {
            excitation,
            psi_in_deg: 45.0,
            psi_out_deg: 45.0,
            scatter_deg: 90.0,
            detector,
        }
    }
}

/// Detected intensities (per unit instrument constant) of every line of one element.
#[derive(Debug, Clone)]
pub struct ElementIntensity {
    /// The element.
    pub element: &'static ElementData,
    /// Mass fraction used.
    pub mass_fraction: f64,
    /// Per line of `element.lines`: detected intensity (primary + secondary).
    pub lines: Vec<f64>,
    /// Per line: the secondary part alone.
    pub secondary: Vec<f64>,
}

impl ElementIntensity {
    /// Sum over the lines of one family.
    pub fn family_total(&self, family: Family) -> f64 {
        self.element
            .lines
            .iter()
            .zip(&self.lines)
            .filter(|(l, _)| l.family() == family)
            .map(|(_, i)| i)
            .sum()
    }

    /// (energy, intensity) of the lines of a family.
    pub fn family_lines(&self, family: Family) -> Vec<(f64, f64)> {
        self.element
            .lines
            .iter()
            .zip(&self.lines)
            .filter(|(l, i)| l.family() == family && **i > 0.0)
            .map(|(l, i)| (l.energy_kev, *i))
            .collect()
    }
}

/// Strong lines of major elements that can excite other elements (enhancers).
struct Enhancer {
    j: usize,
    line: usize,
    energy_kev: f64,
    mu_line: f64,
}

/// Fluorescence of every element of `mix` (thick sample).
/// `secondary` adds the enhancement by lines of elements above 0.5 wt %.
pub fn fluorescence(setup: &Setup, mix: &Mixture, secondary: bool) -> Vec<ElementIntensity> {
    fluorescence_of(setup, mix, secondary, |_, _| true)
}

/// [`fluorescence`], taking the vacancy cross-sections at the excitation points from
/// `cache`, which must serve this same `setup` only (see [`PrimaryCache`]).
pub fn fluorescence_cached(
    setup: &Setup,
    mix: &Mixture,
    secondary: bool,
    cache: &mut PrimaryCache,
) -> Vec<ElementIntensity> {
    fluorescence_with(setup, mix, secondary, |_, _| true, cache)
}

/// [`fluorescence`] of only the families `wanted(element index in mix, family)`; the
/// other lines are left at zero (every major element still enhances the wanted ones).
pub fn fluorescence_of(
    setup: &Setup,
    mix: &Mixture,
    secondary: bool,
    wanted: impl Fn(usize, Family) -> bool,
) -> Vec<ElementIntensity> {
    fluorescence_with(setup, mix, secondary, wanted, &mut PrimaryCache::default())
}

/// [`fluorescence_of`] with the vacancy cross-sections at the excitation points taken
/// from `cache` (filled for this `setup` only).
fn fluorescence_with(
    setup: &Setup,
    mix: &Mixture,
    secondary: bool,
    wanted: impl Fn(usize, Family) -> bool,
    cache: &mut PrimaryCache,
) -> Vec<ElementIntensity> {
    let s1 = setup.psi_in_deg.to_radians().sin();
    let s2 = setup.psi_out_deg.to_radians().sin();
    let mut out: Vec<ElementIntensity> = mix
        .iter()
        .map(|(d, w)| ElementIntensity {
            element: d,
            mass_fraction: *w,
            lines: vec![0.0; d.lines.len()],
            secondary: vec![0.0; d.lines.len()],
        })
        .collect();
    let want: Vec<Vec<bool>> = mix
        .iter()
        .enumerate()
        .map(|(i, (d, _))| d.lines.iter().map(|l| wanted(i, l.family())).collect())
        .collect();
    // µ and efficiency at every wanted line energy, once
    let mu_lines: Vec<Vec<f64>> = mix
        .iter()
        .zip(&want)
        .map(|((d, _), w)| {
            d.lines
                .iter()
                .zip(w)
                .map(|(l, &w)| if w { mu_total(mix, l.energy_kev) } else { 0.0 })
                .collect()
        })
        .collect();
    let eff: Vec<Vec<f64>> = mix
        .iter()
        .zip(&want)
        .map(|((d, _), w)| {
            d.lines
                .iter()
                .zip(w)
                .map(|(l, &w)| {
                    if w {
                        setup.detector.efficiency(l.energy_kev)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    // per element, the indices of its wanted lines
    let wanted_lines: Vec<Vec<usize>> = want
        .iter()
        .map(|w| (0..w.len()).filter(|&k| w[k]).collect())
        .collect();
    let enhancers: Vec<Enhancer> = if secondary {
        mix.iter()
            .enumerate()
            .filter(|(_, (_, w))| *w > 0.005)
            .flat_map(|(j, (d, _))| {
                d.lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.fraction > 0.05 && l.energy_kev > 1.0)
                    .map(move |(m, l)| (j, m, l.energy_kev))
            })
            .map(|(j, m, e)| Enhancer {
                j,
                line: m,
                energy_kev: e,
                mu_line: mu_total(mix, e),
            })
            .collect()
    } else {
        Vec::new()
    };
    // vacancy cross-sections of each target element at each enhancer line, once
    let target_vac: Vec<Vec<[f64; 9]>> = mix
        .iter()
        .map(|(d, _)| {
            enhancers
                .iter()
                .map(|h| d.vacancies(h.energy_kev))
                .collect()
        })
        .collect();
    // The path integral L splits into a term of (E, enhancer) and one of (line,
    // enhancer): L = (sinψ₁/µ(E))·A(E,h) + (sinψ₂/µ(E_l))·B(l,h), so the logarithms are
    // taken once per excitation energy and once per line, not per (E, line, enhancer).
    // Per target level: the enhancers that can ionise it, with ½τ_t(E_h); per line,
    // the same list weighted with B(l,h).
    let level_terms: Vec<Vec<Vec<(usize, f64)>>> = mix
        .iter()
        .enumerate()
        .map(|(i, (d, _))| {
            (0..9)
                .map(|lv| {
                    enhancers
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| h.j != i && h.energy_kev > d.levels[lv].edge_kev)
                        .map(|(k, _)| (k, 0.5 * target_vac[i][k][lv]))
                        .filter(|t| t.1 > 0.0)
                        .collect()
                })
                .collect()
        })
        .collect();
    let secondary_of = |i: usize, k: usize| {
        let l = &mix[i].0.lines[k];
        want[i][k] && l.fraction >= 0.01 && !level_terms[i][l.level].is_empty()
    };
    let line_terms: Vec<Vec<Vec<f64>>> = mu_lines
        .iter()
        .enumerate()
        .map(|(i, per_line)| {
            per_line
                .iter()
                .enumerate()
                .map(|(k, &mu_l)| {
                    if !secondary_of(i, k) {
                        return Vec::new();
                    }
                    let lv = mix[i].0.lines[k].level;
                    level_terms[i][lv]
                        .iter()
                        .map(|&(h, c)| c * (1.0 + mu_l / (enhancers[h].mu_line * s2)).ln())
                        .collect()
                })
                .collect()
        })
        .collect();
    // vacancies are needed only for wanted lines and enhancer sources
    let needs_vacancies: Vec<bool> = (0..mix.len())
        .map(|i| !wanted_lines[i].is_empty() || enhancers.iter().any(|h| h.j == i))
        .collect();
    let mut emit = vec![0.0; enhancers.len()];
    let mut emit_log_in = vec![0.0; enhancers.len()];
    let mut vac: Vec<[f64; 9]> = vec![[0.0; 9]; mix.len()];
    // the excitation points with photons, and the vacancies there of the elements that
    // need them
    let points = cache.points(setup);
    let vac_at_points: Vec<Option<Arc<[[f64; 9]]>>> = mix
        .iter()
        .zip(&needs_vacancies)
        .map(|((d, _), &used)| used.then(|| cache.vacancies(d, &points)))
        .collect();
    for (p, &(e, n)) in points.iter().enumerate() {
        let mu_e = mu_total(mix, e);
        if mu_e <= 0.0 {
            continue;
        }
        for (v, at_points) in vac.iter_mut().zip(&vac_at_points) {
            if let Some(a) = at_points {
                *v = a[p];
            }
        }
        // enhancer line emission at this E (per unit flux), and × A(E, h)
        for (k, h) in enhancers.iter().enumerate() {
            let (d, w) = mix[h.j];
            let l = &d.lines[h.line];
            emit[k] = w * vac[h.j][l.level] * d.levels[l.level].yield_ * l.fraction;
            emit_log_in[k] = emit[k] * (1.0 + mu_e / (h.mu_line * s1)).ln();
        }
        for (i, (d, w)) in mix.iter().enumerate() {
            let v = &vac[i];
            let mut sec_in_level = [f64::NAN; 9];
            for &k in &wanted_lines[i] {
                let l = &d.lines[k];
                let mu_l = mu_lines[i][k];
                let denom = mu_e / s1 + mu_l / s2;
                let yield_p = d.levels[l.level].yield_ * l.fraction * eff[i][k];
                let prim = n * w * v[l.level] * yield_p / denom;
                out[i].lines[k] += prim;
                let terms = &line_terms[i][k];
                if terms.is_empty() {
                    continue;
                }
                let lt = &level_terms[i][l.level];
                let sec_in = &mut sec_in_level[l.level];
                if sec_in.is_nan() {
                    *sec_in = lt.iter().map(|&(h, c)| c * emit_log_in[h]).sum();
                }
                let sec_out: f64 = lt.iter().zip(terms).map(|(&(h, _), b)| b * emit[h]).sum();
                let sec = (s1 / mu_e) * *sec_in + (s2 / mu_l) * sec_out;
                let s = n * w * sec * yield_p / denom;
                out[i].lines[k] += s;
                out[i].secondary[k] += s;
            }
        }
    }
    out
}

/// Scatter of one primary line by the sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScatterPeak {
    /// Primary (Rayleigh) energy, keV.
    pub energy_kev: f64,
    /// Rayleigh intensity (per unit instrument constant).
    pub rayleigh: f64,
    /// Compton peak energy at the setup's scatter angle, keV.
    pub compton_kev: f64,
    /// Compton intensity.
    pub compton: f64,
}

/// Thomson/Klein–Nishina differential cross-sections with the Waasmaier–Kirfel form
/// factor (coherent) and the incoherent scattering function approximated by
/// Z·(1 − f0(q)²/Z²)... as S(q) ≈ Z − f0(q)²/Z (J.H. Hubbell et al., J. Phys. Chem.
/// Ref. Data 4 (1975) 471, the high-q limit). Returns (coherent, incoherent) 4π·dσ/dΩ
/// in cm²/g, on the same scale as the photo-absorption τ used for fluorescence (which
/// is emitted isotropically, τ/4π per sr).
pub fn scatter_cross_sections(mix: &Mixture, e_kev: f64, theta_deg: f64) -> (f64, f64) {
    let db = crate::tables::xraydb();
    let th = theta_deg.to_radians();
    let lambda_a = crate::spectrum::HC_KEV_A / e_kev;
    let q = (th / 2.0).sin() / lambda_a;
    let polar = (1.0 + th.cos().powi(2)) / 2.0;
    let e1 = compton_energy(e_kev, theta_deg);
    let r = e1 / e_kev;
    let kn = 0.5 * r * r * (r + 1.0 / r - th.sin().powi(2));
    let (mut coh, mut inc) = (0.0, 0.0);
    for (d, w) in mix {
        let z = d.z as f64;
        let f0 = db.f0_at(d.symbol, q).unwrap_or(0.0).clamp(0.0, z);
        let s = (z - f0 * f0 / z).max(0.0);
        // r_e² N_A 4π = 7.9407e-26 cm² × 6.02214e23 mol⁻¹ × 4π
        let per_gram = 0.600_93 * w / d.molar_mass;
        coh += per_gram * f0 * f0 * polar;
        inc += per_gram * s * kn;
    }
    (coh, inc)
}

/// Rayleigh and Compton intensities of the anode lines (and any line of `excitation`).
pub fn scatter(setup: &Setup, mix: &Mixture) -> Vec<ScatterPeak> {
    let s1 = setup.psi_in_deg.to_radians().sin();
    let s2 = setup.psi_out_deg.to_radians().sin();
    setup
        .excitation
        .lines
        .iter()
        .map(|&(e, n)| {
            let ec = compton_energy(e, setup.scatter_deg);
            let (coh, inc) = scatter_cross_sections(mix, e, setup.scatter_deg);
            let mu_e = mu_total(mix, e);
            let mu_c = mu_total(mix, ec);
            ScatterPeak {
                energy_kev: e,
                rayleigh: n * coh * setup.detector.efficiency(e) / (mu_e / s1 + mu_e / s2),
                compton_kev: ec,
                compton: n * inc * setup.detector.efficiency(ec) / (mu_e / s1 + mu_c / s2),
            }
        })
        .collect()
}

/// Ar mass fraction of dry air.
pub const AIR_AR: f64 = 0.012_8;

/// The Ar K lines of the air in front of the sample: (energy, intensity per mm of air
/// on the beam's path, per unit instrument constant). A thin layer of mass thickness
/// ρ·t excited by the beam gives Σ_E N(E) τ_K(E) ω_K p_l ε(E_l) · w_Ar ρ t, with
/// t = 1 mm · sin ψ₁ its thickness normal to the sample — in the units of the sample's
/// lines, whose thick-target formula carries the same factor sin ψ₁.
pub fn air_argon_lines(setup: &Setup) -> Vec<(f64, f64)> {
    let Some(ar) = element_by_symbol("Ar") else {
        return Vec::new();
    };
    let excite: f64 = setup
        .excitation
        .points()
        .map(|&(e, n)| n * ar.vacancies(e)[0])
        .sum();
    let s1 = setup.psi_in_deg.to_radians().sin();
    let per_mm = excite * AIR_AR * AIR_DENSITY * 0.1 * s1;
    ar.lines
        .iter()
        .filter(|l| l.family() == Family::K)
        .map(|l| {
            let f = ar.levels[l.level].yield_ * l.fraction;
            (
                l.energy_kev,
                per_mm * f * setup.detector.efficiency(l.energy_kev),
            )
        })
        .collect()
}

/// The oxide an element is assumed to be bound in when the light matrix is unseen:
/// oxygen atoms per atom of the element (0 for metals / halogens / noble gases).
pub fn oxygen_per_atom(symbol: &str) -> f64 {
    match symbol {
        "Na" | "K" | "Rb" | "Cs" | "Cu" | "Ag" | "Tl" => 0.5,
        "Mg" | "Ca" | "Sr" | "Ba" | "Mn" | "Co" | "Ni" | "Zn" | "Cd" | "Pb" | "Eu" => 1.0,
        "Al" | "Sc" | "Cr" | "Fe" | "Ga" | "Y" | "In" | "La" | "Nd" | "Sm" | "Gd" | "Dy" | "Ho"
        | "Er" | "Tm" | "Yb" | "Lu" | "Bi" | "As" | "Sb" | "B" => 1.5,
        "Pr" => 11.0 / 6.0,
        "Tb" => 7.0 / 4.0,
        "Si" | "Ti" | "Ge" | "Zr" | "Sn" | "Hf" | "Ce" | "Th" | "U" | "Se" | "Te" => 2.0,
        "P" | "V" | "Nb" | "Ta" => 2.5,
        "S" | "Mo" | "W" => 3.0,
        _ => 0.0,
    }
}

/// How the unseen light matrix is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MatrixModel {
    /// Elements bound as oxides; O by stoichiometry (geological / ceramic samples).
    Oxides,
    /// Metals and alloys: no unseen matrix.
    Metal,
}

/// One measured element for quantification.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Symbol.
    pub symbol: String,
    /// Family whose area is used.
    pub family: Family,
    /// Net area, counts.
    pub area: f64,
    /// 1σ of the area, counts.
    pub sigma: f64,
}

/// Result of the FP inversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantified {
    /// (symbol, mass fraction 0..1, 1σ) for the measured elements.
    pub elements: Vec<(String, f64, f64)>,
    /// Oxygen (or other unseen matrix) mass fraction.
    pub unseen_fraction: f64,
    /// Counts per unit mass fraction per unit theoretical intensity (instrument constant).
    pub instrument_constant: f64,
    /// Final mixture (including O).
    pub mixture: Vec<(String, f64)>,
    /// Theoretical intensity per unit mass fraction of each measured element's family,
    /// in the final matrix (for detection limits: counts = G·C·sens).
    pub sensitivity: Vec<f64>,
}

/// Invert areas to mass fractions by FP iteration (direct substitution, normalised to
/// 100 %, J.W. Criss & L.S. Birks, Anal. Chem. 40 (1968) 1080).
pub fn quantify(
    setup: &Setup,
    measured: &[Measured],
    model: MatrixModel,
    iterations: usize,
) -> Quantified {
    quantify_with(setup, measured, model, iterations, true)
}

/// [`quantify`], with secondary fluorescence in the second half of the iterations or,
/// `with_secondary` false, primary only (a quick estimate: elements enhanced by the
/// matrix — Cr by Fe, the light rare earths' L lines by Fe K — come out high).
pub fn quantify_with(
    setup: &Setup,
    measured: &[Measured],
    model: MatrixModel,
    iterations: usize,
    with_secondary: bool,
) -> Quantified {
    let mut cache = PrimaryCache::default();
    quantify_cached(
        setup,
        measured,
        model,
        iterations,
        with_secondary,
        &mut cache,
    )
}

/// [`quantify_with`], taking the primary-excitation tables from `cache`, which must
/// have been filled for this same `setup` only (see [`PrimaryCache`]).
pub fn quantify_cached(
    setup: &Setup,
    measured: &[Measured],
    model: MatrixModel,
    iterations: usize,
    with_secondary: bool,
    cache: &mut PrimaryCache,
) -> Quantified {
    let n = measured.len();
    // start: proportional to area
    let total_area: f64 = measured
        .iter()
        .map(|m| m.area.max(0.0))
        .sum::<f64>()
        .max(1.0);
    let mut c: Vec<f64> = measured
        .iter()
        .map(|m| 0.7 * m.area.max(0.0) / total_area)
        .collect();
    let mut sens = vec![0.0; n];
    let mut g = 0.0;
    let mut unseen = 0.0;
    let mut mix_named: Vec<(String, f64)> = Vec::new();
    let mut tables: Option<PrimaryTables> = None;
    for it in 0..iterations.max(1) {
        mix_named = with_matrix(measured, &c, model);
        unseen = mix_named
            .iter()
            .find(|(s, _)| s == "O")
            .map_or(0.0, |(_, w)| *w);
        let mix = mixture(&mix_named);
        let secondary = with_secondary && it + 1 >= iterations.max(1) / 2;
        if secondary {
            let fl = fluorescence_with(
                setup,
                &mix,
                true,
                |i, f| {
                    measured
                        .iter()
                        .any(|m| m.family == f && m.symbol == mix[i].0.symbol)
                },
                cache,
            );
            for (k, m) in measured.iter().enumerate() {
                sens[k] = fl
                    .iter()
                    .find(|f| f.element.symbol == m.symbol)
                    .map_or(0.0, |f| {
                        if f.mass_fraction > 0.0 {
                            f.family_total(m.family) / f.mass_fraction
                        } else {
                            0.0
                        }
                    });
            }
        } else {
            let t = tables.get_or_insert_with(|| PrimaryTables::new(setup, &mix, measured, cache));
            t.sensitivities(&mix, &mut sens);
        }
        // raw concentrations with G = 1, then normalise including bound oxygen
        let raw: Vec<f64> = measured
            .iter()
            .zip(&sens)
            .map(|(m, s)| if *s > 0.0 { m.area.max(0.0) / s } else { 0.0 })
            .collect();
        let ox: f64 = raw
            .iter()
            .zip(measured)
            .map(|(r, m)| r * oxide_oxygen_ratio(&m.symbol, model))
            .sum();
        let total: f64 = raw.iter().sum::<f64>() + ox;
        if total <= 0.0 {
            break;
        }
        g = total;
        let next: Vec<f64> = raw.iter().map(|r| r / total).collect();
        // primary only: stop once no fraction moves by more than 0.1 % of itself
        let settled = !with_secondary
            && next
                .iter()
                .zip(&c)
                .all(|(a, b)| (a - b).abs() <= 1e-3 * a.abs().max(1e-4));
        c = next;
        if settled {
            break;
        }
    }
    let elements = measured
        .iter()
        .zip(&c)
        .zip(&sens)
        .map(|((m, ci), s)| {
            let rel = if m.area > 0.0 { m.sigma / m.area } else { 0.0 };
            let sigma = if *s > 0.0 && g > 0.0 {
                (ci * rel).abs().max(m.sigma / (g * s))
            } else {
                0.0
            };
            (m.symbol.clone(), *ci, sigma)
        })
        .collect();
    Quantified {
        elements,
        unseen_fraction: unseen,
        instrument_constant: g,
        mixture: mix_named,
        sensitivity: sens,
    }
}

/// The parts of the primary fluorescence of a fixed set of elements that do not depend
/// on their mass fractions: per element µ/ρ and, for measured elements, the vacancy
/// cross-sections at every excitation point; per line of a measured family the µ/ρ of
/// every element at its energy and its emission factor. An FP iteration changes only
/// the mass fractions, so each evaluates weighted sums of these instead of the tables.
struct PrimaryTables {
    /// Symbols, in the order of the mixture they were built for.
    symbols: Vec<&'static str>,
    /// (energy, photons) of the excitation points.
    points: Arc<[(f64, f64)]>,
    /// `[element][point]` total µ/ρ.
    mu_points: Vec<Arc<[f64]>>,
    /// Per measured family (same order as `measured`): its lines.
    families: Vec<Vec<PrimaryLine>>,
    /// sin ψ₁, sin ψ₂.
    s1: f64,
    s2: f64,
}

struct PrimaryLine {
    /// Per point: photons × vacancies × yield × fraction × efficiency.
    emission: Arc<[f64]>,
    /// µ/ρ of each element (mixture order) at the line energy.
    mu_at_line: Vec<f64>,
}

/// The parts of [`PrimaryTables`] that depend on the set-up and the elements only, not
/// on which elements a quantification measures: per element its µ/ρ at the excitation
/// points and the emission factors of its families' lines, per (element, energy) a µ/ρ.
/// Scans of one instrument set-up share them; a cache must serve one [`Setup`] only.
#[derive(Debug, Default, Clone)]
pub struct PrimaryCache {
    points: Option<Arc<[(f64, f64)]>>,
    mu_points: Vec<(usize, Arc<[f64]>)>,
    /// (Z, family) → (line energy, emission per point) of each line of the family.
    emission: Vec<((usize, Family), FamilyEmission)>,
    /// (Z, energy bits) → µ/ρ.
    mu: FxHashMap<(usize, u64), f64>,
    /// Z → vacancy cross-sections ([`ElementData::vacancies`]) at every point.
    vacancies: Vec<(usize, VacanciesAtPoints)>,
    /// The last matrix asked for (element Z and mass-fraction bits) and its total µ/ρ
    /// at every point.
    matrix_mu: Option<(MatrixKey, Arc<[f64]>)>,
}

/// A matrix as a cache key: (Z, mass-fraction bits) of each element.
type MatrixKey = Vec<(usize, u64)>;

/// Vacancy cross-sections per level at each excitation point.
pub type VacanciesAtPoints = Arc<[[f64; 9]]>;

/// (line energy, emission per excitation point) of each line of a family.
type FamilyEmission = Arc<[(f64, Arc<[f64]>)]>;

impl PrimaryCache {
    /// The excitation points with photons (n > 0) of `setup`, in its order.
    pub fn points(&mut self, setup: &Setup) -> Arc<[(f64, f64)]> {
        self.points
            .get_or_insert_with(|| {
                setup
                    .excitation
                    .points()
                    .copied()
                    .filter(|p| p.1 > 0.0)
                    .collect()
            })
            .clone()
    }

    fn mu_points(&mut self, d: &ElementData, points: &[(f64, f64)]) -> Arc<[f64]> {
        if let Some((_, v)) = self.mu_points.iter().find(|(z, _)| *z == d.z) {
            return v.clone();
        }
        let v: Arc<[f64]> = points.iter().map(|p| d.mu.total(p.0)).collect();
        self.mu_points.push((d.z, v.clone()));
        v
    }

    fn emission(
        &mut self,
        setup: &Setup,
        d: &ElementData,
        family: Family,
        points: &[(f64, f64)],
    ) -> FamilyEmission {
        let key = (d.z, family);
        if let Some((_, v)) = self.emission.iter().find(|(k, _)| *k == key) {
            return v.clone();
        }
        let vac = self.vacancies(d, points);
        let v: FamilyEmission = d
            .lines
            .iter()
            .filter(|l| l.family() == family)
            .map(|l| {
                let f =
                    d.levels[l.level].yield_ * l.fraction * setup.detector.efficiency(l.energy_kev);
                let e: Arc<[f64]> = vac
                    .iter()
                    .zip(points)
                    .map(|(v, p)| p.1 * v[l.level] * f)
                    .collect();
                (l.energy_kev, e)
            })
            .collect();
        self.emission.push((key, v.clone()));
        v
    }

    /// The vacancy cross-sections of `d` at each of `points` (those of
    /// [`PrimaryCache::points`]).
    pub fn vacancies(&mut self, d: &ElementData, points: &[(f64, f64)]) -> VacanciesAtPoints {
        if let Some((_, v)) = self.vacancies.iter().find(|(z, _)| *z == d.z) {
            return v.clone();
        }
        let v: VacanciesAtPoints = points.iter().map(|p| d.vacancies(p.0)).collect();
        self.vacancies.push((d.z, v.clone()));
        v
    }

    /// The total µ/ρ of `matrix` ([`mu_total`]) at each of `points` (those of
    /// [`PrimaryCache::points`]); kept for the last matrix.
    pub fn matrix_mu(&mut self, matrix: &Mixture, points: &[(f64, f64)]) -> Arc<[f64]> {
        let key: Vec<(usize, u64)> = matrix.iter().map(|(d, w)| (d.z, w.to_bits())).collect();
        match &self.matrix_mu {
            Some((k, v)) if *k == key => v.clone(),
            _ => {
                let v: Arc<[f64]> = points.iter().map(|p| mu_total(matrix, p.0)).collect();
                self.matrix_mu = Some((key, v.clone()));
                v
            }
        }
    }

    fn mu(&mut self, d: &ElementData, e_kev: f64) -> f64 {
        *self
            .mu
            .entry((d.z, e_kev.to_bits()))
            .or_insert_with(|| d.mu.total(e_kev))
    }
}

impl PrimaryTables {
    fn new(setup: &Setup, mix: &Mixture, measured: &[Measured], cache: &mut PrimaryCache) -> Self {
        let points = cache.points(setup);
        let mu_points = mix
            .iter()
            .map(|(d, _)| cache.mu_points(d, &points))
            .collect();
        let families = measured
            .iter()
            .map(|m| {
                let Some((d, _)) = mix.iter().find(|(d, _)| d.symbol == m.symbol) else {
                    return Vec::new();
                };
                cache
                    .emission(setup, d, m.family, &points)
                    .iter()
                    .map(|(e_line, emission)| PrimaryLine {
                        emission: emission.clone(),
                        mu_at_line: mix.iter().map(|(e, _)| cache.mu(e, *e_line)).collect(),
                    })
                    .collect()
            })
            .collect();
        PrimaryTables {
            symbols: mix.iter().map(|(d, _)| d.symbol).collect(),
            points,
            mu_points,
            families,
            s1: setup.psi_in_deg.to_radians().sin(),
            s2: setup.psi_out_deg.to_radians().sin(),
        }
    }

    /// Primary intensity per unit mass fraction of each measured family in `mix` (the
    /// mixture's elements must be those the tables were built for).
    fn sensitivities(&self, mix: &Mixture, out: &mut [f64]) {
        let w: Vec<f64> = self
            .symbols
            .iter()
            .map(|s| {
                mix.iter()
                    .find(|(d, _)| d.symbol == *s)
                    .map_or(0.0, |m| m.1)
            })
            .collect();
        // µ(E)/sin ψ₁ at every point
        let a: Vec<f64> = (0..self.points.len())
            .map(|p| {
                let mu: f64 = w.iter().zip(&self.mu_points).map(|(w, mu)| w * mu[p]).sum();
                mu / self.s1
            })
            .collect();
        for (o, lines) in out.iter_mut().zip(&self.families) {
            *o = lines
                .iter()
                .map(|l| {
                    let mu_l: f64 = w.iter().zip(&l.mu_at_line).map(|(w, m)| w * m).sum();
                    sum_over_denominator(&l.emission, &a, mu_l / self.s2)
                })
                .sum();
        }
    }
}

/// Σᵢ eᵢ / (aᵢ + c), four partial sums (lets the compiler use SIMD division).
fn sum_over_denominator(e: &[f64], a: &[f64], c: f64) -> f64 {
    let n = e.len().min(a.len());
    let (e, a) = (&e[..n], &a[..n]);
    let mut acc = [0.0; 4];
    let (ce, ca) = (e.chunks_exact(4), a.chunks_exact(4));
    let tail: f64 = ce
        .remainder()
        .iter()
        .zip(ca.remainder())
        .map(|(e, a)| e / (a + c))
        .sum();
    for (e, a) in ce.zip(ca) {
        for k in 0..4 {
            acc[k] += e[k] / (a[k] + c);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Mass of oxygen per unit mass of element in its assumed oxide.
pub fn oxide_oxygen_ratio(symbol: &str, model: MatrixModel) -> f64 {
    if model == MatrixModel::Metal {
        return 0.0;
    }
    let Some(d) = element_by_symbol(symbol) else {
        return 0.0;
    };
    oxygen_per_atom(symbol) * 15.999 / d.molar_mass
}

fn with_matrix(measured: &[Measured], c: &[f64], model: MatrixModel) -> Vec<(String, f64)> {
    let mut mix: Vec<(String, f64)> = measured
        .iter()
        .zip(c)
        .map(|(m, ci)| (m.symbol.clone(), ci.max(0.0)))
        .collect();
    if model == MatrixModel::Oxides {
        let o: f64 = mix
            .iter()
            .map(|(s, w)| w * oxide_oxygen_ratio(s, model))
            .sum();
        mix.push(("O".into(), o));
    }
    mix
}

#[cfg(test)]
mod tests {
    use super::super::physics::{DetectorEfficiency, Tube};
    use super::*;

    fn setup(kv: f64) -> Setup {
        Setup::new(Tube::rh(kv).spectrum(0.5), DetectorEfficiency::default())
    }

    #[test]
    fn secondary_fluorescence_enhances_cr_in_steel_by_tens_of_percent() {
        let mix = mixture(&[
            ("Fe".into(), 0.66),
            ("Cr".into(), 0.18),
            ("Ni".into(), 0.12),
            ("Mo".into(), 0.02),
            ("Mn".into(), 0.02),
        ]);
        let fl = fluorescence(&setup(40.0), &mix, true);
        let cr = &fl[1];
        let s: f64 = cr.secondary.iter().sum();
        let t: f64 = cr.lines.iter().sum();
        let frac = s / t;
        // Cr Kα in stainless steel is ~20–35 % secondary (Fe + Ni K lines)
        assert!(frac > 0.15 && frac < 0.4, "secondary fraction {frac}");
        let fe = &fl[0];
        let fs: f64 = fe.secondary.iter().sum::<f64>() / fe.lines.iter().sum::<f64>();
        assert!(fs > 0.02 && fs < 0.2, "Fe secondary {fs}");
    }

    #[test]
    fn quantify_inverts_forward_model() {
        let truth = vec![
            ("Fe".to_string(), 0.45),
            ("Ca".to_string(), 0.05),
            ("Nd".to_string(), 0.02),
            ("Zr".to_string(), 0.03),
        ];
        let model = MatrixModel::Oxides;
        let full = with_matrix(
            &truth
                .iter()
                .map(|(s, _)| Measured {
                    symbol: s.clone(),
                    family: Family::K,
                    area: 0.0,
                    sigma: 0.0,
                })
                .collect::<Vec<_>>(),
            &truth.iter().map(|t| t.1).collect::<Vec<_>>(),
            model,
        );
        // the oxide mixture normalised to 100 % is the truth
        let tot: f64 = full.iter().map(|x| x.1).sum();
        let full: Vec<(String, f64)> = full.into_iter().map(|(s, w)| (s, w / tot)).collect();
        let truth: Vec<(String, f64)> = truth.into_iter().map(|(s, w)| (s, w / tot)).collect();
        let s = setup(50.0);
        let fl = fluorescence(&s, &mixture(&full), true);
        let fams = [Family::K, Family::K, Family::L, Family::K];
        let measured: Vec<Measured> = truth
            .iter()
            .zip(fams)
            .map(|((sym, _), f)| {
                let e = fl.iter().find(|x| x.element.symbol == sym).unwrap();
                Measured {
                    symbol: sym.clone(),
                    family: f,
                    area: 1e9 * e.family_total(f),
                    sigma: 1.0,
                }
            })
            .collect();
        let q = quantify(&s, &measured, model, 8);
        for ((sym, c, _), (_, t)) in q.elements.iter().zip(&truth) {
            assert!((c - t).abs() / t < 0.02, "{sym}: {c} vs {t}");
        }
    }
}
