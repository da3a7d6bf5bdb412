//! Benchmarks for the formats stage (criterion). Filled in with the stage.
fn main() {}
