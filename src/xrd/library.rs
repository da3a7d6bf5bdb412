//! The reference phase library: crystal structures embedded at build time from
//! `data/xrd/*.cif` (sources and licences in `data/xrd/SOURCES.md`), their
//! reflections, densities and computed RIR (I/I_corundum) values, extendable at run
//! time with a directory of the user's CIFs (`--phases DIR`).

use super::cif::parse_cif;
use super::crystal::Structure;
use super::pattern::{reflections, sticks, Geometry, Reflection};
use crate::{Error, Result};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Smallest d-spacing (Å) kept in the library: Cu Kα to 2θ ≈ 150°, Co Kα to ≈ 120°,
/// EDXRD at 2θ = 5° to ≈ 180 keV.
pub const D_MIN_A: f64 = 0.8;

/// Cu Kα1 wavelength (Å) used for RIR values (pymatgen's `CuKa1`).
pub const CU_KA1_A: f64 = 1.54056;

/// The embedded CIFs: (phase name = file stem, CIF text).
const EMBEDDED: &[(&str, &str)] = &[
    ("Dy2O3_C", include_str!("../../data/xrd/Dy2O3_C.cif")),
    ("Gd2O3_C", include_str!("../../data/xrd/Gd2O3_C.cif")),
    ("La2O3_A", include_str!("../../data/xrd/La2O3_A.cif")),
    ("Nd2Fe14B", include_str!("../../data/xrd/Nd2Fe14B.cif")),
    ("Nd2O3_A", include_str!("../../data/xrd/Nd2O3_A.cif")),
    ("NdF3", include_str!("../../data/xrd/NdF3.cif")),
    ("SmCo5", include_str!("../../data/xrd/SmCo5.cif")),
    ("Y2O3_C", include_str!("../../data/xrd/Y2O3_C.cif")),
    (
        "baddeleyite_mZrO2",
        include_str!("../../data/xrd/baddeleyite_mZrO2.cif"),
    ),
    (
        "bastnasite_Ce",
        include_str!("../../data/xrd/bastnasite_Ce.cif"),
    ),
    ("cZrO2_YSZ", include_str!("../../data/xrd/cZrO2_YSZ.cif")),
    ("calcite", include_str!("../../data/xrd/calcite.cif")),
    (
        "cerianite_CeO2",
        include_str!("../../data/xrd/cerianite_CeO2.cif"),
    ),
    ("corundum", include_str!("../../data/xrd/corundum.cif")),
    (
        "cristobalite_low",
        include_str!("../../data/xrd/cristobalite_low.cif"),
    ),
    ("goethite", include_str!("../../data/xrd/goethite.cif")),
    ("hematite", include_str!("../../data/xrd/hematite.cif")),
    ("ilmenite", include_str!("../../data/xrd/ilmenite.cif")),
    ("kaolinite", include_str!("../../data/xrd/kaolinite.cif")),
    ("magnetite", include_str!("../../data/xrd/magnetite.cif")),
    (
        "monazite_Ce",
        include_str!("../../data/xrd/monazite_Ce.cif"),
    ),
    ("mullite", include_str!("../../data/xrd/mullite.cif")),
    ("quartz", include_str!("../../data/xrd/quartz.cif")),
    ("rutile", include_str!("../../data/xrd/rutile.cif")),
    ("tZrO2", include_str!("../../data/xrd/tZrO2.cif")),
    ("xenotime_Y", include_str!("../../data/xrd/xenotime_Y.cif")),
    ("zircon", include_str!("../../data/xrd/zircon.cif")),
    // Rare-earth compounds in trade, host phases of ores, sands and ceramics, and the
    // phases of the Dara real patterns (data/xrd/SOURCES.md, section "Trade and host phases").
    ("Eu2O3_C", include_str!("../../data/xrd/Eu2O3_C.cif")),
    ("In2O3", include_str!("../../data/xrd/In2O3.cif")),
    ("LaOH3", include_str!("../../data/xrd/LaOH3.cif")),
    ("NdOH3", include_str!("../../data/xrd/NdOH3.cif")),
    ("Pr6O11", include_str!("../../data/xrd/Pr6O11.cif")),
    ("Sm2Co17", include_str!("../../data/xrd/Sm2Co17.cif")),
    ("Sm2O3_C", include_str!("../../data/xrd/Sm2O3_C.cif")),
    ("Tb4O7", include_str!("../../data/xrd/Tb4O7.cif")),
    (
        "YIG_Y3Fe5O12",
        include_str!("../../data/xrd/YIG_Y3Fe5O12.cif"),
    ),
    ("anatase", include_str!("../../data/xrd/anatase.cif")),
    ("barite", include_str!("../../data/xrd/barite.cif")),
    ("dolomite", include_str!("../../data/xrd/dolomite.cif")),
    (
        "fluocerite_CeF3",
        include_str!("../../data/xrd/fluocerite_CeF3.cif"),
    ),
    (
        "fluocerite_LaF3",
        include_str!("../../data/xrd/fluocerite_LaF3.cif"),
    ),
    (
        "fluorapatite",
        include_str!("../../data/xrd/fluorapatite.cif"),
    ),
    ("fluorite", include_str!("../../data/xrd/fluorite.cif")),
    (
        "franklinite",
        include_str!("../../data/xrd/franklinite.cif"),
    ),
    ("gibbsite", include_str!("../../data/xrd/gibbsite.cif")),
    ("kozoite_Nd", include_str!("../../data/xrd/kozoite_Nd.cif")),
    (
        "monazite_La",
        include_str!("../../data/xrd/monazite_La.cif"),
    ),
    (
        "pseudobrookite",
        include_str!("../../data/xrd/pseudobrookite.cif"),
    ),
    ("pyrite", include_str!("../../data/xrd/pyrite.cif")),
    (
        "rhabdophane_Ce",
        include_str!("../../data/xrd/rhabdophane_Ce.cif"),
    ),
    (
        "shcherbinaite_V2O5",
        include_str!("../../data/xrd/shcherbinaite_V2O5.cif"),
    ),
    ("siderite", include_str!("../../data/xrd/siderite.cif")),
    ("spinel", include_str!("../../data/xrd/spinel.cif")),
    ("wustite", include_str!("../../data/xrd/wustite.cif")),
    (
        "zabuyelite_Li2CO3",
        include_str!("../../data/xrd/zabuyelite_Li2CO3.cif"),
    ),
    ("zincite", include_str!("../../data/xrd/zincite.cif")),
    // Added for RockJock quantification (clay and feldspar hosts).
    ("albite_low", include_str!("../../data/xrd/albite_low.cif")),
    ("illite_1M", include_str!("../../data/xrd/illite_1M.cif")),
    (
        "montmorillonite_Na",
        include_str!("../../data/xrd/montmorillonite_Na.cif"),
    ),
    ("orthoclase", include_str!("../../data/xrd/orthoclase.cif")),
    (
        "microcline_max",
        include_str!("../../data/xrd/microcline_max.cif"),
    ),
    (
        "labradorite",
        include_str!("../../data/xrd/labradorite.cif"),
    ),
];

