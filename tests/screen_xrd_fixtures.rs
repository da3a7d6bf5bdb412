//! XRD-only screening of the shared simulated mixtures (`shared/spectra/xrd_fixtures`,
//! computed from the CIFs with known weight fractions): every mixture carrying a
//! rare-earth phase the declared host cannot explain is flagged, the pure hosts are CLEAR.
//! Runs as one `reescan batch` over a manifest of the fixtures.

mod common;

use assert_cmd::Command;

/// The declared commodity a fixture's host phase stands for.
fn host_commodity(stem: &str) -> &'static str {
    if stem.starts_with("hematite") || stem.starts_with("magnetite") || stem.starts_with("ironore")
    {
        "iron-ore"
    } else if stem.starts_with("zircon")
        || stem.starts_with("baddeleyite")
        || stem.starts_with("tZrO2")
    {
        "zirconium"
    } else {
        "ceramics"
    }
}

/// Rare-earth phases and their weight fraction from the fixture's truth file.
fn ree_fraction(truth: &serde_json::Value) -> f64 {
    const REE: [&str; 10] = [
        "monazite",
        "bastnasite",
        "xenotime",
        "cerianite",
        "Nd2O3",
        "Y2O3",
        "Nd2Fe14B",
        "SmCo5",
        "La2O3",
        "Gd2O3",
    ];
    truth["weight_fractions"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| REE.iter().any(|r| k.starts_with(r)))
                .filter_map(|(_, v)| v.as_f64())
                .sum()
        })
        .unwrap_or(0.0)
}

#[test]
fn rare_earth_phases_in_declared_hosts_are_flagged_and_pure_hosts_clear() {
    let Some(dir) = common::shared("spectra/xrd_fixtures") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest = String::from("scan_id,declared,xrf,xrd\n");
    let mut expected = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xy"))
    {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let truth: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{stem}.truth.json"))).unwrap(),
        )
        .unwrap();
        let ree = ree_fraction(&truth);
        manifest.push_str(&format!(
            "{stem},{},,{}\n",
            host_commodity(&stem),
            p.display()
        ));
        expected.push((stem, ree));
    }
    assert!(
        expected.len() >= 16,
        "fixture set is incomplete: {}",
        expected.len()
    );
    let m = tmp.path().join("m.csv");
    std::fs::write(&m, manifest).unwrap();
    let out = tmp.path().join("r.csv");
    Command::cargo_bin("reescan")
        .unwrap()
        .arg("batch")
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .args(["--date", "2026-01-15"])
        .assert()
        .success();
    let mut r = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut wrong = Vec::new();
    for ((stem, ree), row) in expected.iter().zip(&rows) {
        assert_eq!(&row[0], stem.as_str());
        let verdict = &row[2];
        println!(
            "{stem:<55} REE phases {:>4.1} wt %  → {verdict:<7} {}",
            (ree * 100.0).abs(),
            &row[7]
        );
        // XRD alone is asked to flag rare-earth phases from 2 wt % (portable XRD phase
        // LOQ is ~0.2–2 wt %, DOMAIN.md); a 1 wt % phase (tZrO2 + 1 % SmCo5: 163 net
        // counts on 312 background) is reported in the table but left to XRF.
        let ok = if *ree >= 0.02 {
            verdict == "INSPECT" || verdict == "HOLD"
        } else if *ree > 0.0 {
            true
        } else {
            verdict == "CLEAR"
        };
        if !ok {
            wrong.push(format!("{stem}: {verdict} ({})", &row[9]));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
