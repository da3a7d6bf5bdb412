//! The bundled sample shipments (`spectra/manifest.csv`, `spectra/synthetic/`): the README's
//! main command screens them; honest ones are CLEAR and blended ones are flagged.
//!
//! Regenerate them with `cargo test --test screen_samples -- --ignored` (deterministic).

mod screen_support;

use assert_cmd::Command;
use reescan::tables::materials::{draw_sample, Commodity};

/// (scan_id, declared, carrier, fraction, explicit REE, wanted host variant, XRD too, label)
type Sample = (
    &'static str,
    &'static str,
    Option<&'static str>,
    f64,
    &'static [(&'static str, f64)],
    &'static str,
    bool,
    &'static str,
);

const SAMPLES: [Sample; 12] = [
    (
        "S001",
        "iron-ore",
        None,
        0.0,
        &[],
        "hematite ore",
        true,
        "honest hematite ore",
    ),
    (
        "S002",
        "iron-ore",
        Some("ndfeb"),
        0.04,
        &[],
        "",
        true,
        "NdFeB magnet powder blended into iron ore",
    ),
    (
        "S003",
        "iron-ore",
        Some("bastnasite"),
        0.03,
        &[],
        "",
        true,
        "bastnasite concentrate blended into iron ore",
    ),
    (
        "S004",
        "zirconium",
        None,
        0.0,
        &[],
        "zircon sand (premium)",
        true,
        "honest zircon sand (natural Y, HREE)",
    ),
    (
        "S005",
        "zirconium",
        None,
        0.0,
        &[],
        "zirconia 3Y-TZP",
        true,
        "honest yttria-stabilised zirconia",
    ),
    (
        "S006",
        "zirconium",
        Some("monazite"),
        0.05,
        &[],
        "",
        true,
        "monazite blended into zircon",
    ),
    (
        "S007",
        "ceramics",
        None,
        0.0,
        &[],
        "glazed tile (Pr-zircon yellow)",
        true,
        "honest Pr-yellow glazed tile",
    ),
    (
        "S008",
        "ceramics",
        Some("oxides"),
        0.03,
        &[],
        "",
        true,
        "separated rare-earth oxide hidden in ceramics",
    ),
    (
        "S009",
        "ceramics",
        Some("smco"),
        0.03,
        &[],
        "",
        false,
        "SmCo magnet powder in ceramics (XRF only)",
    ),
    (
        "S010",
        "rare-earth",
        Some("bastnasite"),
        1.0,
        &[],
        "",
        true,
        "declared bastnasite concentrate",
    ),
    (
        "S011",
        "zirconium",
        Some("ionic-clay"),
        0.03,
        &[],
        "",
        true,
        "ionic-clay HREE concentrate in zircon",
    ),
    (
        "S012",
        "ceramics",
        None,
        0.0,
        &[("Dy", 0.4), ("Tb", 0.1)],
        "alumina",
        true,
        "Dy/Tb oxide hidden in alumina ceramics",
    ),
];

fn repo(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The first seed from `base` whose drawn host is `variant` (any when empty).
fn seed_for(commodity: &str, variant: &str, base: u64) -> u64 {
    let c: Commodity = commodity.parse().unwrap();
    (base..base + 500)
        .find(|&s| {
            variant.is_empty() || draw_sample(c, None, 0.0, &[], s).unwrap().variant == variant
        })
        .unwrap()
}

#[test]
#[ignore = "regenerates the bundled files"]
fn regenerate_bundled_samples() {
    let dir = repo("spectra/synthetic");
    std::fs::create_dir_all(&dir).unwrap();
    let mut manifest = String::from("scan_id,declared,xrf,xrd,label,seed\n");
    for (i, (id, declared, carrier, fraction, ree, variant, xrd, label)) in
        SAMPLES.iter().enumerate()
    {
        let seed = seed_for(declared, variant, 100 + 10 * i as u64);
        screen_support::synth(&dir, id, declared, *carrier, *fraction, ree, seed, *xrd);
        let xrd_path = if *xrd {
            format!("synthetic/{id}.xy")
        } else {
            String::new()
        };
        manifest.push_str(&format!(
            "{id},{declared},synthetic/{id}.msa,{xrd_path},{label},{seed}\n"
        ));
    }
    std::fs::write(repo("spectra/manifest.csv"), manifest).unwrap();
}

#[test]
fn bundled_samples_screen_as_labelled() {
    let manifest = repo("spectra/manifest.csv");
    if !manifest.exists() {
        eprintln!("skipping: spectra/manifest.csv is not present");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results.csv");
    Command::cargo_bin("reescan")
        .unwrap()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .args(["--date", "2026-01-15"])
        .assert()
        .success();
    let mut r = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), SAMPLES.len());
    // the triage (quick analysis first) gives every row the verdict of the full analysis,
    // the declared rare-earth concentrate included (its minor Sm needs a licence check)
    let full = tmp.path().join("results-full.csv");
    Command::cargo_bin("reescan")
        .unwrap()
        .arg("batch")
        .arg(&manifest)
        .arg("--out")
        .arg(&full)
        .args(["--date", "2026-01-15", "--full"])
        .assert()
        .success();
    let mut r = csv::Reader::from_path(&full).unwrap();
    let full_rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    for (t, f) in rows.iter().zip(&full_rows) {
        assert_eq!(
            (&t[0], &t[2]),
            (&f[0], &f[2]),
            "triage vs --full: {}",
            &t[9]
        );
    }
    for (row, s) in rows.iter().zip(SAMPLES.iter()) {
        println!(
            "{} {:<10} {:<8} {:<12} {}",
            &row[0], &row[1], &row[2], &row[5], s.7
        );
        let honest = s.2.is_none() && s.4.is_empty();
        match (honest, s.1) {
            (true, _) => assert_eq!(&row[2], "CLEAR", "{}: {}", s.7, &row[9]),
            (false, "rare-earth") => assert_ne!(&row[2], "ERROR", "{}", &row[9]),
            (false, _) => assert!(
                &row[2] == "INSPECT" || &row[2] == "HOLD",
                "{}: {} {}",
                s.7,
                &row[2],
                &row[9]
            ),
        }
    }
}
