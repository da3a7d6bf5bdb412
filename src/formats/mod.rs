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
//! | Bruker handheld `.pdz` (binary, versions 24/25; every beam via [`read_all_path`]) | [`pdz`] | XRF |
//! | CSV/TSV/whitespace counts, PyMca one-column `.mca` | [`text`] | XRF |
//! | `.xy`/`.xye`/`.dat` | [`xy`] | XRD |
//! | PANalytical `.xrdml` | [`xrdml`] | XRD |
//! | Bruker `.raw`/`.brml`/`.uxd`, Rigaku `.ras`/`.rasx`, GSAS, pdCIF | [`diffractometer`] | XRD |

pub mod diffractometer;
pub mod emsa;
pub mod mca;
pub(crate) mod num;
pub mod pdz;
pub mod spe;
pub mod spx;
pub mod text;
mod xml;
pub mod xrdml;
pub mod xy;

use crate::{Axis, Calibration, Error, Result, Spectrum, Technique};
use std::io::Read;
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

/// What every value read from an input file or a reading flag must meet before it sizes
/// anything (a buffer, an energy grid, the tube's primary spectrum): facts about
/// instruments, not screening policy (policy lives in `data/rules.toml`). One value,
/// [`LIMITS`]; the readers, the command line and [`Tube::spectrum`] all check against it.
///
/// Ranges are inclusive (`lo`, `hi`).
///
/// [`Tube::spectrum`]: crate::xrf::physics::Tube::spectrum
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputLimits {
    /// Largest input file (bytes). The largest real file in the shared corpora is under
    /// 2 MB; a 16384-channel EMSA file with its header is about 200 kB, a fine
    /// synchrotron XRD scan a few MB. Anything bigger is not a spectrum.
    pub max_file_bytes: u64,
    /// Most channels (or 2θ steps) a spectrum may have. Real XRF spectra have
    /// 512–16384 channels and fine synchrotron XRD scans ~10⁵ steps.
    pub max_channels: usize,
    /// Tube voltage an XRF analysis accepts (kV): handheld and benchtop analysers run
    /// their tubes at 4–60 kV, wavelength-dispersive ones up to 100 kV and industrial
    /// cargo tubes up to 160 kV. The tube's primary spectrum is sized by it.
    pub xrf_tube_kv: (f64, f64),
    /// Beam or tube voltage any file may state (kV): electron-microscope EDS files state
    /// their electron beam (transmission microscopes run at 60–300 kV; the shared
    /// corpus holds 120 and 200 kV files), diffractometer files their tube.
    pub stated_kv: (f64, f64),
    /// Wavelength (Å) a diffraction file may state: from hard synchrotron beams
    /// (APS 11-BM at 0.413 Å in the shared corpus) to the Ti Kα tubes (2.75 Å).
    pub file_wavelength_a: (f64, f64),
    /// Wavelength (Å) `--wavelength` may give: the anodes of laboratory diffractometers,
    /// Ag Kα1 (0.559 Å) to Cr Kα1 (2.290 Å).
    pub flag_wavelength_a: (f64, f64),
    /// Live and real time (s): a whole counting time is never negative, and a scan
    /// longer than 10⁷ s (four months) is not a measurement.
    pub time_s: (f64, f64),
    /// Energy per channel (keV): EDS and XRF detectors are read at 1–40 eV per channel;
    /// the range leaves two decades either side.
    pub gain_kev: (f64, f64),
    /// Energy of channel 0 (keV): a few hundred eV either side of zero in practice.
    pub offset_kev: (f64, f64),
}

/// The limits every reader, flag and the tube model check against.
pub const LIMITS: InputLimits = InputLimits {
    max_file_bytes: 64 * 1024 * 1024,
    max_channels: 1_000_000,
    xrf_tube_kv: (1.0, 160.0),
    stated_kv: (0.1, 1000.0),
    file_wavelength_a: (0.1, 5.0),
    flag_wavelength_a: (0.5, 2.5),
    time_s: (0.0, 1e7),
    gain_kev: (1e-5, 1.0),
    offset_kev: (-100.0, 100.0),
};

impl InputLimits {
    /// `value` (of `what`, in `unit`) within `range`, else an [`Error::Invalid`] that
    /// states the value and the range.
    ///
    /// # Errors
    /// A non-finite value or one outside `range`.
    pub fn check(what: &'static str, value: f64, range: (f64, f64), unit: &str) -> Result<f64> {
        if value.is_finite() && value >= range.0 && value <= range.1 {
            return Ok(value);
        }
        Err(Error::Invalid {
            what,
            message: format!(
                "{} {unit} is impossible (must be between {} and {} {unit})",
                show_number(value),
                range.0,
                range.1
            ),
        })
    }
}

