//! What the watched folder announces: scans with their files and their declaration (an
//! `ID.json` sidecar or a `manifest.csv` line), scan files nobody declared, and whether a
//! file is complete (its format's end marker).

use super::journal::Role;
use crate::batch::Manifest;
use crate::{Error, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// XRF file extensions (lower case).
pub const XRF_EXT: [&str; 7] = ["msa", "emsa", "mca", "spe", "spx", "pdz", "csv"];
/// XRD file extensions (lower case).
pub const XRD_EXT: [&str; 7] = ["xy", "xye", "dat", "xrdml", "raw", "brml", "ras"];
/// The manifest a scanner may append declarations to.
pub const MANIFEST: &str = "manifest.csv";

/// How a scan is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declaration {
    /// A declared commodity and where it was read.
    Declared {
        /// The commodity.
        commodity: String,
        /// `ID.json` or `manifest.csv row N` (N-th data row).
        source: String,
    },
    /// No usable declaration, and why.
    Missing {
        /// E.g. "no X.json and no manifest.csv line", "X.json is not a declaration: ...".
        why: String,
    },
}

/// A scan the folder announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Scan id.
    pub scan_id: String,
    /// Its declaration.
    pub declaration: Declaration,
    /// Its data files (paths in the watched folder).
    pub files: Vec<(Role, PathBuf)>,
    /// The file the declaration was read from; it must be stable too.
    pub declaration_file: Option<PathBuf>,
}

/// `ID.json`: `{"declared": "...", "scan_id": "...", "xrf": "...", "xrd": "..."}` (all but
/// `declared` optional; file names relative to the folder).
#[derive(Debug, serde::Deserialize)]
struct Sidecar {
    declared: String,
    scan_id: Option<String>,
    xrf: Option<String>,
    xrd: Option<String>,
}

/// The role a file's extension gives it, if it is a scan file.
pub fn role_of(path: &Path) -> Option<Role> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if XRF_EXT.contains(&ext.as_str()) {
        Some(Role::Xrf)
    } else if XRD_EXT.contains(&ext.as_str()) {
        Some(Role::Xrd)
    } else {
        None
    }
}

/// The scans announced in `dir`, in a stable order: sidecars (by file name), then manifest
/// lines, then undeclared scan files grouped by stem. A scan id is taken by its first
/// announcement; `ignore` lists files that are never scans (the station's own outputs).
///
/// # Errors
/// The folder cannot be listed.
pub fn discover(dir: &Path, ignore: &[PathBuf]) -> Result<Vec<Candidate>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io(e).in_file(dir))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .filter(|p| {
            !ignore
                .iter()
                .any(|i| i.file_name() == p.file_name() && same_file(i, p))
        })
        .collect();
    names.sort();
    let mut out: Vec<Candidate> = Vec::new();
    let mut claimed: HashSet<PathBuf> = HashSet::new();
    let mut bad_sidecar: Vec<(String, String)> = Vec::new();
    for path in names.iter().filter(|p| has_ext(p, "json")) {
        let stem = stem(path);
        let parsed = crate::formats::read_file(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Sidecar>(&b).map_err(|e| e.to_string()));
        let sidecar = match parsed {
            Ok(s) => s,
            Err(e) => {
                bad_sidecar.push((stem, format!("{} is not a declaration: {e}", name(path))));
                continue;
            }
        };
        let find = |role: Role, given: Option<String>| -> Option<PathBuf> {
            match given {
                Some(f) => Some(dir.join(f)),
                None => names
                    .iter()
                    .find(|p| stem_of(p) == Some(stem.as_str()) && role_of(p) == Some(role))
                    .cloned(),
            }
        };
        let xrf: Vec<PathBuf> = match sidecar.xrf {
            Some(list) => crate::batch::manifest::xrf_files(&list)
                .map(|f| dir.join(f))
                .collect(),
            None => find(Role::Xrf, None).into_iter().collect(),
        };
        let files: Vec<(Role, PathBuf)> = xrf
            .into_iter()
            .map(|p| (Role::Xrf, p))
            .chain(find(Role::Xrd, sidecar.xrd).map(|p| (Role::Xrd, p)))
            .collect();
        claimed.extend(files.iter().map(|(_, p)| p.clone()));
        push_new(
            &mut out,
            Candidate {
                scan_id: sidecar.scan_id.unwrap_or(stem),
                declaration: Declaration::Declared {
                    commodity: sidecar.declared,
                    source: name(path),
                },
                files,
                declaration_file: Some(path.clone()),
            },
        );
    }
    let manifest = dir.join(MANIFEST);
    if names.contains(&manifest) {
        if let Ok(rows) = Manifest::open(&manifest) {
            for row in rows.filter(|r| r.problem.is_none()) {
                let xrf = row
                    .xrf
                    .iter()
                    .flat_map(|l| crate::batch::manifest::xrf_files(l));
                let files: Vec<(Role, PathBuf)> = xrf
                    .map(|p| (Role::Xrf, dir.join(p)))
                    .chain(row.xrd.iter().map(|p| (Role::Xrd, dir.join(p))))
                    .collect();
                claimed.extend(files.iter().map(|(_, p)| p.clone()));
                push_new(
                    &mut out,
                    Candidate {
                        scan_id: row.scan_id,
                        declaration: Declaration::Declared {
                            commodity: row.declared,
                            source: format!("{MANIFEST} row {}", row.index + 1),
                        },
                        files,
                        declaration_file: Some(manifest.clone()),
                    },
                );
            }
        }
    }
    let mut loose: Vec<Candidate> = Vec::new();
    for path in &names {
        let Some(role) = role_of(path) else { continue };
        if claimed.contains(path) || *path == manifest {
            continue;
        }
        let stem = stem(path);
        if let Some(c) = loose.iter_mut().find(|c| c.scan_id == stem) {
            if !c.files.iter().any(|(r, _)| *r == role) {
                c.files.push((role, path.clone()));
            }
            continue;
        }
        let why = bad_sidecar.iter().find(|(s, _)| *s == stem).map_or_else(
            || format!("no {stem}.json and no {MANIFEST} line names its files"),
            |(_, why)| why.clone(),
        );
        loose.push(Candidate {
            scan_id: stem.clone(),
            declaration: Declaration::Missing { why },
            files: vec![(role, path.clone())],
            declaration_file: names
                .iter()
                .find(|p| has_ext(p, "json") && stem_of(p) == Some(&stem))
                .cloned(),
        });
    }
    for c in loose {
        push_new(&mut out, c);
    }
    Ok(out)
}

