//! Bruker handheld XRF `.pdz` files (S1 TITAN, Tracer), versions 24 and 25.
//!
//! All numbers are little-endian; strings are UTF-16LE.
//!
//! **Version 25** is a sequence of records, each a 6-byte header (`u16` record type,
//! `u32` length of the data that follows) and its data. The first record (type 25)
//! holds the file type `"pdz25"` (five UTF-16 characters) and a `u32` instrument type.
//! reescan reads three more kinds and steps over the rest by their length:
//!
//! * type 1, the instrument: serial number, build number (strings: `u32` character
//!   count, then the characters), the tube anode's atomic number (`u8`), three angles
//!   (`u8`), the Be window thickness (`i16`), the detector model (string), …
//! * type 2, the assay summary: phase count and four counters (`u32`), six times
//!   (`f32`, s), then the application (method) name (string), …
//! * type 3, one spectrum per beam ("phase"): phase number and four counters (`u32`);
//!   time since trigger, packet (real) time, dead time, reset time, live time (`f32`,
//!   s); tube voltage (kV) and current (µA) (`f32`); three filter layers (`i16` atomic
//!   number, `i16` thickness in µm; Z = 0 for an unused layer); the filter wheel
//!   position (`i16`); detector and ambient temperature (`f32`); vacuum (`i32`);
//!   eV per channel (`f32`); gain-drift algorithm (`i16`); energy of channel 0 (`f32`,
//!   eV); the acquisition date as a Windows `SYSTEMTIME` (eight `u16`: year, month,
//!   day of week, day, hour, minute, second, ms); pressure (`f32`); the channel count
//!   (`i16`); nose temperature and environment (`i16`); the beam (illumination) name
//!   (string); a packet-start flag (`i16`); the counts (`u32` per channel).
//!
//! **Version 24** is one fixed layout: `u16` 257 at byte 0, the channel count (`i16`)
//! at 6, eV per channel (`f64`) at 50, four filter layers (`i16` Z, `i16` µm) at 114,
//! the acquisition `SYSTEMTIME` at 146, tube voltage and current (`f32`) at 162, real
//! time, dead time, a third time and live time (`f32`, s) at 342, and the counts (`i32`
//! per channel) from 358. It states no serial number, method or energy offset (0 eV).
//!
//! Sources: the public-domain `BrukerPDZ` reader of NIST DTSA-II/EPQ (N. Ritchie,
//! version 24) and the format notes of the MIT-licensed `pdz-tool` package (versions
//! 24 and 25); the field meanings were checked against real version-25 files (three
//! beams of a GeoExploration assay: packet time ≈ real time per beam, channel-0
//! energy in eV).
//!
//! Every length read from the file is checked against the bytes that remain before
//! anything is allocated: a damaged file gives an error, never a panic or a large
//! allocation.
//!
//! Geochemistry and mining methods record two or three beams per assay. [`read`]
//! returns the beam with the highest tube voltage (the first of equals): it excites the
//! rare earths' K lines, and the tube model of the analysis is sized by it.
//! [`read_assay`] and [`read_all`] return every beam, each as its own spectrum with its
//! kV, current and filter layers ([`crate::Metadata::beam_filter`]); the screening
//! analyses an assay of several beams jointly (`xrf::beams`).

use super::{too_many_channels, LIMITS};
use crate::{Axis, Calibration, Error, Metadata, Result, Spectrum};
use ndarray::Array1;

/// Format name used in errors and metadata.
pub const NAME: &str = "Bruker PDZ";

/// `u16` at byte 0 of a version-24 file.
const V24_MAGIC: u16 = 257;
/// Record type of the version-25 file header.
const V25_HEADER: u16 = 25;
/// Byte where a version-24 file's counts start.
const V24_COUNTS_AT: usize = 358;

/// The file layout version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Fixed layout, one spectrum.
    V24,
    /// Records, one spectrum record per beam.
    V25,
}

/// One layer of a beam filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterLayer {
    /// Atomic number of the layer's element.
    pub z: u16,
    /// Thickness, µm.
    pub thickness_um: f64,
}

