//! A Bruker `.pdz` writer for the tests (versions 24 and 25), written from the same
//! public layout description as the reader (EPQ's `BrukerPDZ` for version 24, the
//! `pdz-tool` format notes for version 25; see `src/formats/pdz.rs`), field by field
//! and independently of the reader's code. Version-25 files carry the records a real
//! instrument writes around the spectra (a results record the reader must step over).

use reescan::formats::pdz::{Assay, Beam, FilterLayer};

/// Rhodium, the anode of Bruker's handheld tubes (Z = 45).
pub const RH: u8 = 45;

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_i16(out: &mut Vec<u8>, v: i16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_f32(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&(v as f32).to_le_bytes());
}

/// UTF-16LE characters, no count.
fn put_chars(out: &mut Vec<u8>, s: &str) {
    for u in s.encode_utf16() {
        put_u16(out, u);
    }
}

/// A counted string: `u32` number of UTF-16 units, then the units.
fn put_string(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.encode_utf16().count() as u32);
    put_chars(out, s);
}

/// `YYYY-MM-DDThh:mm:ss` as a Windows SYSTEMTIME (day of week 0, ms 0); zeros for none.
fn put_system_time(out: &mut Vec<u8>, date: Option<&str>) {
    let mut f = [0u16; 8];
    if let Some(d) = date {
        let n: Vec<u16> = d
            .split(|c: char| !c.is_ascii_digit())
            .map(|t| t.parse().unwrap())
            .collect();
        (f[0], f[1], f[3], f[4], f[5], f[6]) = (n[0], n[1], n[2], n[3], n[4], n[5]);
    }
    for v in f {
        put_u16(out, v);
    }
}

/// Filter layers as (`i16` Z, `i16` µm) pairs, `slots` of them, unused ones zero.
fn put_filter(out: &mut Vec<u8>, filter: &[FilterLayer], slots: usize) {
    assert!(filter.len() <= slots, "at most {slots} filter layers");
    for i in 0..slots {
        let (z, t) = filter
            .get(i)
            .map_or((0, 0), |l| (l.z as i16, l.thickness_um as i16));
        put_i16(out, z);
        put_i16(out, t);
    }
}

fn record(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put_u16(out, kind);
    put_u32(out, data.len() as u32);
    out.extend_from_slice(data);
}

/// The version-25 file of `assay` (its anode given as Z by `anode_z`).
pub fn write_v25(assay: &Assay, anode_z: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut d = Vec::new();
    put_chars(&mut d, "pdz25");
    put_u32(&mut d, assay.instrument_type.unwrap_or(0));
    record(&mut out, 25, &d);

    let mut d = Vec::new();
    put_string(&mut d, assay.serial.as_deref().unwrap_or(""));
    put_string(&mut d, "SG7-TEST");
    d.extend_from_slice(&[anode_z, 52, 63, 63]);
    put_i16(&mut d, 125);
    put_string(&mut d, assay.detector.as_deref().unwrap_or(""));
    put_string(&mut d, "NSI:TEST");
    d.extend_from_slice(&[8, 8]);
    put_string(&mut d, "Fixed");
    put_u32(&mut d, 0);
    record(&mut out, 1, &d);

    let mut d = Vec::new();
    put_u32(&mut d, assay.beams.len() as u32);
    for _ in 0..4 {
        put_u32(&mut d, 0);
    }
    let real: f64 = assay.beams.iter().map(|b| b.real_time_s).sum();
    let live: f64 = assay.beams.iter().map(|b| b.live_time_s).sum();
    for v in [real, real, real - live, 0.0, live, real] {
        put_f32(&mut d, v);
    }
    put_string(&mut d, assay.method.as_deref().unwrap_or(""));
    put_string(&mut d, "");
    put_string(&mut d, "TESTER");
    record(&mut out, 2, &d);

    let mut since_trigger = 0.0;
    for (phase, b) in assay.beams.iter().enumerate() {
        since_trigger += b.real_time_s + 3.0;
        let mut d = Vec::new();
        put_u32(&mut d, phase as u32);
        let total: f64 = b.counts.iter().sum();
        for v in [total, total, 0.0, 0.0] {
            put_u32(&mut d, v as u32);
        }
        for v in [
            since_trigger,
            b.real_time_s,
            b.real_time_s - b.live_time_s,
            0.0,
            b.live_time_s,
            b.tube_kv,
            b.tube_ua,
        ] {
            put_f32(&mut d, v);
        }
        put_filter(&mut d, &b.filter, 3);
        put_i16(&mut d, phase as i16 + 1); // filter wheel position
        put_f32(&mut d, -28.0); // detector temperature
        put_f32(&mut d, 31.5); // ambient temperature
        put_u32(&mut d, 0); // vacuum
        put_f32(&mut d, b.ev_per_channel);
        put_i16(&mut d, 0); // gain drift algorithm
        put_f32(&mut d, b.offset_ev);
        put_system_time(&mut d, b.acquired.as_deref());
        put_f32(&mut d, 1013.0); // pressure
        put_i16(&mut d, b.counts.len() as i16);
        put_i16(&mut d, 30); // nose temperature
        put_i16(&mut d, 0); // environment
        put_string(&mut d, b.name.as_deref().unwrap_or(""));
        put_i16(&mut d, 0); // normal packet start
        for &c in &b.counts {
            put_u32(&mut d, c as u32);
        }
        record(&mut out, 3, &d);
    }

    // A calculated-results record (type 5) the reader steps over.
    let mut d = Vec::new();
    put_u32(&mut d, 1);
    put_u32(&mut d, 2);
    put_string(&mut d, "cal.xcal");
    record(&mut out, 5, &d);
    out
}

