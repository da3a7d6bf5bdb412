//! Benchmarks for the signal stage (criterion). Filled in with the stage.
fn main() {}