/// One reference phase.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Name (CIF file stem), e.g. `hematite`, `monazite_Ce`.
    pub name: String,
    /// The structure.
    pub structure: Structure,
    /// Reflections to [`D_MIN_A`], with Debye–Waller damping.
    pub reflections: Vec<Reflection>,
    /// Crystallographic density, g/cm³.
    pub density_g_cm3: f64,
    /// Reference intensity ratio I/I_corundum (strongest lines, 50:50 by weight, Cu Kα1),
    /// with the measured [`Phase::intensity_factor`]s.
    pub rir: f64,
    /// True when the phase contains Sc, Y or a lanthanide.
    pub rare_earth: bool,
    /// True for phases embedded in the program.
    pub builtin: bool,
    /// Normal (hkl) of a perfect cleavage along which ground grains lie flat in a
    /// packed mount (preferred orientation), for the embedded phases that have one
    /// ([`CLEAVAGE`]); layer phases are recognised from their pattern instead.
    pub cleavage: Option<[i32; 3]>,
    /// A swelling clay: its basal spacing follows the interlayer water (humidity,
    /// exchange cation), so the refinement frees its c vector ([`SWELLING`]).
    pub swelling: bool,
    /// Measured over ideal diffracted intensity per unit weight, corundum = 1
    /// ([`intensity_factor`]): what a real powder of this mineral gives against its
    /// structure model. Part of [`Phase::weight_scale`], so every modelled pattern and
    /// every weight fraction carries it.
    pub intensity_factor: f64,
}

