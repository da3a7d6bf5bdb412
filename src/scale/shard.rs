//! Deterministic sharding of a manifest: shard K of N holds the rows whose 0-based
//! manifest index i satisfies i mod N = K (round-robin), so every shard gets a
//! balanced share of the archive and the assignment never depends on timing,
//! thread count or file system order.
//!
//! The shard index comes from `--shard K/N`, or from the scheduler that started the
//! process: Slurm job arrays (`SLURM_ARRAY_TASK_ID`) or Kubernetes Indexed Jobs
//! (`JOB_COMPLETION_INDEX`). See [`resolve_shard`].

use crate::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// One shard of a manifest: rows with `row_index % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// K, 0-based, `index < count`.
    pub index: usize,
    /// N, the number of shards (≥ 1).
    pub count: usize,
}

/// Widest shard count the 5-digit file names can express.
pub const MAX_SHARDS: usize = 99_999;

impl Shard {
    /// A checked shard: `count` in 1..=99 999 and `index < count`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the bad number.
    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || count > MAX_SHARDS {
            return Err(invalid(format!(
                "shard count N must be between 1 and {MAX_SHARDS}, got {count}"
            )));
        }
        if index >= count {
            return Err(invalid(format!(
                "shard index K must be below N (0..={}), got {index}/{count}",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// Parse `K/N` (e.g. `3/8`): K is 0-based.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the text is not two integers around a `/`, N is 0, or K ≥ N.
    pub fn parse(text: &str) -> Result<Shard> {
        let (k, n) = text.trim().split_once('/').ok_or_else(|| {
            invalid(format!(
                "'{text}' is not K/N (e.g. --shard 3/8 for the 4th of 8 shards)"
            ))
        })?;
        let index = parse_number(k, "K", text)?;
        let count = parse_number(n, "N", text)?;
        Shard::new(index, count)
    }

    /// The whole manifest as one shard (`0/1`).
    pub fn whole() -> Shard {
        Shard { index: 0, count: 1 }
    }

    /// True when manifest row `row_index` (0-based, header excluded) belongs here.
    pub fn contains(&self, row_index: usize) -> bool {
        row_index % self.count == self.index
    }

    /// Position of manifest row `row_index` inside this shard's output,
    /// `None` when the row is not in this shard.
    pub fn position(&self, row_index: usize) -> Option<usize> {
        self.contains(row_index).then_some(row_index / self.count)
    }

    /// Number of rows this shard holds out of a manifest of `rows` rows.
    pub fn rows_of(&self, rows: usize) -> usize {
        rows / self.count + usize::from(rows % self.count > self.index)
    }

    /// The shard's output file for `--out out`: `X.csv` → `X.shard-00003-of-00008.csv`
    /// (likewise `.jsonl`, `.parquet`; a name without extension gets the suffix appended).
    pub fn output_path(&self, out: &Path) -> PathBuf {
        let tag = self.file_tag();
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let new_name = match out.extension() {
            Some(ext) => {
                let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned());
                format!(
                    "{}.{tag}.{}",
                    stem.unwrap_or_default(),
                    ext.to_string_lossy()
                )
            }
            None => format!("{name}.{tag}"),
        };
        out.with_file_name(new_name)
    }

    /// `shard-KKKKK-of-NNNNN`, the infix of shard file names.
    pub fn file_tag(&self) -> String {
        format!("shard-{:05}-of-{:05}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        Shard::parse(s)
    }
}

/// Where the shard index came from (printed on stderr by `batch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardSource {
    /// `--shard K/N`.
    Flag,
    /// A Slurm job array task.
    Slurm {
        /// `SLURM_ARRAY_TASK_ID`.
        task_id: usize,
        /// `SLURM_ARRAY_TASK_MIN` (0 when unset or when `--shards` was given).
        task_min: usize,
        /// `SLURM_ARRAY_TASK_STEP` (1 when unset).
        task_step: usize,
        /// True when N came from `--shards`, false when from `SLURM_ARRAY_TASK_COUNT`.
        count_from_flag: bool,
    },
    /// A Kubernetes Indexed Job pod (`JOB_COMPLETION_INDEX`, N from `--shards`).
    Kubernetes {
        /// `JOB_COMPLETION_INDEX`.
        completion_index: usize,
    },
}

impl ShardSource {
    /// A one-line description of how `shard` was chosen, for stderr
    /// (e.g. `shard 3/8 from Slurm array task SLURM_ARRAY_TASK_ID=3 (…)`).
    pub fn describe(&self, shard: &Shard) -> String {
        match self {
            ShardSource::Flag => format!("shard {shard} (from --shard)"),
            ShardSource::Slurm {
                task_id,
                task_min,
                task_step,
                count_from_flag: true,
            } => format!(
                "shard {shard} from Slurm array task SLURM_ARRAY_TASK_ID={task_id} \
                 (N from --shards; array index = shard index{})",
                slurm_offset_note(*task_min, *task_step)
            ),
            ShardSource::Slurm {
                task_id,
                task_min,
                task_step,
                count_from_flag: false,
            } => format!(
                "shard {shard} from Slurm array task SLURM_ARRAY_TASK_ID={task_id} \
                 (SLURM_ARRAY_TASK_MIN={task_min}, SLURM_ARRAY_TASK_STEP={task_step}, \
                 SLURM_ARRAY_TASK_COUNT={})",
                shard.count
            ),
            ShardSource::Kubernetes { completion_index } => format!(
                "shard {shard} from Kubernetes Indexed Job \
                 JOB_COMPLETION_INDEX={completion_index} (N from --shards)"
            ),
        }
    }
}

fn slurm_offset_note(min: usize, step: usize) -> &'static str {
    if min == 0 && step == 1 {
        ""
    } else {
        "; SLURM_ARRAY_TASK_MIN/STEP ignored"
    }
}

/// Pick the shard for this process, in order of precedence:
///
/// 1. `--shard K/N` (`flag`); if `--shards` is also given it must equal N.
/// 2. A Slurm job array: `SLURM_ARRAY_TASK_ID`. With `--shards N` the array index *is*
///    the shard index (so `sbatch --array=3,5` resubmits exactly shards 3 and 5).
///    Without it, N = `SLURM_ARRAY_TASK_COUNT` and K = (ID − `SLURM_ARRAY_TASK_MIN`) /
///    `SLURM_ARRAY_TASK_STEP`, so `--array=1-8` and `--array=0-14:2` work too.
/// 3. A Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` with `--shards N`
///    (the Job's `completions`).
///
/// Returns `None` when no shard applies (the whole manifest, plain output names).
///
/// # Errors
/// Bad numbers, K ≥ N, `JOB_COMPLETION_INDEX` without `--shards`, or `--shards`
/// with no index source.
pub fn resolve_shard(
    flag: Option<&str>,
    shards: Option<usize>,
) -> Result<Option<(Shard, ShardSource)>> {
    resolve_shard_with(flag, shards, |k| std::env::var(k).ok())
}

/// [`resolve_shard`] with an explicit environment lookup (for tests and embedding).
pub fn resolve_shard_with(
    flag: Option<&str>,
    shards: Option<usize>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(Shard, ShardSource)>> {
    if let Some(text) = flag {
        let shard = Shard::parse(text)?;
        if let Some(n) = shards.filter(|&n| n != shard.count) {
            return Err(invalid(format!(
                "--shard {shard} and --shards {n} disagree on the number of shards"
            )));
        }
        return Ok(Some((shard, ShardSource::Flag)));
    }
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(id) = var("SLURM_ARRAY_TASK_ID") {
        return from_slurm(&id, shards, &var).map(Some);
    }
    if let Some(index) = var("JOB_COMPLETION_INDEX") {
        let completion_index = parse_env("JOB_COMPLETION_INDEX", &index)?;
        let count = shards.ok_or_else(|| {
            invalid(
                "JOB_COMPLETION_INDEX is set but --shards N is not: give the Job's \
                 `completions` as --shards N"
                    .to_string(),
            )
        })?;
        let shard = Shard::new(completion_index, count)?;
        return Ok(Some((shard, ShardSource::Kubernetes { completion_index })));
    }
    match shards {
        Some(n) => Err(invalid(format!(
            "--shards {n} needs a shard index: give --shard K/{n}, or run as a Slurm array \
             task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)"
        ))),
        None => Ok(None),
    }
}

fn from_slurm(
    id: &str,
    shards: Option<usize>,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<(Shard, ShardSource)> {
    let task_id = parse_env("SLURM_ARRAY_TASK_ID", id)?;
    let task_min = match var("SLURM_ARRAY_TASK_MIN") {
        Some(v) => parse_env("SLURM_ARRAY_TASK_MIN", &v)?,
        None => 0,
    };
    let task_step = match var("SLURM_ARRAY_TASK_STEP") {
        Some(v) => parse_env("SLURM_ARRAY_TASK_STEP", &v)?.max(1),
        None => 1,
    };
    if let Some(count) = shards {
        let shard = Shard::new(task_id, count).map_err(|e| {
            invalid(format!(
                "SLURM_ARRAY_TASK_ID={task_id} with --shards {count}: {e}; \
                 submit with --array=0-{}",
                count.saturating_sub(1)
            ))
        })?;
        let source = ShardSource::Slurm {
            task_id,
            task_min,
            task_step,
            count_from_flag: true,
        };
        return Ok((shard, source));
    }
    let count_text = var("SLURM_ARRAY_TASK_COUNT").ok_or_else(|| {
        invalid(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: give --shards N"
                .to_string(),
        )
    })?;
    let count = parse_env("SLURM_ARRAY_TASK_COUNT", &count_text)?;
    let offset = task_id.checked_sub(task_min).ok_or_else(|| {
        invalid(format!(
            "SLURM_ARRAY_TASK_ID={task_id} is below SLURM_ARRAY_TASK_MIN={task_min}"
        ))
    })?;
    if offset % task_step != 0 {
        return Err(invalid(format!(
            "SLURM_ARRAY_TASK_ID={task_id} is not on the array's step {task_step} from \
             {task_min}; give --shards N and use array indices 0..N-1"
        )));
    }
    let shard = Shard::new(offset / task_step, count).map_err(|e| {
        invalid(format!(
            "Slurm array is not a contiguous range ({e}); submit with --array=0-{} or give \
             --shards N",
            count.saturating_sub(1)
        ))
    })?;
    let source = ShardSource::Slurm {
        task_id,
        task_min,
        task_step,
        count_from_flag: false,
    };
    Ok((shard, source))
}

fn parse_number(part: &str, name: &str, whole: &str) -> Result<usize> {
    part.trim().parse::<usize>().map_err(|_| {
        invalid(format!(
            "'{whole}': {name} = '{}' is not a non-negative integer (expected K/N, e.g. 3/8)",
            part.trim()
        ))
    })
}

fn parse_env(name: &str, value: &str) -> Result<usize> {
    value.trim().parse::<usize>().map_err(|_| {
        invalid(format!(
            "environment variable {name}='{value}' is not a non-negative integer"
        ))
    })
}

fn invalid(message: String) -> Error {
    Error::Invalid {
        what: "shard",
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn parse_accepts_k_below_n_and_rejects_the_rest() {
        assert_eq!(Shard::parse("3/8").unwrap(), Shard { index: 3, count: 8 });
        assert_eq!(Shard::parse(" 0/1 ").unwrap(), Shard::whole());
        for bad in [
            "8/8", "0/0", "3", "a/8", "3/b", "-1/8", "3/8/2", "", "1/100000",
        ] {
            let e = Shard::parse(bad).unwrap_err().to_string();
            assert!(e.contains("shard"), "{bad}: {e}");
        }
        assert!(Shard::parse("8/8")
            .unwrap_err()
            .to_string()
            .contains("below N"));
    }

    #[test]
    fn shards_partition_the_manifest_round_robin() {
        for n in [1usize, 3, 8] {
            let shards: Vec<Shard> = (0..n).map(|k| Shard::new(k, n).unwrap()).collect();
            for i in 0..100 {
                let owners: Vec<_> = shards.iter().filter(|s| s.contains(i)).collect();
                assert_eq!(owners.len(), 1, "row {i} of {n}");
                assert_eq!(owners[0].position(i), Some(i / n));
            }
            let total: usize = shards.iter().map(|s| s.rows_of(100)).sum();
            assert_eq!(total, 100);
            for s in &shards {
                assert_eq!(s.rows_of(100), (0..100).filter(|&i| s.contains(i)).count());
            }
        }
    }

    #[test]
    fn output_path_inserts_the_zero_padded_tag_before_the_extension() {
        let s = Shard::new(3, 8).unwrap();
        let p = s.output_path(Path::new("/data/run/results.csv"));
        assert_eq!(p, Path::new("/data/run/results.shard-00003-of-00008.csv"));
        let p = s.output_path(Path::new("out.v2.jsonl"));
        assert_eq!(p, Path::new("out.v2.shard-00003-of-00008.jsonl"));
        let p = s.output_path(Path::new("res.parquet"));
        assert_eq!(p, Path::new("res.shard-00003-of-00008.parquet"));
        let p = s.output_path(Path::new("plain"));
        assert_eq!(p, Path::new("plain.shard-00003-of-00008"));
    }

    #[test]
    fn flag_wins_over_the_environment() {
        let env = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        let (s, src) = resolve_shard_with(Some("1/4"), None, env).unwrap().unwrap();
        assert_eq!((s.index, s.count, src), (1, 4, ShardSource::Flag));
        let e = resolve_shard_with(Some("1/4"), Some(5), env_of(&[])).unwrap_err();
        assert!(e.to_string().contains("disagree"));
    }

    #[test]
    fn slurm_array_starting_at_one_maps_to_shard_zero() {
        let env = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "8"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        let (s, src) = resolve_shard_with(None, None, env).unwrap().unwrap();
        assert_eq!(s, Shard { index: 0, count: 8 });
        assert!(src.describe(&s).contains("SLURM_ARRAY_TASK_ID=1"));
    }

    #[test]
    fn slurm_array_with_a_step_divides_by_it() {
        let env = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        let (s, _) = resolve_shard_with(None, None, env).unwrap().unwrap();
        assert_eq!(s, Shard { index: 3, count: 8 });
    }

    #[test]
    fn slurm_resubmission_with_shards_uses_the_array_index_as_is() {
        // `sbatch --array=3,5` → MIN=3, COUNT=2; with --shards 8 task 5 is shard 5/8.
        let env = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        let (s, src) = resolve_shard_with(None, Some(8), env).unwrap().unwrap();
        assert_eq!(s, Shard { index: 5, count: 8 });
        assert!(src.describe(&s).contains("--shards"));
    }

    #[test]
    fn sparse_slurm_array_without_shards_is_an_error() {
        let env = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        let e = resolve_shard_with(None, None, env).unwrap_err().to_string();
        assert!(e.contains("contiguous"), "{e}");
        let env = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        let e = resolve_shard_with(None, None, env).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID='x'"), "{e}");
    }

    #[test]
    fn kubernetes_index_needs_shards() {
        let env = env_of(&[("JOB_COMPLETION_INDEX", "2")]);
        let (s, src) = resolve_shard_with(None, Some(4), &env).unwrap().unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        assert!(src.describe(&s).contains("JOB_COMPLETION_INDEX=2"));
        let e = resolve_shard_with(None, None, &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--shards"), "{e}");
        let e = resolve_shard_with(None, Some(2), &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("below N"), "{e}");
    }

    #[test]
    fn nothing_set_means_no_shard_but_lonely_shards_is_an_error() {
        assert_eq!(resolve_shard_with(None, None, env_of(&[])).unwrap(), None);
        assert!(resolve_shard_with(None, Some(4), env_of(&[])).is_err());
        let empty = env_of(&[("SLURM_ARRAY_TASK_ID", "")]);
        assert_eq!(resolve_shard_with(None, None, empty).unwrap(), None);
    }
}
