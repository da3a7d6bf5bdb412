//! The bad-input corpus, through the binary: each file gives exit status 2 and
//! exactly one error line on stderr that names the file (SPEC "Exit status").

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const EMSA_HEAD: &str = "#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n\
#NPOINTS     : 100\n#XUNITS      : keV\n#DATATYPE    : Y\n#XPERCHAN    : 0.01\n#OFFSET      : 0.0\n\
#SPECTRUM    : Spectral Data Starts Here\n";

fn emsa(values: &str, ended: bool) -> String {
    let mut s = EMSA_HEAD.to_string();
    s.push_str(values);
    if ended {
        s.push_str("#ENDOFDATA   : End Of Data and File\n");
    }
    s
}

fn hundred(v: &str) -> String {
    let mut s = String::new();
    for i in 0..100 {
        s.push_str(if i == 37 { v } else { "5" });
        s.push_str(",\n");
    }
    s
}

/// Run `reescan scan` and check: exit 2, one stderr line naming `name`.
fn assert_one_line_error(dir: &Path, name: &str, flag: &str, extra: &[&str], expect: &str) {
    let path = dir.join(name);
    let out = Command::cargo_bin("reescan")
        .unwrap()
        .args(["scan", "--declared", "iron-ore", flag])
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: stderr {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{name}: {stderr}");
    assert!(lines[0].starts_with("reescan: "), "{name}: {stderr}");
    assert!(
        lines[0].contains(name),
        "{name}: does not name the file: {stderr}"
    );
    assert!(
        lines[0].to_lowercase().contains(&expect.to_lowercase()),
        "{name}: expected '{expect}' in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
}

fn corpus() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_path_buf();
    let w = |n: &str, b: &[u8]| std::fs::write(p.join(n), b).unwrap();
    w("empty.msa", b"");
    w("blank.csv", b"\n  \n");
    w(
        "truncated.msa",
        emsa(&hundred("5")[..120], false).as_bytes(),
    );
    w("truncated.mca", b"<<PMCA SPECTRUM>>\nLIVE_TIME - 1\n<<CALIBRATION>>\nLABEL - keV\n0 0\n100 1\n<<DATA>>\n1\n2\n");
    w("truncated.spe", b"$SPEC_ID:\nx\n$DATA:\n0 2047\n1 2 3 4\n");
    w(
        "truncated.spx",
        br#"<?xml version="1.0"?><TRTSpectrum><ClassInstance Type="TRTSpectrum"><Channels>1,2,3"#,
    );
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    w("junk.bin", &junk);
    w(
        "wrong_columns.csv",
        b"energy_keV,counts\n0.01,1\n0.02,2,7\n",
    );
    w("three_columns.csv", b"1,2,3\n4,5,6\n");
    w("nan.msa", emsa(&hundred("NaN"), true).as_bytes());
    w("negative.msa", emsa(&hundred("-4"), true).as_bytes());
    w("inf.csv", b"0.01,1\n0.02,inf\n0.03,3\n");
    w("negative.mca", b"<<PMCA SPECTRUM>>\n<<CALIBRATION>>\nLABEL - keV\n0 0\n100 1\n<<DATA>>\n1\n-2\n3\n<<END>>\n");
    w(
        "zero_gain.msa",
        emsa(&hundred("5"), true).replace("0.01", "0").as_bytes(),
    );
    w(
        "negative_gain.msa",
        emsa(&hundred("5"), true)
            .replace("#XPERCHAN    : 0.01", "#XPERCHAN    : -0.01")
            .as_bytes(),
    );
    w("uncalibrated.csv", b"# counts only\n1\n2\n3\n4\n");
    w("uncalibrated.spe", b"$SPEC_ID:\nx\n$DATA:\n0 3\n1 2 3 4\n");
    let mut huge = String::with_capacity(20_000_010);
    for _ in 0..10_000_000 {
        huge.push_str("1\n");
    }
    w("ten_million.csv", huge.as_bytes());
    w("words.csv", b"hello world\nthis is not a spectrum\n");
    w(
        "pattern.xy",
        b"# wavelength: 1.5406\n10 1\n10.02 2\n10.04 3\n",
    );
    w("one_column.xy", b"1\n2\n3\n");
    w("truncated.xrdml", br#"<?xml version="1.0"?><xrdMeasurements><xrdMeasurement><scan><dataPoints><positions axis="2Theta">"#);
    (dir, p)
}

#[test]
fn bad_inputs_exit_2_with_one_line_naming_the_file() {
    let (_keep, d) = corpus();
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("empty.msa", "--xrf", &[], "empty"),
        ("blank.csv", "--xrf", &[], "empty"),
        ("truncated.msa", "--xrf", &[], "truncated"),
        ("truncated.mca", "--xrf", &[], "truncated"),
        ("truncated.spe", "--xrf", &[], "truncated"),
        ("truncated.spx", "--xrf", &[], "XML"),
        ("junk.bin", "--xrf", &[], "binary"),
        ("wrong_columns.csv", "--xrf", &[], "columns"),
        ("three_columns.csv", "--xrf", &[], "columns"),
        ("nan.msa", "--xrf", &[], "NaN"),
        ("negative.msa", "--xrf", &[], "-4"),
        ("inf.csv", "--xrf", &[], "inf"),
        ("negative.mca", "--xrf", &[], "-2"),
        ("zero_gain.msa", "--xrf", &[], "gain"),
        ("negative_gain.msa", "--xrf", &[], "gain"),
        ("uncalibrated.csv", "--xrf", &[], "--gain"),
        ("uncalibrated.spe", "--xrf", &[], "calibration"),
        (
            "ten_million.csv",
            "--xrf",
            &["--gain", "0.01", "--offset", "0"],
            "limit",
        ),
        ("words.csv", "--xrf", &[], "no numeric data"),
        ("pattern.xy", "--xrf", &[], "--xrd"),
        ("one_column.xy", "--xrd", &[], "column"),
        ("truncated.xrdml", "--xrd", &[], "XRDML"),
        ("missing.msa", "--xrf", &[], "No such file"),
    ];
    for (name, flag, extra, expect) in cases {
        assert_one_line_error(&d, name, flag, extra, expect);
    }
}

#[test]
fn zero_or_negative_gain_flags_are_refused() {
    let (_keep, d) = corpus();
    for gain in ["0", "-0.01", "nan"] {
        let out = Command::cargo_bin("reescan")
            .unwrap()
            .args(["scan", "--declared", "iron-ore", "--xrf"])
            .arg(d.join("uncalibrated.csv"))
            .args(["--gain", gain, "--offset", "0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{gain}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--gain"), "{stderr}");
    }
}

#[test]
fn an_anode_that_is_not_an_element_is_refused() {
    let (_keep, d) = corpus();
    let out = Command::cargo_bin("reescan")
        .unwrap()
        .args(["scan", "--declared", "iron-ore", "--xrf"])
        .arg(d.join("uncalibrated.csv"))
        .args(["--gain", "0.01", "--offset", "0", "--anode", "Qq"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Qq") && stderr.contains("element"),
        "{stderr}"
    );
}

#[test]
fn gain_and_offset_calibrate_an_uncalibrated_spe() {
    let steel = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spectra/real/Steel.spe");
    let out = Command::cargo_bin("reescan")
        .unwrap()
        .args(["scan", "--declared", "iron-ore", "--xrf"])
        .arg(&steel)
        .args(["--gain", "0.011934", "--offset", "-0.008943"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("gain 0.011934 keV/channel"), "{stdout}");
    assert!(stdout.contains("ORTEC/QXAS SPE"), "{stdout}");
}
