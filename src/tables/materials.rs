//! Cargo materials as phase mixtures: the declared commodities (iron ore, zircon /
//! zirconia, ceramics) and the rare-earth carriers a smuggler blends into them.
//!
//! A [`SampleComposition`] is a list of crystalline phases, each named by the stem of
//! its CIF file in `shared/data/xrd/cif` (so the XRD side can render a pattern from the
//! same description), plus an `amorphous` list of components without a structure in the
//! library (glass, trace oxides), each written as a chemical formula. Element mass
//! fractions follow from the formulas (xraydb chemparser, molar masses of
//! Elam, Ravel & Sieber, Radiat. Phys. Chem. 63 (2002) 121).
//!
//! Composition ranges are those of `DOMAIN.md` (Fastmarkets 62 % Fe index spec; IREL
//! zircon spec; PMC9972857 for Y-TZP; ceramicindustry.com for Pr-zircon yellow;
//! couragemagnet.com for NdFeB/SmCo; geology.cz for bastnäsite/monazite REO).
//!
//! ```
//! use reescan::tables::materials::{draw_sample, Carrier, Commodity};
//! let s = draw_sample(Commodity::IronOre, Some(Carrier::NdFeB), 0.05, &[], 7).unwrap();
//! assert!(s.element_wt_pct("Fe") > 45.0);
//! assert!(s.element_wt_pct("Nd") > 0.5);
//! ```

use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A declared commodity (SPEC "Commodities").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Commodity {
    /// Iron ore, HS 2601.
    IronOre,
    /// Zircon sand/flour, zirconia, zirconium silicate.
    Zirconium,
    /// Ceramic bodies and glazes, HS chapter 69.
    Ceramics,
    /// A declared rare-earth shipment.
    RareEarth,
}

impl Commodity {
    /// All commodities, in SPEC order.
    pub const ALL: [Commodity; 4] = [
        Commodity::IronOre,
        Commodity::Zirconium,
        Commodity::Ceramics,
        Commodity::RareEarth,
    ];

    /// The SPEC name (`iron-ore`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Commodity::IronOre => "iron-ore",
            Commodity::Zirconium => "zirconium",
            Commodity::Ceramics => "ceramics",
            Commodity::RareEarth => "rare-earth",
        }
    }
}

impl fmt::Display for Commodity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Commodity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let k = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match k.as_str() {
            "iron-ore" | "ironore" | "iron" => Ok(Commodity::IronOre),
            "zirconium" | "zircon" | "zirconia" => Ok(Commodity::Zirconium),
            "ceramics" | "ceramic" => Ok(Commodity::Ceramics),
            "rare-earth" | "rare-earths" | "ree" => Ok(Commodity::RareEarth),
            _ => Err(Error::Unknown {
                what: "commodity",
                name: s.to_string(),
                known: "iron-ore, zirconium, ceramics, rare-earth".into(),
            }),
        }
    }
}

/// A rare-earth carrier that can be blended into a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Carrier {
    /// Bastnäsite concentrate (LREE fluorocarbonate, 60–75 % REO).
    Bastnasite,
    /// Monazite concentrate (LREE phosphate, ~60 % REO, ThO2 4–12 %).
    Monazite,
    /// Ion-adsorption clay HREE concentrate (Y-dominant mixed oxide).
    IonicClay,
    /// NdFeB magnet powder (Nd+Pr 29–32.5 %, Dy 0.6–1.2 %, ± Tb).
    #[serde(rename = "ndfeb")]
    NdFeB,
    /// SmCo magnet powder.
    #[serde(rename = "smco")]
    SmCo,
    /// A separated rare-earth oxide.
    Oxides,
}

impl Carrier {
    /// All carriers.
    pub const ALL: [Carrier; 6] = [
        Carrier::Bastnasite,
        Carrier::Monazite,
        Carrier::IonicClay,
        Carrier::NdFeB,
        Carrier::SmCo,
        Carrier::Oxides,
    ];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Carrier::Bastnasite => "bastnasite",
            Carrier::Monazite => "monazite",
            Carrier::IonicClay => "ionic-clay",
            Carrier::NdFeB => "ndfeb",
            Carrier::SmCo => "smco",
            Carrier::Oxides => "oxides",
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Carrier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let k = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match k.as_str() {
            "bastnasite" | "bastnaesite" | "bastnäsite" => Ok(Carrier::Bastnasite),
            "monazite" => Ok(Carrier::Monazite),
            "ionic-clay" | "ionic" | "clay" | "hree" => Ok(Carrier::IonicClay),
            "ndfeb" | "magnet" | "nd-fe-b" => Ok(Carrier::NdFeB),
            "smco" | "sm-co" => Ok(Carrier::SmCo),
            "oxides" | "oxide" | "separated-oxides" => Ok(Carrier::Oxides),
            _ => Err(Error::Unknown {
                what: "carrier",
                name: s.to_string(),
                known: "bastnasite, monazite, ionic-clay, ndfeb, smco, oxides".into(),
            }),
        }
    }
}

