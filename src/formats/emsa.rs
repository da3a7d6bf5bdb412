//! EMSA/MAS spectral data files (ISO 22029:2022; the EMSA/MAS standard of
//! Egerton et al., Microsc. Microanal. / EMSA Bulletin 1991).
//!
//! Header lines are `#KEYWORD[-unit]: value`; user keywords start with `##`.
//! Data follow `#SPECTRUM` as `Y` (counts only, any number per line) or `XY`
//! (x, counts pairs) until `#ENDOFDATA`. Energies are eV or keV per `#XUNITS`.
//! Energy-dispersive XRD is an EMSA file with `##TWOTHETA` (degrees): the axis
//! becomes [`Axis::EnergyDispersive`]. The primary-beam filter of an XRF beam is the
//! user keyword `##FILTER` (`none`, or layers such as `Cu 100 um + Ti 25 um`; see
//! [`crate::spectrum::parse_filter`]); without it the filter is unknown.

use super::num::{for_each_number_until, parse_f64, show};
use super::{calibration_from_energies, too_many_channels, LIMITS};
use crate::{Axis, Calibration, Error, Metadata, Result, Spectrum};
use ndarray::Array1;
use std::fmt::Write;

/// Format name used in errors and metadata.
pub const NAME: &str = "EMSA/MAS";

/// Header keywords, upper case without `#` (user keywords keep one `#`).
#[derive(Default)]
struct Header {
    entries: Vec<(String, String)>,
}

impl Header {
    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_string)
    }

    /// A numeric keyword: `Ok(None)` when absent, an error when not a number.
    fn number(&self, key: &str) -> Result<Option<f64>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match parse_f64(v.trim_end_matches('.').as_bytes()).or_else(|| parse_f64(v.as_bytes())) {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(Error::parse(
                NAME,
                format!("#{key} '{}' is not a finite number", show(v.as_bytes())),
            )),
        }
    }
}

/// Split `#KEY-unit : value` into ("KEY", "value"); `##KEY` gives "#KEY".
fn keyword(line: &str) -> (String, String) {
    let rest = &line[1..];
    let (user, rest) = match rest.strip_prefix('#') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (k, v) = rest.split_once(':').unwrap_or((rest, ""));
    let name: String = k
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_ascii_uppercase();
    let key = if user { format!("#{name}") } else { name };
    (key, v.trim().to_string())
}

/// Read an EMSA/MAS file.
pub fn read(bytes: &[u8]) -> Result<Spectrum> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (header, data_start, data_line) = read_header(bytes)?;
    let xy = header
        .get("DATATYPE")
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("XY"));
    let (xs, counts, ended) = read_data(&bytes[data_start..], data_line, xy)?;
    if let Some(npoints) = header.number("NPOINTS")? {
        if (counts.len() as f64) < npoints {
            return Err(Error::parse(
                NAME,
                format!(
                    "truncated: #NPOINTS is {npoints} but {} data values{}",
                    counts.len(),
                    if ended { "" } else { " and no #ENDOFDATA" }
                ),
            ));
        }
    }
    if counts.is_empty() {
        return Err(Error::parse(NAME, "no data after #SPECTRUM"));
    }
    let axis = axis(&header, &xs)?;
    Ok(Spectrum {
        counts: Array1::from(counts),
        axis,
        meta: metadata(&header)?,
    })
}

/// Header keywords up to `#SPECTRUM`; returns them with the byte offset and
/// line number where data start.
fn read_header(bytes: &[u8]) -> Result<(Header, usize, usize)> {
    let mut header = Header::default();
    let mut pos = 0;
    let mut line_no = 1;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let line = String::from_utf8_lossy(&bytes[pos..end]);
        let line = line.trim();
        if line.starts_with('#') {
            let (k, v) = keyword(line);
            match k.as_str() {
                "SPECTRUM" => return Ok((header, (end + 1).min(bytes.len()), line_no + 1)),
                "ENDOFDATA" => break,
                _ => header.entries.push((k, v)),
            }
        } else if !line.is_empty() {
            if header.entries.is_empty() {
                return Err(Error::parse(NAME, "no #FORMAT header"));
            }
            // Data without a #SPECTRUM line: accept, they start here.
            return Ok((header, pos, line_no));
        }
        pos = end + 1;
        line_no += 1;
    }
    Err(Error::parse(NAME, "no #SPECTRUM line and no data"))
}

