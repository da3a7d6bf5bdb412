//! Instrument file formats: bytes in, [`Spectrum`] out. Formats are detected by
//! content first, extension second ([`detect`]). Readers never guess a
//! calibration: a file without one gives [`Axis::Channels`](crate::Axis::Channels)
//! unless [`ReadOptions`] supplies gain/offset. Values the file states win over
//! [`ReadOptions`], which only fill what the file lacks.
//!
//! | format | module | technique |
//! |---|---|---|
//! | EMSA/MAS `.msa` (ISO 22029), `##TWOTHETA` for EDXRD | [`emsa`] | XRF, EDXRD |
//! | Amptek `.mca` | [`mca`] | XRF |
//! | ORTEC/QXAS `.spe` | [`spe`] | XRF |
//! | Bruker `.spx` (XML) | [`spx`] | XRF |
//! | CSV/TSV/whitespace counts, PyMca one-column `.mca` | [`text`] | XRF |
//! | `.xy`/`.xye`/`.dat` | [`xy`] | XRD |
//! | PANalytical `.xrdml` | [`xrdml`] | XRD |
//! | Bruker `.raw`/`.brml`/`.uxd`, Rigaku `.ras`/`.rasx`, GSAS, pdCIF | [`diffractometer`] | XRD |

pub mod diffractometer;
pub mod emsa;
pub mod mca;
pub(crate) mod num;
pub mod spe;
pub mod spx;
pub mod text;
mod xml;
pub mod xrdml;
pub mod xy;

use crate::{Axis, Calibration, Error, Result, Spectrum, Technique};
use std::path::Path;

/// Options the user can give on the command line that readers need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// keV per channel for files without a calibration (`--gain`).
    pub gain_kev: Option<f64>,
    /// Energy of channel 0 for files without a calibration (`--offset`).
    pub offset_kev: Option<f64>,
    /// XRD wavelength (Å) when the file does not give one (`--wavelength`).
    pub wavelength_a: Option<f64>,
    /// Tube voltage (kV) when the file does not give it (`--kv`).
    pub tube_kv: Option<f64>,
    /// What the caller expects (`--xrf` or `--xrd`): decides plain two-column
    /// text that states neither an energy nor a 2θ axis.
    pub technique: Option<Technique>,
}

/// Largest file a reader accepts (bytes); protects against absurd inputs.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Most channels (or 2θ steps) a spectrum may have. Real XRF spectra have
/// 512–16384 channels and fine synchrotron XRD scans ~10⁵ steps.
pub const MAX_CHANNELS: usize = 1_000_000;

/// Cu Kα1 wavelength (Å), the default when neither the file nor the user gives
/// one (Hölzer et al., Phys. Rev. A 56 (1997) 4554: 1.540 593 Å; 1.5406 as used
/// by ICDD cards).
pub const CU_KA1_A: f64 = 1.5406;

/// A file format reescan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// EMSA/MAS spectral data file (ISO 22029).
    Emsa,
    /// Amptek MCA (`<<PMCA SPECTRUM>>`).
    AmptekMca,
    /// ORTEC/QXAS `.spe` (`$SPEC_ID`, `$DATA`).
    Spe,
    /// Bruker Esprit `.spx` XML.
    Spx,
    /// CSV/TSV/whitespace columns of energy and counts, or counts alone.
    Text,
    /// XRD `.xy`/`.xye`/`.dat`: 2θ, intensity \[, esd\].
    Xy,
    /// PANalytical `.xrdml`.
    Xrdml,
    /// Bruker `.raw` (RAW1.01 / RAW4.00).
    BrukerRaw,
    /// Bruker `.brml` (zip of XML).
    BrukerBrml,
    /// Bruker `.uxd` (text).
    BrukerUxd,
    /// Rigaku `.ras` (text).
    RigakuRas,
    /// Rigaku `.rasx` (zip).
    RigakuRasx,
    /// GSAS raw/STD/ESD/FXYE.
    Gsas,
    /// Powder CIF with a measured profile.
    PdCif,
}

impl Format {
    /// Human name, also stored in [`Metadata::format`](crate::Metadata::format).
    pub fn name(self) -> &'static str {
        match self {
            Format::Emsa => "EMSA/MAS",
            Format::AmptekMca => "Amptek MCA",
            Format::Spe => "ORTEC/QXAS SPE",
            Format::Spx => "Bruker SPX",
            Format::Text => "text columns",
            Format::Xy => "XY",
            Format::Xrdml => "PANalytical XRDML",
            Format::BrukerRaw => "Bruker RAW",
            Format::BrukerBrml => "Bruker BRML",
            Format::BrukerUxd => "Bruker UXD",
            Format::RigakuRas => "Rigaku RAS",
            Format::RigakuRasx => "Rigaku RASX",
            Format::Gsas => "GSAS",
            Format::PdCif => "powder CIF",
        }
    }
}

