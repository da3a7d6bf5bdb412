//! Atomic and instrument physics for XRF: cached mass attenuation, shell ionisation
//! with jump ratios and Coster–Kronig transfer, fluorescence line yields, the X-ray
//! tube spectrum and the detector efficiency.
//!
//! All cross-sections are the Elam, Ravel & Sieber tables (Radiat. Phys. Chem. 63
//! (2002) 121) from the `xraydb` crate, tabulated once per element on a 20 eV grid
//! (0.5–80 keV) and interpolated linearly; energies are keV, µ/ρ cm²/g.
//!
//! # References
//! * Shell photo-ionisation from jump ratios: τ_K = τ·(1 − 1/J_K) above the K edge,
//!   each lower shell taking (1 − 1/J) of what the shells above leave (R. Jenkins,
//!   R.W. Gould & D. Gedcke, *Quantitative X-Ray Spectrometry*, 2nd ed., 1995, ch. 12).
//! * Coster–Kronig redistribution of L vacancies: n₃' = n₃ + f₂₃n₂ + (f₁₃ + f₁₂f₂₃)n₁,
//!   n₂' = n₂ + f₁₂n₁ (M.O. Krause, J. Phys. Chem. Ref. Data 8 (1979) 307).
//! * Tube continuum: H.A. Kramers, Phil. Mag. 46 (1923) 836, N(E) ∝ Z (E₀/E − 1);
//!   characteristic lines ∝ (U ln U + 1 − U) and anode self-absorption as in
//!   H. Ebel, X-Ray Spectrom. 28 (1999) 255 (simplified: mean generation depth).

use crate::formats::LIMITS;
use crate::tables::xraydb;
use std::sync::OnceLock;
use xraydb::CrossSectionKind;

/// Lowest tabulated energy, keV.
pub const GRID_MIN_KEV: f64 = 0.5;
/// Grid step, keV.
pub const GRID_STEP_KEV: f64 = 0.02;
/// Number of grid points (0.5 … 80 keV).
pub const GRID_LEN: usize = 3976;
/// Highest atomic number handled.
pub const MAX_Z: usize = 92;

/// Cross-sections of one element, each tabulated on the fixed energy grid on first
/// use (candidate elements need only photo-absorption; matrix elements the rest).
#[derive(Debug)]
pub struct Attenuation {
    symbol: &'static str,
    /// Photo-absorption, total, coherent (Rayleigh), incoherent (Compton) µ/ρ, cm²/g.
    tables: [OnceLock<Vec<f32>>; 4],
}

const KINDS: [CrossSectionKind; 4] = [
    CrossSectionKind::Photo,
    CrossSectionKind::Total,
    CrossSectionKind::Coherent,
    CrossSectionKind::Incoherent,
];

#[inline]
fn interp(table: &[f32], e_kev: f64) -> f64 {
    let x = ((e_kev - GRID_MIN_KEV) / GRID_STEP_KEV).clamp(0.0, (GRID_LEN - 1) as f64);
    let i = (x as usize).min(GRID_LEN - 2);
    let f = x - i as f64;
    let a = table[i] as f64;
    let b = table[i + 1] as f64;
    a + f * (b - a)
}

impl Attenuation {
    fn new(symbol: &'static str) -> Self {
        Self {
            symbol,
            tables: [const { OnceLock::new() }; 4],
        }
    }

    /// Table `k` of [`KINDS`] (Elam et al. via xraydb), computed once.
    fn table(&self, k: usize) -> &[f32] {
        self.tables[k].get_or_init(|| {
            let grid: Vec<f64> = (0..GRID_LEN)
                .map(|i| (GRID_MIN_KEV + i as f64 * GRID_STEP_KEV) * 1000.0)
                .collect();
            xraydb()
                .mu_elam(self.symbol, &grid, KINDS[k])
                .unwrap_or_else(|_| vec![0.0; GRID_LEN])
                .into_iter()
                .map(|v| v as f32)
                .collect()
        })
    }

