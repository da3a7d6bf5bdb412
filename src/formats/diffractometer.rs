//! Diffractometer formats whose 2θ/intensity arrays come from the `geddes`
//! crate (MIT; J. Wang, 2026): Bruker RAW v3/v4, BRML and UXD, Rigaku RAS and
//! RASX, GSAS (STD/ESD/FXYE) and powder CIF. `geddes` returns only 2θ and
//! intensity; this module adds what it lacks — the wavelength (Kα1, Kα2 and
//! their ratio), tube voltage/current, anode, sample name and date — from each
//! format's own header:
//!
//! | format | where the wavelength is |
//! |---|---|
//! | RAW1.01 (v3) | file header: anode at byte 608, Kα average/Kα1/Kα2/Kβ/ratio f64 at 616–648 |
//! | RAW4.00 (v4) | record type 30: Kα average/Kα1/Kα2/Kβ/ratio f64 at +72…+104, anode at +112 |
//! | BRML | `Experiment0/RawData0.xml`: `WaveLengthAlpha1/Alpha2/Ratio @Value`, `TubeMaterial`, `Generator/Voltage` |
//! | RASX | `Data0/MesurementConditions0.xml`: `WavelengthKalpha1/2`, `TargetName`, `Voltage`, `Current` (mA) |
//! | RAS | `*HW_XG_WAVE_LENGTH_ALPHA1 "1.540593"`, `*HW_XG_TARGET_NAME`, `*MEAS_COND_XG_VOLTAGE` |
//! | UXD | `_WL1`, `_WL2`, `_WLRATIO`, `_ANODE` |
//! | GSAS | not in the file (instrument `.prm`): a header comment `wavelength = …` if any, else the caller's |
//! | pdCIF | `_diffrn_radiation_wavelength` |

use super::xml::{self, Element};
use super::{Format, ReadOptions, CU_KA1_A};
use crate::{Axis, Error, Metadata, Result, Spectrum};
use ndarray::Array1;
use std::io::{Cursor, Read};

/// Wavelength facts a header gives (Å).
#[derive(Default, Debug, Clone, PartialEq)]
struct Radiation {
    ka1: Option<f64>,
    ka2: Option<f64>,
    ratio: Option<f64>,
}

