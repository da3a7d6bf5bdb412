//! How many CPUs this process may really use, as a cluster scheduler sees it.
//!
//! A Slurm or Kubernetes node runs several shards side by side; each gets a slice of
//! the machine through a CPU affinity mask (Slurm `task/affinity`, `taskset`) and/or a
//! cgroup CPU bandwidth quota (Slurm `task/cgroup`, Kubernetes `resources.limits.cpu`).
//! Starting one rayon thread per *physical* core in every shard would oversubscribe the
//! node N-fold. [`available_cpus`] returns the smallest of:
//!
//! * the affinity mask / cgroup view of [`std::thread::available_parallelism`];
//! * the cgroup v2 `cpu.max` quota (`quota period` → ⌈quota / period⌉) of this process's
//!   cgroup and every ancestor, or the cgroup v1 `cpu.cfs_quota_us / cpu.cfs_period_us`;
//! * `SLURM_CPUS_PER_TASK` when Slurm set it (the allocation, even without cgroups).
//!
//! `--jobs` and `RAYON_NUM_THREADS` override it: see [`worker_threads`].

use std::path::{Path, PathBuf};

/// Worker threads for a batch: `--jobs` if given, else `RAYON_NUM_THREADS` (a positive
/// integer), else [`available_cpus`].
pub fn worker_threads(jobs: Option<usize>) -> usize {
    let rayon_env = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    jobs.filter(|&n| n > 0)
        .or(rayon_env)
        .unwrap_or_else(available_cpus)
}

/// CPUs available to this process (≥ 1); see the module docs.
pub fn available_cpus() -> usize {
    let affinity = std::thread::available_parallelism().map_or(1, usize::from);
    let quota = cgroup_quota_cpus(Path::new("/proc/self/cgroup"), Path::new("/sys/fs/cgroup"));
    let slurm = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    [Some(affinity), quota, slurm]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(1)
        .max(1)
}

/// The CPU limit from cgroup quotas, `None` when unlimited or unreadable.
/// `proc_cgroup` is `/proc/self/cgroup`, `root` the cgroup mount (`/sys/fs/cgroup`).
pub fn cgroup_quota_cpus(proc_cgroup: &Path, root: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(proc_cgroup).ok()?;
    let v2 = cgroup_v2_path(&text).and_then(|rel| {
        ancestors_min(root, &rel, |dir| {
            std::fs::read_to_string(dir.join("cpu.max"))
                .ok()
                .and_then(|t| parse_cpu_max(&t))
        })
    });
    v2.or_else(|| {
        let (mount, rel) = cgroup_v1_cpu_path(&text)?;
        ancestors_min(&root.join(mount), &rel, |dir| {
            let quota = std::fs::read_to_string(dir.join("cpu.cfs_quota_us")).ok()?;
            let period = std::fs::read_to_string(dir.join("cpu.cfs_period_us")).ok()?;
            parse_cfs(&quota, &period)
        })
    })
}

/// Smallest limit over the cgroup `rel` and its ancestors under `root`.
fn ancestors_min(root: &Path, rel: &str, limit: impl Fn(&Path) -> Option<usize>) -> Option<usize> {
    let rel = PathBuf::from(rel.trim_start_matches('/'));
    rel.ancestors().filter_map(|a| limit(&root.join(a))).min()
}

/// The cgroup v2 path (`0::/path`) from `/proc/self/cgroup`.
pub fn cgroup_v2_path(proc_cgroup: &str) -> Option<String> {
    proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

/// The cgroup v1 `cpu` controller (mount folder name, path) from `/proc/self/cgroup`,
/// e.g. `4:cpu,cpuacct:/slurm/uid_0/job_7` → (`cpu,cpuacct`, `/slurm/uid_0/job_7`).
pub fn cgroup_v1_cpu_path(proc_cgroup: &str) -> Option<(String, String)> {
    proc_cgroup.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "cpu")
            .then(|| (controllers.to_string(), path.to_string()))
    })
}

/// cgroup v2 `cpu.max` (`"max 100000"` or `"200000 100000"`) → ⌈quota/period⌉ CPUs.
pub fn parse_cpu_max(text: &str) -> Option<usize> {
    let mut it = text.split_whitespace();
    let quota = it.next()?;
    let period = it.next().unwrap_or("100000");
    if quota == "max" {
        return None;
    }
    cpus_from_quota(quota.parse().ok()?, period.parse().ok()?)
}

/// cgroup v1 `cpu.cfs_quota_us` (−1 = unlimited) and `cpu.cfs_period_us` → CPUs.
pub fn parse_cfs(quota: &str, period: &str) -> Option<usize> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: u64 = period.trim().parse().ok()?;
    u64::try_from(quota)
        .ok()
        .and_then(|q| cpus_from_quota(q, period))
}

fn cpus_from_quota(quota: u64, period: u64) -> Option<usize> {
    if quota == 0 || period == 0 {
        return None;
    }
    usize::try_from(quota.div_ceil(period))
        .ok()
        .map(|n| n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_quota_rounds_up_and_max_is_unlimited() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(2));
        assert_eq!(parse_cpu_max("150000 100000"), Some(2));
        assert_eq!(parse_cpu_max("50000 100000"), Some(1));
        assert_eq!(parse_cpu_max("garbage"), None);
    }

    #[test]
    fn cfs_minus_one_is_unlimited() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("400000", "100000"), Some(4));
    }

    #[test]
    fn proc_self_cgroup_lines_are_parsed() {
        assert_eq!(
            cgroup_v2_path("0::/user.slice/x\n").as_deref(),
            Some("/user.slice/x")
        );
        let v1 = "12:memory:/a\n4:cpu,cpuacct:/slurm/job_7\n";
        assert_eq!(
            cgroup_v1_cpu_path(v1),
            Some(("cpu,cpuacct".into(), "/slurm/job_7".into()))
        );
        assert_eq!(cgroup_v1_cpu_path("3:cpuset:/a\n"), None);
    }

    #[test]
    fn the_tightest_ancestor_quota_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cg");
        let leaf = root.join("kubepods/pod1/ctr");
        std::fs::create_dir_all(&leaf).unwrap();
        std::fs::write(root.join("kubepods/cpu.max"), "800000 100000\n").unwrap();
        std::fs::write(root.join("kubepods/pod1/cpu.max"), "300000 100000\n").unwrap();
        std::fs::write(leaf.join("cpu.max"), "max 100000\n").unwrap();
        let proc = dir.path().join("cgroup");
        std::fs::write(&proc, "0::/kubepods/pod1/ctr\n").unwrap();
        assert_eq!(cgroup_quota_cpus(&proc, &root), Some(3));
    }

    #[test]
    fn available_cpus_is_at_least_one_and_at_most_the_machine() {
        let n = available_cpus();
        assert!(n >= 1);
        assert!(n <= std::thread::available_parallelism().map_or(1, usize::from));
    }
}
