//! `--instrument FILE` through the binary: a PyMca fit configuration (Steel.cfg, shipped
//! with Steel.spe) or reescan's TOML sets the excitation and the detector side; a bad
//! file is an input error (exit 2) naming the key.

use assert_cmd::Command;
use std::path::PathBuf;

fn real(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("spectra/real")
        .join(name)
}

/// `reescan COMMAND --declared iron-ore --xrf Steel.spe` with its calibration (PyMca's
/// refined zero and gain), more arguments to follow.
fn on_steel(command: &str) -> Command {
    let mut c = Command::cargo_bin("reescan").unwrap();
    c.args([command, "--declared", "iron-ore", "--xrf"])
        .arg(real("Steel.spe"))
        .args(["--gain", "0.011934", "--offset", "-0.008943"]);
    c
}

/// `scan --json` of Steel.spe, with extra flags; the JSON object.
fn scan_steel(extra: &[&str]) -> serde_json::Value {
    let out = on_steel("scan").arg("--json").args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn wt(v: &serde_json::Value, el: &str) -> f64 {
    v["xrf"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["symbol"] == el)
        .and_then(|e| e["wt_pct"].as_f64())
        .unwrap_or(f64::NAN)
}

/// Steel.cfg: 16 keV beam, 20 µm Be, 5 cm air, 350 µm Si. The air path absorbs Cr Kα
/// (5.4 keV) more than Ni Kα (7.5 keV): with the cfg, Cr/Ni comes out higher than with
/// the default handheld detector (5 mm air). Fe, Cr and Ni are found either way.
#[test]
fn a_pymca_cfg_sets_the_beam_and_the_detector_path() {
    let default = scan_steel(&[]);
    let cfg = real("Steel.cfg");
    let with_cfg = scan_steel(&["--instrument", cfg.to_str().unwrap()]);
    for el in ["Fe", "Cr", "Ni"] {
        assert!(
            wt(&with_cfg, el) > 1.0,
            "{el}: {}",
            with_cfg["xrf"]["elements"]
        );
    }
    let ratio = |v: &serde_json::Value| wt(v, "Cr") / wt(v, "Ni");
    println!(
        "Cr/Ni: default {:.3}, Steel.cfg {:.3}",
        ratio(&default),
        ratio(&with_cfg)
    );
    assert!(ratio(&with_cfg) > 1.03 * ratio(&default));
}

/// A TOML instrument with a tube: its kV is the one reported.
#[test]
fn a_toml_instrument_sets_the_tube() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("handheld.toml");
    std::fs::write(
        &p,
        "[tube]\nanode = \"Rh\"\nkv = 40.0\n[detector]\nbe_um = 12.5\nsi_um = 450.0\nair_mm = 5.0\n",
    )
    .unwrap();
    let v = scan_steel(&["--instrument", p.to_str().unwrap()]);
    assert_eq!(
        v["xrf"]["tube_kv"].as_f64(),
        Some(40.0),
        "{}",
        v["xrf"]["tube_kv"]
    );
}

#[test]
fn a_bad_instrument_file_is_an_input_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "[tube]\nanode = \"Rh\"\nkv = 40.0\nwindow_um = 125.0\n").unwrap();
    let out = on_steel("scan")
        .arg("--instrument")
        .arg(&p)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml") && stderr.contains("window_um"),
        "{stderr}"
    );
}

/// The forensic report records the instrument file among the method's references: its
/// path, content hash and what it set.
#[test]
fn the_report_records_the_instrument_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("steel.json");
    let cfg = real("Steel.cfg");
    let run = on_steel("report")
        .args(["--format", "json", "--instrument"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Instrument description"), "{text}");
    assert!(text.contains("16 keV monochromatic beam"), "{text}");
    assert!(text.contains("50 mm air"), "{text}");
}
