//! Helpers for the signal tests: tiny readers for the two bundled PyMca spectra (until
//! the formats branch lands), the PyMca reference fixtures, and the X-ray physics that
//! turns an element + family into a fit group (what the xrf module does in production;
//! the signal module itself knows no elements).
#![allow(dead_code)]

use reescan::signal::group::LineGroup;
use reescan::tables::{lines::element_lines, xraydb};
use std::path::PathBuf;
use xraydb::CrossSectionKind;

/// Path of a bundled fixture under tests/data/pymca.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pymca")
        .join(name)
}

/// Single-column counts (`#` comments), as PyMca's XRFSpectrum.mca.
pub fn read_single_column(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(fixture(name)).expect("bundled fixture");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.parse::<f64>().ok())
        .collect()
}

/// `$DATA:` block of a SPE file (first line = first/last channel).
pub fn read_spe(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(fixture(name)).expect("bundled fixture");
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("$DATA:"))
        .skip(1);
    let range: Vec<usize> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let n = range.get(1).map_or(0, |l| l + 1 - range[0]);
    lines
        .take_while(|l| !l.starts_with('$'))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|v| v.parse::<f64>().ok())
        .take(n)
        .collect()
}

/// The `data` member of a wrapped fixture JSON.
pub fn json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(name)).expect("bundled fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
    v["data"].clone()
}

/// `(channel, counts, pymca model, pymca continuum)` rows of a `*_pymca_fit.csv`.
pub fn pymca_fit_csv(name: &str) -> Vec<(usize, f64, f64, f64)> {
    let text = std::fs::read_to_string(fixture(name)).expect("bundled fixture");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("channel"))
        .filter_map(|l| {
            let f: Vec<f64> = l.split(',').filter_map(|v| v.trim().parse().ok()).collect();
            (f.len() == 5).then(|| (f[0] as usize, f[2], f[3], f[4]))
        })
        .collect()
}