/// Read a spectrum or pattern from a file, detecting its format by content.
/// Errors carry the path.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<Spectrum> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::Io(e).in_file(path))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(Error::Invalid {
            what: "file size",
            message: format!("{len} bytes (limit {MAX_FILE_BYTES})"),
        }
        .in_file(path));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::Io(e).in_file(path))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut s = read_bytes(&bytes, name, opts).map_err(|e| e.in_file(path))?;
    s.meta.source_file = Some(path.to_path_buf());
    Ok(s)
}

/// Read a spectrum from complete file bytes; `name` is a hint (extension) only.
pub fn read_bytes(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Spectrum> {
    let format = detect(bytes, name, opts.technique)?;
    let spectrum = match format {
        Format::Emsa => emsa::read(bytes)?,
        Format::AmptekMca => mca::read(bytes)?,
        Format::Spe => spe::read(bytes)?,
        Format::Spx => spx::read(bytes)?,
        Format::Text => text::read(bytes)?,
        Format::Xy => xy::read(bytes, opts)?,
        Format::Xrdml => xrdml::read(bytes, opts)?,
        f => diffractometer::read(bytes, name, f, opts)?,
    };
    finish(spectrum, bytes, format, opts)
}

/// Write a spectrum in the format its file extension names
/// (`.msa`/`.emsa`, `.mca`, `.spe`, `.xy`/`.xye`/`.dat`, `.csv`/`.txt`/`.tsv`).
pub fn write_path(path: &Path, spectrum: &Spectrum) -> Result<()> {
    let ext = extension(path.to_str().unwrap_or(""));
    let text = match ext.as_str() {
        "msa" | "emsa" => emsa::write(spectrum)?,
        "mca" => mca::write(spectrum)?,
        "spe" => spe::write(spectrum)?,
        "xy" | "xye" | "dat" => xy::write(spectrum)?,
        "csv" | "txt" | "tsv" => text::write(spectrum)?,
        _ => {
            return Err(Error::UnknownFormat(format!(
                "cannot write '.{ext}': use .msa, .mca, .spe, .xy or .csv"
            ))
            .in_file(path))
        }
    };
    std::fs::write(path, text).map_err(|e| Error::Io(e).in_file(path))
}

/// Lower-case extension of a file name ("" when none).
fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Detect the format of `bytes` by content; the extension of `name` and the
/// expected `technique` only decide plain numeric text.
pub fn detect(bytes: &[u8], name: &str, technique: Option<Technique>) -> Result<Format> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Invalid {
            what: "input",
            message: "the file is empty".into(),
        });
    }
    if let Some(f) = detect_binary(body) {
        return Ok(f);
    }
    let head = &body[..body.len().min(64 * 1024)];
    if head.contains(&0) {
        return Err(Error::UnknownFormat(
            "binary data that is not a Bruker RAW, BRML or RASX file".into(),
        ));
    }
    if let Some(f) = detect_text(head) {
        return Ok(f);
    }
    let ext = extension(name);
    if matches!(ext.as_str(), "xrdml" | "spx" | "brml" | "rasx" | "raw") {
        return Err(Error::UnknownFormat(format!(
            "'.{ext}' file without the content of one"
        )));
    }
    Ok(numeric_text_kind(head, &ext, technique))
}

fn detect_binary(body: &[u8]) -> Option<Format> {
    if body.starts_with(b"RAW1.01") || body.starts_with(b"RAW4.00") || body.starts_with(b"RAW2") {
        return Some(Format::BrukerRaw);
    }
    if body.starts_with(b"PK\x03\x04") {
        return Some(diffractometer::zip_kind(body));
    }
    None
}