/// Measured/ideal intensity factors (`data/xrd/intensity_calibration.csv`): for each
/// library phase with a USGS RockJock standard of the same mineral, the factor that
/// makes the refinement read the standard's 1 : 1 mixture with corundum (built from
/// its measured pattern and measured RIR) as 1 : 1. Real powders diffract less than
/// their ideal models (microabsorption, extinction, stacking disorder, poorly ordered
/// grain rims), by 0.5–0.9 against corundum; leaving that out reads the well-ordered
/// phases (corundum, quartz) high in every real mixture.
const CALIBRATION: &str = include_str!("../../data/xrd/intensity_calibration.csv");

/// The parsed [`CALIBRATION`]: its `(phase, factor)` rows and their median.
struct Calibration {
    rows: Vec<(String, f64)>,
    median: f64,
}

/// [`CALIBRATION`], parsed once.
fn calibration() -> &'static Calibration {
    static CAL: OnceLock<Calibration> = OnceLock::new();
    CAL.get_or_init(|| {
        let rows: Vec<(String, f64)> = CALIBRATION
            .lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split(',');
                let name = f.next()?.trim().to_string();
                let factor: f64 = f.nth(2)?.trim().parse().ok()?;
                (factor > 0.0).then_some((name, factor))
            })
            .collect();
        let mut all: Vec<f64> = rows.iter().map(|(_, f)| *f).collect();
        all.sort_by(f64::total_cmp);
        let m = all.len() / 2;
        let median = match all.len() {
            0 => 1.0,
            n if n % 2 == 1 => all[m],
            _ => 0.5 * (all[m - 1] + all[m]),
        };
        Calibration { rows, median }
    })
}

/// Intensity factor of a phase: corundum is the reference (1); an embedded phase with
/// a measured standard takes its factor; any other phase the median of the measured
/// ones, the best estimate of how a real powder compares with its ideal model when
/// its own standard is missing.
pub fn intensity_factor(name: &str, builtin: bool) -> f64 {
    if name == "corundum" {
        return 1.0;
    }
    let cal = calibration();
    cal.rows
        .iter()
        .find(|(n, _)| builtin && n == name)
        .map_or(cal.median, |(_, f)| *f)
}

/// Embedded swelling clays: smectites take up one or two water layers between their
/// 2:1 layers, d(001) ≈ 12.4–15.5 Å (Brindley & Brown, *Crystal Structures of Clay
/// Minerals and their X-ray Identification* (1980), ch. 2).
const SWELLING: &[&str] = &["montmorillonite_Na"];

/// Perfect cleavages of embedded non-layer phases (Deer, Howie & Zussman, *An
/// Introduction to the Rock-Forming Minerals*, 3rd ed. (2013)): feldspars {001},
/// the rhombohedral carbonates {10-14} (hexagonal indices (104)) and barite {001};
/// and V2O5, whose VO5 pyramids form layers normal to c (Shklover et al. (1996), the
/// library's structure), {001}.
/// Cleaved fragments pack with these planes parallel to the mount, the texture that
/// a March–Dollase factor along their normal describes.
const CLEAVAGE: &[(&str, [i32; 3])] = &[
    ("orthoclase", [0, 0, 1]),
    ("microcline_max", [0, 0, 1]),
    ("albite_low", [0, 0, 1]),
    ("labradorite", [0, 0, 1]),
    ("calcite", [1, 0, 4]),
    ("dolomite", [1, 0, 4]),
    ("siderite", [1, 0, 4]),
    ("barite", [0, 0, 1]),
    ("shcherbinaite_V2O5", [0, 0, 1]),
];

