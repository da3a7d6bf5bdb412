//! Bruker Esprit `.spx` spectra (XML, root `TRTSpectrum`), from SEM-EDS
//! (XFlash) and micro-XRF (M4/M6 Tornado/Jetstream) instruments.
//!
//! The first `ClassInstance Type="TRTSpectrum"` holds `TRTSpectrumHeader`
//! (`ChannelCount`, `CalibAbs` keV, `CalibLin` keV/channel, `Date`, `Time`),
//! `TRTSpectrumHardwareHeader` (`RealTime`, `LifeTime` in ms),
//! `TRTDetectorHeader` (`Type`, `Serial`), for XRF `TRTXrfHeader` (`Voltage`
//! kV, `Current` µA, `Anode` atomic number, `TubeType`) or for SEM
//! `TRTESMAHeader` (`PrimaryEnergy` kV), and `<Channels>` as comma-separated
//! counts. Nested spectra (e.g. a fitted "Background") are ignored.

use super::xml::{self, Element};
use super::{too_many_channels, LIMITS};
use crate::{Axis, Calibration, Error, Metadata, Result, Spectrum};
use ndarray::Array1;

/// Format name used in errors and metadata.
pub const NAME: &str = "Bruker SPX";

fn class_type(e: &Element) -> Option<&str> {
    (e.name == "ClassInstance")
        .then(|| e.attr("Type"))
        .flatten()
}

/// First descendant named `name`, not looking inside nested spectra.
fn find<'a>(e: &'a Element, name: &str) -> Option<&'a Element> {
    e.children.iter().find_map(|c| {
        if c.name == name {
            Some(c)
        } else if class_type(c) == Some("TRTSpectrum") {
            None
        } else {
            find(c, name)
        }
    })
}

/// First class instance of a type, not inside nested spectra.
fn class<'a>(e: &'a Element, ty: &str) -> Option<&'a Element> {
    e.children.iter().find_map(|c| {
        if class_type(c) == Some(ty) {
            Some(c)
        } else if class_type(c) == Some("TRTSpectrum") {
            None
        } else {
            class(c, ty)
        }
    })
}

fn text<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    find(e, name)
        .map(|c| c.text.trim())
        .filter(|t| !t.is_empty())
}

fn number(e: &Element, name: &str) -> Result<Option<f64>> {
    text(e, name)
        .map(|t| {
            super::num::parse_f64(t.as_bytes())
                .filter(|v| v.is_finite())
                .ok_or_else(|| Error::parse(NAME, format!("<{name}> '{t}' is not a number")))
        })
        .transpose()
}

/// Read a Bruker SPX file.
pub fn read(bytes: &[u8]) -> Result<Spectrum> {
    let root = xml::parse(bytes, NAME)?;
    let spectrum = if class_type(&root) == Some("TRTSpectrum") {
        &root
    } else {
        root.children
            .iter()
            .find(|c| class_type(c) == Some("TRTSpectrum"))
            .ok_or_else(|| Error::parse(NAME, "no ClassInstance of type TRTSpectrum"))?
    };
    let counts = channels(spectrum)?;
    if let Some(n) = number(spectrum, "ChannelCount")? {
        if (counts.len() as f64) < n {
            return Err(Error::parse(
                NAME,
                format!("truncated: ChannelCount {n} but {} channels", counts.len()),
            ));
        }
    }
    let axis = match (number(spectrum, "CalibAbs")?, number(spectrum, "CalibLin")?) {
        (Some(offset), Some(gain)) => Axis::Energy(Calibration::linear(offset, gain)?),
        _ => Axis::Channels,
    };
    Ok(Spectrum {
        counts: Array1::from(counts),
        axis,
        meta: metadata(spectrum)?,
    })
}

fn channels(spectrum: &Element) -> Result<Vec<f64>> {
    let t = find(spectrum, "Channels").ok_or_else(|| Error::parse(NAME, "no <Channels>"))?;
    let mut counts = Vec::new();
    super::num::for_each_token(t.text.as_bytes(), 1, |tok, _| {
        if counts.len() >= LIMITS.max_channels {
            return Err(too_many_channels(counts.len() + 1));
        }
        counts.push(super::num::parse_f64(tok).ok_or_else(|| {
            Error::parse(
                NAME,
                format!(
                    "<Channels> value '{}' is not a number",
                    super::num::show(tok)
                ),
            )
        })?);
        Ok(())
    })?;
    if counts.is_empty() {
        return Err(Error::parse(NAME, "<Channels> is empty"));
    }
    Ok(counts)
}

/// Tube anode symbol from the atomic number Bruker stores.
fn anode_symbol(z: f64) -> Option<String> {
    const ANODES: [(u32, &str); 12] = [
        (22, "Ti"),
        (24, "Cr"),
        (26, "Fe"),
        (27, "Co"),
        (29, "Cu"),
        (42, "Mo"),
        (45, "Rh"),
        (46, "Pd"),
        (47, "Ag"),
        (74, "W"),
        (78, "Pt"),
        (79, "Au"),
    ];
    ANODES
        .iter()
        .find(|(n, _)| f64::from(*n) == z)
        .map(|(_, s)| s.to_string())
}

fn metadata(s: &Element) -> Result<Metadata> {
    let ms = |v: Option<f64>| v.map(|t| t / 1000.0);
    let hw = class(s, "TRTSpectrumHardwareHeader");
    let det = class(s, "TRTDetectorHeader");
    let xrf = class(s, "TRTXrfHeader");
    let spec = class(s, "TRTSpectrumHeader");
    let detector = det.and_then(|d| {
        let ty = d.child("Type").map(|t| t.text.trim().to_string());
        let serial = d.child("Serial").map(|t| t.text.trim().to_string());
        match (ty, serial) {
            (Some(t), Some(n)) => Some(format!("{t} s/n {n}")),
            (t, _) => t,
        }
    });
    let tube_kv = match xrf {
        Some(x) => number(x, "Voltage")?,
        None => number(s, "PrimaryEnergy")?,
    };
    let acquired = spec.and_then(|h| match (text(h, "Date"), text(h, "Time")) {
        (Some(d), Some(t)) => Some(format!("{d} {t}")),
        (d, _) => d.map(str::to_string),
    });
    Ok(Metadata {
        title: s.attr("Name").map(str::to_string),
        live_time_s: ms(hw.map(|h| number(h, "LifeTime")).transpose()?.flatten()),
        real_time_s: ms(hw.map(|h| number(h, "RealTime")).transpose()?.flatten()),
        tube_kv,
        tube_ua: xrf.map(|x| number(x, "Current")).transpose()?.flatten(),
        anode: xrf
            .map(|x| number(x, "Anode"))
            .transpose()?
            .flatten()
            .and_then(anode_symbol),
        detector,
        instrument: xrf
            .and_then(|x| text(x, "TubeType"))
            .map(|t| format!("tube {t}")),
        signal_type: (xrf.is_none() && class(s, "TRTESMAHeader").is_some())
            .then(|| "EDS_SEM".to_string()),
        acquired,
        ..Metadata::default()
    })
}
