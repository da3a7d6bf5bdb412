//! Instrument description (`--instrument FILE`): what excites the sample and what the
//! detector sees through — the part of an instrument set-up the fundamental-parameters
//! model needs and a spectrum file rarely carries. Either reescan's own TOML:
//!
//! ```toml
//! [tube]                                   # or: [beam] energy_keV = 16.0 (monochromatic)
//! anode = "Rh"
//! kv = 50.0
//! window_be_um = 125.0                     # optional (default 125)
//! takeoff_deg = 20.0                       # optional (default 20)
//! filter = { element = "Al", um = 1100.0 } # optional primary-beam filter
//!
//! [detector]                               # optional (default: a handheld SDD)
//! be_um = 12.5
//! si_um = 450.0
//! air_mm = 5.0
//! ```
//!
//! or a PyMca fit configuration (`.cfg`), from which the excitation energy (`[fit]
//! energy` with `energyflag` 1: one energy, a monochromatic beam) and the detector side
//! (`[attenuators]` `window` of Be, `atmosphere` of Air, `Detector` of Si) are taken.

use super::physics::{element_by_symbol, DetectorEfficiency, Tube};
use super::XrfOptions;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::Path;

/// What an instrument file sets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instrument {
    /// The X-ray tube, whole.
    pub tube: Option<Tube>,
    /// A monochromatic beam, keV (synchrotron, secondary target).
    pub beam_kev: Option<f64>,
    /// Detector window, air path and crystal.
    pub detector: Option<DetectorEfficiency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tube: Option<TubeFile>,
    beam: Option<BeamFile>,
    detector: Option<DetectorFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TubeFile {
    anode: String,
    kv: f64,
    window_be_um: Option<f64>,
    takeoff_deg: Option<f64>,
    filter: Option<FilterFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterFile {
    element: String,
    um: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BeamFile {
    #[serde(rename = "energy_keV")]
    energy_kev: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorFile {
    be_um: f64,
    si_um: f64,
    air_mm: f64,
}

fn invalid(message: String) -> Error {
    Error::Invalid {
        what: "instrument",
        message,
    }
}

/// `v` must be finite and > 0 (`positive`) or ≥ 0.
fn check(key: &str, v: f64, positive: bool) -> Result<f64> {
    let ok = v.is_finite() && if positive { v > 0.0 } else { v >= 0.0 };
    if ok {
        Ok(v)
    } else {
        let need = if positive { "> 0" } else { "≥ 0" };
        Err(invalid(format!("{key} = {v}: must be a number {need}")))
    }
}

fn check_element(key: &str, symbol: &str) -> Result<String> {
    element_by_symbol(symbol)
        .map(|d| d.symbol.to_string())
        .ok_or_else(|| invalid(format!("{key} = \"{symbol}\": not an element symbol")))
}

impl Instrument {
    /// Read an instrument file: PyMca `.cfg` by its extension, else reescan's TOML.
    ///
    /// # Errors
    /// Unreadable file; a TOML or cfg error naming the key.
    pub fn read(path: &Path) -> Result<Self> {
        // a regular file of bounded size, as every input (a FIFO must not block)
        let bytes = crate::formats::read_file(path)?;
        let text =
            String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()).in_file(path))?;
        Self::parse(path, &text)
    }

    /// Parse the text of the instrument file at `path` (its extension chooses the format).
    ///
    /// # Errors
    /// A TOML or cfg error naming the key, reported in `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let pymca = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("cfg"));
        let parsed = if pymca {
            Self::from_pymca_cfg(text)
        } else {
            Self::from_toml(text)
        };
        parsed.map_err(|e| e.in_file(path))
    }

    /// Parse reescan's TOML instrument description.
    ///
    /// # Errors
    /// A syntax error, an unknown key, or a value out of range, each naming the key.
    pub fn from_toml(text: &str) -> Result<Self> {
        let f: File = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if f.tube.is_some() && f.beam.is_some() {
            return Err(invalid(
                "[tube] and [beam] both given: the excitation is one or the other".into(),
            ));
        }
        let tube = match f.tube {
            Some(t) => {
                let (lo, hi) = crate::formats::LIMITS.xrf_tube_kv;
                let kv = check("tube.kv", t.kv, true)?;
                if kv < lo || kv > hi {
                    return Err(invalid(format!(
                        "tube.kv = {kv}: must be between {lo} and {hi} kV"
                    )));
                }
                let rh = Tube::rh(kv);
                let filter = match t.filter {
                    Some(fl) => Some((
                        check_element("tube.filter.element", &fl.element)?,
                        check("tube.filter.um", fl.um, false)?,
                    )),
                    None => None,
                };
                Some(Tube {
                    anode: check_element("tube.anode", &t.anode)?,
                    window_be_um: match t.window_be_um {
                        Some(w) => check("tube.window_be_um", w, false)?,
                        None => rh.window_be_um,
                    },
                    takeoff_deg: match t.takeoff_deg {
                        Some(a) => check("tube.takeoff_deg", a, true)?,
                        None => rh.takeoff_deg,
                    },
                    filter,
                    ..rh
                })
            }
            None => None,
        };
        let beam_kev = match f.beam {
            Some(b) => Some(check("beam.energy_keV", b.energy_kev, true)?),
            None => None,
        };
        let detector = match f.detector {
            Some(d) => Some(DetectorEfficiency {
                be_um: check("detector.be_um", d.be_um, false)?,
                si_um: check("detector.si_um", d.si_um, true)?,
                air_mm: check("detector.air_mm", d.air_mm, false)?,
            }),
            None => None,
        };
        Ok(Instrument {
            tube,
            beam_kev,
            detector,
        })
    }

    /// The excitation and detector of a PyMca fit configuration.
    ///
    /// # Errors
    /// No single flagged excitation energy, or an attenuator reescan cannot model
    /// (named by its key).
    pub fn from_pymca_cfg(text: &str) -> Result<Self> {
        let ini = Ini::parse(text);
        let list = |section: &str, key: &str| -> Vec<String> {
            ini.get(section, key)
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        };
        let energies = list("fit", "energy");
        let flags = list("fit", "energyflag");
        let beam: Vec<f64> = energies
            .iter()
            .zip(&flags)
            .filter(|(_, f)| f.as_str() == "1")
            .filter_map(|(e, _)| e.parse::<f64>().ok())
            .collect();
        let beam_kev = match beam.as_slice() {
            [e] => Some(check("[fit] energy", *e, true)?),
            [] => None,
            _ => {
                return Err(invalid(format!(
                    "[fit] energy: {} flagged energies (a tube spectrum); describe the tube in \
                     a TOML instrument file instead",
                    beam.len()
                )))
            }
        };
        let mut det = DetectorEfficiency {
            be_um: 0.0,
            si_um: DetectorEfficiency::default().si_um,
            air_mm: 0.0,
        };
        let mut any = false;
        // PyMca attenuator: "flag, material, density g/cm³, thickness cm, funny factor"
        for (key, material) in [("window", "Be"), ("atmosphere", "Air"), ("Detector", "Si")] {
            let v = list("attenuators", key);
            if v.first().map(String::as_str) != Some("1") {
                continue;
            }
            let name = v.get(1).map_or("", String::as_str);
            // PyMca names elements as materials with a suffix ("Be1", "Si1")
            let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
            if !base.eq_ignore_ascii_case(material) {
                return Err(invalid(format!(
                    "[attenuators] {key} = {name}: only {material} is modelled there"
                )));
            }
            let cm: f64 = v.get(3).and_then(|t| t.parse().ok()).unwrap_or(f64::NAN);
            let cm = check(&format!("[attenuators] {key} thickness"), cm, false)?;
            match key {
                "window" => det.be_um = cm * 1e4,
                "atmosphere" => det.air_mm = cm * 10.0,
                _ => det.si_um = cm * 1e4,
            }
            any = true;
        }
        Ok(Instrument {
            tube: None,
            beam_kev,
            detector: any.then_some(det),
        })
    }

    /// Set the options this instrument fixes.
    pub fn apply(&self, o: &mut XrfOptions) {
        if let Some(t) = &self.tube {
            o.tube = Some(t.clone());
        }
        if let Some(e) = self.beam_kev {
            o.excitation_kev = Some(e);
        }
        if let Some(d) = self.detector {
            o.detector = Some(d);
        }
    }
}