impl Phase {
    /// Build a phase from CIF text.
    ///
    /// # Errors
    /// CIF parse errors.
    pub fn from_cif(name: &str, text: &str, builtin: bool) -> Result<Self> {
        let structure = parse_cif(text, name)?;
        let refl = reflections(&structure, D_MIN_A, true);
        if refl.is_empty() {
            return Err(Error::parse("CIF", format!("{name}: no reflections")));
        }
        let rare_earth = structure
            .elements()
            .iter()
            .any(|e| crate::tables::is_rare_earth(e));
        Ok(Self {
            name: name.to_string(),
            density_g_cm3: structure.density_g_cm3(),
            structure,
            reflections: refl,
            rir: 0.0,
            rare_earth,
            builtin,
            swelling: builtin && SWELLING.contains(&name),
            cleavage: if builtin {
                CLEAVAGE.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
            } else {
                None
            },
            intensity_factor: intensity_factor(name, builtin),
        })
    }

    /// Intensity per unit weight fraction of a line with Σ|F|²·LP = `i`:
    /// I ∝ η·w·i / (V²·ρ) (Klug & Alexander, *X-ray Diffraction Procedures*, 2nd ed.
    /// (1974), Eq. 7-8; the mixture's mass attenuation cancels in ratios), η the
    /// phase's measured [`Phase::intensity_factor`].
    pub fn weight_scale(&self) -> f64 {
        let v = self.structure.volume();
        self.intensity_factor / (v * v * self.density_g_cm3)
    }

    /// Strongest integrated line intensity per unit weight fraction for a geometry.
    pub fn strongest_per_weight(&self, geometry: Geometry) -> f64 {
        sticks(&self.reflections, geometry, f64::MIN, f64::MAX)
            .iter()
            .map(|s| s.intensity)
            .fold(0.0, f64::max)
            * self.weight_scale()
    }

    /// Mass fraction of rare-earth elements in the phase.
    pub fn ree_mass_fraction(&self) -> f64 {
        self.structure
            .element_mass_fractions()
            .iter()
            .filter(|(e, _)| crate::tables::is_rare_earth(e))
            .map(|(_, f)| f)
            .sum()
    }
}

/// A set of reference phases.
#[derive(Debug, Clone)]
pub struct Library {
    /// The phases, embedded ones first.
    pub phases: Vec<Phase>,
}

impl Library {
    /// Phase by name.
    pub fn get(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Index of a phase by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.name == name)
    }

    /// Names of all phases.
    pub fn names(&self) -> Vec<&str> {
        self.phases.iter().map(|p| p.name.as_str()).collect()
    }

    fn compute_rirs(&mut self) {
        let cu = Geometry::BraggBrentano {
            wavelength_a: CU_KA1_A,
        };
        let corundum = self.get("corundum").map(|p| p.strongest_per_weight(cu));
        for p in &mut self.phases {
            p.rir = match corundum {
                Some(c) if c > 0.0 => p.strongest_per_weight(cu) / c,
                _ => 0.0,
            };
        }
    }
}

/// The embedded library, built once.
pub fn builtin() -> Arc<Library> {
    static LIB: OnceLock<Arc<Library>> = OnceLock::new();
    LIB.get_or_init(|| {
        let mut lib = Library {
            phases: EMBEDDED
                .iter()
                .filter_map(|(name, text)| Phase::from_cif(name, text, true).ok())
                .collect(),
        };
        lib.compute_rirs();
        Arc::new(lib)
    })
    .clone()
}

