//! XRF identification and quantification on real spectra shipped with PyMca (MIT):
//! `XRFSpectrum.mca` (thin multi-element standard, Mo-monochromatic ~17.5 keV) and
//! `Steel.spe` (SRM 1155 stainless steel).

mod common;

use reescan::xrf::{analyze, XrfAnalysis, XrfOptions};
use reescan::{Axis, Calibration, Metadata, Spectrum};

/// Numbers of a PyMca one-column `.mca` or a `.spe` `$DATA:` block (counts only).
fn read_counts(path: &std::path::Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path).expect("readable");
    let mut out = Vec::new();
    let mut in_data = !text.starts_with("$SPEC_ID");
    let mut skip_range = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if t.starts_with("$DATA") {
            in_data = true;
            skip_range = true;
            continue;
        }
        if t.starts_with('$') {
            in_data = false;
            continue;
        }
        if !in_data {
            continue;
        }
        if skip_range {
            skip_range = false;
            continue;
        }
        out.extend(t.split_whitespace().filter_map(|v| v.parse::<f64>().ok()));
    }
    out
}

fn spectrum(counts: Vec<f64>, offset: f64, gain: f64) -> Spectrum {
    Spectrum {
        counts: counts.into(),
        axis: Axis::Energy(Calibration::linear(offset, gain).unwrap()),
        meta: Metadata::default(),
    }
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
fn xrfspectrum_mca_identifies_the_thirteen_k_elements_and_pb_without_rare_earths() {
    let Some(p) = common::shared("spectra/real/XRFSpectrum.mca") else {
        return;
    };
    let s = spectrum(read_counts(&p), -0.492773, 0.00502883);
    let a = analyze(&s, &XrfOptions::default()).unwrap();
    show(&a);
    let found: Vec<&str> = a.elements.iter().map(|e| e.symbol.as_str()).collect();
    for el in [
        "Ca", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "As", "Se", "Sr", "Pb",
    ] {
        assert!(found.contains(&el), "{el} not identified; found {found:?}");
    }
    let ree: Vec<&&str> = found
        .iter()
        .filter(|s| reescan::tables::is_rare_earth(s))
        .collect();
    assert!(ree.is_empty(), "rare earths reported: {ree:?}");
}

#[test]
fn steel_spe_finds_fe_cr_ni_mn_within_ten_percent_of_srm_1155() {
    let Some(p) = common::shared("spectra/real/Steel.spe") else {
        return;
    };
    let s = spectrum(read_counts(&p), -0.008943, 0.011934);
    let a = analyze(&s, &XrfOptions::default()).unwrap();
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
}