    /// Photo-absorption µ/ρ at E.
    #[inline]
    pub fn photo(&self, e_kev: f64) -> f64 {
        interp(self.table(0), e_kev)
    }
    /// Total µ/ρ at E.
    #[inline]
    pub fn total(&self, e_kev: f64) -> f64 {
        interp(self.table(1), e_kev)
    }
    /// Coherent µ/ρ at E.
    #[inline]
    pub fn coherent(&self, e_kev: f64) -> f64 {
        interp(self.table(2), e_kev)
    }
    /// Incoherent µ/ρ at E.
    #[inline]
    pub fn incoherent(&self, e_kev: f64) -> f64 {
        interp(self.table(3), e_kev)
    }
}

/// One absorption level (K, L1, ...).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Level {
    /// Edge energy, keV (0 when the level does not exist).
    pub edge_kev: f64,
    /// Fluorescence yield.
    pub yield_: f64,
    /// Jump ratio.
    pub jump: f64,
}

/// Which family a line belongs to (its initial vacancy shell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Family {
    /// K shell.
    K,
    /// L1, L2, L3.
    L,
    /// M1–M5.
    M,
}

impl Family {
    /// "K", "L", "M".
    pub fn name(self) -> &'static str {
        match self {
            Family::K => "K",
            Family::L => "L",
            Family::M => "M",
        }
    }
}

/// Index of the absorption levels in [`ElementData::levels`].
pub const LEVELS: [&str; 9] = ["K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5"];

/// One emission line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineData {
    /// Siegbahn label ("Ka1").
    pub label: String,
    /// Index into [`LEVELS`] of the initial vacancy.
    pub level: usize,
    /// Energy, keV.
    pub energy_kev: f64,
    /// Fraction of the level's radiative decays going to this line.
    pub fraction: f64,
}

impl LineData {
    /// The family of the line.
    pub fn family(&self) -> Family {
        match self.level {
            0 => Family::K,
            1..=3 => Family::L,
            _ => Family::M,
        }
    }
}

/// Everything the FP model needs about one element.
#[derive(Debug)]
pub struct ElementData {
    /// Atomic number.
    pub z: usize,
    /// Symbol.
    pub symbol: &'static str,
    /// Molar mass, g/mol.
    pub molar_mass: f64,
    /// Levels K, L1..L3, M1..M5.
    pub levels: [Level; 9],
    /// Coster–Kronig totals f12, f13, f23.
    pub ck: [f64; 3],
    /// L1, L2, L3 vacancies left per K vacancy by the K shell's radiative decays
    /// (ω_K × the share of K lines ending in each L level: Kα3, Kα2, Kα1).
    pub k_to_l: [f64; 3],
    /// Emission lines with fraction ≥ 0.1 % of their level, sorted by energy.
    pub lines: Vec<LineData>,
    /// Cross-sections.
    pub mu: Attenuation,
}

fn build(z: usize) -> Option<ElementData> {
    let db = xraydb();
    let symbol = db.symbol(&z.to_string()).ok()?;
    let molar_mass = db.molar_mass(symbol).ok()?;
    let edges = db.xray_edges(symbol).ok()?;
    let mut levels = [Level::default(); 9];
    for (i, name) in LEVELS.iter().enumerate() {
        if let Some(e) = edges.get(*name) {
            levels[i] = Level {
                edge_kev: e.energy / 1000.0,
                yield_: e.fluorescence_yield,
                jump: e.jump_ratio,
            };
        }
    }
    let ck_of = |a: &str, b: &str| db.ck_probability(symbol, a, b, true).unwrap_or(0.0);
    let ck = [ck_of("L1", "L2"), ck_of("L1", "L3"), ck_of("L2", "L3")];
    let all_lines = db.xray_lines(symbol, None, None).ok()?;
    let mut k_to_l = [0.0; 3];
    for l in all_lines.values().filter(|l| l.initial_level == "K") {
        if let Some(i) = ["L1", "L2", "L3"].iter().position(|n| *n == l.final_level) {
            k_to_l[i] += levels[0].yield_ * l.intensity;
        }
    }
    let mut lines: Vec<LineData> = all_lines
        .into_iter()
        .filter_map(|(label, l)| {
            let level = LEVELS.iter().position(|n| *n == l.initial_level)?;
            (l.intensity >= 1e-3 && l.energy > 500.0).then(|| LineData {
                label,
                level,
                energy_kev: l.energy / 1000.0,
                fraction: l.intensity,
            })
        })
        .collect();
    lines.sort_by(|a, b| {
        a.energy_kev
            .total_cmp(&b.energy_kev)
            .then_with(|| a.label.cmp(&b.label))
    });
    Some(ElementData {
        z,
        symbol,
        molar_mass,
        levels,
        ck,
        k_to_l,
        lines,
        mu: Attenuation::new(symbol),
    })
}

