//! Helpers shared by integration tests (`mod common;` in each test file).
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared reference folder (`../shared` beside the checkout), or `None` with a
/// printed reason so that a test can skip on a clone without it.
/// Looks at `$REESCAN_SHARED`, then `<repo>/../shared`, then `/work/shared`.
pub fn shared_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("REESCAN_SHARED").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("SPEC.md").is_file());
    if found.is_none() {
        eprintln!("skipping: ../shared (reference data) is not present");
    }
    found
}

/// A path inside the shared folder, or `None` (test should return early) when absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = shared_dir()?.join(rel);
    if !p.exists() {
        eprintln!("skipping: {} is not present", p.display());
        return None;
    }
    Some(p)
}

/// A file bundled in the repository.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Every file of a corpus's `corpus.zip` in `dir` (relative to the repository), by name.
pub fn corpus_files(dir: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(repo(dir).join("corpus.zip")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let name = e.name().unwrap().to_string();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (name, b)
        })
        .collect()
}
