//! ORTEC / QXAS `.spe` spectra (ORTEC "Maestro" ASCII SPE, as also written by
//! IAEA QXAS and read by PyMca's `SpecfitFuns`/`SPEFileReader`).
//!
//! Sections start with `$NAME:` on their own line: `$SPEC_ID` (title),
//! `$DATE_MEA` (date), `$MEAS_TIM` (live and real time, s), `$DATA` (`first
//! last` channel, then the counts), `$ENER_FIT` (`offset gain`, keV) and
//! `$MCA_CAL` (number of coefficients, then `a b c [unit]`). A file without
//! `$ENER_FIT`/`$MCA_CAL` (PyMca's `Steel.spe`) has no calibration.

use super::num::{for_each_token, parse_f64, show};
use super::{too_many_channels, LIMITS};
use crate::{Axis, Calibration, Error, Metadata, Result, Spectrum};
use ndarray::Array1;
use std::fmt::Write;

/// Format name used in errors and metadata.
pub const NAME: &str = "ORTEC/QXAS SPE";

/// One `$NAME:` section: its name, body bytes and the body's first line number.
struct Section<'a> {
    name: String,
    body: &'a [u8],
    line: usize,
}

fn sections(bytes: &[u8]) -> Vec<Section<'_>> {
    let mut out: Vec<Section<'_>> = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    let mut body_start = 0;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let text = &bytes[pos..end];
        let trimmed = text.trim_ascii_start();
        if trimmed.first() == Some(&b'$') {
            if let Some(last) = out.last_mut() {
                last.body = &bytes[body_start..pos];
            }
            let name = String::from_utf8_lossy(&trimmed[1..]);
            let name = name
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase();
            body_start = (end + 1).min(bytes.len());
            out.push(Section {
                name,
                body: &[],
                line: line + 1,
            });
        }
        pos = end + 1;
        line += 1;
    }
    if let Some(last) = out.last_mut() {
        last.body = &bytes[body_start..];
    }
    out
}

fn section<'a>(all: &'a [Section<'a>], name: &str) -> Option<&'a Section<'a>> {
    all.iter().find(|s| s.name == name)
}

fn body_text(s: &Section<'_>) -> String {
    String::from_utf8_lossy(s.body).trim().to_string()
}

/// All numbers of a section (whitespace separated); errors name the line.
fn numbers(s: &Section<'_>, limit: usize) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for_each_token(s.body, s.line, |tok, line| {
        if out.len() >= limit {
            return Err(Error::parse(
                NAME,
                format!("line {line}: more values in ${} than declared", s.name),
            ));
        }
        out.push(parse_f64(tok).ok_or_else(|| {
            Error::parse(
                NAME,
                format!("line {line}: '{}' is not a number", show(tok)),
            )
        })?);
        Ok(())
    })?;
    Ok(out)
}

/// Read an ORTEC/QXAS SPE file.
pub fn read(bytes: &[u8]) -> Result<Spectrum> {
    let all = sections(bytes);
    let data = section(&all, "DATA").ok_or_else(|| Error::parse(NAME, "no $DATA section"))?;
    let counts = read_data(data)?;
    let axis = calibration(&all)?.map_or(Axis::Channels, Axis::Energy);
    let mut meta = Metadata {
        title: section(&all, "SPEC_ID")
            .map(body_text)
            .filter(|t| !t.is_empty()),
        acquired: section(&all, "DATE_MEA")
            .map(body_text)
            .filter(|t| !t.is_empty()),
        ..Metadata::default()
    };
    if let Some(s) = section(&all, "MEAS_TIM") {
        let t = numbers(s, 2)?;
        meta.live_time_s = t.first().copied();
        meta.real_time_s = t.get(1).copied();
    }
    for (name, field) in [
        ("TUBE_KV", &mut meta.tube_kv),
        ("TUBE_UA", &mut meta.tube_ua),
    ] {
        if let Some(s) = section(&all, name) {
            *field = numbers(s, 1)?.first().copied();
        }
    }
    for (name, field) in [
        ("ANODE", &mut meta.anode),
        ("DETECTOR", &mut meta.detector),
        ("INSTRUMENT", &mut meta.instrument),
        ("SIGNALTYPE", &mut meta.signal_type),
    ] {
        *field = section(&all, name).map(body_text).filter(|t| !t.is_empty());
    }
    Ok(Spectrum {
        counts: Array1::from(counts),
        axis,
        meta,
    })
}