/// The cached data of element `z` (1..=92); built on first use.
pub fn element(z: usize) -> Option<&'static ElementData> {
    static CACHE: [OnceLock<Option<ElementData>>; MAX_Z + 1] =
        [const { OnceLock::new() }; MAX_Z + 1];
    if z == 0 || z > MAX_Z {
        return None;
    }
    CACHE[z].get_or_init(|| build(z)).as_ref()
}

/// Atomic number of a symbol.
pub fn atomic_number(symbol: &str) -> Option<usize> {
    xraydb()
        .atomic_number(symbol)
        .ok()
        .map(|z| z as usize)
        .filter(|z| *z <= MAX_Z)
}

/// The cached data of an element by symbol.
pub fn element_by_symbol(symbol: &str) -> Option<&'static ElementData> {
    element(atomic_number(symbol)?)
}

impl ElementData {
    /// Photo-ionisation cross-section (cm²/g) creating a vacancy in each level at
    /// incident energy E, after Coster–Kronig redistribution among L (and the M shells
    /// taken without CK). Returned per level index of [`LEVELS`].
    pub fn vacancies(&self, e_kev: f64) -> [f64; 9] {
        let mut out = [0.0; 9];
        let mut tau = self.mu.photo(e_kev);
        for (i, lv) in self.levels.iter().enumerate() {
            if lv.edge_kev <= 0.0 || e_kev < lv.edge_kev || lv.jump <= 1.0 {
                continue;
            }
            let share = tau * (1.0 - 1.0 / lv.jump);
            out[i] = share;
            tau -= share;
        }
        let [f12, f13, f23] = self.ck;
        let [t1, t2, t3] = self.k_to_l;
        let (n1, n2, n3) = (
            out[1] + t1 * out[0],
            out[2] + t2 * out[0],
            out[3] + t3 * out[0],
        );
        out[2] = n2 + f12 * n1;
        out[3] = n3 + f23 * n2 + (f13 + f12 * f23) * n1;
        out
    }

    /// Emitted photons of each line per unit incident flux per cm²/g, at E:
    /// vacancies × fluorescence yield × line fraction.
    pub fn line_production(&self, e_kev: f64, out: &mut Vec<f64>) {
        let v = self.vacancies(e_kev);
        out.clear();
        out.extend(
            self.lines
                .iter()
                .map(|l| v[l.level] * self.levels[l.level].yield_ * l.fraction),
        );
    }

    /// The strongest line of a family (by fraction × yield), if any.
    pub fn principal_line(&self, family: Family) -> Option<&LineData> {
        self.lines
            .iter()
            .filter(|l| l.family() == family)
            .max_by(|a, b| {
                let wa = a.fraction * self.levels[a.level].yield_ * level_weight(a.level);
                let wb = b.fraction * self.levels[b.level].yield_ * level_weight(b.level);
                wa.total_cmp(&wb)
            })
    }
}

/// Rough relative vacancy share of each level used only to rank lines (L3 > L2 > L1).
fn level_weight(level: usize) -> f64 {
    match level {
        0 => 1.0,
        1 => 0.15,
        2 => 0.3,
        3 => 1.0,
        7 => 0.4,
        8 => 1.0,
        _ => 0.1,
    }
}