/// Reference group areas `(label, fitarea, sigma)` of one fitted file.
pub fn reference_groups(file_prefix: &str) -> Vec<(String, f64, f64)> {
    let d = json("pymca_reference_results.json");
    let f = d
        .as_array()
        .and_then(|a| {
            a.iter().find(|f| {
                f["file"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(file_prefix))
            })
        })
        .expect("file in fixture");
    f["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap_or("").to_string(),
                g["fitarea"].as_f64().unwrap_or(f64::NAN),
                g["sigmaarea"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

/// Mass attenuation (cm²/g) of a mixture given by mass fractions, at `e_kev`.
pub fn mu_mix(mix: &[(&str, f64)], e_kev: f64) -> f64 {
    let db = xraydb();
    let total: f64 = mix.iter().map(|m| m.1).sum();
    mix.iter()
        .map(|(el, w)| {
            w / total
                * db.mu_elam_at(el, e_kev * 1000.0, CrossSectionKind::Total)
                    .unwrap_or(0.0)
        })
        .sum()
}

/// Photo-absorption µ/ρ of one element (cm²/g).
pub fn mu_photo(el: &str, e_kev: f64) -> f64 {
    xraydb()
        .mu_elam_at(el, e_kev * 1000.0, CrossSectionKind::Photo)
        .unwrap_or(0.0)
}

/// One absorbing layer: mixture, areal density ρ·t (g/cm²).
pub type Layer<'a> = (&'a [(&'a str, f64)], f64);

/// Sample matrix: mixture, areal density (g/cm²), incidence and take-off angles (deg),
/// beam energy (keV).
pub type Matrix<'a> = (&'a [(&'a str, f64)], f64, f64, f64, f64);

/// Detection weight of a line at `e`: transmission of the layers between sample and
/// detector × Si detector efficiency × thick/thin-target self-absorption.
pub struct Setup<'a> {
    /// Layers in the fluorescence path (window, air...).
    pub path: Vec<Layer<'a>>,
    /// Si detector thickness, cm.
    pub si_cm: f64,
    /// Sample matrix, areal density (g/cm²), incidence and take-off angles (deg), beam keV.
    pub matrix: Option<Matrix<'a>>,
}

impl Setup<'_> {
    pub fn weight(&self, e: f64) -> f64 {
        let mut w = 1.0;
        for (mix, rho_t) in &self.path {
            w *= (-mu_mix(mix, e) * rho_t).exp();
        }
        w *= 1.0 - (-mu_mix(&[("Si", 1.0)], e) * 2.33 * self.si_cm).exp();
        if let Some((mix, rho_t, a_in, a_out, e0)) = self.matrix {
            let chi = mu_mix(mix, e0) / a_in.to_radians().sin()
                + mu_mix(mix, e) / a_out.to_radians().sin();
            w *= (1.0 - (-chi * rho_t).exp()) / chi;
        }
        w
    }
}

/// K group of an element (all K lines, Elam intensities), weighted for the setup.
pub fn k_group(el: &str, setup: &Setup, label: &str) -> LineGroup {
    let lines = element_lines(el).expect("element");
    let pairs: Vec<(f64, f64)> = lines
        .iter()
        .filter(|l| l.initial_level == "K")
        .map(|l| (l.energy_kev, l.rel_intensity))
        .collect();
    LineGroup::new(label, pairs)
        .weighted(|e| setup.weight(e))
        .pruned(1e-3)
        .merged(0.01)
}

/// Kα or Kβ only (PyMca `Fe = Ka, Kb` groups).
pub fn k_subgroup(el: &str, setup: &Setup, alpha: bool, label: &str) -> LineGroup {
    let lines = element_lines(el).expect("element");
    let pairs: Vec<(f64, f64)> = lines
        .iter()
        .filter(|l| l.initial_level == "K" && l.label.starts_with(if alpha { "Ka" } else { "Kb" }))
        .map(|l| (l.energy_kev, l.rel_intensity))
        .collect();
    LineGroup::new(label, pairs)
        .weighted(|e| setup.weight(e))
        .pruned(1e-3)
        .merged(0.01)
}

/// Subshell vacancy weights for photo-ionisation at `e0` keV of the levels in `levels`
/// (jump-ratio partition of the photo cross-section, then Coster–Kronig transfers),
/// times each level's fluorescence yield.
fn subshell_emission_weights(el: &str, levels: &[&str], e0: f64) -> Vec<f64> {
    let db = xraydb();
    let edges: Vec<(f64, f64, f64)> = levels
        .iter()
        .map(|lv| {
            db.xray_edge(el, lv)
                .map(|e| {
                    (
                        e.energy / 1000.0,
                        e.jump_ratio.max(1.0001),
                        e.fluorescence_yield,
                    )
                })
                .unwrap_or((f64::INFINITY, 1.0001, 0.0))
        })
        .collect();
    // Direct ionisation: fraction of the photo cross-section taken by each subshell edge
    // below e0, outermost-first nesting: σ_i ∝ Π_{j<i}(1/r_j)·(1 − 1/r_i).
    let mut sigma = vec![0.0; levels.len()];
    let mut carry = 1.0;
    for (i, (edge, r, _)) in edges.iter().enumerate() {
        if *edge < e0 {
            sigma[i] = carry * (1.0 - 1.0 / r);
            carry /= r;
        }
    }
    // Coster–Kronig: vacancies move to higher-numbered subshells.
    let mut vac = sigma.clone();
    for i in 0..levels.len() {
        for j in i + 1..levels.len() {
            let f = db
                .ck_probability(el, levels[i], levels[j], false)
                .unwrap_or(0.0);
            vac[j] += f * vac[i];
        }
    }
    vac.iter().zip(&edges).map(|(v, e)| v * e.2).collect()
}

/// L or M group (all subshells of the family, weighted by vacancy × yield).
pub fn lm_group(el: &str, family: char, setup: &Setup, e0: f64, label: &str) -> LineGroup {
    let levels: &[&str] = if family == 'L' {
        &["L1", "L2", "L3"]
    } else {
        &["M1", "M2", "M3", "M4", "M5"]
    };
    let w = subshell_emission_weights(el, levels, e0);
    let lines = element_lines(el).expect("element");
    let pairs: Vec<(f64, f64)> = lines
        .iter()
        .filter_map(|l| {
            let k = levels.iter().position(|lv| *lv == l.initial_level)?;
            Some((l.energy_kev, l.rel_intensity * w[k]))
        })
        .collect();
    LineGroup::new(label, pairs)
        .weighted(|e| setup.weight(e))
        .pruned(1e-3)
        .merged(0.01)
}

/// Lines of one initial level only (PyMca `W = L1, L2, L3` groups).
pub fn level_group(el: &str, level: &str, setup: &Setup, label: &str) -> LineGroup {
    let lines = element_lines(el).expect("element");
    let pairs: Vec<(f64, f64)> = lines
        .iter()
        .filter(|l| l.initial_level == level)
        .map(|l| (l.energy_kev, l.rel_intensity))
        .collect();
    LineGroup::new(label, pairs)
        .weighted(|e| setup.weight(e))
        .pruned(1e-3)
        .merged(0.01)
}