/// A number as an error message shows it: plain, or in exponent form when very large
/// or small (`1e300`, not three hundred digits).
pub fn show_number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-3..1e6).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

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
    /// Bruker handheld XRF `.pdz` (binary, versions 24 and 25).
    Pdz,
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
            Format::Pdz => pdz::NAME,
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
///
/// # Errors
/// As [`read_file`] and [`read_bytes`].
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<Spectrum> {
    let bytes = read_file(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut s = read_bytes(&bytes, name, opts).map_err(|e| e.in_file(path))?;
    s.meta.source_file = Some(path.to_path_buf());
    Ok(s)
}

/// Every spectrum of a file: each beam of a multi-beam `.pdz` assay, in file order,
/// each with its own excitation; the one spectrum of any other format. Each is
/// checked and stamped as [`read_path`] does.
///
/// # Errors
/// As [`read_path`].
pub fn read_all_path(path: &Path, opts: &ReadOptions) -> Result<Vec<Spectrum>> {
    let bytes = read_file(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let all = read_all_bytes(&bytes, name, opts).map_err(|e| e.in_file(path))?;
    Ok(all
        .into_iter()
        .map(|mut s| {
            s.meta.source_file = Some(path.to_path_buf());
            s
        })
        .collect())
}

/// The whole content of an input file, read only when it is a regular file (after
/// following symbolic links) of at most [`InputLimits::max_file_bytes`].
///
/// A FIFO, a socket or a device (or a link to one, such as `/dev/zero`) would block the
/// reader or feed it without end, so the file's type is checked before opening; it is
/// opened non-blocking (a FIFO swapped in between cannot block the open) and checked
/// again on the open handle, and the read stops one byte past the limit (a file growing
/// meanwhile is refused, not read without bound). Costs one `stat` and one `fstat` per
/// file.
///
/// # Errors
/// Not a regular file, larger than the limit, or an I/O error; each names the file.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let fail = |e: Error| e.in_file(path);
    let meta = std::fs::metadata(path).map_err(|e| fail(Error::Io(e)))?;
    regular_within_limit(&meta).map_err(fail)?;
    let file = open_nonblocking(path).map_err(|e| fail(Error::Io(e)))?;
    let meta = file.metadata().map_err(|e| fail(Error::Io(e)))?;
    regular_within_limit(&meta).map_err(fail)?;
    let limit = LIMITS.max_file_bytes;
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(Error::Io(e)))?;
    if bytes.len() as u64 > limit {
        return Err(fail(too_big(bytes.len() as u64)));
    }
    Ok(bytes)
}

/// Open for reading without blocking on a FIFO (`O_NONBLOCK`; no effect on the reads
/// of a regular file).
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// A regular file no larger than [`InputLimits::max_file_bytes`].
fn regular_within_limit(meta: &std::fs::Metadata) -> Result<()> {
    if !meta.is_file() {
        return Err(Error::Invalid {
            what: "input",
            message: format!("not a regular file but {}", file_kind(meta)),
        });
    }
    if meta.len() > LIMITS.max_file_bytes {
        return Err(too_big(meta.len()));
    }
    Ok(())
}

fn too_big(len: u64) -> Error {
    Error::Invalid {
        what: "file size",
        message: format!(
            "{len} or more bytes (limit {} bytes)",
            LIMITS.max_file_bytes
        ),
    }
}