/// One component of a mixture: a library phase (CIF stem) or an amorphous formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// CIF stem (`hematite`, `monazite_Ce`) for crystalline phases; the formula itself
    /// for amorphous components.
    pub name: String,
    /// Chemical formula used for the element content (may carry substitutions,
    /// e.g. `Ce0.5La0.3Nd0.15Pr0.05CO3F`).
    pub formula: String,
    /// Mass fraction in the sample, wt %.
    pub wt_pct: f64,
    /// True when `name` is a phase of the XRD library.
    pub crystalline: bool,
}

/// A drawn sample: what it is made of, as phases and as elements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleComposition {
    /// The host commodity.
    pub commodity: Commodity,
    /// Which variant of the commodity was drawn ("hematite ore", "3Y-TZP", ...).
    pub variant: String,
    /// The carrier blended in, if any.
    pub carrier: Option<Carrier>,
    /// Mass fraction of the carrier (0..1).
    pub carrier_fraction: f64,
    /// Crystalline phases (CIF stems) with wt % of the whole sample.
    pub phases: Vec<(String, f64)>,
    /// Amorphous / trace components (formulas) with wt %.
    pub amorphous: Vec<(String, f64)>,
    /// Every component with its formula.
    pub components: Vec<Component>,
    /// Element mass fractions, wt %, strongest first, summing to 100.
    pub elements: Vec<(String, f64)>,
}

impl SampleComposition {
    /// wt % of one element (0 when absent).
    pub fn element_wt_pct(&self, symbol: &str) -> f64 {
        self.elements
            .iter()
            .find(|(s, _)| s == symbol)
            .map_or(0.0, |(_, w)| *w)
    }

    /// Total rare earths (Sc, Y, La–Lu), wt %.
    pub fn ree_total_wt_pct(&self) -> f64 {
        self.elements
            .iter()
            .filter(|(s, _)| super::is_rare_earth(s))
            .map(|(_, w)| w)
            .sum()
    }
}

/// A mixture under construction: (name, formula, weight, crystalline).
#[derive(Debug, Clone, Default)]
struct Mix(Vec<(String, String, f64, bool)>);

impl Mix {
    fn phase(&mut self, name: &str, formula: &str, w: f64) -> &mut Self {
        if w > 0.0 {
            self.0.push((name.into(), formula.into(), w, true));
        }
        self
    }
    fn amorphous(&mut self, formula: &str, w: f64) -> &mut Self {
        if w > 0.0 {
            self.0.push((formula.into(), formula.into(), w, false));
        }
        self
    }
    fn total(&self) -> f64 {
        self.0.iter().map(|c| c.2).sum()
    }
    /// Scale to a total of `to` (same units as the weights).
    fn scaled(mut self, to: f64) -> Self {
        let t = self.total();
        if t > 0.0 {
            for c in &mut self.0 {
                c.2 *= to / t;
            }
        }
        self
    }
    fn extend(&mut self, other: Mix) {
        for c in other.0 {
            match self.0.iter_mut().find(|d| d.0 == c.0 && d.1 == c.1) {
                Some(d) => d.2 += c.2,
                None => self.0.push(c),
            }
        }
    }
}

fn u(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..hi)
    }
}

