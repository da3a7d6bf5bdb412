//! `reescan synth` through the binary: one drawn sample written as XRF and XRD, then
//! screened — the mislabelled shipment is caught, the honest one is cleared.

use assert_cmd::Command;

fn reescan() -> Command {
    Command::cargo_bin("reescan").expect("binary built")
}

fn synth(
    dir: &std::path::Path,
    stem: &str,
    extra: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (xrf, xrd) = (
        dir.join(format!("{stem}.msa")),
        dir.join(format!("{stem}.xy")),
    );
    reescan()
        .args(["synth", "--commodity", "iron-ore", "--seed", "7"])
        .args(extra)
        .arg("--xrf")
        .arg(&xrf)
        .arg("--xrd")
        .arg(&xrd)
        .assert()
        .success();
    assert!(
        xrf.with_extension("truth.json").is_file(),
        "truth label written"
    );
    (xrf, xrd)
}

fn verdict(xrf: &std::path::Path, xrd: &std::path::Path) -> serde_json::Value {
    let out = reescan()
        .args([
            "scan",
            "--declared",
            "iron-ore",
            "--json",
            "--date",
            "2026-01-15",
        ])
        .arg("--xrf")
        .arg(xrf)
        .arg("--xrd")
        .arg(xrd)
        .output()
        .expect("scan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn synthetic_bastnasite_in_iron_ore_is_caught_by_xrf_and_xrd_and_honest_ore_clears() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (xrf, xrd) = synth(
        tmp.path(),
        "mixed",
        &["--carrier", "bastnasite", "--fraction", "0.08"],
    );
    let v = verdict(&xrf, &xrd);
    assert_eq!(v["verdict"], "HOLD", "{v}");
    let phases: Vec<&str> = v["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(
        phases.contains(&"bastnasite_Ce"),
        "XRD sees the carrier: {phases:?}"
    );
    let ree: Vec<&str> = v["ree_elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(ree.contains(&"Ce"), "XRF sees Ce: {ree:?}");

    let (xrf, xrd) = synth(tmp.path(), "honest", &[]);
    let v = verdict(&xrf, &xrd);
    assert_eq!(v["verdict"], "CLEAR", "{v}");
}

#[test]
fn same_seed_gives_the_same_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let (xa, da) = synth(&a, "s", &["--carrier", "ndfeb", "--fraction", "0.03"]);
    let (xb, db) = synth(&b, "s", &["--carrier", "ndfeb", "--fraction", "0.03"]);
    assert_eq!(std::fs::read(xa).unwrap(), std::fs::read(xb).unwrap());
    assert_eq!(std::fs::read(da).unwrap(), std::fs::read(db).unwrap());
}

#[test]
fn scan_plot_and_batch_plots_write_images_of_the_evidence() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (xrf, xrd) = synth(
        tmp.path(),
        "m",
        &["--carrier", "monazite", "--fraction", "0.06"],
    );
    let png = tmp.path().join("m.png");
    let svg = tmp.path().join("m.svg");
    for out in [&png, &svg] {
        reescan()
            .args(["scan", "--declared", "iron-ore"])
            .arg("--xrf")
            .arg(&xrf)
            .arg("--xrd")
            .arg(&xrd)
            .arg("--plot")
            .arg(out)
            .assert()
            .success();
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("<svg") && text.contains("Ce"),
        "SVG with element labels"
    );

    let manifest = tmp.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        "scan_id,declared,xrf,xrd\nM1,iron-ore,m.msa,m.xy\n",
    )
    .unwrap();
    let plots = tmp.path().join("plots");
    reescan()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(tmp.path().join("r.csv"))
        .arg("--plots")
        .arg(&plots)
        .assert()
        .success();
    assert!(plots.join("M1.png").is_file(), "plot for the flagged row");
}
