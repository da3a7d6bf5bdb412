//! Benchmarks for the xrd stage (criterion). Filled in with the stage.
fn main() {}
