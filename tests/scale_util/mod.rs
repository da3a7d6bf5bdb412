//! Fixtures shared by the `scale_*` tests: a folder of synthetic XRF scans (drawn by the
//! library's physics generator), a manifest over them, and helpers to run the binary.
#![allow(dead_code)]

use reescan::tables::materials::{Carrier, Commodity};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The built `reescan` binary.
pub fn reescan_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reescan"))
}

/// A `reescan` command with scheduler variables cleared.
pub fn reescan() -> Command {
    let mut c = Command::new(reescan_bin());
    for v in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "JOB_COMPLETION_INDEX",
    ] {
        c.env_remove(v);
    }
    c
}

/// Run and require exit 0, returning stderr.
pub fn ok(c: &mut Command) -> String {
    let out = c.output().expect("run reescan");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{c:?} failed: {stderr}");
    stderr
}

/// Scans: three synthetic XRF spectra (clean iron ore, zircon, iron ore hiding NdFeB
/// magnet powder), a corrupt file and (in the manifest) a missing one, so that every
/// verdict path including ERROR rows is exercised.
pub fn write_scans(dir: &Path) {
    let scans = dir.join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    let draws = [
        ("ore.msa", Commodity::IronOre, None, 0.0, 11),
        ("zr.msa", Commodity::Zirconium, None, 0.0, 12),
        (
            "ndfeb.msa",
            Commodity::IronOre,
            Some(Carrier::NdFeB),
            0.05,
            13,
        ),
    ];
    for (name, commodity, carrier, fraction, seed) in draws {
        let scan = reescan::xrf::synth::generate(commodity, carrier, fraction, &[], seed).unwrap();
        reescan::formats::write_path(&scans.join(name), &scan.spectrum).unwrap();
    }
    std::fs::write(
        scans.join("corrupt.msa"),
        "#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 4096\n#XPERCHAN : 0.01\n\
         #SPECTRUM :\nthis is not a number\n",
    )
    .unwrap();
}

/// A manifest of `rows` rows cycling over the scans (with an extra column, ignored).
pub fn write_manifest(dir: &Path, rows: usize) -> PathBuf {
    let kinds = [
        ("iron-ore", "scans/ore.msa"),
        ("zirconium", "scans/zr.msa"),
        ("iron-ore", "scans/ndfeb.msa"),
        ("ceramics", "scans/corrupt.msa"),
        ("iron-ore", "scans/ore.msa"),
        ("rare-earth", "scans/missing.msa"),
    ];
    let mut text = String::from("scan_id,declared,xrf,xrd,operator\n");
    for i in 0..rows {
        let (declared, xrf) = kinds[i % kinds.len()];
        text.push_str(&format!("S{i:06},{declared},{xrf},,\"officer, {i}\"\n"));
    }
    let path = dir.join("manifest.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Bytes of a file.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
