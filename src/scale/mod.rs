//! Scale-out: deterministic sharding under cluster schedulers (Slurm job arrays,
//! Kubernetes Indexed Jobs), crash-safe shard outputs, merging shard outputs back into
//! manifest order, and columnar (Parquet) results.
//!
//! The unit of work is the `reescan batch --shard K/N` process; nothing here is a
//! distributed system. Shard K of N holds manifest rows i with i mod N = K
//! ([`Shard`]); its outputs are named `X.shard-KKKKK-of-NNNNN.csv` and appear only when
//! complete ([`AtomicFile`]); `reescan merge X` interleaves them back ([`merge`]).

pub mod atomic;
pub mod cpus;
pub mod merge;
pub mod shard;

pub use atomic::{leftover_partials, write_atomic, AtomicFile};
pub use cpus::{available_cpus, worker_threads};
pub use shard::{resolve_shard, resolve_shard_with, Shard, ShardSource};
#[cfg(feature = "parquet")]
pub mod parquet;

#[cfg(feature = "parquet")]
pub use self::parquet::{results_schema, ParquetWriter, WT_PCT_ELEMENTS};