/// Iron ore (hematite, magnetite or goethitic), Fe 51–65 wt %, SiO2 ≤ 8, Al2O3 ≤ 4,
/// P ≤ 0.15, Mn ~0.04, TiO2 ~0.15 (Fastmarkets 62 % Fe index; API W. Pilbara).
fn iron_ore(rng: &mut ChaCha8Rng) -> (String, Mix) {
    let mut m = Mix::default();
    let kind = rng.random_range(0..3);
    let quartz = u(rng, 2.0, 8.0);
    let kaolinite = u(rng, 1.0, 6.0);
    let variant = match kind {
        0 => {
            m.phase("hematite", "Fe2O3", u(rng, 70.0, 92.0)).phase(
                "goethite",
                "FeO2H",
                u(rng, 0.0, 12.0),
            );
            "hematite ore"
        }
        1 => {
            m.phase("magnetite", "Fe3O4", u(rng, 65.0, 90.0)).phase(
                "hematite",
                "Fe2O3",
                u(rng, 0.0, 10.0),
            );
            "magnetite ore"
        }
        _ => {
            m.phase("goethite", "FeO2H", u(rng, 35.0, 60.0)).phase(
                "hematite",
                "Fe2O3",
                u(rng, 25.0, 45.0),
            );
            "goethitic ore"
        }
    };
    m.phase("quartz", "SiO2", quartz)
        .phase("kaolinite", "Al2Si2O9H4", kaolinite)
        .phase("rutile", "TiO2", u(rng, 0.05, 0.3))
        // apatite-hosted P (0.03–0.15 % P)
        .amorphous("Ca5P3O13H", u(rng, 0.15, 0.8))
        .amorphous("MnO", u(rng, 0.02, 0.15))
        .amorphous("CaO", u(rng, 0.02, 0.3))
        .amorphous("K2O", u(rng, 0.01, 0.1))
        // natural crustal REE: tens of ppm (Ce ~66 ppm crust)
        .amorphous("CeO2", u(rng, 0.001, 0.01))
        .amorphous("La2O3", u(rng, 0.0005, 0.004));
    (variant.into(), m)
}

/// Hf-bearing zircon formula: Zr/Hf ≈ 50 by mass (IREL spec).
fn zircon_formula(rng: &mut ChaCha8Rng) -> String {
    // Zr/Hf mass ratio 40–60 → Hf atom fraction = 91.224 / (ratio · 178.49 + 91.224)
    let ratio = u(rng, 40.0, 60.0);
    let hf = 91.224 / (ratio * 178.49 + 91.224);
    format!("Zr{:.5}Hf{:.5}SiO4", 1.0 - hf, hf)
}

/// Zircon sand/flour (ZrO2+HfO2 64.5–66, Y 200–1600 ppm, U+Th < 500 ppm; lower grades
/// up to ~0.6 % monazite) or zirconia (3Y-TZP with Y2O3 4.5–5.6 %, or fused m-ZrO2).
fn zirconium(rng: &mut ChaCha8Rng) -> (String, Mix) {
    let mut m = Mix::default();
    let kind = rng.random_range(0..4);
    let variant = match kind {
        0 | 1 => {
            let zr = zircon_formula(rng);
            m.phase("zircon", &zr, u(rng, 95.0, 99.0))
                .phase("quartz", "SiO2", u(rng, 0.3, 2.5))
                .phase("rutile", "TiO2", u(rng, 0.02, 0.12))
                .phase("hematite", "Fe2O3", u(rng, 0.02, 0.1))
                // Y 200–1600 ppm carried by xenotime (YPO4: 48 % Y)
                .phase("xenotime_Y", "YPO4", u(rng, 0.042, 0.33))
                .amorphous("ThO2", u(rng, 0.005, 0.025))
                .amorphous("UO2", u(rng, 0.005, 0.03))
                .amorphous("Al2O3", u(rng, 0.05, 0.4));
            if kind == 1 {
                // medium grade: up to ~0.6 % monazite (~0.1 % Ce)
                m.phase("monazite_Ce", NATURAL_MONAZITE, u(rng, 0.05, 0.5));
                "zircon flour (medium grade)"
            } else {
                "zircon sand (premium)"
            }
        }
        2 => {
            // 3Y-TZP: Y2O3 4.5–5.6 wt % dissolved in tetragonal ZrO2 (PMC9972857)
            let y2o3 = u(rng, 4.5, 5.6);
            // mol fraction Y in (Zr,Y)O2-x from wt % Y2O3
            let n_y = 2.0 * y2o3 / 225.81;
            let n_zr = (100.0 - y2o3 - 1.8) / 123.22;
            let x = n_y / (n_y + n_zr);
            let f = format!(
                "Zr{:.4}Hf{:.4}Y{:.4}O{:.4}",
                (1.0 - x) * 0.99,
                (1.0 - x) * 0.01,
                x,
                2.0 - x / 2.0
            );
            m.phase("tZrO2", &f, 100.0 - 1.8)
                .amorphous("HfO2", 1.5)
                .amorphous("Al2O3", 0.25)
                .amorphous("SiO2", u(rng, 0.0, 0.05));
            "zirconia 3Y-TZP"
        }
        _ => {
            m.phase("baddeleyite_mZrO2", "Zr0.99Hf0.01O2", u(rng, 89.0, 95.0))
                .phase("zircon", &zircon_formula(rng), u(rng, 1.0, 6.0))
                .amorphous("SiO2", u(rng, 0.2, 2.0))
                .amorphous("CaO", u(rng, 0.05, 0.5))
                .amorphous("Fe2O3", u(rng, 0.02, 0.1))
                .amorphous("TiO2", u(rng, 0.05, 0.2));
            "fused zirconia"
        }
    };
    (variant.into(), m)
}