fn push_new(out: &mut Vec<Candidate>, c: Candidate) {
    if !out.iter().any(|o| o.scan_id == c.scan_id) {
        out.push(c);
    }
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn stem_of(p: &Path) -> Option<&str> {
    p.file_stem().and_then(|s| s.to_str())
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// A file's name for messages and the journal.
pub fn name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The end marker a format writes last, for the formats that have one: EMSA/MAS
/// `#ENDOFDATA` (ISO 22029), Amptek MCA `<<END>>` (closes `<<DATA>>`), and the closing
/// root tags of PANalytical XRDML and Bruker SPX.
pub fn end_marker(bytes: &[u8], name: &str) -> Option<&'static str> {
    use crate::formats::Format;
    match crate::formats::detect(bytes, name, None).ok()? {
        Format::Emsa => Some("#ENDOFDATA"),
        Format::AmptekMca => Some("<<END>>"),
        Format::Xrdml => Some("</xrdMeasurements>"),
        Format::Spx => Some("</TRTSpectrum>"),
        _ => None,
    }
}

/// True when the file's bytes are complete as far as its format can tell: its end marker
/// is present, or its format has none.
pub fn is_complete(bytes: &[u8], name: &str) -> bool {
    end_marker(bytes, name).is_none_or(|m| {
        let m = m.as_bytes();
        bytes.windows(m.len()).any(|w| w.eq_ignore_ascii_case(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_manifest_lines_and_loose_files_are_all_announced() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "A.msa",
            "A.xy",
            "B.mca",
            "C.msa",
            "D.msa",
            "notes.txt",
            "out.csv",
        ] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        std::fs::write(d.join("A.json"), r#"{"declared": "iron-ore"}"#).unwrap();
        std::fs::write(d.join("D.json"), r#"{"declared": iron"#).unwrap();
        std::fs::write(
            d.join(MANIFEST),
            "scan_id,declared,xrf,xrd\nS9,zirconium,B.mca,\n",
        )
        .unwrap();
        let c = discover(d, &[d.join("out.csv")]).unwrap();
        let ids: Vec<&str> = c.iter().map(|c| c.scan_id.as_str()).collect();
        assert_eq!(ids, ["A", "S9", "C", "D"]);
        assert_eq!(c[0].files.len(), 2);
        assert_eq!(
            c[0].declaration_file.as_deref(),
            Some(d.join("A.json").as_path())
        );
        assert_eq!(
            c[1].declaration,
            Declaration::Declared {
                commodity: "zirconium".into(),
                source: "manifest.csv row 1".into()
            }
        );
        let Declaration::Missing { why } = &c[2].declaration else {
            panic!("{c:?}")
        };
        assert!(why.contains("no C.json"), "{why}");
        let Declaration::Missing { why } = &c[3].declaration else {
            panic!("{c:?}")
        };
        assert!(why.starts_with("D.json is not a declaration"), "{why}");
    }

    #[test]
    fn end_markers_decide_completeness_only_for_formats_that_have_one() {
        let emsa = b"#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 2\n#SPECTRUM :\n1, 2\n";
        assert!(!is_complete(emsa, "a.msa"));
        let mut done = emsa.to_vec();
        done.extend_from_slice(b"#ENDOFDATA : \n");
        assert!(is_complete(&done, "a.msa"));
        let mca = b"<<PMCA SPECTRUM>>\nLIVE_TIME - 10\n<<DATA>>\n1\n2\n";
        assert!(!is_complete(mca, "a.mca"));
        assert!(is_complete(
            b"<<PMCA SPECTRUM>>\n<<DATA>>\n1\n<<END>>\n",
            "a.mca"
        ));
        assert!(is_complete(b"10.0 5\n10.1 7\n", "a.xy"));
    }
}