/// The embedded library plus every `*.cif` in `extra_dir` (a CIF whose stem equals an
/// embedded phase replaces it).
///
/// # Errors
/// Unreadable directory or a CIF that does not parse (named in the error).
pub fn with_extra(extra_dir: Option<&Path>) -> Result<Arc<Library>> {
    let Some(dir) = extra_dir else {
        return Ok(builtin());
    };
    let mut lib = (*builtin()).clone();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io(e).in_file(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("cif")))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("phase")
            .to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Io(e).in_file(&path))?;
        let phase = Phase::from_cif(&name, &text, false).map_err(|e| e.in_file(&path))?;
        match lib.index(&name) {
            Some(i) => lib.phases[i] = phase,
            None => lib.phases.push(phase),
        }
    }
    lib.compute_rirs();
    Ok(Arc::new(lib))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_cif_parses() {
        let lib = builtin();
        assert_eq!(lib.phases.len(), EMBEDDED.len(), "{:?}", lib.names());
        for p in &lib.phases {
            assert!(
                p.density_g_cm3 > 2.0 && p.density_g_cm3 < 9.5,
                "{} ρ={}",
                p.name,
                p.density_g_cm3
            );
        }
    }

    #[test]
    fn rir_values_are_physical() {
        let lib = builtin();
        // The structure models' own RIRs, before the measured intensity factors.
        let rir = |n: &str| {
            lib.get(n)
                .map(|p| p.rir / p.intensity_factor)
                .unwrap_or(f64::NAN)
        };
        assert!((rir("corundum") - 1.0).abs() < 1e-12);
        // Integrated-intensity RIRs; ICDD cards (peak heights, natural samples) give
        // hematite 2.4–3.5, quartz 3.0–4.3, zircon 4–5, CeO2 ≈ 12–17, kaolinite ≈ 1,
        // zincite ≈ 5.4, dolomite ≈ 2.5, fluorite ≈ 3.6–4, anatase 3.3–5.
        for (name, lo, hi) in [
            ("hematite", 2.4, 4.2),
            ("quartz", 2.8, 4.8),
            ("zircon", 3.5, 6.5),
            ("cerianite_CeO2", 10.0, 18.0),
            ("kaolinite", 0.6, 1.6),
            ("zincite", 4.5, 7.5),
            ("dolomite", 2.0, 3.2),
            ("fluorite", 3.0, 5.0),
            ("anatase", 3.3, 6.0),
        ] {
            assert!((lo..hi).contains(&rir(name)), "{name} RIR {}", rir(name));
        }
    }

    #[test]
    fn intensity_factors_come_from_measured_standards() {
        let lib = builtin();
        let factor = |n: &str| lib.get(n).map(|p| p.intensity_factor).unwrap_or(f64::NAN);
        assert_eq!(factor("corundum"), 1.0);
        let measured = &calibration().rows;
        assert!(measured.len() >= 20, "{} calibrated phases", measured.len());
        for (name, f) in measured {
            assert!(lib.get(name).is_some(), "{name} is not a library phase");
            assert!((0.3..=1.0).contains(f), "{name} factor {f}");
            assert_eq!(factor(name), *f, "{name}");
        }
        // Strongly absorbing iron oxides lose more to microabsorption than quartz does.
        assert!(factor("hematite") < factor("quartz"));
        // Without a standard of its own a phase takes the median of the measured ones,
        // and so does a user's CIF, whatever its name.
        let mut all: Vec<f64> = measured.iter().map(|(_, f)| *f).collect();
        all.sort_by(f64::total_cmp);
        let lo = all[(all.len() - 1) / 2];
        let hi = all[all.len() / 2];
        for f in [factor("monazite_Ce"), intensity_factor("quartz", false)] {
            assert!((lo..=hi).contains(&f), "median {f} not in [{lo}, {hi}]");
        }
    }
}