/// Data values up to `#ENDOFDATA` (or any `#` line, or the end of the file):
/// (x values for XY, counts, whether `#ENDOFDATA` was seen).
// `k % 2` rather than `k.is_multiple_of(2)`: with the latter the number loop compiles to
// ~44,000 more instructions per 4096-channel file (callgrind, 400 honest rows; the
// inlining of the number loop changes)
#[allow(clippy::manual_is_multiple_of)]
fn read_data(data: &[u8], first_line: usize, xy: bool) -> Result<(Vec<f64>, Vec<f64>, bool)> {
    // a value takes at least two bytes with its separator: room for all of them at once
    let mut counts = Vec::with_capacity((data.len() / 2 + 1).min(LIMITS.max_channels));
    let mut xs = Vec::new();
    let mut k = 0usize;
    let end = for_each_number_until(data, first_line, b'#', |v, tok, line| {
        let v = v.ok_or_else(|| {
            Error::parse(
                NAME,
                format!("line {line}: '{}' is not a number", show(tok)),
            )
        })?;
        if xy && k % 2 == 0 {
            xs.push(v);
        } else {
            if counts.len() >= LIMITS.max_channels {
                return Err(too_many_channels(counts.len() + 1));
            }
            counts.push(v);
        }
        k += 1;
        Ok(())
    })?;
    let ended = end.is_some_and(|e| data[e..].starts_with(b"#ENDOFDATA"));
    if xy && xs.len() != counts.len() {
        return Err(Error::parse(
            NAME,
            "XY data have an x value without its y (odd number of values)",
        ));
    }
    Ok((xs, counts, ended))
}

/// keV per x unit, from `#XUNITS`; `None` for channels. Without `#XUNITS`
/// an `#XPERCHAN` of 0.5 or more is taken as eV (EDS files use 5–40 eV or
/// 0.005–0.04 keV per channel).
fn kev_per_unit(header: &Header, xperchan: Option<f64>) -> Option<f64> {
    match header.get("XUNITS").map(str::to_ascii_lowercase) {
        Some(u) if u.contains("kev") => Some(1.0),
        Some(u) if u.contains("ev") => Some(1e-3),
        Some(u) if u.contains("chan") => None,
        _ => match xperchan {
            Some(g) if g >= 0.5 => Some(1e-3),
            _ => Some(1.0),
        },
    }
}

fn axis(header: &Header, xs: &[f64]) -> Result<Axis> {
    let xperchan = header.number("XPERCHAN")?;
    let Some(scale) = kev_per_unit(header, xperchan) else {
        return Ok(Axis::Channels);
    };
    let calibration = if !xs.is_empty() {
        let kev: Vec<f64> = xs.iter().map(|x| x * scale).collect();
        Some(calibration_from_energies(NAME, &kev)?)
    } else if let Some(g) = xperchan {
        let offset = header.number("OFFSET")?.unwrap_or(0.0);
        let mut c = Calibration::linear(offset * scale, g * scale)?;
        c.quad_kev = header.number("#QUAD")?.unwrap_or(0.0) * scale;
        Some(c)
    } else {
        None
    };
    match (calibration, header.number("#TWOTHETA")?) {
        (Some(calibration), Some(two_theta_deg)) => {
            if !(two_theta_deg > 0.0 && two_theta_deg < 180.0) {
                return Err(Error::Invalid {
                    what: "##TWOTHETA",
                    message: format!("{two_theta_deg}° (must be between 0 and 180)"),
                });
            }
            Ok(Axis::EnergyDispersive {
                calibration,
                two_theta_deg,
            })
        }
        (Some(c), None) => Ok(Axis::Energy(c)),
        (None, Some(_)) => Err(Error::parse(
            NAME,
            "##TWOTHETA (EDXRD) file without #XPERCHAN energy calibration",
        )),
        (None, None) => Ok(Axis::Channels),
    }
}

