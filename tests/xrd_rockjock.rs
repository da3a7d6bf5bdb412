//! Quantification on real known mixtures: the RockJock Mix1–Mix8 patterns (USGS
//! RockJock, Eberl 2003, via powdR; measured Cu Kα patterns of weighed mixtures of
//! quartz, K-feldspar, plagioclase, kaolinite, dioctahedral smectite and illite, each
//! with 20 wt % corundum). The weighed fractions are read from each file's header line.
//! Needs ../shared (spectra/xrd_real); skips with a printed message when it is absent.

mod common;

use reescan::formats::{read_path, ReadOptions};
use reescan::spectrum::Technique;
use reescan::xrd::{analyze_with, builtin, XrdAnalysis};
use std::path::Path;

/// RockJock mineral group (header name) → the library phases that stand for it (a
/// group's weight is the sum of its phases': K-feldspar is microcline or orthoclase,
/// plagioclase labradorite or albite).
const PHASES: [(&str, &[&str]); 7] = [
    ("Quartz", &["quartz"]),
    ("K_feldspar", &["microcline_max", "orthoclase"]),
    ("Plagioclase", &["labradorite", "albite_low"]),
    ("Kaolinite", &["kaolinite"]),
    ("Dioctahedral_smectite", &["montmorillonite_Na"]),
    ("Illite", &["illite_1M"]),
    ("Corundum", &["corundum"]),
];

/// The weighed wt % of each group, from the header `... known wt%: Quartz=0.0, ...`.
fn truth(path: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = text.lines().next().unwrap_or_default();
    let list = header
        .split("known wt%:")
        .nth(1)
        .unwrap_or_else(|| panic!("{}: no known wt% in header", path.display()));
    list.split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn analyse(path: &Path) -> XrdAnalysis {
    // RockJock patterns are Cu Kα (README of xrd_real); the .xy files state none.
    let opts = ReadOptions {
        wavelength_a: Some(1.540598),
        technique: Some(Technique::Xrd),
        ..ReadOptions::default()
    };
    let s = read_path(path, &opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    analyze_with(&s, &builtin()).expect("analysis")
}

/// Largest errors (wt % absolute) of one mixture: corundum, and the phases weighed
/// at ≥ 10 wt % (a phase not reported counts as 0 wt %).
#[derive(Debug, Clone, Copy)]
struct Errors {
    corundum: f64,
    major: f64,
}

/// Issue 22's targets.
const TARGET: Errors = Errors {
    corundum: 3.0,
    major: 5.0,
};

/// Ratchet below the targets: the errors measured per mixture (Mix1..Mix8) plus
/// 0.5 wt %, never above `TARGET`. Measured with the library's intensity factors
/// (`data/xrd/intensity_calibration.csv`), which brought corundum from 3.3–4.6 wt %
/// high to within the target everywhere, and a smectite that may lose its interlayer
/// water (basal spacing down to 9.7 Å), which found Mix4's 8 wt % smectite (read as
/// illite before, 5.6 wt % high) and Mix5's. Tighten when it improves.
const RATCHET: [Errors; 8] = [
    Errors {
        corundum: 3.0,
        major: 3.2,
    },
    Errors {
        corundum: 1.7,
        major: 2.4,
    },
    Errors {
        corundum: 1.6,
        major: 5.0,
    },
    Errors {
        corundum: 1.1,
        major: 1.8,
    },
    Errors {
        corundum: 0.7,
        major: 5.0,
    },
    Errors {
        corundum: 1.6,
        major: 3.6,
    },
    Errors {
        corundum: 2.2,
        major: 4.5,
    },
    Errors {
        corundum: 2.4,
        major: 2.1,
    },
];

fn run_all(dir: &Path) -> Vec<Errors> {
    let mut all = Vec::new();
    for mix in 1..=8 {
        let mut worst = Errors {
            corundum: 0.0,
            major: 0.0,
        };
        let path = dir.join(format!("rockjock_Mix{mix}.xy"));
        let known = truth(&path);
        let a = analyse(&path);
        println!(
            "Mix{mix}: zero {:+.3}°, displacement {:+.3} mm, R_wp {:.3}, R_exp {:.3}, GoF {:.1}, unexplained {:.1} % at d {:?} Å",
            a.zero_shift_deg,
            a.displacement_mm,
            a.fit.r_wp.unwrap_or(f64::NAN),
            a.fit.r_exp.unwrap_or(f64::NAN),
            a.fit.gof.unwrap_or(f64::NAN),
            100.0 * a.fit.unexplained_fraction.unwrap_or(f64::NAN),
            a.fit
                .unexplained_d_a
                .iter()
                .map(|d| format!("{d:.2}"))
                .collect::<Vec<_>>()
        );
        println!(
            "  {:22} {:>8} {:>10} {:>7} {:>7}",
            "group", "truth", "reescan", "±", "error"
        );
        for (group, names) in PHASES {
            let t = known
                .iter()
                .find(|(k, _)| k == group)
                .map_or(0.0, |(_, v)| *v);
            let found: Vec<_> = a
                .phases
                .iter()
                .filter(|p| names.contains(&p.name.as_str()))
                .collect();
            let w: f64 = found.iter().map(|p| p.wt_pct).sum();
            let s = found
                .iter()
                .map(|p| p.wt_pct_sigma.powi(2))
                .sum::<f64>()
                .sqrt();
            let err = w - t;
            let which: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
            println!(
                "  {group:22} {t:8.1} {w:10.1} {s:7.1} {err:+7.1}  {}",
                which.join(" + ")
            );
            if group == "Corundum" {
                worst.corundum = worst.corundum.max(err.abs());
            } else if t >= 10.0 {
                worst.major = worst.major.max(err.abs());
            }
        }
        for p in a
            .phases
            .iter()
            .filter(|p| !PHASES.iter().any(|(_, n)| n.contains(&p.name.as_str())))
        {
            println!(
                "  {:22} {:>8} {:10.1} (not in the mixture)",
                p.name, "-", p.wt_pct
            );
        }
        println!(
            "  worst |error|: corundum {:.1} wt %, phases ≥ 10 wt % {:.1} wt %",
            worst.corundum, worst.major
        );
        all.push(worst);
    }
    all
}

#[test]
fn rockjock_mixtures_are_quantified() {
    let Some(dir) = common::shared("spectra/xrd_real") else {
        return;
    };
    let errors = run_all(&dir);
    let met = |f: fn(&Errors) -> f64, t: f64| errors.iter().filter(|e| f(e) <= t).count();
    println!(
        "issue 22 targets met: corundum within ± {} wt % in {}/8 mixtures, every phase ≥ 10 wt % within ± {} wt % in {}/8",
        TARGET.corundum,
        met(|e| e.corundum, TARGET.corundum),
        TARGET.major,
        met(|e| e.major, TARGET.major)
    );
    let worse: Vec<String> = errors
        .iter()
        .zip(&RATCHET)
        .enumerate()
        .filter(|(_, (e, r))| e.corundum > r.corundum || e.major > r.major)
        .map(|(i, (e, r))| format!("Mix{}: measured {e:?}, ratchet {r:?}", i + 1))
        .collect();
    assert!(worse.is_empty(), "quantification got worse: {worse:#?}");
}