/// One spectrum record: the spectrum of one beam of an assay, with its excitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Beam {
    /// Counts per channel.
    pub counts: Vec<f64>,
    /// Channel width, eV.
    pub ev_per_channel: f64,
    /// Energy of channel 0, eV.
    pub offset_ev: f64,
    /// Tube voltage, kV.
    pub tube_kv: f64,
    /// Tube current, µA.
    pub tube_ua: f64,
    /// Filter layers in the beam, in file order (empty: no filter).
    pub filter: Vec<FilterLayer>,
    /// Live time, s.
    pub live_time_s: f64,
    /// Real (clock) time, s.
    pub real_time_s: f64,
    /// Acquisition date and time (`YYYY-MM-DDThh:mm:ss`, instrument clock), when
    /// the file states a calendar date.
    pub acquired: Option<String>,
    /// The beam's name in the method (version 25, e.g. `Geo_50`).
    pub name: Option<String>,
}

/// A whole `.pdz` file: the instrument, the method and every beam.
#[derive(Debug, Clone, PartialEq)]
pub struct Assay {
    /// Layout version.
    pub version: Version,
    /// Instrument type number (version 25).
    pub instrument_type: Option<u32>,
    /// Instrument serial number (version 25).
    pub serial: Option<String>,
    /// Tube anode element symbol (version 25).
    pub anode: Option<String>,
    /// Detector model (version 25, e.g. `SDD`).
    pub detector: Option<String>,
    /// Method (application) name (version 25, e.g. `GeoExploration`).
    pub method: Option<String>,
    /// Every spectrum record, in file order (at least one).
    pub beams: Vec<Beam>,
}

/// True when `bytes` start like a `.pdz` file of any version (including versions
/// reescan does not read, which [`read_assay`] then names).
pub fn looks_like(bytes: &[u8]) -> bool {
    let first = bytes.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    first == Some(V24_MAGIC) || bytes.get(6..12) == Some(b"p\0d\0z\0".as_slice())
}

/// The beam filter as text: `Cu 75 µm + Ti 25 µm + Al 200 µm`, or `none`.
pub fn filter_description(filter: &[FilterLayer]) -> String {
    crate::spectrum::describe_filter(&layers(filter))
}

/// The filter layers as the spectrum's metadata holds them (element symbols).
fn layers(filter: &[FilterLayer]) -> Vec<crate::FilterLayer> {
    filter
        .iter()
        .map(|l| crate::FilterLayer {
            element: element_symbol(l.z),
            thickness_um: l.thickness_um,
        })
        .collect()
}

fn element_symbol(z: u16) -> String {
    crate::tables::xraydb()
        .symbol(&z.to_string())
        .map_or_else(|_| format!("Z={z}"), str::to_string)
}

/// Read the beam with the highest tube voltage (see the module notes).
///
/// # Errors
/// As [`read_assay`].
pub fn read(bytes: &[u8]) -> Result<Spectrum> {
    let assay = read_assay(bytes)?;
    assay.spectrum(assay.primary())
}

/// Read every beam, each as a [`Spectrum`] with its own excitation, in file order.
///
/// # Errors
/// As [`read_assay`], or a beam whose calibration is impossible.
pub fn read_all(bytes: &[u8]) -> Result<Vec<Spectrum>> {
    let assay = read_assay(bytes)?;
    (0..assay.beams.len()).map(|i| assay.spectrum(i)).collect()
}

impl Assay {
    /// Index of the beam [`read`] returns: the highest tube voltage, the first of equals.
    pub fn primary(&self) -> usize {
        let mut best = 0;
        for (i, b) in self.beams.iter().enumerate() {
            if b.tube_kv > self.beams[best].tube_kv {
                best = i;
            }
        }
        best
    }