/// Ceramics: porcelain (SiO2 65–70, Al2O3 20–26, K2O+Na2O 3–5, optional zircon
/// opacifier 1–8 %), alumina (92–99.7 % Al2O3, Y2O3/La2O3 sintering aids) or a
/// tile with Pr-zircon yellow glaze (~5 % stain in the glaze).
fn ceramics(rng: &mut ChaCha8Rng) -> (String, Mix) {
    let mut m = Mix::default();
    let kind = rng.random_range(0..3);
    let variant = match kind {
        0 => {
            m.phase("quartz", "SiO2", u(rng, 18.0, 28.0))
                .phase("mullite", "Al4.5Si1.5O9.75", u(rng, 12.0, 22.0))
                .amorphous("SiO2", u(rng, 25.0, 32.0))
                .amorphous("Al2O3", u(rng, 5.0, 10.0))
                .amorphous("K2O", u(rng, 2.0, 3.5))
                .amorphous("Na2O", u(rng, 0.5, 1.5))
                .amorphous("CaO", u(rng, 0.2, 1.0))
                .amorphous("Fe2O3", u(rng, 0.3, 1.0))
                .amorphous("TiO2", u(rng, 0.1, 0.5))
                .phase("zircon", &zircon_formula(rng), u(rng, 0.0, 6.0));
            "porcelain"
        }
        1 => {
            let aid = rng.random_range(0..3);
            m.phase("corundum", "Al2O3", u(rng, 92.0, 99.5))
                .phase("mullite", "Al4.5Si1.5O9.75", u(rng, 0.0, 4.0))
                .amorphous("SiO2", u(rng, 0.1, 2.0))
                .amorphous("MgO", u(rng, 0.05, 0.5))
                .amorphous("CaO", u(rng, 0.02, 0.4))
                .amorphous("Fe2O3", u(rng, 0.02, 0.15));
            match aid {
                0 => m.phase("Y2O3_C", "Y2O3", u(rng, 0.1, 0.6)),
                1 => m.phase("La2O3_A", "La2O3", u(rng, 0.05, 0.4)),
                _ => &mut m,
            };
            "alumina"
        }
        _ => {
            // glazed tile seen through the glaze: body + glaze with Pr-zircon stain
            m.phase("quartz", "SiO2", u(rng, 15.0, 25.0))
                .phase("mullite", "Al4.5Si1.5O9.75", u(rng, 8.0, 15.0))
                .phase("zircon", &zircon_formula(rng), u(rng, 3.0, 8.0))
                // Pr-zircon stain: ~5 % PrO2 in zircon, stain ~5 % of the glaze
                .phase("zircon", "Zr0.93Pr0.07SiO4", u(rng, 1.0, 4.0))
                .amorphous("SiO2", u(rng, 30.0, 40.0))
                .amorphous("Al2O3", u(rng, 6.0, 12.0))
                .amorphous("CaO", u(rng, 2.0, 8.0))
                .amorphous("ZnO", u(rng, 0.5, 4.0))
                .amorphous("K2O", u(rng, 1.0, 3.0))
                .amorphous("Na2O", u(rng, 0.5, 2.0))
                .amorphous("Fe2O3", u(rng, 0.2, 0.8));
            "glazed tile (Pr-zircon yellow)"
        }
    };
    (variant.into(), m)
}

/// Natural LREE monazite: Ce-dominant, NdPr ~20 % of REO, Th 4–12 % ThO2 of the
/// concentrate (DOMAIN.md, monazite concentrate row).
const NATURAL_MONAZITE: &str = "Ce0.44La0.22Nd0.16Pr0.045Sm0.025Gd0.012Y0.018Th0.07PO4";

/// Bastnäsite LREE split: Ce ≈ 50 %, La ≈ 33 %, Nd ≈ 12 %, Pr ≈ 4 % of REO.
const NATURAL_BASTNASITE: &str = "Ce0.50La0.33Nd0.12Pr0.04Sm0.01CO3F";