fn metadata(h: &Header) -> Result<Metadata> {
    let acquired = match (h.get("DATE"), h.get("TIME")) {
        (Some(d), Some(t)) => Some(format!("{d} {t}")),
        (Some(d), None) => Some(d.to_string()),
        (None, Some(t)) => Some(t.to_string()),
        (None, None) => None,
    };
    Ok(Metadata {
        title: h.text("TITLE"),
        live_time_s: h.number("LIVETIME")?,
        real_time_s: h.number("REALTIME")?,
        tube_kv: h.number("BEAMKV")?,
        tube_ua: h.number("#TUBE_UA")?,
        anode: h.text("#ANODE"),
        beam_filter: h
            .get("#FILTER")
            .map(crate::spectrum::parse_filter)
            .transpose()?,
        detector: h.text("#DETECTOR").or_else(|| h.text("EDSDET")),
        instrument: h.text("#INSTRUMENT"),
        signal_type: signal_type(h)?,
        acquired,
        ..Metadata::default()
    })
}

/// Keywords ISO 22029 defines for electron microscopes only (stage tilt, probe and
/// emission current, camera magnification, convergence angle, beam diameter, operating
/// mode): a file that carries one was recorded under an electron beam.
const MICROSCOPE_KEYWORDS: [&str; 8] = [
    "XTILTSTGE",
    "YTILTSTGE",
    "PROBECUR",
    "EMISSION",
    "MAGCAM",
    "CONVANGLE",
    "BEAMDIAM",
    "OPERMODE",
];

/// `#SIGNALTYPE` as written, except that a generic "EDS" (which X-ray tube instruments
/// write too) with a microscope keyword becomes "EDS_SEM", or "EDS_TEM" at a beam of
/// 60 kV or more (transmission microscopes run at 60–300 kV), and "XRF"/"XRD" are none.
fn signal_type(h: &Header) -> Result<Option<String>> {
    let stated = h.text("SIGNALTYPE");
    let generic = stated
        .as_deref()
        .is_none_or(|t| t.trim().eq_ignore_ascii_case("EDS"));
    if generic && MICROSCOPE_KEYWORDS.iter().any(|k| h.get(k).is_some()) {
        let tem = h.number("BEAMKV")?.is_some_and(|kv| kv >= 60.0);
        return Ok(Some(if tem { "EDS_TEM" } else { "EDS_SEM" }.to_string()));
    }
    // X-ray fluorescence (or diffraction, with `##TWOTHETA`) is what a spectrum is taken
    // for when nothing is said: kept as none, as the writer writes it
    Ok(stated.filter(|t| {
        let t = t.trim();
        !(t.eq_ignore_ascii_case("XRF") || t.eq_ignore_ascii_case("XRD"))
    }))
}

/// Header line `#KEY : value` padded like the standard's examples.
fn line(out: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{key:<13}: {value}");
}