/// The version-24 file of one beam.
pub fn write_v24(b: &Beam) -> Vec<u8> {
    let mut out = vec![0u8; 358];
    out[0..2].copy_from_slice(&257u16.to_le_bytes());
    out[2..6].copy_from_slice(&23u32.to_le_bytes());
    out[6..8].copy_from_slice(&(b.counts.len() as i16).to_le_bytes());
    out[50..58].copy_from_slice(&b.ev_per_channel.to_le_bytes());
    let mut f = Vec::new();
    put_filter(&mut f, &b.filter, 4);
    out[114..130].copy_from_slice(&f);
    let mut t = Vec::new();
    put_system_time(&mut t, b.acquired.as_deref());
    out[146..162].copy_from_slice(&t);
    out[162..166].copy_from_slice(&(b.tube_kv as f32).to_le_bytes());
    out[166..170].copy_from_slice(&(b.tube_ua as f32).to_le_bytes());
    let times = [
        b.real_time_s,
        b.real_time_s - b.live_time_s,
        0.0,
        b.live_time_s,
    ];
    for (i, v) in times.iter().enumerate() {
        out[342 + 4 * i..346 + 4 * i].copy_from_slice(&(*v as f32).to_le_bytes());
    }
    for &c in &b.counts {
        out.extend_from_slice(&(c as i32).to_le_bytes());
    }
    out
}

/// A beam with `n` channels of a smooth made-up spectrum; every number is exactly
/// representable as `f32`, so a round trip must give it back unchanged.
pub fn beam(n: usize, tube_kv: f64, filter: &[(u16, f64)], name: &str) -> Beam {
    Beam {
        counts: (0..n)
            .map(|i| ((i * 37 + tube_kv as usize) % 251) as f64)
            .collect(),
        ev_per_channel: 20.0,
        offset_ev: -12.5,
        tube_kv,
        tube_ua: 35.5,
        filter: filter
            .iter()
            .map(|&(z, thickness_um)| FilterLayer { z, thickness_um })
            .collect(),
        live_time_s: 16.25,
        real_time_s: 18.75,
        acquired: Some("2024-01-22T14:26:26".into()),
        name: Some(name.into()),
    }
}

/// A three-beam GeoExploration-like assay of `n` channels per beam (15 kV unfiltered,
/// 50 kV through Cu/Ti/Al, 30 kV through Ti/Al), as Bruker's mining methods record.
pub fn three_beam_assay(n: usize) -> Assay {
    Assay {
        version: reescan::formats::pdz::Version::V25,
        instrument_type: Some(1),
        serial: Some("800N11285".into()),
        anode: Some("Rh".into()),
        detector: Some("SDD".into()),
        method: Some("GeoExploration".into()),
        beams: vec![
            beam(n, 15.0, &[], "Geo_15"),
            beam(n, 50.0, &[(29, 75.0), (22, 25.0), (13, 200.0)], "Geo_50"),
            beam(n, 30.0, &[(22, 25.0), (13, 300.0)], "Geo_30"),
        ],
    }
}