fn bastnasite(rng: &mut ChaCha8Rng) -> Mix {
    let mut m = Mix::default();
    m.phase("bastnasite_Ce", NATURAL_BASTNASITE, u(rng, 80.0, 95.0))
        .phase("calcite", "CaCO3", u(rng, 2.0, 8.0))
        .phase("quartz", "SiO2", u(rng, 1.0, 5.0))
        .amorphous("BaSO4", u(rng, 1.0, 5.0))
        .amorphous("CaF2", u(rng, 0.5, 3.0))
        .amorphous("SrCO3", u(rng, 0.1, 0.8));
    m
}

fn monazite(rng: &mut ChaCha8Rng) -> Mix {
    let mut m = Mix::default();
    m.phase("monazite_Ce", NATURAL_MONAZITE, u(rng, 85.0, 95.0))
        .phase("zircon", "ZrSiO4", u(rng, 1.0, 5.0))
        .phase("quartz", "SiO2", u(rng, 1.0, 5.0))
        .phase("ilmenite", "FeTiO3", u(rng, 0.5, 3.0))
        .phase("rutile", "TiO2", u(rng, 0.2, 1.5));
    m
}

/// Ion-adsorption clay concentrate (calcined mixed oxide): Y ~60 % of REO, Dy ~7 %,
/// Gd, Tb, Er, Ho, Yb, Nd; kaolinite residue.
fn ionic_clay(rng: &mut ChaCha8Rng) -> Mix {
    let mut m = Mix::default();
    m.phase(
        "Y2O3_C",
        "Y1.18Dy0.14Gd0.12(Er0.1)Nd0.1Ho0.03Yb0.08Tb0.025Sm0.05La0.06Lu0.015(Eu0.005)Tm0.015O3",
        u(rng, 85.0, 95.0),
    )
    .phase("kaolinite", "Al2Si2O9H4", u(rng, 2.0, 10.0))
    .amorphous("CaO", u(rng, 0.5, 2.0));
    m
}

/// NdFeB magnet powder: Nd+Pr 29–32.5, Fe 64–69, B 1.1–1.2, Dy 0.6–1.2 (+Tb),
/// Co/Al/Cu minor (couragemagnet.com).
fn ndfeb(rng: &mut ChaCha8Rng) -> Mix {
    let mut m = Mix::default();
    let dy = u(rng, 0.015, 0.04);
    let tb = if rng.random_bool(0.4) {
        u(rng, 0.005, 0.02)
    } else {
        0.0
    };
    let pr = u(rng, 0.18, 0.25);
    let nd = 1.0 - dy - tb - pr;
    let co = u(rng, 0.0, 0.3);
    let f = format!(
        "Nd{:.4}Pr{:.4}Dy{:.4}Tb{:.4}Fe{:.3}Co{:.3}B",
        2.0 * nd,
        2.0 * pr,
        2.0 * dy,
        2.0 * tb,
        14.0 - co,
        co
    );
    m.phase("Nd2Fe14B", &f, u(rng, 88.0, 94.0))
        // RE-rich, oxidised grain-boundary phase
        .phase("Nd2O3_A", "Nd1.6Pr0.4O3", u(rng, 3.0, 7.0))
        .amorphous("Al", u(rng, 0.1, 0.8))
        .amorphous("Cu", u(rng, 0.05, 0.3));
    m
}

/// SmCo powder: SmCo5 (Sm ~34 %) or Sm2Co17-type (Sm 23–28, Co 48–52, Fe 14–17,
/// Cu 5–7, Zr 2–3) written on the SmCo5 structure.
fn smco(rng: &mut ChaCha8Rng) -> Mix {
    let mut m = Mix::default();
    if rng.random_bool(0.5) {
        m.phase("SmCo5", "SmCo5", u(rng, 95.0, 99.0))
            .amorphous("Sm2O3", u(rng, 1.0, 5.0));
    } else {
        m.phase("SmCo5", "SmCo4.9Fe1.55Cu0.68Zr0.18", u(rng, 95.0, 99.0))
            .amorphous("Sm2O3", u(rng, 1.0, 5.0));
    }
    m
}

