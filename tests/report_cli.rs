//! `reescan report` end to end: a mislabelled synthetic iron-ore shipment (iron ore
//! blended with bastnäsite concentrate; XRD hematite + bastnäsite) goes in, a report with
//! the inputs' hashes, the verdict, the tables and the fits comes out.

use assert_cmd::Command;
use reescan::tables::materials::{Carrier, Commodity};
use std::path::{Path, PathBuf};

/// Write the shipment's XRF (.msa) and XRD (.xy) files into `dir`.
pub fn write_mislabelled_iron_ore(dir: &Path) -> (PathBuf, PathBuf) {
    let scan =
        reescan::xrf::synth::generate(Commodity::IronOre, Some(Carrier::Bastnasite), 0.08, &[], 42)
            .expect("synthetic XRF");
    let xrf = dir.join("S0042_iron-ore.msa");
    reescan::formats::write_path(&xrf, &scan.spectrum).expect("write .msa");
    let lib = reescan::xrd::library::builtin();
    let mut opts =
        reescan::xrd::synth::SynthOptions::for_radiation(reescan::xrd::synth::Radiation::Cu);
    opts.seed = 42;
    let phases = [
        ("hematite".to_string(), 90.0),
        ("bastnasite_Ce".to_string(), 10.0),
    ];
    let pattern = reescan::xrd::synth::synth(&lib, &phases, &opts).expect("synthetic XRD");
    let xrd = dir.join("S0042_iron-ore.xy");
    reescan::formats::write_path(&xrd, &pattern).expect("write .xy");
    (xrf, xrd)
}

fn sha256(path: &Path) -> String {
    reescan::formats::sha256_hex(&std::fs::read(path).unwrap())
}

fn report(dir: &Path, xrf: &Path, xrd: &Path, out: &str, format: &str) -> std::process::Output {
    Command::cargo_bin("reescan")
        .unwrap()
        .args(["report", "--declared", "iron-ore", "--format", format])
        .arg("--xrf")
        .arg(xrf)
        .arg("--xrd")
        .arg(xrd)
        .arg("--out")
        .arg(dir.join(out))
        .args([
            "--report-id",
            "RS-TEST-0042",
            "--issued-at",
            "2026-11-23T12:00:00Z",
        ])
        .args(["--date", "2026-11-23"])
        .output()
        .unwrap()
}

#[test]
fn report_of_a_mislabelled_iron_ore_shipment_names_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, xrd) = write_mislabelled_iron_ore(dir.path());
    let out = report(dir.path(), &xrf, &xrd, "r.html", "html");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "report failed: {stderr}");
    let page = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(page.contains(&sha256(&xrf)), "XRF hash in the report");
    assert!(page.contains(&sha256(&xrd)), "XRD hash in the report");
    assert!(page.contains("RS-TEST-0042") && page.contains("2026-11-23T12:00:00Z"));
    let verdict_hold = page.contains("<p class=\"verdict hold\">HOLD</p>");
    let verdict_inspect = page.contains("<p class=\"verdict inspect\">INSPECT</p>");
    assert!(
        verdict_hold || verdict_inspect,
        "rare earths in declared iron ore are flagged"
    );
    assert!(page.contains("<table id=\"element-table\">"));
    assert!(
        page.contains("<td>Fe</td>") || page.contains("<td>Fe "),
        "Fe row"
    );
    assert!(
        page.contains("<tr class=\"ree\"><td>Ce"),
        "Ce (bastnäsite) row"
    );
    assert!(page.contains("<table id=\"phase-table\">") && page.contains("<td>hematite</td>"));
    assert!(page.contains("<h3 id=\"fit-XRF-1\">") && page.contains("χ²/ν"));
    assert!(
        page.contains("EMSA"),
        "instrument metadata: the format read"
    );
    assert!(page.contains("sha256"), "rules hash");
    assert!(page.contains("XRD reference phases"));
    assert_eq!(page.matches("<svg").count(), 2, "XRF and XRD plots inline");
    assert!(page.contains("The results relate only to the item tested"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("RS-TEST-0042"), "{stdout}");
}

#[test]
fn json_report_has_the_same_record() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, xrd) = write_mislabelled_iron_ore(dir.path());
    let out = report(dir.path(), &xrf, &xrd, "r.json", "json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(v["report_id"], "RS-TEST-0042");
    assert_eq!(v["inputs"][0]["sha256"], sha256(&xrf).as_str());
    assert_eq!(v["inputs"][1]["sha256"], sha256(&xrd).as_str());
    assert!(v["inputs"][0]["size_bytes"].as_u64().unwrap() > 1000);
    assert_eq!(v["decision_rule"]["k"], 2.0);
    assert!(v["decision_rule"]["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["outcome"] == "above_limit"));
    assert!(v["fits"]["xrf"]["channels_used"].as_u64().unwrap() > 100);
    assert!(v["method"]["rules"]["sha256"].as_str().unwrap().len() == 64);
}

#[test]
fn unreadable_input_exits_2_and_leaves_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("empty.msa");
    std::fs::write(&bad, b"").unwrap();
    let out = Command::cargo_bin("reescan")
        .unwrap()
        .args(["report", "--declared", "iron-ore", "--xrf"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("r.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty.msa"));
    assert!(!dir.path().join("r.html").exists());
}

#[test]
fn bad_issue_time_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = write_mislabelled_iron_ore(dir.path());
    let out = Command::cargo_bin("reescan")
        .unwrap()
        .args([
            "report",
            "--declared",
            "iron-ore",
            "--issued-at",
            "yesterday",
            "--xrf",
        ])
        .arg(&xrf)
        .arg("--out")
        .arg(dir.path().join("r.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--issued-at"));
}

/// The example laboratory profile shipped with the project.
fn example_lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/lab.example.toml")
}

