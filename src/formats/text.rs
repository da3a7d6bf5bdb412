//! Plain text XRF spectra: CSV, TSV, semicolon or whitespace separated.
//!
//! * one column: counts per channel (PyMca's single-column `.mca`), no
//!   calibration — the caller supplies `--gain/--offset`;
//! * two columns: `energy, counts`, energy in keV (eV when the header says
//!   `eV`), or `channel, counts` when the header names a channel column.
//!
//! Lines starting with `#`, `%`, `;`, `!` or `//` are comments; non-numeric
//! lines before the data are a header. After the first data line every line
//! must have the same number of numeric columns.

use super::num::{for_each_token, parse_f64, show};
use super::{calibration_from_energies, too_many_channels, LIMITS};
use crate::{Axis, Error, Metadata, Result, Spectrum};
use ndarray::Array1;
use std::fmt::Write;

/// Format name used in errors and metadata.
pub const NAME: &str = "text columns";

/// Numeric columns of a text file: (header text, columns), every row with the
/// same number of columns, at most `max_columns` of which are kept.
pub(crate) struct Columns {
    /// Comment and header lines, lower case, joined by newlines.
    pub header: String,
    /// Number of columns per row.
    pub width: usize,
    /// Column-major values (only the first `max_columns`).
    pub columns: Vec<Vec<f64>>,
}

/// True for comment lines.
fn is_comment(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'#' | b'%' | b';' | b'!')) || line.starts_with(b"//")
}

/// Split text into header and numeric columns; `format` names errors.
pub(crate) fn columns(bytes: &[u8], format: &'static str, max_columns: usize) -> Result<Columns> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut header = String::new();
    let mut width = 0usize;
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut row: Vec<f64> = Vec::with_capacity(8);
    let mut pos = 0;
    let mut line_no = 0;
    while pos < bytes.len() {
        line_no += 1;
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let line = bytes[pos..end].trim_ascii();
        pos = (end + 1).min(bytes.len());
        if line.is_empty() {
            continue;
        }
        if is_comment(line) {
            header.push_str(&String::from_utf8_lossy(line).to_lowercase());
            header.push('\n');
            continue;
        }
        row.clear();
        let mut bad: Option<&[u8]> = None;
        let _ = for_each_token::<()>(line, line_no, |tok, _| {
            match parse_f64(tok) {
                Some(v) => row.push(v),
                None => {
                    bad = Some(tok);
                    return Err(());
                }
            }
            Ok(())
        });
        if row.is_empty() && bad.is_none() {
            continue; // only separators: a blank line
        }
        if let Some(tok) = bad {
            if width == 0 {
                header.push_str(&String::from_utf8_lossy(line).to_lowercase());
                header.push('\n');
                continue;
            }
            return Err(Error::parse(
                format,
                format!("line {line_no}: '{}' is not a number", show(tok)),
            ));
        }
        if width == 0 {
            width = row.len();
            columns = vec![Vec::new(); width.min(max_columns)];
        } else if row.len() != width {
            return Err(Error::parse(
                format,
                format!(
                    "line {line_no}: {} columns where the data have {width}",
                    row.len()
                ),
            ));
        }
        if columns[0].len() >= LIMITS.max_channels {
            return Err(too_many_channels(columns[0].len() + 1));
        }
        for (c, v) in columns.iter_mut().zip(&row) {
            c.push(*v);
        }
    }
    if width == 0 {
        return Err(Error::parse(format, "no numeric data lines"));
    }
    Ok(Columns {
        header,
        width,
        columns,
    })
}

/// Read a text XRF spectrum.
pub fn read(bytes: &[u8]) -> Result<Spectrum> {
    let mut cols = columns(bytes, NAME, 2)?;
    let first_header_word = cols
        .header
        .lines()
        .last()
        .unwrap_or("")
        .split([',', '\t', ';', ' '])
        .next()
        .unwrap_or("")
        .to_string();
    let (axis, counts) = match cols.width {
        1 => (Axis::Channels, cols.columns.remove(0)),
        2 => {
            let counts = cols.columns.remove(1);
            let x = cols.columns.remove(0);
            let axis = if first_header_word.contains("chan") {
                Axis::Channels
            } else {
                let scale =
                    if first_header_word.contains("ev") && !first_header_word.contains("kev") {
                        1e-3
                    } else {
                        1.0
                    };
                let kev: Vec<f64> = x.iter().map(|v| v * scale).collect();
                Axis::Energy(calibration_from_energies(NAME, &kev)?)
            };
            (axis, counts)
        }
        w => {
            return Err(Error::parse(
                NAME,
                format!("{w} columns: expected counts, or energy_keV and counts"),
            ))
        }
    };
    Ok(Spectrum {
        counts: Array1::from(counts),
        axis,
        meta: Metadata::default(),
    })
}

/// Write an XRF spectrum as CSV: `energy_keV,counts` (or `counts` alone when
/// uncalibrated).
pub fn write(s: &Spectrum) -> Result<String> {
    let mut out = String::with_capacity(32 + 24 * s.len());
    match &s.axis {
        Axis::Energy(c) | Axis::EnergyDispersive { calibration: c, .. } => {
            out.push_str("energy_keV,counts\n");
            for (i, v) in s.counts.iter().enumerate() {
                let _ = writeln!(out, "{},{v}", c.energy_kev(i as f64));
            }
        }
        Axis::Channels => {
            out.push_str("counts\n");
            for v in s.counts.iter() {
                let _ = writeln!(out, "{v}");
            }
        }
        Axis::TwoTheta { .. } => {
            return Err(Error::Invalid {
                what: "axis",
                message: "write 2θ patterns with formats::xy".into(),
            })
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_column_is_uncalibrated_two_columns_calibrate() {
        let s = read(b"# PyMca style\n1\n2\n3\n").unwrap();
        assert_eq!(s.axis, Axis::Channels);
        let s = read(b"energy_keV,counts\n0.1,5\n0.2,6\n0.3,7\n").unwrap();
        let c = s.axis.calibration().unwrap();
        assert!((c.gain_kev - 0.1).abs() < 1e-12 && (c.offset_kev - 0.1).abs() < 1e-12);
        let s = read(b"energy_eV\tcounts\n100\t5\n200\t6\n").unwrap();
        assert!((s.axis.calibration().unwrap().gain_kev - 0.1).abs() < 1e-12);
    }

    #[test]
    fn ragged_rows_and_words_in_data_are_errors() {
        let e = read(b"1,2\n3,4,5\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("3 columns"), "{e}");
        let e = read(b"1\n2\nabc\n").unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
        assert!(read(b"1,2,3\n4,5,6\n").is_err());
    }
}