/// A mixture as (element data, mass fraction) pairs.
pub type Mixture = Vec<(&'static ElementData, f64)>;

/// Build a mixture from (symbol, mass fraction) pairs, skipping unknown symbols.
pub fn mixture(elements: &[(String, f64)]) -> Mixture {
    elements
        .iter()
        .filter_map(|(s, w)| Some((element_by_symbol(s)?, *w)))
        .filter(|(_, w)| *w > 0.0)
        .collect()
}

/// Total µ/ρ of a mixture at E (cm²/g).
pub fn mu_total(mix: &[(&ElementData, f64)], e_kev: f64) -> f64 {
    mix.iter().map(|(d, w)| w * d.mu.total(e_kev)).sum()
}

/// Coherent and incoherent µ/ρ of a mixture at E.
pub fn mu_scatter(mix: &[(&ElementData, f64)], e_kev: f64) -> (f64, f64) {
    mix.iter().fold((0.0, 0.0), |(c, i), (d, w)| {
        (c + w * d.mu.coherent(e_kev), i + w * d.mu.incoherent(e_kev))
    })
}

/// Compton-scattered photon energy (keV) at scattering angle θ (degrees).
pub fn compton_energy(e_kev: f64, theta_deg: f64) -> f64 {
    e_kev / (1.0 + e_kev / 510.998_95 * (1.0 - theta_deg.to_radians().cos()))
}

/// The X-ray tube.
#[derive(Debug, Clone, PartialEq)]
pub struct Tube {
    /// Anode element symbol.
    pub anode: String,
    /// Accelerating voltage, kV.
    pub kv: f64,
    /// Be window, µm.
    pub window_be_um: f64,
    /// Electron incidence / photon take-off angle at the anode, degrees.
    pub takeoff_deg: f64,
    /// Optional primary beam filter: (element symbol, thickness µm).
    pub filter: Option<(String, f64)>,
}

impl Tube {
    /// A handheld-style Rh tube at `kv`, 125 µm Be window, 20° take-off.
    pub fn rh(kv: f64) -> Self {
        Self {
            anode: "Rh".into(),
            kv,
            window_be_um: 125.0,
            takeoff_deg: 20.0,
            filter: None,
        }
    }
}

/// The primary spectrum as discrete (energy keV, relative photons) points: continuum
/// bins of width `step_kev` and the anode characteristic lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Excitation {
    /// Continuum bin centres and photons per bin.
    pub continuum: Vec<(f64, f64)>,
    /// Anode lines (energy, photons).
    pub lines: Vec<(f64, f64)>,
}

impl Excitation {
    /// All points, continuum then lines.
    pub fn points(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.continuum.iter().chain(&self.lines)
    }

    /// A monochromatic beam at `e_kev` (one unit photon).
    pub fn monochromatic(e_kev: f64) -> Self {
        Self {
            continuum: Vec::new(),
            lines: vec![(e_kev, 1.0)],
        }
    }

    /// Highest energy present, keV.
    pub fn max_energy_kev(&self) -> f64 {
        self.points().map(|p| p.0).fold(0.0, f64::max)
    }
}

/// Thomson–Whiddington electron range in the anode, g/cm² (E₀ in keV).
fn electron_range(e0_kev: f64) -> f64 {
    0.787e-5 * 0.0135f64.sqrt() * e0_kev.powf(1.5) + 0.735e-6 * e0_kev * e0_kev
}

impl Tube {
    /// Finest continuum bin [`Tube::spectrum`] accepts (keV): at the highest tube
    /// voltage it allows, 160 000 bins.
    pub const MIN_STEP_KEV: f64 = 1e-3;