fn read_data(data: &Section<'_>) -> Result<Vec<f64>> {
    let text = data.body;
    let nl = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let range = String::from_utf8_lossy(&text[..nl]);
    let mut it = range.split_whitespace().map(str::parse::<i64>);
    let (Some(Ok(first)), Some(Ok(last))) = (it.next(), it.next()) else {
        return Err(Error::parse(
            NAME,
            format!(
                "line {}: $DATA needs 'first last' channel numbers",
                data.line
            ),
        ));
    };
    let n = last
        .checked_sub(first)
        .and_then(|d| d.checked_add(1))
        .unwrap_or(0);
    if n <= 0 {
        return Err(Error::parse(
            NAME,
            format!("$DATA range {first} {last} is empty"),
        ));
    }
    if n as u64 > LIMITS.max_channels as u64 {
        return Err(too_many_channels(n as usize));
    }
    let n = n as usize;
    let body = Section {
        name: "DATA".into(),
        body: text.get(nl + 1..).unwrap_or(&[]),
        line: data.line + 1,
    };
    let counts = numbers(&body, n)?;
    if counts.len() < n {
        return Err(Error::parse(
            NAME,
            format!(
                "truncated: $DATA declares {n} channels but has {}",
                counts.len()
            ),
        ));
    }
    Ok(counts)
}

/// `$MCA_CAL` (quadratic) or `$ENER_FIT` (linear), keV unless marked eV.
fn calibration(all: &[Section<'_>]) -> Result<Option<Calibration>> {
    if let Some(s) = section(all, "MCA_CAL") {
        let text = body_text(s);
        let mut lines = text.lines();
        let _count = lines.next();
        let coeffs = lines.next().unwrap_or("");
        let scale = if coeffs
            .to_ascii_lowercase()
            .split_whitespace()
            .any(|w| w == "ev")
        {
            1e-3
        } else {
            1.0
        };
        let c: Vec<f64> = coeffs
            .split_whitespace()
            .map_while(|t| parse_f64(t.as_bytes()))
            .collect();
        if c.len() >= 2 {
            let mut cal = Calibration::linear(c[0] * scale, c[1] * scale)?;
            cal.quad_kev = c.get(2).copied().unwrap_or(0.0) * scale;
            return Ok(Some(cal));
        }
    }
    if let Some(s) = section(all, "ENER_FIT") {
        let c = numbers(s, 2)?;
        if c.len() == 2 {
            return Calibration::linear(c[0], c[1]).map(Some);
        }
        return Err(Error::parse(NAME, "$ENER_FIT needs 'offset gain'"));
    }
    Ok(None)
}

/// Write an XRF spectrum as an ORTEC SPE file (`$ENER_FIT` and `$MCA_CAL`
/// in keV when calibrated; tube and instrument facts in extra sections).
pub fn write(s: &Spectrum) -> Result<String> {
    let cal = super::energy_calibration_to_write(s, "SPE")?;
    let m = &s.meta;
    let clean = |v: &str| v.replace(['\r', '\n', '$'], " ");
    let mut out = String::with_capacity(512 + 12 * s.len());
    let _ = writeln!(
        out,
        "$SPEC_ID:\n{}",
        clean(m.title.as_deref().unwrap_or(""))
    );
    if let Some(a) = &m.acquired {
        let _ = writeln!(out, "$DATE_MEA:\n{}", clean(a));
    }
    if let (Some(l), Some(r)) = (m.live_time_s, m.real_time_s) {
        let _ = writeln!(out, "$MEAS_TIM:\n{l} {r}");
    } else if let Some(l) = m.live_time_s {
        let _ = writeln!(out, "$MEAS_TIM:\n{l}");
    }
    let _ = writeln!(out, "$DATA:\n0 {}", s.len().saturating_sub(1));
    for chunk in s.counts.as_slice().unwrap_or(&[]).chunks(8) {
        for v in chunk {
            let _ = write!(out, " {v}");
        }
        out.push('\n');
    }
    if let Some(c) = cal {
        let _ = writeln!(out, "$ENER_FIT:\n{} {}", c.offset_kev, c.gain_kev);
        let _ = writeln!(
            out,
            "$MCA_CAL:\n3\n{} {} {} keV",
            c.offset_kev, c.gain_kev, c.quad_kev
        );
    }
    for (key, v) in [("TUBE_KV", m.tube_kv), ("TUBE_UA", m.tube_ua)] {
        if let Some(v) = v {
            let _ = writeln!(out, "${key}:\n{v}");
        }
    }
    for (key, v) in [
        ("ANODE", &m.anode),
        ("DETECTOR", &m.detector),
        ("INSTRUMENT", &m.instrument),
        ("SIGNALTYPE", &m.signal_type),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "${key}:\n{}", clean(v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_data_range_and_ener_fit() {
        let f = "$SPEC_ID:\nsample\n$MEAS_TIM:\n100 110\n$DATA:\n0 3\n1. 2. 3.\n4.\n\
$ENER_FIT:\n-0.01 0.02\n";
        let s = read(f.as_bytes()).unwrap();
        assert_eq!(s.counts.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.meta.title.as_deref(), Some("sample"));
        assert_eq!(s.meta.real_time_s, Some(110.0));
        let c = s.axis.calibration().unwrap();
        assert_eq!((c.offset_kev, c.gain_kev), (-0.01, 0.02));
    }

    #[test]
    fn short_data_is_truncated_and_huge_range_refused() {
        let f = "$SPEC_ID:\n\n$DATA:\n0 9\n1 2 3\n";
        assert!(read(f.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        let f = "$SPEC_ID:\n\n$DATA:\n0 99999999\n1 2 3\n";
        assert!(read(f.as_bytes()).is_err());
    }
}