    /// Beam `index` as a [`Spectrum`]: energy axis from its channel width and offset,
    /// its times and excitation; the title names the method, the beam and its filter.
    ///
    /// # Errors
    /// An impossible calibration (zero or negative channel width).
    ///
    /// # Panics
    /// `index` out of range.
    pub fn spectrum(&self, index: usize) -> Result<Spectrum> {
        let b = &self.beams[index];
        let calibration = Calibration::linear(b.offset_ev / 1000.0, b.ev_per_channel / 1000.0)?;
        let beam_name = b.name.as_deref().unwrap_or("beam");
        let title = format!(
            "{}{beam_name} ({} of {}), {} kV, filter {}",
            self.method
                .as_deref()
                .map(|m| format!("{m}: "))
                .unwrap_or_default(),
            index + 1,
            self.beams.len(),
            b.tube_kv,
            filter_description(&b.filter)
        );
        let instrument = match (self.instrument_type, &self.serial) {
            (Some(t), Some(s)) => Some(format!("Bruker handheld type {t}, serial {s}")),
            (Some(t), None) => Some(format!("Bruker handheld type {t}")),
            (None, Some(s)) => Some(format!("Bruker handheld, serial {s}")),
            (None, None) => None,
        };
        Ok(Spectrum {
            counts: Array1::from(b.counts.clone()),
            axis: Axis::Energy(calibration),
            meta: Metadata {
                title: Some(title),
                live_time_s: Some(b.live_time_s),
                real_time_s: Some(b.real_time_s),
                tube_kv: Some(b.tube_kv),
                tube_ua: Some(b.tube_ua),
                anode: self.anode.clone(),
                beam_filter: Some(layers(&b.filter)),
                detector: self.detector.clone(),
                instrument,
                acquired: b.acquired.clone(),
                ..Metadata::default()
            },
        })
    }
}

/// Read a whole `.pdz` file.
///
/// # Errors
/// Not a `.pdz` file, a version other than 24 or 25, a record or field that runs past
/// the end of the file, a channel count below 1 or above the limit, a non-finite or
/// negative number where a time, voltage, current or channel width belongs, negative
/// counts, or no spectrum record.
pub fn read_assay(bytes: &[u8]) -> Result<Assay> {
    if bytes.get(6..12) == Some(b"p\0d\0z\0".as_slice()) {
        return read_v25(bytes);
    }
    if bytes.len() >= 2 && u16::from_le_bytes([bytes[0], bytes[1]]) == V24_MAGIC {
        return read_v24(bytes);
    }
    Err(Error::parse(
        NAME,
        "not a .pdz file (no version 24 or 25 header)",
    ))
}

/// A read position in one region of the file; every read is bounds-checked and names
/// the field that did not fit.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes[0]` in the file, for messages.
    base: usize,
    /// What the region is ("record 3 (spectrum)"), for messages.
    region: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8], base: usize, region: &'a str) -> Self {
        Cursor {
            bytes,
            pos: 0,
            base,
            region,
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::parse(
                NAME,
                format!(
                    "truncated: {} ends at byte {} but its {field} needs {n} bytes at byte {}",
                    self.region,
                    self.base + self.bytes.len(),
                    self.base + self.pos
                ),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn seek(&mut self, to: usize, field: &str) -> Result<()> {
        if to < self.pos {
            return Ok(());
        }
        self.take(to - self.pos, field).map(drop)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, field)?);
        Ok(a)
    }

    fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &str) -> Result<u16> {
        self.array(field).map(u16::from_le_bytes)
    }

    fn i16(&mut self, field: &str) -> Result<i16> {
        self.array(field).map(i16::from_le_bytes)
    }

    fn u32(&mut self, field: &str) -> Result<u32> {
        self.array(field).map(u32::from_le_bytes)
    }

    /// A finite `f32`.
    fn f32(&mut self, field: &str) -> Result<f64> {
        finite(f64::from(self.array(field).map(f32::from_le_bytes)?), field)
    }

    /// A finite `f64`.
    fn f64(&mut self, field: &str) -> Result<f64> {
        finite(self.array(field).map(f64::from_le_bytes)?, field)
    }

    /// `n` UTF-16LE characters.
    fn utf16(&mut self, n: usize, field: &str) -> Result<String> {
        let bytes = self.take(n.saturating_mul(2), field)?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units)
            .trim_matches(char::from(0))
            .trim()
            .to_string())
    }

    /// A string stored as a `u32` character count and the characters.
    fn string(&mut self, field: &str) -> Result<String> {
        let n = self.u32(field)?;
        self.utf16(n as usize, field)
    }

    /// A Windows `SYSTEMTIME` as `YYYY-MM-DDThh:mm:ss`, `None` when it is not a
    /// calendar date (an instrument whose clock was never set writes zeros).
    fn system_time(&mut self, field: &str) -> Result<Option<String>> {
        let b = self.take(16, field)?;
        let v: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let (year, month, day, hour, minute, second) = (v[0], v[1], v[3], v[4], v[5], v[6]);
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        Ok(valid
            .then(|| format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")))
    }

    /// The channel count: at least 1, at most the limit.
    fn channel_count(&mut self, field: &str) -> Result<usize> {
        let n = self.i16(field)?;
        if n < 1 {
            return Err(Error::parse(
                NAME,
                format!("{}: channel count {n} (must be at least 1)", self.region),
            ));
        }
        let n = n as usize;
        if n > LIMITS.max_channels {
            return Err(too_many_channels(n));
        }
        Ok(n)
    }

    /// `n` counts of 4 bytes each, decoded by `value`; the size is checked against the
    /// remaining bytes before the vector is made.
    fn counts(&mut self, n: usize, value: impl Fn([u8; 4]) -> f64) -> Result<Vec<f64>> {
        let bytes = self.take(n * 4, "counts")?;
        let counts: Vec<f64> = bytes
            .chunks_exact(4)
            .map(|c| value([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = counts.iter().position(|c| *c < 0.0) {
            return Err(Error::parse(
                NAME,
                format!("{}: channel {i} has negative counts", self.region),
            ));
        }
        Ok(counts)
    }
}

fn finite(v: f64, field: &str) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::parse(NAME, format!("{field} is {v}, not a number")))
    }
}

/// Non-negative (times, current).
fn non_negative(v: f64, field: &str) -> Result<f64> {
    if v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::parse(NAME, format!("{field} is {v} (negative)")))
    }
}

