//! Scale-out: deterministic sharding under cluster schedulers (Slurm job arrays,
//! Kubernetes Indexed Jobs), merging shard outputs, columnar (Parquet) results.