/// Sections and keys of an INI file (`[section]`, `key = value`), in file order.
struct Ini(Vec<(String, String, String)>);

impl Ini {
    fn parse(text: &str) -> Self {
        let mut section = String::new();
        let mut out = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = s.trim().to_string();
            } else if let Some((k, v)) = line.split_once('=') {
                out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
            }
        }
        Ini(out)
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_tube_with_filter_and_detector() {
        let i = Instrument::from_toml(
            r#"
            [tube]
            anode = "Ag"
            kv = 30.0
            filter = { element = "Al", um = 1100.0 }
            [detector]
            be_um = 20.0
            si_um = 350.0
            air_mm = 50.0
            "#,
        )
        .unwrap();
        let t = i.tube.clone().unwrap();
        assert_eq!((t.anode.as_str(), t.kv), ("Ag", 30.0));
        assert_eq!(t.filter, Some(("Al".to_string(), 1100.0)));
        assert_eq!(t.window_be_um, 125.0, "default window");
        assert_eq!(i.detector.unwrap().air_mm, 50.0);
        let mut o = XrfOptions::default();
        i.apply(&mut o);
        assert_eq!(o.tube, Some(t));
        assert_eq!(o.detector, i.detector);
    }

    #[test]
    fn toml_errors_name_the_key() {
        for (text, key) in [
            ("[tube]\nanode = \"Xx\"\nkv = 40.0", "tube.anode"),
            ("[tube]\nanode = \"Rh\"\nkv = -4.0", "tube.kv"),
            ("[tube]\nanode = \"Rh\"\nkv = 1e9", "tube.kv"),
            ("[beam]\nenergy_kev = 16.0", "energy_kev"),
            (
                "[detector]\nbe_um = 8\nsi_um = 0\nair_mm = 1",
                "detector.si_um",
            ),
            (
                "[tube]\nanode = \"Rh\"\nkv = 40.0\n[beam]\nenergy_keV = 16.0",
                "[beam]",
            ),
        ] {
            let e = Instrument::from_toml(text).unwrap_err().to_string();
            assert!(e.contains(key), "{text:?}: {e}");
        }
    }

    #[test]
    fn pymca_cfg_gives_the_flagged_energy_and_the_detector_side() {
        let cfg = "[attenuators]\nwindow = 1, Be1, 1.848, 0.002, 1.0\n\
                   atmosphere = 1, Air, 0.0012048, 5.0, 1.0\n\
                   Detector = 1, Si1, 2.33, 0.035, 1.0\nBeamFilter0 = 1, Al1, 2.72, 0.11, 1.0\n\
                   [fit]\nenergy = 16.0, None, None\nenergyflag = 1, 0, 0\n";
        let i = Instrument::from_pymca_cfg(cfg).unwrap();
        assert_eq!(i.beam_kev, Some(16.0));
        let d = i.detector.unwrap();
        assert!((d.be_um - 20.0).abs() < 1e-9 && (d.air_mm - 50.0).abs() < 1e-9);
        assert!((d.si_um - 350.0).abs() < 1e-9);
        let two = cfg
            .replace("energyflag = 1, 0, 0", "energyflag = 1, 1, 0")
            .replace("16.0, None", "16.0, 20.0");
        let e = Instrument::from_pymca_cfg(&two).unwrap_err().to_string();
        assert!(e.contains("[fit] energy"), "{e}");
        let kapton = cfg.replace("Be1, 1.848", "Kapton, 1.42");
        let e = Instrument::from_pymca_cfg(&kapton).unwrap_err().to_string();
        assert!(e.contains("window"), "{e}");
    }
}