    /// The primary spectrum, continuum from 1 keV in `step_kev` bins, with the anode's
    /// K and L lines, Be window and filter transmission applied.
    ///
    /// # Panics
    /// When `kv` is outside [`LIMITS`]`.xrf_tube_kv` or `step_kev` is below
    /// [`Tube::MIN_STEP_KEV`] (or not finite): the continuum has (kV − 1)/step bins, so
    /// an absurd voltage would allocate without bound. Every voltage read from a file, a
    /// flag or an instrument file is checked against the same limit first, so this
    /// only refuses what a caller failed to check; a batch row that reaches it becomes
    /// that row's ERROR.
    pub fn spectrum(&self, step_kev: f64) -> Excitation {
        let (lo, hi) = LIMITS.xrf_tube_kv;
        assert!(
            self.kv >= lo && self.kv <= hi,
            "tube voltage {} kV outside {lo}–{hi} kV",
            self.kv
        );
        assert!(
            step_kev >= Self::MIN_STEP_KEV && step_kev.is_finite(),
            "continuum step {step_kev} keV below {} keV",
            Self::MIN_STEP_KEV
        );
        let Some(anode) = element_by_symbol(&self.anode) else {
            return Excitation::default();
        };
        let be = element_by_symbol("Be");
        let filter = self
            .filter
            .as_ref()
            .and_then(|(s, t)| Some((element_by_symbol(s)?, *t)));
        let transmission = |e: f64| {
            let mut t = 1.0;
            if let Some(be) = be {
                t *= (-be.mu.total(e) * 1.848 * self.window_be_um * 1e-4).exp();
            }
            if let Some((f, um)) = filter {
                let rho = xraydb().density(f.symbol).unwrap_or(2.7);
                t *= (-f.mu.total(e) * rho * um * 1e-4).exp();
            }
            t
        };
        let rho_z = 0.35 * electron_range(self.kv);
        let sin_t = self.takeoff_deg.to_radians().sin();
        let self_abs = |e: f64| {
            let x = 2.0 * anode.mu.total(e) * rho_z / sin_t;
            if x < 1e-6 {
                1.0
            } else {
                (1.0 - (-x).exp()) / x
            }
        };
        let z = anode.z as f64;
        let mut continuum = Vec::new();
        let mut e = 1.0 + step_kev / 2.0;
        while e < self.kv {
            let n = z * (self.kv / e - 1.0) * step_kev;
            continuum.push((e, n * self_abs(e) * transmission(e)));
            e += step_kev;
        }
        let mut lines = Vec::new();
        for (lv, family_const) in [(0usize, 300.0), (3usize, 60.0)] {
            let level = anode.levels[lv];
            if level.edge_kev <= 0.0 || self.kv <= level.edge_kev {
                continue;
            }
            let u = self.kv / level.edge_kev;
            let n_shell = z * family_const * (u * u.ln() + 1.0 - u);
            for l in anode.lines.iter().filter(|l| l.level == lv) {
                let n = n_shell * level.yield_ * l.fraction;
                lines.push((
                    l.energy_kev,
                    n * self_abs(l.energy_kev) * transmission(l.energy_kev),
                ));
            }
        }
        Excitation { continuum, lines }
    }
}

/// Density of dry air at 20 °C, 1 atm, g/cm³.
pub const AIR_DENSITY: f64 = 1.204_8e-3;
/// Mass fractions of N, O and Ar in dry air, for its attenuation.
const AIR: [(&str, f64); 3] = [("N", 0.755), ("O", 0.232), ("Ar", 0.013)];

/// Transmission of `mm` of dry air at `e_kev`.
pub fn air_transmission(e_kev: f64, mm: f64) -> f64 {
    let mu: f64 = AIR
        .iter()
        .filter_map(|(s, w)| Some(w * element_by_symbol(s)?.mu.total(e_kev)))
        .sum();
    (-mu * AIR_DENSITY * mm * 0.1).exp()
}

/// Energy-dispersive detector efficiency: Be window transmission × absorption in the
/// Si crystal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorEfficiency {
    /// Be window, µm.
    pub be_um: f64,
    /// Si thickness, µm.
    pub si_um: f64,
    /// Air path, mm.
    pub air_mm: f64,
}

