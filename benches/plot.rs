//! Plot rendering (criterion): a 4096-channel XRF spectrum with its fit, line markers and
//! residuals, drawn at the default 1200×800.
//!
//! | bench                  | time (mean) | machine                                              |
//! |------------------------|-------------|------------------------------------------------------|
//! | xrf_plot/png/1024      | 16.2 ms     | 2-core shared build box, load average 9–13 (7 jobs)  |
//! | xrf_plot/png/4096      | 18.5 ms     | same                                                 |
//! | xrf_plot/png/8192      | 19.5 ms     | same                                                 |
//! | xrf_plot/rgb_only/4096 | 10.0 ms     | same (drawing without PNG encoding)                  |
//! | xrf_plot/svg/4096      |  4.4 ms     | same                                                 |
//! | xrd_plot/png/3501      | 12.5 ms     | same                                                 |
//!
//! Measured 2026-11-23 with `cargo bench --bench plot -- --warm-up-time 1
//! --measurement-time 3`. Before the smooth continuum was thinned (a thick dashed line
//! costs a filled polygon per segment) the 4096-channel PNG took 54 ms.
//!
//! Inputs are built once outside the timed loop (seeded synthetic spectrum, fixtures in
//! `tests/report_fixtures`). The target is ≤ 50 ms for the PNG.

#[path = "../tests/report_fixtures/mod.rs"]
mod report_fixtures;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reescan::report::plot::{png_bytes, rgb_buffer, svg_string, PlotOptions, XrdFigure, XrfFigure};
use std::hint::black_box;

fn xrf(c: &mut Criterion) {
    let opts = PlotOptions::default();
    // Register the font outside the timed loop (done once per process in real use).
    reescan::report::font::ensure_registered().expect("embedded font");
    let mut group = c.benchmark_group("xrf_plot");
    for channels in [1024usize, 4096, 8192] {
        let a = report_fixtures::xrf_iron_ore_with_nd(channels);
        let fig = XrfFigure::new(&a, None);
        group.bench_with_input(BenchmarkId::new("png", channels), &fig, |b, f| {
            b.iter(|| black_box(png_bytes(f, &opts).expect("png")))
        });
        if channels == 4096 {
            group.bench_with_input(BenchmarkId::new("rgb_only", channels), &fig, |b, f| {
                b.iter(|| black_box(rgb_buffer(f, &opts).expect("rgb")))
            });
            group.bench_with_input(BenchmarkId::new("svg", channels), &fig, |b, f| {
                b.iter(|| black_box(svg_string(f, &opts).expect("svg")))
            });
        }
    }
    group.finish();
}

fn xrd(c: &mut Criterion) {
    let opts = PlotOptions::default();
    let a = report_fixtures::xrd_hematite_with_ceria();
    let fig = XrdFigure::new(&a, None);
    c.bench_function("xrd_plot/png/3501", |b| {
        b.iter(|| black_box(png_bytes(&fig, &opts).expect("png")))
    });
}

criterion_group!(benches, xrf, xrd);
criterion_main!(benches);
