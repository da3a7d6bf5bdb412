//! Amptek MCA files (DPPMCA / ADMCA, `<<PMCA SPECTRUM>>`), as written by the
//! PX5, DP5 and X-123 (Amptek, "DPPMCA Display and Acquisition Software" manual,
//! file-format appendix).
//!
//! Sections: `<<PMCA SPECTRUM>>` with `KEY - value` lines (`LIVE_TIME`,
//! `REAL_TIME`, `START_TIME`, `DESCRIPTION`), `<<CALIBRATION>>` with
//! `LABEL - unit` then `channel energy` pairs (fitted to a line by least
//! squares), `<<DATA>>` one count per line to `<<END>>`, and status sections
//! (`<<DPP STATUS>>` gives `Device Type` and `Serial Number`).

use super::num::{for_each_token, parse_f64, show};
use super::{linear_fit, too_many_channels, LIMITS};
use crate::{Axis, Calibration, Error, Metadata, Result, Spectrum};
use ndarray::Array1;
use std::fmt::Write;

/// Format name used in errors and metadata.
pub const NAME: &str = "Amptek MCA";

#[derive(Default)]
struct Parsed {
    header: Vec<(String, String)>,
    cal_label: Option<String>,
    cal_points: Vec<(f64, f64)>,
    counts: Option<Vec<f64>>,
    ended: bool,
    status: Vec<(String, String)>,
}