fn detect_text(head: &[u8]) -> Option<Format> {
    // EMSA/MAS announces itself on its first line: no need to decode the whole head
    // (archives are mostly EMSA; decoding 40 kB per file shows in batch profiles)
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    if head[start..].starts_with(b"#FORMAT") {
        return Some(Format::Emsa);
    }
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        if text.contains("<TRTSpectrum") {
            return Some(Format::Spx);
        }
        if text.contains("xrdMeasurements") {
            return Some(Format::Xrdml);
        }
    }
    let mut lines = text.lines().map(str::trim_start);
    let first = lines.clone().find(|l| !l.is_empty()).unwrap_or("");
    if first.starts_with("#FORMAT") || text.contains("\n#SPECTRUM") && text.contains("#NPOINTS") {
        return Some(Format::Emsa);
    }
    if text.contains("<<PMCA SPECTRUM>>") {
        return Some(Format::AmptekMca);
    }
    if first.starts_with("$SPEC_ID") || text.contains("\n$DATA:") {
        return Some(Format::Spe);
    }
    if lines.clone().any(|l| l.starts_with("*RAS_")) {
        return Some(Format::RigakuRas);
    }
    if lines.clone().any(|l| l.starts_with("data_")) && text.contains("_pd_") {
        return Some(Format::PdCif);
    }
    if lines
        .clone()
        .any(|l| l.split_whitespace().next() == Some("BANK"))
    {
        return Some(Format::Gsas);
    }
    if lines.any(|l| l.starts_with("_DRIVE") || l.starts_with("_2THETACOUNTS")) {
        return Some(Format::BrukerUxd);
    }
    None
}

/// Plain numeric text: an XRD `.xy` or XRF columns? Header words decide, then
/// the caller's expectation, then the extension.
fn numeric_text_kind(head: &[u8], ext: &str, technique: Option<Technique>) -> Format {
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let header: String = lower
        .lines()
        .take_while(|l| !starts_with_number(l))
        .collect::<Vec<_>>()
        .join("\n");
    if header.contains("wavelength") || header.contains("2theta") || header.contains("2θ") {
        return Format::Xy;
    }
    if header.contains("kev") || header.contains("energy") {
        return Format::Text;
    }
    match technique {
        Some(Technique::Xrd) => Format::Xy,
        Some(_) => Format::Text,
        None if matches!(ext, "xy" | "xye" | "dat") => Format::Xy,
        None => Format::Text,
    }
}

/// True when a line's first token parses as a number.
pub(crate) fn starts_with_number(line: &str) -> bool {
    line.split(|c: char| num::is_separator(c as u8) && c.is_ascii())
        .find(|t| !t.is_empty())
        .and_then(|t| num::parse_f64(t.as_bytes()))
        .is_some()
}

/// Apply options, validate, and stamp format name and hash.
fn finish(mut s: Spectrum, bytes: &[u8], format: Format, opts: &ReadOptions) -> Result<Spectrum> {
    if s.counts.len() > MAX_CHANNELS {
        return Err(too_many_channels(s.counts.len()));
    }
    validate_axis(&s.axis, s.counts.len())?;
    if s.axis == Axis::Channels && (opts.gain_kev.is_some() || opts.offset_kev.is_some()) {
        let gain = opts.gain_kev.ok_or(Error::MissingCalibration)?;
        s.axis = Axis::Energy(Calibration::linear(opts.offset_kev.unwrap_or(0.0), gain)?);
    }
    s.accept_zero_peak_residue(&crate::spectrum::ZeroPeakResidue::default());
    validate_counts(&s)?;
    if s.meta.tube_kv.is_none() {
        s.meta.tube_kv = opts.tube_kv;
    }
    s.meta.format = format.name().to_string();
    s.meta.sha256 = sha256_hex(bytes);
    Ok(s)
}

/// XRF counts must be finite and ≥ 0. Diffraction intensities must be finite
/// but may be negative: background-subtracted exports are real files (Bruker
/// DIFFRAC.EVA RAW4 in `shared/spectra/xrd_formats/geddes/` has 1144 negative
/// steps of 7134), so analysis must not take their square root blindly.
fn validate_counts(s: &Spectrum) -> Result<()> {
    if !matches!(s.axis, Axis::TwoTheta { .. }) {
        return Spectrum::validate_counts(s.counts_slice());
    }
    if s.is_empty() {
        return Spectrum::validate_counts(&[]);
    }
    match s.counts.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::Invalid {
            what: "intensities",
            message: format!("step {i} has {} (must be finite)", s.counts[i]),
        }),
        None => Ok(()),
    }
}

/// The error for a spectrum longer than [`MAX_CHANNELS`].
pub(crate) fn too_many_channels(n: usize) -> Error {
    Error::Invalid {
        what: "channel count",
        message: format!("{n} or more channels (limit {MAX_CHANNELS})"),
    }
}