/// A separated oxide, chosen by the seed.
fn oxides(rng: &mut ChaCha8Rng) -> Mix {
    let mut m = Mix::default();
    let choices: [(&str, &str, bool); 12] = [
        ("Nd2O3_A", "Nd2O3", true),
        ("cerianite_CeO2", "CeO2", true),
        ("La2O3_A", "La2O3", true),
        ("Y2O3_C", "Y2O3", true),
        ("Gd2O3_C", "Gd2O3", true),
        ("Dy2O3_C", "Dy2O3", true),
        ("Nd2O3_A", "Nd1.6Pr0.4O3", true),
        ("Pr6O11", "Pr6O11", false),
        ("Sm2O3", "Sm2O3", false),
        ("Tb4O7", "Tb4O7", false),
        ("Eu2O3", "Eu2O3", false),
        ("Er2O3", "Er2O3", false),
    ];
    let (name, formula, cryst) = choices[rng.random_range(0..choices.len())];
    if cryst {
        m.phase(name, formula, 99.5);
    } else {
        m.amorphous(formula, 99.5);
    }
    m.amorphous("CaO", 0.3).amorphous("SiO2", 0.2);
    m
}

fn carrier_mix(c: Carrier, rng: &mut ChaCha8Rng) -> Mix {
    match c {
        Carrier::Bastnasite => bastnasite(rng),
        Carrier::Monazite => monazite(rng),
        Carrier::IonicClay => ionic_clay(rng),
        Carrier::NdFeB => ndfeb(rng),
        Carrier::SmCo => smco(rng),
        Carrier::Oxides => oxides(rng),
    }
}

/// The oxide used to add an explicit rare earth (`--ree Nd=1.5`): its library phase
/// where one exists, else the amorphous oxide, and the element's mass fraction in it.
fn ree_oxide(symbol: &str) -> Option<(&'static str, &'static str, bool)> {
    Some(match symbol {
        "La" => ("La2O3_A", "La2O3", true),
        "Ce" => ("cerianite_CeO2", "CeO2", true),
        "Nd" => ("Nd2O3_A", "Nd2O3", true),
        "Y" => ("Y2O3_C", "Y2O3", true),
        "Gd" => ("Gd2O3_C", "Gd2O3", true),
        "Dy" => ("Dy2O3_C", "Dy2O3", true),
        "Pr" => ("Pr6O11", "Pr6O11", false),
        "Sm" => ("Sm2O3", "Sm2O3", false),
        "Eu" => ("Eu2O3", "Eu2O3", false),
        "Tb" => ("Tb4O7", "Tb4O7", false),
        "Ho" => ("Ho2O3", "Ho2O3", false),
        "Er" => ("Er2O3", "Er2O3", false),
        "Tm" => ("Tm2O3", "Tm2O3", false),
        "Yb" => ("Yb2O3", "Yb2O3", false),
        "Lu" => ("Lu2O3", "Lu2O3", false),
        "Sc" => ("Sc2O3", "Sc2O3", false),
        "Pm" => return None,
        _ => return None,
    })
}

/// Element mass fraction (0..1) of `symbol` in `formula`.
fn mass_fraction_in(formula: &str, symbol: &str) -> Result<f64> {
    let f = super::xraydb()
        .mass_fractions(formula)
        .map_err(|e| Error::Invalid {
            what: "formula",
            message: format!("{formula}: {e}"),
        })?;
    Ok(f.iter().find(|(s, _)| s == symbol).map_or(0.0, |(_, w)| *w))
}

/// The host mixture of a commodity (100 wt %).
fn host_mix(commodity: Commodity, rng: &mut ChaCha8Rng) -> (String, Mix) {
    match commodity {
        Commodity::IronOre => iron_ore(rng),
        Commodity::Zirconium => zirconium(rng),
        Commodity::Ceramics => ceramics(rng),
        Commodity::RareEarth => ("rare-earth concentrate".into(), bastnasite(rng)),
    }
}