/// Which zip-based format an archive is.
pub(crate) fn zip_kind(bytes: &[u8]) -> Format {
    let names: Vec<String> = zip::ZipArchive::new(Cursor::new(bytes))
        .map(|z| {
            z.file_names()
                .filter_map(|n| n.ok().map(|n| n.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    if names
        .iter()
        .any(|n| n.ends_with("RawData0.xml") || n.ends_with("DataContainer.xml"))
    {
        Format::BrukerBrml
    } else {
        Format::RigakuRasx
    }
}

/// Read a diffractometer file of a format `geddes` parses.
pub fn read(bytes: &[u8], name: &str, format: Format, opts: &ReadOptions) -> Result<Spectrum> {
    let fname = format.name();
    let hint = match format {
        Format::BrukerRaw => "scan.raw",
        Format::BrukerBrml => "scan.brml",
        Format::BrukerUxd => "scan.uxd",
        Format::RigakuRas => "scan.ras",
        Format::RigakuRasx => "scan.rasx",
        Format::Gsas => "scan.gsas",
        Format::PdCif => "scan.cif",
        _ => name,
    };
    let pattern =
        geddes::read_bytes(bytes, hint).map_err(|e| Error::parse(fname, e.to_string()))?;
    let (radiation, meta) = match format {
        Format::BrukerRaw => raw_header(bytes),
        Format::BrukerBrml => brml_header(bytes)?,
        Format::RigakuRasx => rasx_header(bytes)?,
        Format::RigakuRas => ras_header(bytes),
        Format::BrukerUxd => uxd_header(bytes),
        Format::Gsas => gsas_header(bytes),
        Format::PdCif => cif_header(bytes),
        _ => (Radiation::default(), Metadata::default()),
    };
    let mut meta = meta;
    meta.ka2_wavelength_a = radiation.ka2.filter(|v| *v > 0.0);
    meta.ka2_ka1_ratio = radiation.ratio.filter(|v| *v > 0.0);
    let stated_ka1 = radiation.ka1.filter(|v| *v > 0.05 && *v < 10.0);
    meta.wavelength_defaulted = stated_ka1.is_none() && opts.wavelength_a.is_none();
    let wavelength_a = stated_ka1.or(opts.wavelength_a).unwrap_or(CU_KA1_A);
    if pattern.x.len() > super::LIMITS.max_channels {
        return Err(super::too_many_channels(pattern.x.len()));
    }
    Ok(Spectrum {
        counts: Array1::from(pattern.y),
        axis: Axis::TwoTheta {
            two_theta_deg: pattern.x,
            wavelength_a,
        },
        meta,
    })
}

fn f64_at(b: &[u8], at: usize) -> Option<f64> {
    let v = f64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?);
    v.is_finite().then_some(v)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn cstr_at(b: &[u8], at: usize, len: usize) -> Option<String> {
    let s: String = b
        .get(at..at + len)?
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| char::from(c))
        .collect();
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Bruker RAW v3 fixed header or RAW v4 records.
fn raw_header(b: &[u8]) -> (Radiation, Metadata) {
    let mut meta = Metadata::default();
    if b.starts_with(b"RAW1.01") {
        meta.anode = cstr_at(b, 608, 4);
        meta.title = cstr_at(b, 326, 60);
        meta.acquired = match (cstr_at(b, 16, 10), cstr_at(b, 26, 10)) {
            (Some(d), Some(t)) => Some(format!("{d} {t}")),
            (d, _) => d,
        };
        let rad = Radiation {
            ka1: f64_at(b, 624).or(f64_at(b, 616)),
            ka2: f64_at(b, 632),
            ratio: f64_at(b, 648),
        };
        return (rad, meta);
    }
    let mut rad = Radiation::default();
    let mut at = 61;
    while let (Some(kind), Some(len)) = (u32_at(b, at), u32_at(b, at + 4)) {
        if kind == 0 || kind == 160 || len < 8 {
            break;
        }
        match kind {
            10 => {
                let key = cstr_at(b, at + 12, 24).unwrap_or_default();
                let value = cstr_at(b, at + 36, len.saturating_sub(36));
                if key == "SAMPLEID" {
                    meta.title = value;
                }
            }
            30 if len >= 116 => {
                let ka1 = f64_at(b, at + 80).filter(|v| *v > 0.0);
                rad.ka1 = ka1.or(f64_at(b, at + 72).filter(|v| *v > 0.0));
                rad.ka2 = f64_at(b, at + 88);
                rad.ratio = f64_at(b, at + 104);
                meta.anode = cstr_at(b, at + 112, 4);
            }
            _ => {}
        }
        at = at.saturating_add(len);
    }
    (rad, meta)
}

/// One member of a zip archive, refused when it unpacks to more than
/// [`InputLimits::max_file_bytes`](super::InputLimits::max_file_bytes) (a small zip can
/// unpack to gigabytes).
fn zip_member(bytes: &[u8], suffix: &str, format: &'static str) -> Result<Option<Vec<u8>>> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::parse(format, format!("zip: {e}")))?;
    let name = z
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .find(|n| n.ends_with(suffix));
    let Some(name) = name else {
        return Ok(None);
    };
    let f = z
        .by_name(&name)
        .map_err(|e| Error::parse(format, format!("zip member {name}: {e}")))?;
    let limit = super::LIMITS.max_file_bytes;
    let mut out = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::parse(format, format!("zip member {name}: {e}")))?;
    if out.len() as u64 > limit {
        return Err(Error::parse(
            format,
            format!("zip member {name} unpacks to more than {limit} bytes"),
        ));
    }
    Ok(Some(out))
}

fn value_attr(root: &Element, name: &str) -> Option<f64> {
    root.find(name)
        .and_then(|e| e.attr("Value"))
        .and_then(|v| super::num::parse_f64(v.trim().as_bytes()))
        .filter(|v| v.is_finite())
}

fn brml_header(bytes: &[u8]) -> Result<(Radiation, Metadata)> {
    const NAME: &str = "Bruker BRML";
    let Some(xmlb) = zip_member(bytes, "RawData0.xml", NAME)? else {
        return Ok(Default::default());
    };
    let root = xml::parse(&xmlb, NAME)?;
    let rad = Radiation {
        ka1: value_attr(&root, "WaveLengthAlpha1").or(value_attr(&root, "WaveLength")),
        ka2: value_attr(&root, "WaveLengthAlpha2"),
        ratio: value_attr(&root, "WaveLengthRatio"),
    };
    let meta = Metadata {
        anode: root.find_text("TubeMaterial").map(str::to_string),
        tube_kv: root
            .find("Generator")
            .and_then(|g| value_attr(g, "Voltage")),
        tube_ua: root
            .find("Generator")
            .and_then(|g| value_attr(g, "Current"))
            .map(|ma| ma * 1000.0),
        acquired: root.find_text("TimeStampStarted").map(str::to_string),
        ..Metadata::default()
    };
    Ok((rad, meta))
}

fn rasx_header(bytes: &[u8]) -> Result<(Radiation, Metadata)> {
    const NAME: &str = "Rigaku RASX";
    let Some(xmlb) = zip_member(bytes, "MesurementConditions0.xml", NAME)? else {
        return Ok(Default::default());
    };
    let root = xml::parse(&xmlb, NAME)?;
    let rad = Radiation {
        ka1: root.find_number("WavelengthKalpha1"),
        ka2: root.find_number("WavelengthKalpha2"),
        ratio: None,
    };
    let meta = Metadata {
        anode: root.find_text("TargetName").map(str::to_string),
        tube_kv: root.find_number("Voltage"),
        tube_ua: root.find_number("Current").map(|ma| ma * 1000.0),
        acquired: root.find_text("StartTime").map(str::to_string),
        title: root.find_text("SampleName").map(str::to_string),
        ..Metadata::default()
    };
    Ok((rad, meta))
}

/// Header lines of a text file (first 64 KiB), lossy.
fn head_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned()
}

fn number_in(s: &str) -> Option<f64> {
    s.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '=' || c == ',')
        .find_map(|t| super::num::parse_f64(t.as_bytes()))
        .filter(|v| v.is_finite())
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim().trim_matches(['"', '\'']).trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn ras_header(bytes: &[u8]) -> (Radiation, Metadata) {
    let text = head_text(bytes);
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.trim_start().strip_prefix('*')?.strip_prefix(key)?;
            rest.starts_with([' ', '\t'])
                .then(|| rest.trim().to_string())
        })
    };
    let rad = Radiation {
        ka1: get("HW_XG_WAVE_LENGTH_ALPHA1").and_then(|v| number_in(&v)),
        ka2: get("HW_XG_WAVE_LENGTH_ALPHA2").and_then(|v| number_in(&v)),
        ratio: None,
    };
    let meta = Metadata {
        anode: get("HW_XG_TARGET_NAME").and_then(|v| unquote(&v)),
        tube_kv: get("MEAS_COND_XG_VOLTAGE").and_then(|v| number_in(&v)),
        tube_ua: get("MEAS_COND_XG_CURRENT")
            .and_then(|v| number_in(&v))
            .map(|ma| ma * 1000.0),
        title: get("FILE_SAMPLE").and_then(|v| unquote(&v)),
        acquired: get("MEAS_SCAN_START_TIME").and_then(|v| unquote(&v)),
        ..Metadata::default()
    };
    (rad, meta)
}