/// What a file that is not a regular file is, for the error message.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Every spectrum in complete file bytes (each beam of a `.pdz` assay, in file order; the
/// one spectrum of any other format), each stamped with the hash of all the bytes;
/// `name` is a hint (extension) only.
///
/// # Errors
/// As [`read_bytes`].
pub fn read_all_bytes(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Vec<Spectrum>> {
    match detect(bytes, name, opts.technique)? {
        Format::Pdz => pdz::read_all(bytes)?
            .into_iter()
            .map(|s| finish(s, bytes, Format::Pdz, opts))
            .collect(),
        _ => Ok(vec![read_bytes(bytes, name, opts)?]),
    }
}

/// Read a spectrum from complete file bytes; `name` is a hint (extension) only.
pub fn read_bytes(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Spectrum> {
    let format = detect(bytes, name, opts.technique)?;
    let spectrum = match format {
        Format::Emsa => emsa::read(bytes)?,
        Format::AmptekMca => mca::read(bytes)?,
        Format::Spe => spe::read(bytes)?,
        Format::Spx => spx::read(bytes)?,
        Format::Pdz => pdz::read(bytes)?,
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
            "binary data that is not a Bruker RAW, BRML, RASX or PDZ file".into(),
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
    if pdz::looks_like(body) {
        return Some(Format::Pdz);
    }
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
    if s.counts.len() > LIMITS.max_channels {
        return Err(too_many_channels(s.counts.len()));
    }
    validate_axis(&s.axis, s.counts.len())?;
    if s.axis == Axis::Channels && (opts.gain_kev.is_some() || opts.offset_kev.is_some()) {
        let gain = opts.gain_kev.ok_or(Error::MissingCalibration)?;
        let c = Calibration::linear(opts.offset_kev.unwrap_or(0.0), gain)?;
        check_calibration(&c)?;
        s.axis = Axis::Energy(c);
    }
    s.accept_zero_peak_residue(&crate::spectrum::ZeroPeakResidue::default());
    validate_counts(&s)?;
    if s.meta.tube_kv.is_none() {
        s.meta.tube_kv = opts.tube_kv;
    }
    validate_metadata(&s, opts.technique)?;
    s.meta.format = format.name().to_string();
    s.meta.sha256 = sha256_hex(bytes);
    Ok(s)
}

/// The header numbers a file states, checked against [`LIMITS`]: live and real time,
/// beam or tube voltage (the XRF tube range when the spectrum is read for an XRF
/// analysis, which sizes the tube's primary spectrum by it).
fn validate_metadata(s: &Spectrum, technique: Option<Technique>) -> Result<()> {
    let m = &s.meta;
    for (what, t) in [("live time", m.live_time_s), ("real time", m.real_time_s)] {
        if let Some(t) = t {
            InputLimits::check(what, t, LIMITS.time_s, "s")?;
        }
    }
    if let Some(kv) = m.tube_kv {
        let xrf = technique == Some(Technique::Xrf) && matches!(s.axis, Axis::Energy(_));
        if xrf {
            InputLimits::check("XRF tube voltage", kv, LIMITS.xrf_tube_kv, "kV")?;
        } else {
            InputLimits::check("beam voltage", kv, LIMITS.stated_kv, "kV")?;
        }
    }
    Ok(())
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

/// The error for a spectrum longer than [`LIMITS.max_channels`].
pub(crate) fn too_many_channels(n: usize) -> Error {
    Error::Invalid {
        what: "channel count",
        message: format!("{n} or more channels (limit {})", LIMITS.max_channels),
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
            InputLimits::check("wavelength", *wavelength_a, LIMITS.file_wavelength_a, "Å")?;
            Ok(())
        }
        Axis::Energy(c) | Axis::EnergyDispersive { calibration: c, .. } => check_calibration(c),
        Axis::Channels => Ok(()),
    }
}

/// Reject calibrations with non-finite terms or a gain or offset outside [`LIMITS`].
pub(crate) fn check_calibration(c: &Calibration) -> Result<()> {
    Calibration::linear(c.offset_kev, c.gain_kev)?;
    InputLimits::check("gain", c.gain_kev, LIMITS.gain_kev, "keV per channel")?;
    InputLimits::check("offset", c.offset_kev, LIMITS.offset_kev, "keV")?;
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
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.msa");
        std::fs::write(&ok, b"123").unwrap();
        assert_eq!(read_file(&ok).unwrap(), b"123");
        let e = read_file(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file but a folder"), "{e}");
        // sparse: no disk space used
        let big = dir.path().join("big.msa");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(LIMITS.max_file_bytes + 1)
            .unwrap();
        let e = read_file(&big).unwrap_err().to_string();
        assert!(e.contains("big.msa") && e.contains("limit"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.msa");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = read_file(&fifo).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
        let link = dir.path().join("zero.msa");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_file(&link).unwrap_err().to_string();
        assert!(e.contains("zero.msa") && e.contains("device"), "{e}");
    }

    #[test]
    fn stated_values_outside_the_limits_are_refused() {
        let emsa = |kv: &str| {
            format!(
                "#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 3\n#XPERCHAN : 0.01\n\
                 #OFFSET : 0\n#BEAMKV -kV: {kv}\n#SPECTRUM :\n1\n2\n3\n#ENDOFDATA :\n"
            )
        };
        let xrf = ReadOptions {
            technique: Some(Technique::Xrf),
            ..ReadOptions::default()
        };
        let read = |kv: &str, o: &ReadOptions| read_bytes(emsa(kv).as_bytes(), "a.msa", o);
        assert!(read("40", &xrf).is_ok());
        let e = read("1e9", &xrf).unwrap_err().to_string();
        assert!(e.contains("1e9 kV") && e.contains("160"), "{e}");
        assert!(read("300", &xrf).is_err());
        assert!(read("0", &xrf).is_err());
        // an electron microscope's beam voltage is a fact of its EDS file
        assert!(read("300", &ReadOptions::default()).is_ok());
        assert!(read("1e4", &ReadOptions::default()).is_err());
        let gain = emsa("40").replace("0.01", "5000");
        let e = read_bytes(gain.as_bytes(), "a.msa", &xrf).unwrap_err();
        assert!(e.to_string().contains("gain"), "{e}");
        let live = emsa("40").replace("#SPECTRUM", "#LIVETIME -s: -3\n#SPECTRUM");
        let e = read_bytes(live.as_bytes(), "a.msa", &xrf).unwrap_err();
        assert!(e.to_string().contains("live time"), "{e}");
    }

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(show_number(1e300), "1e300");
        assert_eq!(show_number(160.0), "160");
        assert_eq!(show_number(-40.0), "-40");
        assert_eq!(show_number(0.0), "0");
    }

    #[test]
    fn linear_fit_recovers_line() {
        let pts: Vec<_> = (0..10).map(|i| (i as f64, 0.5 + 0.01 * i as f64)).collect();
        let (a, b) = linear_fit(&pts).unwrap();
        assert!((a - 0.5).abs() < 1e-12 && (b - 0.01).abs() < 1e-12);
    }
}
