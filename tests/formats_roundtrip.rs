//! write → read gives the same spectrum: EMSA/MAS, Amptek MCA and `.xy` exactly
//! (counts, calibration, metadata), SPE and CSV to floating-point rounding.
//! Checked on real files and on arbitrary spectra (proptest).

mod common;

use ndarray::Array1;
use proptest::prelude::*;
use reescan::formats::{self, emsa, mca, read_bytes, spe, text, xy, ReadOptions};
use reescan::{Axis, Calibration, Metadata, Spectrum};

/// Compare everything a writer must carry (format, hash and path are about the
/// file, not the spectrum).
fn assert_same(a: &Spectrum, b: &Spectrum, cal_tol: f64) {
    assert_eq!(a.counts, b.counts);
    match (&a.axis, &b.axis) {
        (Axis::Energy(x), Axis::Energy(y))
        | (
            Axis::EnergyDispersive { calibration: x, .. },
            Axis::EnergyDispersive { calibration: y, .. },
        ) => {
            assert!(
                (x.offset_kev - y.offset_kev).abs() <= cal_tol,
                "{x:?} {y:?}"
            );
            assert!(
                (x.gain_kev - y.gain_kev).abs() <= cal_tol * 1e-3,
                "{x:?} {y:?}"
            );
            assert!(
                (x.quad_kev - y.quad_kev).abs() <= cal_tol * 1e-6,
                "{x:?} {y:?}"
            );
        }
        (x, y) => assert_eq!(x, y),
    }
    let strip = |m: &Metadata| Metadata {
        format: String::new(),
        sha256: String::new(),
        source_file: None,
        ..m.clone()
    };
    assert_eq!(strip(&a.meta), strip(&b.meta));
}

fn meta() -> Metadata {
    Metadata {
        title: Some("iron ore, hold 3".into()),
        live_time_s: Some(29.5),
        real_time_s: Some(30.25),
        tube_kv: Some(40.0),
        tube_ua: Some(25.0),
        anode: Some("Rh".into()),
        detector: Some("SDD 25 mm2".into()),
        instrument: Some("Checkpoint 7".into()),
        acquired: Some("23-NOV-2026 11:02".into()),
        ..Metadata::default()
    }
}

fn xrf(counts: Vec<f64>, offset: f64, gain: f64) -> Spectrum {
    Spectrum {
        counts: Array1::from(counts),
        axis: Axis::Energy(Calibration::linear(offset, gain).unwrap()),
        meta: meta(),
    }
}

fn reread(text: &str, name: &str) -> Spectrum {
    read_bytes(text.as_bytes(), name, &ReadOptions::default()).unwrap()
}

#[test]
fn real_emsa_and_amptek_files_survive_write_and_read() {
    for rel in [
        "spectra/real/EDS_SEM_TM002.msa",
        "spectra/real/padre_meddea_minix_20kV_15uA_sdd.mca",
        "spectra/real/rsciio_bruker_nano.spx",
    ] {
        let Some(p) = common::shared(rel) else {
            return;
        };
        let s = formats::read_path(&p, &ReadOptions::default()).unwrap();
        assert_same(&s, &reread(&emsa::write(&s).unwrap(), "a.msa"), 0.0);
        // Amptek stores the calibration as two points: refitting costs rounding.
        assert_same(&s, &reread(&mca::write(&s).unwrap(), "a.mca"), 1e-12);
        assert_same(&s, &reread(&spe::write(&s).unwrap(), "a.spe"), 1e-12);
    }
}

#[test]
fn real_xrd_pattern_survives_xy_write_and_read() {
    let Some(p) = common::shared("spectra/xrd_real/dara_2Fe3O4-3Y2O3_1000C_60min.xrdml") else {
        return;
    };
    let mut s = formats::read_path(&p, &ReadOptions::default()).unwrap();
    // .xy carries only the Kα1 wavelength.
    s.meta.ka2_wavelength_a = None;
    s.meta.ka2_ka1_ratio = None;
    let back = reread(&xy::write(&s).unwrap(), "a.xy");
    assert_same(&s, &back, 0.0);
    assert!(
        emsa::write(&s).is_err(),
        "a 2θ pattern is not an EMSA spectrum"
    );
}

#[test]
fn uncalibrated_and_edxrd_spectra_round_trip_through_emsa() {
    let mut s = xrf(vec![0.0, 1.0, 2.5, 1e6], 0.0, 0.01);
    s.axis = Axis::Channels;
    assert_same(&s, &reread(&emsa::write(&s).unwrap(), "a.msa"), 0.0);
    s.axis = Axis::EnergyDispersive {
        calibration: Calibration::linear(1.5, 0.05).unwrap(),
        two_theta_deg: 6.25,
    };
    assert_same(&s, &reread(&emsa::write(&s).unwrap(), "a.msa"), 0.0);
}

#[test]
fn write_path_picks_the_writer_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let s = xrf((0..64).map(f64::from).collect(), -0.1, 0.02);
    for name in ["a.msa", "a.mca", "a.spe", "a.csv"] {
        let p = dir.path().join(name);
        formats::write_path(&p, &s).unwrap();
        let back = formats::read_path(&p, &ReadOptions::default()).unwrap();
        assert_eq!(back.counts, s.counts, "{name}");
    }
    assert!(formats::write_path(&dir.path().join("a.xy"), &s).is_err());
    assert!(formats::write_path(&dir.path().join("a.pdf"), &s).is_err());
}

fn counts() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![(0u32..1_000_000).prop_map(f64::from), (0.0f64..1e9),],
        2..600,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn emsa_round_trip_is_exact(c in counts(), offset in -1.0f64..1.0, gain in 1e-4f64..0.1) {
        let s = xrf(c, offset, gain);
        assert_same(&s, &reread(&emsa::write(&s).unwrap(), "x.msa"), 0.0);
    }

    #[test]
    fn mca_round_trip_keeps_counts_and_calibration(
        c in counts(), offset in -1.0f64..1.0, gain in 1e-4f64..0.1,
    ) {
        let s = xrf(c, offset, gain);
        assert_same(&s, &reread(&mca::write(&s).unwrap(), "x.mca"), 1e-9);
    }

    #[test]
    fn xy_round_trip_is_exact(
        c in counts(), start in 2.0f64..40.0, step in 1e-3f64..0.1, wl in 0.2f64..2.3,
    ) {
        let n = c.len();
        let s = Spectrum {
            counts: Array1::from(c),
            axis: Axis::TwoTheta {
                two_theta_deg: (0..n).map(|i| start + step * i as f64).collect(),
                wavelength_a: wl,
            },
            meta: Metadata { title: Some("pattern".into()), anode: Some("Cu".into()), ..Metadata::default() },
        };
        prop_assume!(s.x_values().last().copied().unwrap_or(0.0) < 179.0);
        assert_same(&s, &reread(&xy::write(&s).unwrap(), "x.xy"), 0.0);
    }

    #[test]
    fn csv_round_trip_keeps_counts(c in counts(), offset in -1.0f64..1.0, gain in 1e-3f64..0.1) {
        let mut s = xrf(c, offset, gain);
        s.meta = Metadata::default();
        let back = reread(&text::write(&s).unwrap(), "x.csv");
        assert_same(&s, &back, 1e-9);
    }
}