fn uxd_header(bytes: &[u8]) -> (Radiation, Metadata) {
    let text = head_text(bytes);
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.trim().split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let rad = Radiation {
        ka1: get("_WL1").and_then(|v| number_in(&v)),
        ka2: get("_WL2").and_then(|v| number_in(&v)),
        ratio: get("_WLRATIO").and_then(|v| number_in(&v)),
    };
    let meta = Metadata {
        anode: get("_ANODE").and_then(|v| unquote(&v)),
        title: get("_SAMPLE").and_then(|v| unquote(&v)),
        acquired: get("_DATEMEASURED").and_then(|v| unquote(&v)),
        tube_kv: get("_KV").and_then(|v| number_in(&v)),
        ..Metadata::default()
    };
    (rad, meta)
}

/// GSAS data files do not carry the wavelength (it lives in the instrument
/// parameter file); some writers put it in a comment before `BANK`.
fn gsas_header(bytes: &[u8]) -> (Radiation, Metadata) {
    let text = head_text(bytes);
    let mut lines = text
        .lines()
        .take_while(|l| !l.trim_start().starts_with("BANK"));
    let title = lines.clone().next().and_then(unquote);
    let ka1 = lines.find_map(|l| {
        let lower = l.to_ascii_lowercase();
        let at = lower.find("wavelength").or_else(|| lower.find("lambda"))?;
        number_in(&l[at..])
    });
    let rad = Radiation {
        ka1,
        ..Radiation::default()
    };
    (
        rad,
        Metadata {
            title,
            ..Metadata::default()
        },
    )
}

