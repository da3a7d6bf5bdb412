//! Benchmarks for the plot stage (criterion). Filled in with the stage.
fn main() {}