fn report_with(dir: &Path, xrf: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("reescan")
        .unwrap()
        .args(["report", "--declared", "iron-ore", "--xrf"])
        .arg(xrf)
        .arg("--out")
        .arg(dir.join(out))
        .args([
            "--report-id",
            "RS-LAB-0042",
            "--issued-at",
            "2026-11-23T12:00:00Z",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn lab_profile_and_flags_fill_the_17025_items_in_html_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = write_mislabelled_iron_ore(dir.path());
    let lab = example_lab();
    let lab = lab.to_str().unwrap();
    let flags = [
        "--lab",
        lab,
        "--received",
        "2026-11-20",
        "--sample",
        "Container MSKU 1234567, bulk ore",
        "--customer",
        "Port Authority <Inspections>",
        "--customer-contact",
        "inspections@port.example",
        "--deviation",
        "Scan taken through the container wall",
    ];
    let out = report_with(dir.path(), &xrf, "r.html", &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    for item in [
        "Harbour Materials Testing Laboratory",
        "Quay 4, Building 17\n1234 AB Port Town",
        "Port Authority &lt;Inspections&gt;",
        "inspections@port.example",
        "<tr><th>Date of receipt</th><td>2026-11-20</td></tr>",
        "<tr><th>Date of analysis</th><td>2026-11-23</td></tr>",
        "Container MSKU 1234567, bulk ore",
        "<li>Scan taken through the container wall</li>",
        "<tr><th>Authorised by</th><td>Dr. A. N. Example</td></tr>",
        "<tr><th>Role</th><td>Head of laboratory</td></tr>",
        "counter(page) \" of \" counter(pages)",
    ] {
        assert!(page.contains(item), "missing: {item}");
    }
    assert!(
        !page.contains("Risk Analysis Unit"),
        "--customer replaces the profile's"
    );
    assert!(!page.contains("UNSIGNED DRAFT"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.trim_end().ends_with("r.html"),
        "no status note: {stdout}"
    );

    let out = report_with(
        dir.path(),
        &xrf,
        "r.json",
        &[&flags[..], &["--format", "json"]].concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let l = &v["lab"];
    assert_eq!(l["status"], "for_authorisation");
    assert_eq!(
        l["laboratory"]["name"],
        "Harbour Materials Testing Laboratory"
    );
    assert_eq!(l["customer"]["name"], "Port Authority <Inspections>");
    assert_eq!(l["customer"]["contact"], "inspections@port.example");
    assert_eq!(l["received"], "2026-11-20");
    assert_eq!(l["analysed"], "2026-11-23");
    assert_eq!(l["authorised_by"]["role"], "Head of laboratory");
    assert_eq!(l["deviations"][0], "Scan taken through the container wall");
    assert_eq!(v["item"]["description"], "Container MSKU 1234567, bulk ore");
}

#[test]
fn without_a_lab_profile_the_report_is_an_unsigned_draft() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = write_mislabelled_iron_ore(dir.path());
    let out = report_with(dir.path(), &xrf, "r.json", &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(v["lab"]["status"], "draft");
    assert!(v["lab"]["laboratory"].is_null() && v["lab"]["authorised_by"].is_null());
    let out = report_with(dir.path(), &xrf, "r.html", &[]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(unsigned draft: no --lab profile)"),
        "{stdout}"
    );
    let lab = example_lab();
    let out = report_with(
        dir.path(),
        &xrf,
        "r2.html",
        &["--lab", lab.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(incomplete: (h) date of receipt)"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(page.contains("UNSIGNED DRAFT: not an accredited laboratory report"));
}

#[test]
fn bad_lab_input_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (xrf, _) = write_mislabelled_iron_ore(dir.path());
    let typo = dir.path().join("lab.toml");
    std::fs::write(&typo, "[laboratory]\nname = \"L\"\nadress = \"x\"\n").unwrap();
    let typo = typo.to_str().unwrap().to_string();
    let lab = example_lab();
    let lab = lab.to_str().unwrap().to_string();
    let cases: [(Vec<&str>, &str); 5] = [
        (vec!["--lab", &typo], "unknown field `adress`"),
        (vec!["--lab", "/dev/null/none.toml"], "none.toml"),
        (
            vec!["--lab", &lab, "--received", "20/11/2026"],
            "--received 20/11/2026",
        ),
        (vec!["--customer", "  "], "--customer: empty"),
        (
            vec!["--customer-contact", "x@y"],
            "--customer-contact: no customer",
        ),
    ];
    for (flags, message) in cases {
        let out = report_with(dir.path(), &xrf, "bad.html", &flags);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!dir.path().join("bad.html").exists());
    }
}
