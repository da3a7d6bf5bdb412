//! Benchmarks for the batch stage (criterion). Filled in with the stage.
fn main() {}
