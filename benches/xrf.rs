//! XRF identification + quantification of one synthetic handheld scan
//! (4096 ch × 10 eV, iron ore + 2 % NdFeB, Rh 40/50 kV) — the full `xrf::analyze`
//! pipeline: SNIP, peak search, candidate families, joint NNLS fits with escape,
//! scatter and pile-up, pruning, FP quantification and detection limits.
//!
//! | machine | scan | time/scan | scans/s |
//! |---|---|---|---|
//! | 2-core shared VM, release, idle (2 Dec 2026, final; two runs) | 4096 ch iron ore + NdFeB | 37.3 / 32.7 ms | 27–31 |
//! | same | 2048 ch zircon + monazite | 21.0 / 17.8 ms | 48–56 |
//!
//! Wall time on this VM varies by ~±30 % between runs of the same binary
//! (`examples/xrf_timing`: 19.6 and 26–28 ms/scan); instruction counts are the stable
//! measure: `valgrind --tool=callgrind` on `xrf_timing 8 1`, `analyze::run` less its
//! one-time table set-up, ~187 M per scan, against ~921 M at d887752 (1 Dec); side by
//! side on the same VM, 28.8 against 95.6 ms/scan.
//! The target is 1 ms (1,000 scans/s on one core); this pipeline is 20–35× short.
//! Where the time goes (callgrind, `examples/xrf_timing`, per scan): joint NNLS fits
//! ~35 % (about ten full fits of ~130 templates plus ~40 small local fits for the line
//! shape), FP quantification ~30 % (primary + secondary fluorescence, four inversions),
//! template drawing ~15 %.
//!
//! Spectrum generation happens outside the timed loop.

use criterion::{criterion_group, criterion_main, Criterion};
use reescan::tables::materials::{Carrier, Commodity};
use reescan::xrf::{analyze, analyze_quick, synth, XrfOptions};
use std::hint::black_box;

fn bench_analyze(c: &mut Criterion) {
    // seed chosen so the drawn instrument is 4096 ch × 10 eV
    let scan = (0..64)
        .filter_map(|seed| {
            synth::generate(Commodity::IronOre, Some(Carrier::NdFeB), 0.02, &[], seed).ok()
        })
        .find(|s| s.spectrum.len() == 4096)
        .expect("a 4096-channel scan");
    let opts = XrfOptions::default();
    c.bench_function("xrf_analyze_4096ch_iron_ore_ndfeb", |b| {
        b.iter(|| analyze(black_box(&scan.spectrum), &opts).map(|a| a.elements.len()))
    });
    // the quick analysis (batch triage); its template library for this set-up is
    // drawn on the first call and reused after, as in an archive of one instrument
    c.bench_function("xrf_analyze_quick_4096ch_iron_ore_ndfeb", |b| {
        b.iter(|| analyze_quick(black_box(&scan.spectrum), &opts).map(|a| a.elements.len()))
    });
    let honest = (0..64)
        .filter_map(|seed| synth::generate(Commodity::IronOre, None, 0.0, &[], seed).ok())
        .find(|s| s.spectrum.len() == 4096)
        .expect("a 4096-channel scan");
    c.bench_function("xrf_analyze_quick_4096ch_iron_ore_honest", |b| {
        b.iter(|| analyze_quick(black_box(&honest.spectrum), &opts).map(|a| a.elements.len()))
    });
    let s2048 = (0..64)
        .filter_map(|seed| {
            synth::generate(
                Commodity::Zirconium,
                Some(Carrier::Monazite),
                0.02,
                &[],
                seed,
            )
            .ok()
        })
        .find(|s| s.spectrum.len() == 2048)
        .expect("a 2048-channel scan");
    c.bench_function("xrf_analyze_2048ch_zircon_monazite", |b| {
        b.iter(|| analyze(black_box(&s2048.spectrum), &opts).map(|a| a.elements.len()))
    });
    c.bench_function("xrf_synth_generate", |b| {
        b.iter(|| {
            synth::generate(
                Commodity::Ceramics,
                Some(Carrier::Oxides),
                0.05,
                &[],
                black_box(7),
            )
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_analyze
}
criterion_main!(benches);