fn cif_header(bytes: &[u8]) -> (Radiation, Metadata) {
    let text = head_text(bytes);
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.trim_start().strip_prefix(key)?;
            rest.starts_with([' ', '\t'])
                .then(|| rest.trim().to_string())
        })
    };
    let rad = Radiation {
        ka1: get("_diffrn_radiation_wavelength").and_then(|v| number_in(&v)),
        ..Radiation::default()
    };
    let title = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("data_").map(str::to_string));
    (
        rad,
        Metadata {
            title,
            ..Metadata::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_theta(s: &Spectrum) -> (&[f64], f64) {
        match &s.axis {
            Axis::TwoTheta {
                two_theta_deg,
                wavelength_a,
            } => (two_theta_deg, *wavelength_a),
            a => panic!("{a:?}"),
        }
    }

    #[test]
    fn rigaku_ras_header_gives_wavelength_and_tube() {
        let ras = b"*RAS_DATA_START\n*RAS_HEADER_START\n*HW_XG_WAVE_LENGTH_ALPHA1 \"1.540593\"\n\
*HW_XG_WAVE_LENGTH_ALPHA2 \"1.544414\"\n*HW_XG_TARGET_NAME \"Cu\"\n*MEAS_COND_XG_VOLTAGE \"40\"\n\
*MEAS_COND_XG_CURRENT \"30\"\n*MEAS_SCAN_AXIS_X \"TwoThetaTheta\"\n*RAS_HEADER_END\n*RAS_INT_START\n\
10.00 100 1\n10.02 120 1\n10.04 130 1\n*RAS_INT_END\n*RAS_DATA_END\n";
        let s = read(ras, "a.ras", Format::RigakuRas, &ReadOptions::default()).unwrap();
        let (tt, wl) = two_theta(&s);
        assert_eq!((tt.len(), wl), (3, 1.540593));
        assert_eq!(s.meta.anode.as_deref(), Some("Cu"));
        assert_eq!(s.meta.tube_kv, Some(40.0));
        assert_eq!(s.meta.tube_ua, Some(30_000.0));
        assert_eq!(s.meta.ka2_wavelength_a, Some(1.544414));
    }

    #[test]
    fn gsas_without_wavelength_uses_the_callers() {
        let gsas = b"PbSO4\nBANK 1 4 1 CONST 1000 2 0 0 STD\n   10   20   30   40\n";
        let opts = ReadOptions {
            wavelength_a: Some(0.7093),
            ..ReadOptions::default()
        };
        let s = read(gsas, "a.gsa", Format::Gsas, &opts).unwrap();
        let (tt, wl) = two_theta(&s);
        assert_eq!(wl, 0.7093);
        assert!((tt[0] - 10.0).abs() < 1e-12 && (tt[1] - 10.02).abs() < 1e-12);
        let s = read(gsas, "a.gsa", Format::Gsas, &ReadOptions::default()).unwrap();
        assert_eq!(two_theta(&s).1, CU_KA1_A);
    }

    #[test]
    fn uxd_header_wavelength_and_anode() {
        let uxd = b"_WL1=1.789010\n_WL2=1.792900\n_WLRATIO=0.5\n_ANODE='Co'\n_DRIVE='COUPLED'\n\
_STEPSIZE=0.02\n_START=10.0\n_2THETACOUNTS\n10.00 100\n10.02 120\n10.04 130\n";
        let s = read(uxd, "a.uxd", Format::BrukerUxd, &ReadOptions::default()).unwrap();
        assert_eq!(two_theta(&s).1, 1.78901);
        assert_eq!(s.meta.anode.as_deref(), Some("Co"));
        assert_eq!(s.meta.ka2_ka1_ratio, Some(0.5));
    }
}
