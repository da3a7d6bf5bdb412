//! Angle-dispersive XRD patterns as text columns (`.xy`, `.xye`, `.dat`,
//! `.txt`): `2θ intensity [esd ...]`, 2θ in degrees.
//!
//! Comment lines may carry `key: value` (or `key = value`) facts:
//! `wavelength` (Å; also `lambda`), `title`, `anode`, `tube_kv`, `tube_ua`,
//! `instrument`, `detector`, `acquired`. Without a wavelength the caller's
//! [`ReadOptions::wavelength_a`] or Cu Kα1 ([`CU_KA1_A`]) is used.

use super::num::parse_f64;
use super::text::columns;
use super::{ReadOptions, CU_KA1_A};
use crate::{Axis, Error, Metadata, Result, Spectrum};
use ndarray::Array1;
use std::fmt::Write;

/// Format name used in errors and metadata.
pub const NAME: &str = "XY";

/// Header facts from comment lines `# key: value`.
fn header_value<'a>(header: &'a str, keys: &[&str]) -> Option<&'a str> {
    header.lines().find_map(|l| {
        let l = l.trim_start_matches(['#', '%', ';', '!', '/', ' ']);
        let (k, v) = l.split_once([':', '='])?;
        let k = k.trim().to_ascii_lowercase();
        keys.contains(&k.as_str()).then(|| v.trim())
    })
}

/// First number in a string ("1.5406 A" → 1.5406).
fn first_number(s: &str) -> Option<f64> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .find_map(|t| parse_f64(t.as_bytes()))
}

/// Read an XRD text pattern.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Spectrum> {
    let mut cols = columns(bytes, NAME, 2)?;
    if cols.width < 2 {
        return Err(Error::parse(
            NAME,
            "one column: an XRD pattern needs '2theta intensity' columns",
        ));
    }
    let raw_header = original_case_header(bytes);
    let mut y = cols.columns.remove(1);
    let mut x = cols.columns.remove(0);
    if x.len() > 1 && x.windows(2).all(|w| w[0] > w[1]) {
        x.reverse();
        y.reverse();
    }
    if let Some(i) = x
        .iter()
        .position(|v| !(v.is_finite() && *v > 0.0 && *v < 180.0))
    {
        return Err(Error::Invalid {
            what: "2θ",
            message: format!("point {} at {}° is outside 0–180°", i + 1, x[i]),
        });
    }
    let stated = header_value(&cols.header, &["wavelength", "lambda", "wavelength_a"]);
    let wavelength_defaulted = stated.is_none() && opts.wavelength_a.is_none();
    let wavelength_a = match stated {
        Some(v) => first_number(v)
            .ok_or_else(|| Error::parse(NAME, format!("wavelength '{v}' is not a number")))?,
        None => opts.wavelength_a.unwrap_or(CU_KA1_A),
    };
    let get = |keys: &[&str]| header_value(&raw_header, keys).map(str::to_string);
    let meta = Metadata {
        title: get(&["title"]),
        anode: get(&["anode"]),
        instrument: get(&["instrument"]),
        detector: get(&["detector"]),
        acquired: get(&["acquired", "date"]),
        tube_kv: get(&["tube_kv"]).and_then(|v| first_number(&v)),
        tube_ua: get(&["tube_ua"]).and_then(|v| first_number(&v)),
        wavelength_defaulted,
        ..Metadata::default()
    };
    Ok(Spectrum {
        counts: Array1::from(y),
        axis: Axis::TwoTheta {
            two_theta_deg: x,
            wavelength_a,
        },
        meta,
    })
}

/// Comment lines in their original case (for titles and names).
fn original_case_header(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16 * 1024)];
    String::from_utf8_lossy(head)
        .lines()
        .filter(|l| l.trim_start().starts_with(['#', '%', ';', '!']))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Write a 2θ pattern as `.xy` with a `# wavelength:` header and metadata
/// comments.
pub fn write(s: &Spectrum) -> Result<String> {
    let Axis::TwoTheta {
        two_theta_deg,
        wavelength_a,
    } = &s.axis
    else {
        return Err(Error::Invalid {
            what: "axis",
            message: "only 2θ patterns can be written as .xy".into(),
        });
    };
    let m = &s.meta;
    let clean = |v: &str| v.replace(['\r', '\n'], " ");
    let mut out = String::with_capacity(256 + 24 * s.len());
    out.push_str("# reescan XY: 2theta_deg intensity\n");
    let _ = writeln!(out, "# wavelength: {wavelength_a}");
    for (k, v) in [
        ("title", &m.title),
        ("anode", &m.anode),
        ("instrument", &m.instrument),
        ("detector", &m.detector),
        ("acquired", &m.acquired),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "# {k}: {}", clean(v));
        }
    }
    for (k, v) in [("tube_kv", m.tube_kv), ("tube_ua", m.tube_ua)] {
        if let Some(v) = v {
            let _ = writeln!(out, "# {k}: {v}");
        }
    }
    for (t, v) in two_theta_deg.iter().zip(s.counts.iter()) {
        let _ = writeln!(out, "{t} {v}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wavelength_comes_from_header_then_options_then_cu() {
        let s = read(
            b"# Wavelength = 0.41307 A\n10 1\n10.1 2\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert!(matches!(s.axis, Axis::TwoTheta { wavelength_a, .. } if wavelength_a == 0.41307));
        let opts = ReadOptions {
            wavelength_a: Some(1.789),
            ..ReadOptions::default()
        };
        let s = read(b"10 1\n10.1 2\n", &opts).unwrap();
        assert!(matches!(s.axis, Axis::TwoTheta { wavelength_a, .. } if wavelength_a == 1.789));
        let s = read(b"10 1 1\n10.1 2 1\n", &ReadOptions::default()).unwrap();
        assert!(matches!(s.axis, Axis::TwoTheta { wavelength_a, .. } if wavelength_a == CU_KA1_A));
    }

    #[test]
    fn descending_scan_is_reversed_and_one_column_refused() {
        let s = read(b"20 1\n10 2\n", &ReadOptions::default()).unwrap();
        assert_eq!(s.counts.to_vec(), vec![2.0, 1.0]);
        assert!(read(b"1\n2\n", &ReadOptions::default()).is_err());
    }
}
