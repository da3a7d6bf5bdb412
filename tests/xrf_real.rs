//! XRF identification and quantification on real spectra shipped with PyMca (MIT):
//! `XRFSpectrum.mca` (thin multi-element standard, Mo-monochromatic ~17.5 keV) and
//! `Steel.spe` (SRM 1155 stainless steel).

mod common;

use reescan::formats::ReadOptions;
use reescan::xrf::physics::{DetectorEfficiency, Tube};
use reescan::xrf::{analyze, XrfAnalysis, XrfOptions};
use reescan::Spectrum;

/// Read a spectrum with the calibration PyMca's own test configuration uses.
fn read(path: &std::path::Path, offset: f64, gain: f64) -> Spectrum {
    let opts = ReadOptions {
        gain_kev: Some(gain),
        offset_kev: Some(offset),
        ..ReadOptions::default()
    };
    reescan::formats::read_path(path, &opts).expect("readable spectrum")
}

fn show(a: &XrfAnalysis) {
    for e in &a.elements {
        println!(
            "  {:<3} {:>9.4} ± {:>7.4} wt %  LOD {:>7.4}  {:?}",
            e.symbol, e.wt_pct, e.sigma_wt_pct, e.lod_wt_pct, e.lines
        );
    }
    println!(
        "  reduced χ² {:.2}, FWHM(Mn Kα) {:.0} eV, tube {:?}",
        a.reduced_chi2, a.calibration.fwhm_mn_ka_ev, a.tube_kv
    );
    for a in &a.artefacts {
        println!(
            "  artefact {:>6.3} keV {} ({})",
            a.energy_kev, a.kind, a.parent
        );
    }
    let nd: Vec<String> = a
        .not_detected
        .iter()
        .map(|n| format!("{} <{:.3}", n.symbol, n.lod_wt_pct))
        .collect();
    println!("  not detected: {}", nd.join(", "));
}

#[test]
fn xrfspectrum_mca_identifies_the_thirteen_k_elements_and_pb() {
    let Some(p) = common::shared("spectra/real/XRFSpectrum.mca") else {
        return;
    };
    let s = read(&p, -0.492773, 0.00502883);
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    show(&a);
    let found: Vec<&str> = a.elements.iter().map(|e| e.symbol.as_str()).collect();
    for el in [
        "Ca", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "As", "Se", "Sr", "Pb",
    ] {
        assert!(found.contains(&el), "{el} not identified; found {found:?}");
    }
}

/// No rare earth in this standard: weak lanthanide/heavy L families (Eu, Tb, Yb, Hf, Ta
/// near the Mn–Zn K lines, where the detector's line shape deviates from the model) must
/// all be pruned. Measured: no rare earth reported, the 13 K elements and Pb found.
#[test]
fn xrfspectrum_mca_reports_no_rare_earth() {
    let Some(p) = common::shared("spectra/real/XRFSpectrum.mca") else {
        return;
    };
    let s = read(&p, -0.492773, 0.00502883);
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    let found: Vec<&str> = a.elements.iter().map(|e| e.symbol.as_str()).collect();
    let ree: Vec<&&str> = found
        .iter()
        .filter(|s| reescan::tables::is_rare_earth(s))
        .collect();
    assert!(ree.is_empty(), "rare earths reported: {ree:?}");
}

/// Steel.cfg's instrument, as PyMca's concentrations use it: Ag anode at 30 kV behind
/// 125 µm Be with a 1.1 mm Al beam filter ("BeamFilter0 = Al1, 2.72, 0.11"), 45°/45°,
/// and a detector behind 20 µm Be and 5 cm air with 350 µm Si. The Al filter matters:
/// it removes the primary photons below ~12 keV, which excite Cr far more efficiently
/// than Ni — without it Cr comes out 23 % low and Ni 42 % high.
fn steel_cfg_instrument() -> XrfOptions {
    XrfOptions {
        tube: Some(Tube {
            anode: "Ag".into(),
            kv: 30.0,
            window_be_um: 125.0,
            takeoff_deg: 20.0,
            filter: Some(("Al".into(), 1100.0)),
        }),
        detector: Some(DetectorEfficiency {
            be_um: 20.0,
            si_um: 350.0,
            air_mm: 50.0,
        }),
        ..XrfOptions::default()
    }
}

/// Measured: Fe 66.5 (+3.5 %), Cr 18.5 (+0.8 %), Ni 12.6 (+1.8 %), Mn 1.74 (+7 %).
#[test]
fn steel_spe_with_its_cfg_instrument_gives_fe_cr_ni_within_ten_percent_of_srm_1155() {
    let Some(p) = common::shared("spectra/real/Steel.spe") else {
        return;
    };
    let s = read(&p, -0.008943, 0.011934);
    let a = analyze(&s, &steel_cfg_instrument()).unwrap();
    show(&a);
    let wt = |el: &str| a.element(el).map_or(0.0, |e| e.wt_pct);
    for (el, cert) in [("Fe", 64.3), ("Cr", 18.37), ("Ni", 12.35)] {
        let v = wt(el);
        println!(
            "{el}: {v:.2} wt % vs certified {cert} ({:+.1} %)",
            100.0 * (v / cert - 1.0)
        );
        assert!((v / cert - 1.0).abs() < 0.10, "{el} {v} vs {cert}");
    }
    assert!(wt("Mn") > 0.0, "Mn not found");
    let ree: Vec<&str> = a
        .elements
        .iter()
        .map(|e| e.symbol.as_str())
        .filter(|s| reescan::tables::is_rare_earth(s))
        .collect();
    assert!(ree.is_empty(), "rare earths reported in steel: {ree:?}");
}

#[test]
fn steel_spe_finds_fe_cr_ni_mn_no_rare_earth_and_fe_mn_within_ten_percent() {
    let Some(p) = common::shared("spectra/real/Steel.spe") else {
        return;
    };
    let s = read(&p, -0.008943, 0.011934);
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    let found: Vec<&str> = a.elements.iter().map(|e| e.symbol.as_str()).collect();
    // no tube lines and no scatter peak in range: the highest peak is Ni Kβ, so the
    // excitation is a continuum to the spectrum's end, and with no rock-forming element
    // the matrix is a metal
    for el in ["Fe", "Cr", "Ni", "Mn"] {
        assert!(found.contains(&el), "{el} not found; found {found:?}");
    }
    let ree: Vec<&&str> = found
        .iter()
        .filter(|s| reescan::tables::is_rare_earth(s))
        .collect();
    assert!(ree.is_empty(), "rare earths reported in steel: {ree:?}");
    assert_eq!(a.elements[0].symbol, "Fe");
    for (el, cert) in [("Fe", 64.3), ("Mn", 1.62)] {
        let v = a.element(el).map_or(0.0, |e| e.wt_pct);
        assert!((v / cert - 1.0).abs() < 0.10, "{el} {v} vs {cert}");
    }
}
