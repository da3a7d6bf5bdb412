//! `reescan scan` through the binary: verdict first, `--json` with the SPEC fields,
//! `--fail-on`, exit 2 for bad input, `--rules` errors naming the key, `--date`.

mod screen_support;

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn reescan() -> Command {
    Command::cargo_bin("reescan").unwrap()
}

/// `reescan scan --declared D --xrf X`, more arguments to follow.
fn scan_xrf(declared: &str, xrf: &str) -> Command {
    let mut c = reescan();
    c.args(["scan", "--declared", declared, "--xrf", xrf]);
    c
}

/// `reescan scan --declared D --xrf X --xrd Y`, more arguments to follow.
fn scan(declared: &str, xrf: &str, xrd: &str) -> Command {
    let mut c = scan_xrf(declared, xrf);
    c.args(["--xrd", xrd]);
    c
}

/// Standard output of a command that must succeed.
fn stdout_of(c: &mut Command) -> Vec<u8> {
    c.assert().success().get_output().stdout.clone()
}

fn synth(
    dir: &Path,
    name: &str,
    commodity: &str,
    carrier: Option<&str>,
    fraction: f64,
    ree: &[(&str, f64)],
    seed: u64,
) -> (String, String) {
    screen_support::synth(dir, name, commodity, carrier, fraction, ree, seed, true);
    let p = |ext: &str| dir.join(format!("{name}.{ext}")).display().to_string();
    (p("msa"), p("xy"))
}

#[test]
fn magnet_powder_in_iron_ore_is_held_and_fail_on_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, xrd) = synth(dir.path(), "m", "iron-ore", Some("ndfeb"), 0.08, &[], 5);
    let out = stdout_of(&mut scan("iron-ore", &xrf, &xrd));
    let text = String::from_utf8(out).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("HOLD") || first.starts_with("INSPECT"),
        "{text}"
    );
    assert!(text.contains("Evidence"), "{text}");
    scan("iron-ore", &xrf, &xrd)
        .args(["--fail-on", "inspect"])
        .assert()
        .code(3);
    scan("iron-ore", &xrf, &xrd)
        .args(["--fail-on", "hold", "--date", "2026-01-15"])
        .assert()
        .code(predicate::in_iter([0, 3]));
}

#[test]
fn json_has_the_spec_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, xrd) = synth(dir.path(), "z", "zirconium", None, 0.0, &[], 9);
    let out = stdout_of(scan("zirconium", &xrf, &xrd).args(["--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for key in [
        "scan_id",
        "declared",
        "verdict",
        "risk",
        "ree_wt_pct",
        "ree_elements",
        "controlled_elements",
        "phases",
        "mismatch",
        "reasons",
        "xrf_sha256",
        "xrd_sha256",
        "xrf",
        "xrd",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["declared"], "zirconium");
    assert_eq!(v["xrf"]["sha256"], v["xrf_sha256"]);
    assert!(v["xrf"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["symbol"] == "Zr"));
    let risk = v["risk"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&risk));
}

#[test]
fn missing_file_and_unknown_commodity_exit_2_with_one_line() {
    scan_xrf("iron-ore", "/nonexistent/x.msa")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/x.msa"));
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = synth(dir.path(), "o", "iron-ore", None, 0.0, &[], 3);
    scan_xrf("bananas", &xrf)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bananas").and(predicate::str::contains("iron-ore")));
}

#[test]
fn a_bad_rules_file_is_reported_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = synth(dir.path(), "o", "iron-ore", None, 0.0, &[], 3);
    let rules = dir.path().join("rules.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules.toml"))
        .unwrap()
        .replacen("ree_hold_wt_pct = 0.5", "ree_hold_wt_pct = \"half\"", 1);
    std::fs::write(&rules, text).unwrap();
    scan_xrf("iron-ore", &xrf)
        .arg("--rules")
        .arg(&rules)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "commodity.iron-ore.ree_hold_wt_pct",
        ));
}

#[test]
fn a_stricter_rules_file_changes_the_verdict() {
    // 0.25 wt % Ce in iron ore: above the built-in inspection limit (0.1) but below its
    // hold limit (0.5) → INSPECT; a user file with a 0.02 hold limit makes it HOLD.
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = synth(dir.path(), "o", "iron-ore", None, 0.0, &[("Ce", 0.25)], 4);
    let strict = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules.toml"))
        .unwrap()
        .replacen(
            "ree_inspect_wt_pct = 0.1\nree_hold_wt_pct = 0.5",
            "ree_inspect_wt_pct = 0.01\nree_hold_wt_pct = 0.02",
            1,
        );
    let rules = dir.path().join("strict.toml");
    std::fs::write(&rules, strict).unwrap();
    let verdict = |extra: &[&str]| {
        let out = stdout_of(scan_xrf("iron-ore", &xrf).arg("--json").args(extra));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(verdict(&[]), "INSPECT");
    assert_eq!(verdict(&["--rules", rules.to_str().unwrap()]), "HOLD");
}

#[test]
fn controlled_elements_depend_on_the_scan_date() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = synth(dir.path(), "d", "ceramics", None, 0.0, &[("Dy", 1.0)], 6);
    let controlled = |date: &str| {
        let out = stdout_of(scan_xrf("ceramics", &xrf).args(["--json", "--date", date]));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v["controlled_elements"].clone()
    };
    assert_eq!(controlled("2025-01-01"), serde_json::json!([]));
    let after = controlled("2025-06-01");
    assert!(
        after.as_array().unwrap().iter().any(|e| e == "Dy"),
        "{after}"
    );
    scan_xrf("ceramics", &xrf)
        .args(["--date", "yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("date"));
}