/// Positive (channel width, tube voltage).
fn positive(v: f64, field: &str) -> Result<f64> {
    if v > 0.0 {
        Ok(v)
    } else {
        Err(Error::parse(
            NAME,
            format!("{field} is {v} (must be positive)"),
        ))
    }
}

/// The layers with a non-zero atomic number; a negative Z or thickness is an error.
fn filter_layers(layers: &[(i16, i16)]) -> Result<Vec<FilterLayer>> {
    let mut out = Vec::new();
    for &(z, thickness) in layers {
        if z == 0 {
            continue;
        }
        if !(1..=118).contains(&z) || thickness < 0 {
            return Err(Error::parse(
                NAME,
                format!("filter layer Z {z}, {thickness} µm is impossible"),
            ));
        }
        out.push(FilterLayer {
            z: z as u16,
            thickness_um: f64::from(thickness),
        });
    }
    Ok(out)
}

fn read_v24(bytes: &[u8]) -> Result<Assay> {
    let mut c = Cursor::new(bytes, 0, "the version-24 header");
    c.seek(6, "channel count")?;
    let n = c.channel_count("channel count")?;
    c.seek(50, "eV per channel")?;
    let ev_per_channel = positive(c.f64("eV per channel")?, "eV per channel")?;
    c.seek(114, "filter")?;
    let mut layers = [(0i16, 0i16); 4];
    for l in &mut layers {
        *l = (c.i16("filter")?, c.i16("filter")?);
    }
    let filter = filter_layers(&layers)?;
    c.seek(146, "acquisition date")?;
    let acquired = c.system_time("acquisition date")?;
    c.seek(162, "tube voltage")?;
    let tube_kv = positive(c.f32("tube voltage")?, "tube voltage")?;
    let tube_ua = non_negative(c.f32("tube current")?, "tube current")?;
    c.seek(342, "real time")?;
    let real_time_s = non_negative(c.f32("real time")?, "real time")?;
    c.seek(354, "live time")?;
    let live_time_s = non_negative(c.f32("live time")?, "live time")?;
    c.seek(V24_COUNTS_AT, "counts")?;
    c.region = "the version-24 spectrum";
    let counts = c.counts(n, |b| f64::from(i32::from_le_bytes(b)))?;
    Ok(Assay {
        version: Version::V24,
        instrument_type: None,
        serial: None,
        anode: None,
        detector: None,
        method: None,
        beams: vec![Beam {
            counts,
            ev_per_channel,
            offset_ev: 0.0,
            tube_kv,
            tube_ua,
            filter,
            live_time_s,
            real_time_s,
            acquired,
            name: None,
        }],
    })
}

