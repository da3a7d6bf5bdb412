//! No reader panics: 10,000 cases per reader of arbitrary bytes, text-like
//! junk, and mutated real files (byte flips, truncation, insertions, spliced
//! repeats). Seeds are the smallest real file of each format in `../shared`,
//! or, on a clone without it, files made by our writers and minimal examples.
//! A panic fails the case; errors are the expected outcome for most inputs.

mod common;
mod pdz_writer;

use ndarray::Array1;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use reescan::formats::{self, diffractometer, Format, ReadOptions};
use reescan::{Axis, Calibration, Metadata, Spectrum};
use std::io::{Read, Write};

type Reader = fn(&[u8]) -> ();

/// A real file (at most `max` bytes) bundled in the repository or in shared/,
/// or the fallback.
fn seed(rel: &str, max: usize, fallback: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
    let bundled = common::repo(rel);
    let found = if bundled.is_file() {
        Some(bundled)
    } else {
        common::shared(rel)
    };
    match found {
        Some(p) => {
            let mut b = std::fs::read(p).unwrap();
            b.truncate(max);
            b
        }
        None => fallback(),
    }
}

fn sample_xrf() -> Spectrum {
    Spectrum {
        counts: Array1::from((0..256).map(|i| f64::from(i % 17)).collect::<Vec<_>>()),
        axis: Axis::Energy(Calibration::linear(-0.05, 0.02).unwrap()),
        meta: Metadata {
            live_time_s: Some(10.0),
            tube_kv: Some(40.0),
            ..Metadata::default()
        },
    }
}

fn sample_xrd() -> Spectrum {
    Spectrum {
        counts: Array1::from((0..200).map(|i| f64::from(i % 23)).collect::<Vec<_>>()),
        axis: Axis::TwoTheta {
            two_theta_deg: (0..200).map(|i| 10.0 + 0.02 * f64::from(i)).collect(),
            wavelength_a: 1.5406,
        },
        meta: Metadata::default(),
    }
}