fn validate_axis(axis: &Axis, n: usize) -> Result<()> {
    match axis {
        Axis::TwoTheta {
            two_theta_deg,
            wavelength_a,
        } => {
            if two_theta_deg.len() != n {
                return Err(Error::Invalid {
                    what: "2θ axis",
                    message: format!("{} angles for {n} intensities", two_theta_deg.len()),
                });
            }
            if let Some(w) = two_theta_deg.windows(2).position(|w| {
                w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less) || !w[1].is_finite()
            }) {
                return Err(Error::Invalid {
                    what: "2θ axis",
                    message: format!("not strictly increasing at step {}", w + 1),
                });
            }
            if !(wavelength_a.is_finite() && *wavelength_a > 0.0 && *wavelength_a < 10.0) {
                return Err(Error::Invalid {
                    what: "wavelength",
                    message: format!("{wavelength_a} Å"),
                });
            }
            Ok(())
        }
        Axis::Energy(c) | Axis::EnergyDispersive { calibration: c, .. } => check_calibration(c),
        Axis::Channels => Ok(()),
    }
}

/// Reject calibrations with non-finite terms or a non-positive gain.
pub(crate) fn check_calibration(c: &Calibration) -> Result<()> {
    Calibration::linear(c.offset_kev, c.gain_kev)?;
    if !c.quad_kev.is_finite() {
        return Err(Error::Invalid {
            what: "calibration",
            message: format!("quadratic term {}", c.quad_kev),
        });
    }
    Ok(())
}

/// Least-squares straight line y = a + b·x through points; `None` for fewer
/// than two distinct x.
pub(crate) fn linear_fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Calibration from an evenly spaced energy column (keV): fitted line, rejected
/// when any point is more than half a channel off it.
pub(crate) fn calibration_from_energies(
    format: &'static str,
    energies: &[f64],
) -> Result<Calibration> {
    let pts: Vec<(f64, f64)> = energies
        .iter()
        .enumerate()
        .map(|(i, &e)| (i as f64, e))
        .collect();
    let (offset, gain) = linear_fit(&pts)
        .ok_or_else(|| Error::parse(format, "need at least two points for an energy axis"))?;
    let cal = Calibration::linear(offset, gain)?;
    if let Some((i, e)) = energies
        .iter()
        .enumerate()
        .find(|(i, e)| (cal.energy_kev(*i as f64) - **e).abs() > 0.5 * gain)
    {
        return Err(Error::parse(
            format,
            format!("energy axis is not evenly spaced (point {i} at {e} keV)"),
        ));
    }
    Ok(cal)
}

/// SHA-256 of bytes as lowercase hex (chain of custody).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The energy calibration of a spectrum about to be written in an XRF `format`
/// (`None` for a raw channel axis); any other axis is an error naming the format.
fn energy_calibration_to_write(s: &Spectrum, format: &str) -> Result<Option<Calibration>> {
    match &s.axis {
        Axis::Energy(c) => Ok(Some(*c)),
        Axis::Channels => Ok(None),
        _ => Err(Error::Invalid {
            what: "axis",
            message: format!("only XRF energy spectra can be written as {format}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_extension() {
        let emsa = b"#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 1\n#SPECTRUM :\n1\n";
        assert_eq!(detect(emsa, "x.txt", None).unwrap(), Format::Emsa);
        let mca = b"<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\n";
        assert_eq!(detect(mca, "x.msa", None).unwrap(), Format::AmptekMca);
        let spe = b"$SPEC_ID:\n\n$DATA:\n0 1\n1 2\n";
        assert_eq!(detect(spe, "a.dat", None).unwrap(), Format::Spe);
    }

    #[test]
    fn plain_columns_follow_header_then_expectation_then_extension() {
        let plain = b"1 2\n3 4\n";
        assert_eq!(detect(plain, "a.xy", None).unwrap(), Format::Xy);
        assert_eq!(detect(plain, "a.csv", None).unwrap(), Format::Text);
        assert_eq!(
            detect(plain, "a.csv", Some(Technique::Xrd)).unwrap(),
            Format::Xy
        );
        let energy = b"energy_keV,counts\n1,2\n";
        assert_eq!(detect(energy, "a.xy", None).unwrap(), Format::Text);
        let wl = b"# wavelength: 1.54\n10 2\n";
        assert_eq!(detect(wl, "a.csv", None).unwrap(), Format::Xy);
    }

    #[test]
    fn empty_and_binary_inputs_are_errors() {
        assert!(detect(b"", "a.msa", None).is_err());
        assert!(detect(b"  \n", "a.msa", None).is_err());
        assert!(detect(b"\x00\x01\x02junk", "a.msa", None).is_err());
    }

    #[test]
    fn linear_fit_recovers_line() {
        let pts: Vec<_> = (0..10).map(|i| (i as f64, 0.5 + 0.01 * i as f64)).collect();
        let (a, b) = linear_fit(&pts).unwrap();
        assert!((a - 0.5).abs() < 1e-12 && (b - 0.01).abs() < 1e-12);
    }
}