/// Draw a sample of a declared commodity, optionally blended with `fraction` (0..1)
/// of a rare-earth carrier and with explicit rare earths (`(symbol, wt % of element)`)
/// added as oxides. Deterministic per `seed`.
///
/// For `Commodity::RareEarth` the carrier (bastnäsite when none is given) is the
/// whole sample.
///
/// # Errors
/// An unknown or non-rare-earth symbol in `explicit_ree`, a fraction outside 0..1, or
/// explicit additions over 100 %.
pub fn draw_sample(
    commodity: Commodity,
    carrier: Option<Carrier>,
    fraction: f64,
    explicit_ree: &[(String, f64)],
    seed: u64,
) -> Result<SampleComposition> {
    if !(0.0..=1.0).contains(&fraction) || !fraction.is_finite() {
        return Err(Error::Invalid {
            what: "carrier fraction",
            message: format!("{fraction} (must be within 0..1)"),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut variant, host) = host_mix(commodity, &mut rng);
    let (carrier, fraction) = match (commodity, carrier) {
        (Commodity::RareEarth, c) => (Some(c.unwrap_or(Carrier::Bastnasite)), 1.0),
        (_, None) => (None, 0.0),
        (_, Some(c)) => (Some(c), fraction),
    };
    // explicit rare earths, as oxides, wt % of the sample
    let mut added = Mix::default();
    for (sym, wt) in explicit_ree {
        let Some((name, formula, cryst)) = ree_oxide(sym) else {
            return Err(Error::Unknown {
                what: "rare earth",
                name: sym.clone(),
                known: "Sc Y La Ce Pr Nd Sm Eu Gd Tb Dy Ho Er Tm Yb Lu".into(),
            });
        };
        let frac = mass_fraction_in(formula, sym)?;
        let oxide_wt = wt / frac;
        if cryst {
            added.phase(name, formula, oxide_wt);
        } else {
            added.amorphous(formula, oxide_wt);
        }
    }
    let added_total = added.total();
    if added_total >= 100.0 || !added_total.is_finite() {
        return Err(Error::Invalid {
            what: "rare-earth additions",
            message: format!("{added_total:.1} wt % of oxides (must be < 100)"),
        });
    }
    let rest = 100.0 - added_total;
    let mut mix = Mix::default();
    let is_re = commodity == Commodity::RareEarth;
    if let Some(c) = carrier {
        let cm = carrier_mix(c, &mut rng);
        mix.extend(cm.scaled(rest * fraction));
        if is_re {
            variant = format!("{c} concentrate");
        }
    }
    if !is_re {
        mix.extend(host.scaled(rest * (1.0 - fraction)));
    }
    mix.extend(added);
    finish(commodity, variant, carrier, fraction, mix)
}

fn finish(
    commodity: Commodity,
    variant: String,
    carrier: Option<Carrier>,
    fraction: f64,
    mix: Mix,
) -> Result<SampleComposition> {
    let mix = mix.scaled(100.0);
    let mut elements: Vec<(String, f64)> = Vec::new();
    let mut components = Vec::new();
    let (mut phases, mut amorphous) = (Vec::new(), Vec::new());
    for (name, formula, w, cryst) in mix.0 {
        let fr = super::xraydb()
            .mass_fractions(&formula)
            .map_err(|e| Error::Invalid {
                what: "formula",
                message: format!("{formula}: {e}"),
            })?;
        for (s, f) in fr {
            match elements.iter_mut().find(|(e, _)| *e == s) {
                Some((_, acc)) => *acc += f * w,
                None => elements.push((s, f * w)),
            }
        }
        let list = if cryst { &mut phases } else { &mut amorphous };
        match list
            .iter_mut()
            .find(|(n, _): &&mut (String, f64)| *n == name)
        {
            Some((_, acc)) => *acc += w,
            None => list.push((name.clone(), w)),
        }
        components.push(Component {
            name,
            formula,
            wt_pct: w,
            crystalline: cryst,
        });
    }
    let by_weight = |a: &(String, f64), b: &(String, f64)| b.1.total_cmp(&a.1);
    elements.sort_by(by_weight);
    phases.sort_by(by_weight);
    amorphous.sort_by(by_weight);
    Ok(SampleComposition {
        commodity,
        variant,
        carrier,
        carrier_fraction: fraction,
        phases,
        amorphous,
        components,
        elements,
    })
}

/// Parse `Nd=1.5,Dy=0.3` (wt % of element) into pairs.
///
/// # Errors
/// A term without `=`, a non-numeric or negative value.
pub fn parse_ree_list(text: &str) -> Result<Vec<(String, f64)>> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (s, v) = t.split_once('=').ok_or_else(|| Error::Invalid {
                what: "--ree",
                message: format!("'{t}' (expected EL=WT%, e.g. Nd=1.5)"),
            })?;
            let v: f64 = v
                .trim()
                .trim_end_matches('%')
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| Error::Invalid {
                    what: "--ree",
                    message: format!("'{t}' (wt % must be a number ≥ 0)"),
                })?;
            Ok((s.trim().to_string(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIF_STEMS: [&str; 27] = [
        "Dy2O3_C",
        "Gd2O3_C",
        "La2O3_A",
        "Nd2Fe14B",
        "Nd2O3_A",
        "NdF3",
        "SmCo5",
        "Y2O3_C",
        "baddeleyite_mZrO2",
        "bastnasite_Ce",
        "cZrO2_YSZ",
        "calcite",
        "cerianite_CeO2",
        "corundum",
        "cristobalite_low",
        "goethite",
        "hematite",
        "ilmenite",
        "kaolinite",
        "magnetite",
        "monazite_Ce",
        "mullite",
        "quartz",
        "rutile",
        "tZrO2",
        "xenotime_Y",
        "zircon",
    ];

    fn sum(v: &[(String, f64)]) -> f64 {
        v.iter().map(|x| x.1).sum()
    }

    #[test]
    fn every_phase_name_is_a_cif_stem_and_totals_are_100() {
        for c in Commodity::ALL {
            for carrier in [None].into_iter().chain(Carrier::ALL.map(Some)) {
                for seed in 0..12 {
                    let s = draw_sample(c, carrier, 0.1, &[], seed).unwrap();
                    for (p, _) in &s.phases {
                        assert!(CIF_STEMS.contains(&p.as_str()), "{p} not a CIF stem");
                    }
                    let t = sum(&s.phases) + sum(&s.amorphous);
                    assert!((t - 100.0).abs() < 1e-6, "{t}");
                    assert!((sum(&s.elements) - 100.0).abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn iron_ore_fe_is_within_the_index_range() {
        for seed in 0..40 {
            let s = draw_sample(Commodity::IronOre, None, 0.0, &[], seed).unwrap();
            let fe = s.element_wt_pct("Fe");
            assert!((48.0..=68.0).contains(&fe), "{} Fe {fe}", s.variant);
            assert!(s.ree_total_wt_pct() < 0.02);
        }
    }

    #[test]
    fn zircon_has_natural_y_and_zr_hf_near_50() {
        let mut seen = 0;
        for seed in 0..30 {
            let s = draw_sample(Commodity::Zirconium, None, 0.0, &[], seed).unwrap();
            if s.variant.starts_with("zircon ") {
                seen += 1;
                let y = s.element_wt_pct("Y") * 1e4;
                assert!((150.0..=1700.0).contains(&y), "Y {y} ppm");
                let r = s.element_wt_pct("Zr") / s.element_wt_pct("Hf");
                assert!((38.0..=62.0).contains(&r), "Zr/Hf {r}");
            }
            if s.variant.contains("3Y") {
                let y2o3 = s.element_wt_pct("Y") / 0.7875;
                assert!((4.4..=5.7).contains(&y2o3), "Y2O3 {y2o3}");
            }
        }
        assert!(seen > 5);
    }

    #[test]
    fn ndfeb_blend_carries_magnet_chemistry() {
        let s = draw_sample(Commodity::IronOre, Some(Carrier::NdFeB), 1.0, &[], 3).unwrap();
        let ndpr = s.element_wt_pct("Nd") + s.element_wt_pct("Pr");
        assert!((26.0..=36.0).contains(&ndpr), "Nd+Pr {ndpr}");
        let dy = s.element_wt_pct("Dy");
        assert!((0.4..=2.0).contains(&dy), "Dy {dy}");
        assert!(s.element_wt_pct("Fe") > 55.0);
    }

    #[test]
    fn explicit_ree_are_added_at_the_requested_level() {
        let ree = parse_ree_list("Nd=1.5, Dy=0.3").unwrap();
        let s = draw_sample(Commodity::Ceramics, None, 0.0, &ree, 9).unwrap();
        assert!((s.element_wt_pct("Nd") - 1.5).abs() < 0.01);
        assert!((s.element_wt_pct("Dy") - 0.3).abs() < 0.01);
        assert!(parse_ree_list("Nd1.5").is_err());
        assert!(draw_sample(Commodity::Ceramics, None, 0.0, &[("Fe".into(), 1.0)], 1).is_err());
    }

    #[test]
    fn same_seed_same_sample() {
        let a = draw_sample(Commodity::Zirconium, Some(Carrier::Monazite), 0.2, &[], 5).unwrap();
        let b = draw_sample(Commodity::Zirconium, Some(Carrier::Monazite), 0.2, &[], 5).unwrap();
        assert_eq!(a, b);
        assert!("bogus".parse::<Commodity>().is_err());
        assert_eq!("ndfeb".parse::<Carrier>().unwrap(), Carrier::NdFeB);
    }
}
