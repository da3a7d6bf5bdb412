//! Intensity calibration of library phases against measured standards.
//!
//! Each argument is a Cu Kα pattern of a 1 : 1 (by weight) mixture of one library
//! phase with corundum, named `<phase>.xy` (made by `validation/xrd/rockjock_calibration.py`
//! from the RockJock standards and their measured RIRs). The pattern is analysed with a
//! library of that phase and corundum alone; the ratio of the two weight fractions the
//! refinement reads, times the phase's present calibration factor, is the factor that
//! makes the refinement read 1 : 1. Prints `phase,factor,r_wp` per file (CSV).

use reescan::formats::{read_path, ReadOptions};
use reescan::spectrum::Technique;
use reescan::xrd::{analyze_with, builtin, Library};
use std::path::Path;

fn main() {
    let full = builtin();
    println!("phase,factor,r_wp");
    for arg in std::env::args().skip(1) {
        let path = Path::new(&arg);
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some(phase) = full.get(name) else {
            eprintln!("{name}: not in the library");
            continue;
        };
        let lib = Library {
            phases: full
                .phases
                .iter()
                .filter(|p| p.name == name || p.name == "corundum")
                .cloned()
                .collect(),
        };
        let opts = ReadOptions {
            wavelength_a: Some(1.540_598),
            technique: Some(Technique::Xrd),
            ..ReadOptions::default()
        };
        let analysis = read_path(path, &opts).and_then(|s| analyze_with(&s, &lib));
        let a = match analysis {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                continue;
            }
        };
        let wt = |n: &str| {
            a.phases
                .iter()
                .find(|p| p.name == n)
                .map_or(0.0, |p| p.wt_pct)
        };
        let (w, c) = (wt(name), wt("corundum"));
        if w <= 0.0 || c <= 0.0 {
            eprintln!("{name}: the refinement kept {w:.1} wt % of it and {c:.1} wt % corundum");
            continue;
        }
        println!(
            "{name},{:.3},{:.3}",
            phase.intensity_factor * w / c,
            a.fit.r_wp.unwrap_or(f64::NAN)
        );
    }
}