impl Default for DetectorEfficiency {
    /// A handheld SDD: 12.5 µm Be, 450 µm Si, 1 cm air... taken as 5 mm.
    fn default() -> Self {
        Self {
            be_um: 12.5,
            si_um: 450.0,
            air_mm: 5.0,
        }
    }
}

impl DetectorEfficiency {
    /// Fraction of photons of energy E that are detected (full or escape).
    pub fn efficiency(&self, e_kev: f64) -> f64 {
        let (Some(be), Some(si)) = (element_by_symbol("Be"), element_by_symbol("Si")) else {
            return 1.0;
        };
        let mut t = (-be.mu.total(e_kev) * 1.848 * self.be_um * 1e-4).exp();
        if self.air_mm > 0.0 {
            t *= air_transmission(e_kev, self.air_mm);
        }
        let a = 1.0 - (-si.mu.photo(e_kev) * 2.33 * self.si_um * 1e-4).exp();
        t * a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cm_of_air_absorbs_al_ka_more_than_fe_ka() {
        let al = air_transmission(1.487, 10.0);
        let fe = air_transmission(6.404, 10.0);
        // µ/ρ of air 1190 cm²/g at 1.5 keV (NIST XCOM): e^(-1.43) = 0.24 over 1 cm
        assert!((al - 0.24).abs() < 0.03, "{al}");
        // 19 cm²/g at 6.4 keV
        assert!(fe > 0.97 && fe < 0.99, "{fe}");
    }

    #[test]
    fn hematite_absorbs_la_la_as_domain_says() {
        let fe = element_by_symbol("Fe").unwrap();
        let o = element_by_symbol("O").unwrap();
        let mix = vec![(fe, 0.6994), (o, 0.3006)];
        let mu = mu_total(&mix, 4.651);
        // DOMAIN.md: hematite µ/ρ at La Lα ≈ 137 cm²/g
        assert!((mu - 137.0).abs() < 8.0, "{mu}");
        // Lines above the Fe K edge are ~6.5× more absorbed
        let ratio = mu_total(&mix, 7.5) / mu_total(&mix, 7.0);
        assert!(ratio > 5.0, "{ratio}");
    }

    #[test]
    fn k_shell_takes_most_photoabsorption_above_the_k_edge() {
        let fe = element_by_symbol("Fe").unwrap();
        let v = fe.vacancies(10.0);
        let tau = fe.mu.photo(10.0);
        assert!(v[0] / tau > 0.85 && v[0] / tau < 0.92, "{}", v[0] / tau);
        assert_eq!(fe.vacancies(7.0)[0], 0.0);
        let nd = element_by_symbol("Nd").unwrap();
        let v = nd.vacancies(20.0);
        assert!(v[3] > v[2] && v[2] > 0.0 && v[1] > 0.0, "{v:?}");
    }

    #[test]
    #[should_panic(expected = "tube voltage")]
    fn an_absurd_tube_voltage_is_refused_not_allocated() {
        let _ = Tube::rh(1e9).spectrum(0.5);
    }

    #[test]
    #[should_panic(expected = "continuum step")]
    fn a_zero_continuum_step_is_refused() {
        let _ = Tube::rh(40.0).spectrum(0.0);
    }

    #[test]
    fn rh_tube_has_continuum_and_k_lines() {
        let ex = Tube::rh(40.0).spectrum(0.5);
        assert!(ex.continuum.len() > 70);
        let ka: f64 = ex
            .lines
            .iter()
            .filter(|l| (l.0 - 20.2).abs() < 0.1)
            .map(|l| l.1)
            .sum();
        let cont_20: f64 = ex
            .continuum
            .iter()
            .filter(|c| (c.0 - 20.0).abs() < 0.3)
            .map(|c| c.1 / 0.5)
            .sum();
        assert!(ka > 2.0 * cont_20, "Rh Kα {ka} vs continuum/keV {cont_20}");
    }

    #[test]
    fn compton_shift_matches_formula() {
        let e = compton_energy(20.216, 90.0);
        assert!((e - 19.46).abs() < 0.02, "{e}");
    }
}