/// A small BRML-like zip: the real DataContainer and a RawData0.xml cut to its
/// first 40 `<Datum>` rows (stored, not compressed, so mutations reach XML).
fn small_brml() -> Vec<u8> {
    let Some(p) = common::shared("spectra/xrd_formats/fairmat/23-012-AG_2thomegascan_long.brml")
    else {
        return b"PK\x03\x04".to_vec();
    };
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut member = |name: &str| {
        let mut s = String::new();
        z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let data = member("Experiment0/DataContainer.xml");
    let raw = member("Experiment0/RawData0.xml");
    let first = raw.find("<Datum>").unwrap();
    let keep_end = raw[first..]
        .match_indices("</Datum>")
        .nth(39)
        .map(|(i, _)| first + i + 8)
        .unwrap();
    let last_end = raw.rfind("</Datum>").unwrap() + 8;
    let raw = format!("{}{}", &raw[..keep_end], &raw[last_end..]).replace(
        "Steps=\"2001\" MeasuredSteps=\"2001\"",
        "Steps=\"40\" MeasuredSteps=\"40\"",
    );
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in [
        ("Experiment0/DataContainer.xml", data),
        ("Experiment0/RawData0.xml", raw),
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    out.into_inner()
}

const RAS: &[u8] = b"*RAS_DATA_START\n*RAS_HEADER_START\n*HW_XG_WAVE_LENGTH_ALPHA1 \"1.540593\"\n\
*HW_XG_TARGET_NAME \"Cu\"\n*MEAS_SCAN_AXIS_X \"TwoThetaTheta\"\n*MEAS_SCAN_START \"10.0\"\n\
*MEAS_SCAN_STEP \"0.02\"\n*MEAS_SCAN_STOP \"10.1\"\n*RAS_HEADER_END\n*RAS_INT_START\n\
10.00 100 1\n10.02 120 1\n10.04 130 1\n10.06 110 1\n10.08 105 1\n10.10 101 1\n*RAS_INT_END\n*RAS_DATA_END\n";

const UXD: &[u8] = b"_WL1=1.540600\n_ANODE='Cu'\n_DRIVE='COUPLED'\n_STEPSIZE=0.02\n_START=10.0\n\
_2THETACOUNTS\n10.00 100\n10.02 120\n10.04 130\n";

const GSAS: &[u8] = b"title\nBANK 1 10 2 CONST 1000 2 0 0 STD\n   10   20   30   40   50   60   70   80   90  100\n";

const CIF: &[u8] = b"data_x\n_diffrn_radiation_wavelength 1.5406\n_pd_meas_2theta_range_min 10\n\
_pd_meas_2theta_range_max 10.06\n_pd_meas_2theta_range_inc 0.02\nloop_\n_pd_meas_counts_total\n1\n2\n3\n4\n";

const XRDML: &[u8] = br#"<?xml version="1.0"?><xrdMeasurements><xrdMeasurement><usedWavelength>
<kAlpha1>1.5406</kAlpha1></usedWavelength><scan><dataPoints><positions axis="2Theta">
<startPosition>10</startPosition><endPosition>10.06</endPosition></positions>
<counts>1 2 3 4</counts></dataPoints></scan></xrdMeasurement></xrdMeasurements>"#;

const SPX: &[u8] = br#"<?xml version="1.0"?><TRTSpectrum><ClassInstance Type="TRTSpectrum" Name="x">
<ClassInstance Type="TRTSpectrumHeader"><ChannelCount>4</ChannelCount><CalibAbs>-0.1</CalibAbs>
<CalibLin>0.01</CalibLin></ClassInstance><Channels>1,2,3,4</Channels></ClassInstance></TRTSpectrum>"#;

fn mutate(seed: &[u8], edits: &[(usize, u8, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut b = seed.to_vec();
    for &(at, kind, byte) in edits {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let at = at % b.len();
        match kind % 5 {
            0 => b[at] = byte,
            1 => b[at] ^= 1 << (byte % 8),
            2 => b.insert(at, byte),
            3 => {
                b.remove(at);
            }
            _ => {
                // Splice: repeat a short run (duplicated lines, doubled tags).
                let end = (at + usize::from(byte) + 1).min(b.len());
                let run = b[at..end].to_vec();
                b.splice(at..at, run);
            }
        }
    }
    if let Some(c) = cut {
        if !b.is_empty() {
            b.truncate(c % (b.len() + 1));
        }
    }
    b
}

fn inputs(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let textish = prop::collection::vec(
        prop::sample::select(b"0123456789.,;-+eE \t\r\n#$<>/:=_\"'abcXYNaninf<<>>".to_vec()),
        0..600,
    );
    let edits = prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..12);
    let mutated =
        (edits, prop::option::of(any::<usize>())).prop_map(move |(e, c)| mutate(&seed, &e, c));
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..1024),
        1 => textish,
        4 => mutated,
    ]
}

fn no_panic(name: &str, seed: Vec<u8>, read: Reader) {
    let mut runner = TestRunner::new(Config {
        cases: 10_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    });
    runner
        .run(&inputs(seed), |bytes| {
            read(&bytes);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

fn opts() -> ReadOptions {
    ReadOptions::default()
}

#[test]
fn seeds_parse_before_mutation() {
    for (name, bytes) in [
        ("brml", small_brml()),
        ("ras", RAS.to_vec()),
        ("uxd", UXD.to_vec()),
    ] {
        if bytes.len() > 8 {
            formats::read_bytes(&bytes, name, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    for (name, bytes) in [("gsas", GSAS), ("cif", CIF), ("xrdml", XRDML), ("spx", SPX)] {
        formats::read_bytes(bytes, name, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn emsa_reader_never_panics() {
    let s = seed("spectra/formats/rsciio_example2.msa", 4096, || {
        formats::emsa::write(&sample_xrf()).unwrap().into_bytes()
    });
    no_panic("emsa", s, |b| drop(formats::emsa::read(b)));
}

#[test]
fn mca_reader_never_panics() {
    let s = seed(
        "spectra/real/padre_meddea_20250108_164246_25kV_40uA_silver_teflon_tape_unfilt1.mca",
        1 << 20,
        || formats::mca::write(&sample_xrf()).unwrap().into_bytes(),
    );
    no_panic("mca", s, |b| drop(formats::mca::read(b)));
}

#[test]
fn spe_reader_never_panics() {
    let s = seed("spectra/real/Steel.spe", 1 << 20, || {
        formats::spe::write(&sample_xrf()).unwrap().into_bytes()
    });
    no_panic("spe", s, |b| drop(formats::spe::read(b)));
}

#[test]
fn spx_reader_never_panics() {
    let s = seed(
        "spectra/real/rsciio_extracted_from_bcf.spx",
        1 << 20,
        || SPX.to_vec(),
    );
    no_panic("spx", s, |b| drop(formats::spx::read(b)));
}

#[test]
fn text_reader_never_panics() {
    let s = seed("spectra/real/Steel.csv", 4096, || {
        formats::text::write(&sample_xrf()).unwrap().into_bytes()
    });
    no_panic("text", s, |b| drop(formats::text::read(b)));
}

/// Bruker `.pdz` has no real file in the repository or in shared/ (real ones are
/// unlicensed): the seeds are a three-beam version-25 assay and a version-24 file from
/// the test writer, each read back before it is mutated. Each case also goes through
/// format detection.
#[test]
fn pdz_reader_never_panics() {
    let v25 = pdz_writer::write_v25(&pdz_writer::three_beam_assay(96), pdz_writer::RH);
    let v24 = pdz_writer::write_v24(&pdz_writer::beam(96, 40.0, &[(13, 300.0)], "v24"));
    for (name, seed) in [("pdz v25", v25), ("pdz v24", v24)] {
        formats::pdz::read_assay(&seed).unwrap_or_else(|e| panic!("{name} seed: {e}"));
        no_panic(name, seed, |b| {
            drop(formats::pdz::read_all(b));
            drop(formats::read_bytes(b, "x.pdz", &opts()));
        });
    }
}

#[test]
fn xy_reader_never_panics() {
    let s = seed("spectra/xrd_fixtures/hematite_95_CeO2_5.xy", 4096, || {
        formats::xy::write(&sample_xrd()).unwrap().into_bytes()
    });
    no_panic("xy", s, |b| drop(formats::xy::read(b, &opts())));
}

#[test]
fn xrdml_reader_never_panics() {
    let s = seed("spectra/xrd_formats/xylib/empyrean.xrdml", 1 << 20, || {
        XRDML.to_vec()
    });
    no_panic("xrdml", s, |b| drop(formats::xrdml::read(b, &opts())));
}

fn diffractometer_no_panic(format: Format, s: Vec<u8>) {
    let read: Reader = match format {
        Format::BrukerRaw => |b| drop(diffractometer::read(b, "a.raw", Format::BrukerRaw, &opts())),
        Format::BrukerBrml => |b| {
            drop(diffractometer::read(
                b,
                "a.brml",
                Format::BrukerBrml,
                &opts(),
            ))
        },
        Format::BrukerUxd => |b| drop(diffractometer::read(b, "a.uxd", Format::BrukerUxd, &opts())),
        Format::RigakuRas => |b| drop(diffractometer::read(b, "a.ras", Format::RigakuRas, &opts())),
        Format::RigakuRasx => |b| {
            drop(diffractometer::read(
                b,
                "a.rasx",
                Format::RigakuRasx,
                &opts(),
            ))
        },
        Format::Gsas => |b| drop(diffractometer::read(b, "a.gsa", Format::Gsas, &opts())),
        _ => |b| drop(diffractometer::read(b, "a.cif", Format::PdCif, &opts())),
    };
    no_panic(format.name(), s, read);
}

#[test]
fn bruker_raw_reader_never_panics() {
    let s = seed("spectra/xrd_formats/xylib/format1.raw", 1 << 20, || {
        b"RAW1.01\0".to_vec()
    });
    diffractometer_no_panic(Format::BrukerRaw, s);
    let s = seed(
        "spectra/xrd_formats/geddes/bruker4_v5converter.raw",
        1 << 20,
        || b"RAW4.00\0".to_vec(),
    );
    diffractometer_no_panic(Format::BrukerRaw, s);
}

#[test]
fn brml_reader_never_panics() {
    diffractometer_no_panic(Format::BrukerBrml, small_brml());
}

#[test]
fn rasx_reader_never_panics() {
    let s = seed(
        "spectra/xrd_formats/dara/RM20220915Si01.rasx",
        1 << 20,
        || b"PK\x03\x04".to_vec(),
    );
    diffractometer_no_panic(Format::RigakuRasx, s);
}

#[test]
fn ras_uxd_gsas_cif_readers_never_panic() {
    diffractometer_no_panic(Format::RigakuRas, RAS.to_vec());
    diffractometer_no_panic(
        Format::BrukerUxd,
        seed("spectra/xrd_formats/xylib/BT86_.UXD", 4096, || UXD.to_vec()),
    );
    diffractometer_no_panic(
        Format::Gsas,
        seed("spectra/xrd_formats/gsas/PBSO4.XRA", 4096, || GSAS.to_vec()),
    );
    diffractometer_no_panic(
        Format::PdCif,
        seed("spectra/xrd_formats/xylib/1517474.cif", 16384, || {
            CIF.to_vec()
        }),
    );
}

#[test]
fn format_detection_and_dispatch_never_panic() {
    let s = seed("spectra/real/EDS_SEM_TM002.msa", 4096, || {
        formats::emsa::write(&sample_xrf()).unwrap().into_bytes()
    });
    no_panic("read_bytes", s, |b| {
        drop(formats::read_bytes(b, "a.dat", &ReadOptions::default()))
    });
}