fn clean(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// Write an energy spectrum (XRF, EDXRD, or uncalibrated channels) as an
/// EMSA/MAS 1.0 `Y` file in keV. 2θ patterns are refused (use [`super::xy`]).
pub fn write(s: &Spectrum) -> Result<String> {
    let (cal, two_theta) = match &s.axis {
        Axis::Energy(c) => (Some(*c), None),
        Axis::EnergyDispersive {
            calibration,
            two_theta_deg,
        } => (Some(*calibration), Some(*two_theta_deg)),
        Axis::Channels => (None, None),
        Axis::TwoTheta { .. } => {
            return Err(Error::Invalid {
                what: "axis",
                message: "an angle-dispersive 2θ pattern cannot be written as EMSA/MAS".into(),
            })
        }
    };
    let m = &s.meta;
    let mut out = String::with_capacity(1024 + 12 * s.len());
    line(&mut out, "#FORMAT", "EMSA/MAS Spectral Data File");
    line(&mut out, "#VERSION", "1.0");
    line(&mut out, "#TITLE", clean(m.title.as_deref().unwrap_or("")));
    if let Some(a) = &m.acquired {
        let a = clean(a);
        let (d, t) = a.split_once(' ').unwrap_or((&a, ""));
        line(&mut out, "#DATE", d);
        if !t.is_empty() {
            line(&mut out, "#TIME", t);
        }
    }
    line(&mut out, "#OWNER", "reescan");
    line(&mut out, "#NPOINTS", s.len());
    line(&mut out, "#NCOLUMNS", 1);
    line(
        &mut out,
        "#XUNITS",
        if cal.is_some() { "keV" } else { "Channel" },
    );
    line(&mut out, "#YUNITS", "counts");
    line(&mut out, "#DATATYPE", "Y");
    let c = cal.unwrap_or(Calibration {
        offset_kev: 0.0,
        gain_kev: 1.0,
        quad_kev: 0.0,
    });
    line(&mut out, "#XPERCHAN", c.gain_kev);
    line(&mut out, "#OFFSET", c.offset_kev);
    line(
        &mut out,
        "#SIGNALTYPE",
        match (two_theta, m.signal_type.as_deref()) {
            (Some(_), _) => "XRD".to_string(),
            (None, Some(t)) if !t.trim().is_empty() => clean(t),
            (None, _) => "XRF".to_string(),
        },
    );
    if let Some(v) = m.tube_kv {
        line(&mut out, "#BEAMKV   -kV", v);
    }
    if let Some(v) = m.live_time_s {
        line(&mut out, "#LIVETIME  -s", v);
    }
    if let Some(v) = m.real_time_s {
        line(&mut out, "#REALTIME  -s", v);
    }
    if c.quad_kev != 0.0 {
        line(&mut out, "##QUAD", c.quad_kev);
    }
    if let Some(tt) = two_theta {
        line(&mut out, "##TWOTHETA", tt);
    }
    if let Some(v) = m.tube_ua {
        line(&mut out, "##TUBE_UA", v);
    }
    if let Some(f) = &m.beam_filter {
        line(
            &mut out,
            "##FILTER",
            crate::spectrum::describe_filter(f).replace('µ', "u"),
        );
    }
    for (key, v) in [
        ("##ANODE", &m.anode),
        ("##DETECTOR", &m.detector),
        ("##INSTRUMENT", &m.instrument),
    ] {
        if let Some(v) = v {
            line(&mut out, key, clean(v));
        }
    }
    line(&mut out, "#SPECTRUM", "Spectral Data Starts Here");
    for v in s.counts.iter() {
        let _ = writeln!(out, "{v},");
    }
    line(&mut out, "#ENDOFDATA", "End Of Data and File");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n\
#NPOINTS     : 4.\n#XUNITS      : eV\n#DATATYPE    : Y\n#XPERCHAN    : 10.\n#OFFSET      : 200.\n\
#LIVETIME  -s: 100.\n#BEAMKV   -kV: 20.0\n#SPECTRUM    : DATA\n1, 2,\n3\n4.5\n#ENDOFDATA   :\n";

    #[test]
    fn reads_ev_units_and_unit_suffixed_keys() {
        let s = read(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(s.counts.to_vec(), vec![1.0, 2.0, 3.0, 4.5]);
        let c = s.axis.calibration().unwrap();
        assert!((c.gain_kev - 0.01).abs() < 1e-15 && (c.offset_kev - 0.2).abs() < 1e-15);
        assert_eq!(s.meta.live_time_s, Some(100.0));
        assert_eq!(s.meta.tube_kv, Some(20.0));
    }

    #[test]
    fn truncated_data_is_an_error() {
        let t = EXAMPLE.replace("4.5\n#ENDOFDATA   :\n", "");
        let e = read(t.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn twotheta_keyword_makes_edxrd_axis() {
        let t = EXAMPLE.replace("#SPECTRUM", "##TWOTHETA  : 6.5\n#SPECTRUM");
        let s = read(t.as_bytes()).unwrap();
        assert!(matches!(
            s.axis,
            Axis::EnergyDispersive { two_theta_deg, .. } if two_theta_deg == 6.5
        ));
        let back = read(write(&s).unwrap().as_bytes()).unwrap();
        assert_eq!(back.axis, s.axis);
    }

    #[test]
    fn zero_gain_is_rejected() {
        let t = EXAMPLE.replace("#XPERCHAN    : 10.", "#XPERCHAN    : 0");
        assert!(read(t.as_bytes()).is_err());
    }
}
