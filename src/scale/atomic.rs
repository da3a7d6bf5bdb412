//! Crash-safe output files: write under a temporary name in the destination's folder,
//! `fsync`, then `rename` over the final name (atomic on POSIX file systems, NFS and
//! Lustre included, as long as both names share a folder).
//!
//! A reader therefore sees either no file or the complete file — never half a file.
//! A retried or duplicated scheduler task writes its own temporary and renames it over
//! the same final name, so the result is the same complete file, never a double row.
//!
//! Temporary names are `.NAME.tmp-PID-SEQ` (hidden, and never matching the shard
//! pattern `X.shard-KKKKK-of-NNNNN.csv`, so `reescan merge` ignores them). A killed
//! process leaves its temporary behind; [`leftover_partials`] finds them so that
//! `--resume` can recover the complete rows they hold.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A file that appears under its final name only when [`AtomicFile::commit`] succeeds.
/// Dropping it uncommitted removes the temporary.
#[derive(Debug)]
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Start writing `dest` (through a temporary in the same folder).
    ///
    /// # Errors
    /// The folder does not exist or is not writable ([`Error::InFile`] naming `dest`).
    pub fn create(dest: &Path) -> Result<AtomicFile> {
        let tmp = temp_name(dest);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::from(e).in_file(dest))?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp,
            out: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// The final name.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The temporary name being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flush, `fsync`, rename to the final name, and `fsync` the folder so that the
    /// rename itself survives a crash. Replaces any existing file of that name.
    ///
    /// # Errors
    /// Any I/O failure (the temporary is removed; the final name is untouched).
    pub fn commit(mut self) -> Result<()> {
        let result = self.finish();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result.map_err(|e| Error::from(e).in_file(&self.dest))
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let out = self
            .out
            .take()
            .ok_or_else(|| std::io::Error::other("already committed"))?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest)?;
        sync_dir(&self.dest);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.out.as_mut() {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("write after commit")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self.out.as_mut() {
            Some(w) => w.write_all(buf),
            None => Err(std::io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.out.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write `bytes` to `dest` atomically in one call.
///
/// # Errors
/// As [`AtomicFile::create`] and [`AtomicFile::commit`].
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes)
        .map_err(|e| Error::from(e).in_file(dest))?;
    f.commit()
}

/// Temporaries that killed writers of `dest` left behind, largest first
/// (the one that got furthest). Their last line may be cut off.
pub fn leftover_partials(dest: &Path) -> Vec<PathBuf> {
    let (dir, prefix) = temp_prefix(dest);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| Some((e.metadata().ok()?.len(), e.path())))
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    found.into_iter().map(|(_, p)| p).collect()
}

/// True when `name` is one of this module's temporary names.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

fn temp_prefix(dest: &Path) -> (PathBuf, String) {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, format!(".{name}.tmp-"))
}

fn temp_name(dest: &Path) -> PathBuf {
    let (dir, prefix) = temp_prefix(dest);
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{prefix}{}-{seq}", std::process::id()))
}

/// Best effort: make the rename durable (ignored where folders cannot be opened).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.shard-00000-of-00001.csv");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"a,b\n1,2\n").unwrap();
        assert!(!dest.exists());
        let tmp = f.temp_path().to_path_buf();
        assert!(tmp.exists());
        assert!(is_temp_name(&tmp.file_name().unwrap().to_string_lossy()));
        f.commit().unwrap();
        assert!(!tmp.exists());
        assert_eq!(std::fs::read(&dest).unwrap(), b"a,b\n1,2\n");
    }

    #[test]
    fn dropping_uncommitted_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        write_atomic(&dest, b"old\n").unwrap();
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"new but unfinished").unwrap();
        }
        assert_eq!(std::fs::read(&dest).unwrap(), b"old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn leftovers_of_a_killed_writer_are_found_largest_first() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.csv");
        std::fs::write(dir.path().join(".x.csv.tmp-11-0"), b"h\n1\n").unwrap();
        std::fs::write(dir.path().join(".x.csv.tmp-12-0"), b"h\n1\n2\n").unwrap();
        std::fs::write(dir.path().join(".y.csv.tmp-12-0"), b"other").unwrap();
        let found = leftover_partials(&dest);
        assert_eq!(found.len(), 2);
        assert!(found[0].ends_with(".x.csv.tmp-12-0"));
    }

    #[test]
    fn missing_folder_is_an_error_naming_the_file() {
        let e = AtomicFile::create(Path::new("/nonexistent/dir/out.csv")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/dir/out.csv"), "{e}");
    }
}