fn read_v25(bytes: &[u8]) -> Result<Assay> {
    let mut assay = Assay {
        version: Version::V25,
        instrument_type: None,
        serial: None,
        anode: None,
        detector: None,
        method: None,
        beams: Vec::new(),
    };
    let mut at = 0;
    let mut index = 0usize;
    while at < bytes.len() {
        let mut head = Cursor::new(&bytes[at..], at, "a record header");
        let kind = head.u16("record type")?;
        let len = head.u32("record length")? as usize;
        let start = at + 6;
        if len > bytes.len() - start {
            return Err(Error::parse(
                NAME,
                format!(
                    "truncated: record {index} (type {kind}) at byte {at} declares {len} bytes \
                     but {} remain",
                    bytes.len() - start
                ),
            ));
        }
        let data = &bytes[start..start + len];
        if index == 0 {
            header_v25(kind, data, start, &mut assay)?;
        } else {
            match kind {
                1 => instrument_v25(data, start, &mut assay)?,
                2 => summary_v25(data, start, &mut assay)?,
                3 => assay.beams.push(spectrum_v25(data, start)?),
                _ => {}
            }
        }
        at = start + len;
        index += 1;
    }
    if assay.beams.is_empty() {
        return Err(Error::parse(
            NAME,
            "no spectrum record (type 3) in the file",
        ));
    }
    Ok(assay)
}

fn header_v25(kind: u16, data: &[u8], base: usize, assay: &mut Assay) -> Result<()> {
    let mut c = Cursor::new(data, base, "the file header record");
    let id = c.utf16(5, "file type")?;
    if kind != V25_HEADER || id != "pdz25" {
        return Err(Error::parse(
            NAME,
            format!(
                "unsupported version: file type '{id}' in a type-{kind} header \
                 (reescan reads pdz24 and pdz25)"
            ),
        ));
    }
    assay.instrument_type = Some(c.u32("instrument type")?);
    Ok(())
}

fn instrument_v25(data: &[u8], base: usize, assay: &mut Assay) -> Result<()> {
    let mut c = Cursor::new(data, base, "the instrument record");
    assay.serial = Some(c.string("serial number")?).filter(|s| !s.is_empty());
    c.string("build number")?;
    let anode_z = c.u8("anode")?;
    assay.anode = (anode_z > 0).then(|| element_symbol(u16::from(anode_z)));
    c.take(3, "geometry")?;
    c.i16("Be window")?;
    assay.detector = Some(c.string("detector model")?).filter(|s| !s.is_empty());
    Ok(())
}

fn summary_v25(data: &[u8], base: usize, assay: &mut Assay) -> Result<()> {
    let mut c = Cursor::new(data, base, "the assay summary record");
    c.take(5 * 4 + 6 * 4, "counters and times")?;
    assay.method = Some(c.string("method name")?).filter(|s| !s.is_empty());
    Ok(())
}

fn spectrum_v25(data: &[u8], base: usize) -> Result<Beam> {
    let mut c = Cursor::new(data, base, "a spectrum record");
    c.take(5 * 4, "counters")?;
    c.f32("time since trigger")?;
    let real_time_s = non_negative(c.f32("real time")?, "real time")?;
    c.f32("dead time")?;
    c.f32("reset time")?;
    let live_time_s = non_negative(c.f32("live time")?, "live time")?;
    let tube_kv = positive(c.f32("tube voltage")?, "tube voltage")?;
    let tube_ua = non_negative(c.f32("tube current")?, "tube current")?;
    let mut layers = [(0i16, 0i16); 3];
    for l in &mut layers {
        *l = (c.i16("filter")?, c.i16("filter")?);
    }
    let filter = filter_layers(&layers)?;
    c.i16("filter wheel")?;
    c.take(4 + 4 + 4, "temperatures and vacuum")?;
    let ev_per_channel = positive(c.f32("eV per channel")?, "eV per channel")?;
    c.i16("gain drift algorithm")?;
    let offset_ev = c.f32("channel 0 energy")?;
    let acquired = c.system_time("acquisition date")?;
    c.take(4, "pressure")?;
    let n = c.channel_count("channel count")?;
    c.take(4, "nose temperature and environment")?;
    let name = Some(c.string("beam name")?).filter(|s| !s.is_empty());
    c.i16("packet start")?;
    let counts = c.counts(n, |b| f64::from(u32::from_le_bytes(b)))?;
    Ok(Beam {
        counts,
        ev_per_channel,
        offset_ev,
        tube_kv,
        tube_ua,
        filter,
        live_time_s,
        real_time_s,
        acquired,
        name,
    })
}
