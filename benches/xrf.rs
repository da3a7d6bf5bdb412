//! Benchmarks for the xrf stage (criterion). Filled in with the stage.
fn main() {}