impl Parsed {
    fn get(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn number(&self, key: &str) -> Result<Option<f64>> {
        self.get(key)
            .map(|v| {
                parse_f64(v.as_bytes())
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        Error::parse(
                            NAME,
                            format!("{key} '{}' is not a number", show(v.as_bytes())),
                        )
                    })
            })
            .transpose()
    }

    fn status(&self, key: &str) -> Option<&str> {
        self.status
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Read an Amptek MCA file.
pub fn read(bytes: &[u8]) -> Result<Spectrum> {
    let p = parse(bytes)?;
    let counts = p
        .counts
        .as_ref()
        .ok_or_else(|| Error::parse(NAME, "no <<DATA>> section"))?;
    if !p.ended {
        return Err(Error::parse(NAME, "truncated: <<DATA>> has no <<END>>"));
    }
    if counts.is_empty() {
        return Err(Error::parse(NAME, "<<DATA>> section is empty"));
    }
    let axis = calibration(&p)?.map_or(Axis::Channels, Axis::Energy);
    let meta = metadata(&p)?;
    Ok(Spectrum {
        counts: Array1::from(counts.clone()),
        axis,
        meta,
    })
}

fn parse(bytes: &[u8]) -> Result<Parsed> {
    let mut p = Parsed::default();
    let mut section = String::new();
    let mut pos = 0;
    let mut line_no = 0;
    while pos < bytes.len() {
        line_no += 1;
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let raw = &bytes[pos..end];
        pos = (end + 1).min(bytes.len());
        let line = String::from_utf8_lossy(raw);
        let line = line.trim();
        if let Some(name) = line.strip_prefix("<<").and_then(|l| l.strip_suffix(">>")) {
            section = name.trim().to_ascii_uppercase();
            if section == "DATA" {
                let (counts, consumed, ended) = read_counts(&bytes[pos..], line_no + 1)?;
                p.counts = Some(counts);
                p.ended = ended;
                line_no += bytes[pos..pos + consumed]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                pos += consumed;
                section.clear();
            }
            continue;
        }
        match section.as_str() {
            "PMCA SPECTRUM" => {
                if let Some((k, v)) = line.split_once(" - ") {
                    p.header.push((k.trim().to_string(), v.trim().to_string()));
                } else if let Some(k) = line.strip_suffix(" -") {
                    p.header.push((k.trim().to_string(), String::new()));
                }
            }
            "CALIBRATION" => calibration_line(&mut p, line, line_no)?,
            "DPP STATUS" => {
                if let Some((k, v)) = line.split_once(':') {
                    p.status.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            _ => {}
        }
    }
    Ok(p)
}

fn calibration_line(p: &mut Parsed, line: &str, line_no: usize) -> Result<()> {
    if let Some(label) = line.strip_prefix("LABEL") {
        p.cal_label = Some(label.trim_start_matches([' ', '-']).trim().to_string());
        return Ok(());
    }
    let mut it = line.split_whitespace();
    let (Some(c), Some(e)) = (it.next(), it.next()) else {
        return Ok(());
    };
    match (parse_f64(c.as_bytes()), parse_f64(e.as_bytes())) {
        (Some(c), Some(e)) if c.is_finite() && e.is_finite() => {
            p.cal_points.push((c, e));
            Ok(())
        }
        _ => Err(Error::parse(
            NAME,
            format!("line {line_no}: calibration point '{line}' is not 'channel energy'"),
        )),
    }
}

/// Counts from just after `<<DATA>>` to `<<END>>`; returns (counts, bytes
/// consumed, whether `<<END>>` was found).
fn read_counts(data: &[u8], first_line: usize) -> Result<(Vec<f64>, usize, bool)> {
    let end = data.windows(2).position(|w| w == b"<<");
    let body = &data[..end.unwrap_or(data.len())];
    let mut counts = Vec::with_capacity(body.len() / 3);
    for_each_token(body, first_line, |tok, line| {
        let v = parse_f64(tok).ok_or_else(|| {
            Error::parse(NAME, format!("line {line}: '{}' is not a count", show(tok)))
        })?;
        if counts.len() >= LIMITS.max_channels {
            return Err(too_many_channels(counts.len() + 1));
        }
        counts.push(v);
        Ok(())
    })?;
    let ended = end.is_some_and(|e| data[e..].starts_with(b"<<END>>"));
    let consumed = match end {
        Some(e) if ended => e + b"<<END>>".len(),
        Some(e) => e,
        None => data.len(),
    };
    Ok((counts, consumed, ended))
}

/// Least-squares line through the calibration points (keV; `eV` labels are
/// scaled). One point is taken as a line through the origin, as DPPMCA does.
fn calibration(p: &Parsed) -> Result<Option<Calibration>> {
    let scale = match p.cal_label.as_deref().map(str::to_ascii_lowercase) {
        Some(l) if l == "ev" => 1e-3,
        _ => 1.0,
    };
    let pts: Vec<(f64, f64)> = p.cal_points.iter().map(|&(c, e)| (c, e * scale)).collect();
    let (offset, gain) = match pts.as_slice() {
        [] => return Ok(None),
        [(c, e)] if *c > 0.0 => (0.0, e / c),
        _ => linear_fit(&pts).ok_or_else(|| {
            Error::parse(NAME, "calibration points do not span two distinct channels")
        })?,
    };
    Calibration::linear(offset, gain).map(Some)
}

fn metadata(p: &Parsed) -> Result<Metadata> {
    let device = match (p.status("Device Type"), p.status("Serial Number")) {
        (Some(d), Some(s)) => Some(format!("Amptek {d} s/n {s}")),
        (Some(d), None) => Some(format!("Amptek {d}")),
        _ => None,
    };
    let instrument = p.get("INSTRUMENT").map(str::to_string).or(device);
    Ok(Metadata {
        title: p.get("DESCRIPTION").map(str::to_string),
        live_time_s: p.number("LIVE_TIME")?,
        real_time_s: p.number("REAL_TIME")?,
        tube_kv: p.number("TUBE_KV")?,
        tube_ua: p.number("TUBE_UA")?,
        anode: p.get("ANODE").map(str::to_string),
        detector: p.get("DETECTOR").map(str::to_string),
        signal_type: p.get("SIGNALTYPE").map(str::to_string),
        instrument,
        acquired: p.get("START_TIME").map(str::to_string),
        ..Metadata::default()
    })
}

/// Write an XRF spectrum as an Amptek MCA file. A linear calibration is
/// written as two `<<CALIBRATION>>` points (first and last channel); tube
/// voltage, current, anode and detector go in extra `PMCA SPECTRUM` keys
/// (`TUBE_KV`, `TUBE_UA`, `ANODE`, `DETECTOR`, `INSTRUMENT`, `SIGNALTYPE`) that Amptek
/// software ignores.
pub fn write(s: &Spectrum) -> Result<String> {
    let cal = super::energy_calibration_to_write(s, "Amptek MCA")?;
    if cal.is_some_and(|c| c.quad_kev != 0.0) {
        return Err(Error::Invalid {
            what: "calibration",
            message: "Amptek MCA holds a linear calibration only".into(),
        });
    }
    let m = &s.meta;
    let clean = |v: &str| v.replace(['\r', '\n'], " ");
    let mut out = String::with_capacity(512 + 8 * s.len());
    out.push_str("<<PMCA SPECTRUM>>\nTAG - live_data\n");
    let _ = writeln!(
        out,
        "DESCRIPTION - {}",
        clean(m.title.as_deref().unwrap_or(""))
    );
    let opt = |out: &mut String, key: &str, v: Option<f64>| {
        if let Some(v) = v {
            let _ = writeln!(out, "{key} - {v}");
        }
    };
    opt(&mut out, "LIVE_TIME", m.live_time_s);
    opt(&mut out, "REAL_TIME", m.real_time_s);
    if let Some(a) = &m.acquired {
        let _ = writeln!(out, "START_TIME - {}", clean(a));
    }
    opt(&mut out, "TUBE_KV", m.tube_kv);
    opt(&mut out, "TUBE_UA", m.tube_ua);
    for (key, v) in [
        ("ANODE", &m.anode),
        ("DETECTOR", &m.detector),
        ("INSTRUMENT", &m.instrument),
        ("SIGNALTYPE", &m.signal_type),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "{key} - {}", clean(v));
        }
    }
    if let Some(c) = cal {
        let last = s.len().saturating_sub(1).max(1) as f64;
        out.push_str("<<CALIBRATION>>\nLABEL - keV\n");
        let _ = writeln!(out, "0 {}", c.offset_kev);
        let _ = writeln!(out, "{last} {}", c.energy_kev(last));
    }
    out.push_str("<<DATA>>\n");
    for v in s.counts.iter() {
        let _ = writeln!(out, "{v}");
    }
    out.push_str("<<END>>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_pairs_are_fitted_to_a_line() {
        let f = "<<PMCA SPECTRUM>>\nLIVE_TIME - 10.5\n<<CALIBRATION>>\nLABEL - Channel\n\
100 1.0\n200 2.0\n300 3.0\n<<DATA>>\n1\n2\n3\n<<END>>\n";
        let s = read(f.as_bytes()).unwrap();
        let c = s.axis.calibration().unwrap();
        assert!(c.offset_kev.abs() < 1e-12 && (c.gain_kev - 0.01).abs() < 1e-15);
        assert_eq!(s.meta.live_time_s, Some(10.5));
        assert_eq!(s.counts.len(), 3);
    }

    #[test]
    fn data_marker_at_end_of_file_is_an_error_not_a_panic() {
        assert!(read(b"<<PMCA SPECTRUM>>\n<<DATA>>").is_err());
    }

    #[test]
    fn missing_end_is_truncation() {
        let f = "<<PMCA SPECTRUM>>\n<<DATA>>\n1\n2\n";
        assert!(read(f.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("truncated"));
    }
}
