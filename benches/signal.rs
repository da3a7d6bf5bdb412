//! Signal-stage benchmarks on a real 4096-channel spectrum (PyMca's XRFSpectrum.mca,
//! bundled in tests/data/pymca), single thread. Setup (reading, template building,
//! planning) happens outside `b.iter` unless the bench name says otherwise.
//!
//! Run: `cargo bench --bench signal -- --warm-up-time 1 --measurement-time 3`
//!
//! Reference timings, 2026-11-23, this 2-core VM shared with six other builds (load
//! average 12–14). Wall time is what criterion reports; `/usr/bin/time` on the bench
//! binary showed the process got 26–28 % of a core, so the CPU-time column (wall × 0.27)
//! is the better estimate of unloaded single-thread speed. PyMca/scipy figures are from
//! shared/README.md (same machine, presumably less loaded).
//!
//! | stage (4096 channels) | wall | spectra/s wall | ≈ CPU-time/s | target | reference |
//! |---|---|---|---|---|---|
//! | SNIP w=30, LLS | 864 µs | 1,160 | ≈ 4,300 | 20,000 | PyMca snip1d 2,100–6,100 |
//! | SNIP w=30, no LLS | 312 µs | 3,200 | ≈ 11,900 | 20,000 | |
//! | strip (PyMca recipe, 6500 passes) | 57 ms | 18 | ≈ 65 | – | |
//! | peak search, matched filter | 1.63 ms | 610 | ≈ 2,300 | 20,000 | scipy find_peaks 1,714 |
//! | peak search, top-hat | 519 µs | 1,930 | ≈ 7,100 | 20,000 | |
//! | Savitzky–Golay w11 o3 d2 | 155 µs | 6,500 | ≈ 24,000 | – | |
//! | FFT convolve (91 taps) | 303 µs | 3,300 | ≈ 12,000 | – | |
//! | FFT shift alignment | 282 µs | 3,500 | ≈ 13,000 | – | |
//! | linear joint fit, 30 templates | 758 µs | 1,320 | ≈ 4,900 | 2,000 | |
//! | … including template building | 2.30 ms | 435 | ≈ 1,600 | – | |
//! | LM, 25 groups + zero/gain/noise/Fano | 102 ms | 9.8 | ≈ 36 | 100 | PyMca full fit 1.1–4 |

#[path = "../tests/signal_common/mod.rs"]
mod signal_common;

use criterion::{criterion_group, criterion_main, Criterion};
use reescan::signal::detector::Detector;
use reescan::signal::fft::FftCache;
use reescan::signal::group::{LineGroup, PeakModel, SiEscape};
use reescan::signal::linear::{LinearFitter, LinearOptions};
use reescan::signal::lm::{refine_groups, GroupFitFlags};
use reescan::signal::peaks::{PeakFilter, PeakSearchOptions, PeakSearcher};
use reescan::signal::savitzky_golay::SavitzkyGolay;
use reescan::signal::snip::{snip_in_place, SnipOptions};
use reescan::signal::strip::{strip, StripOptions};
use reescan::spectrum::Calibration;
use signal_common::{k_group, lm_group, read_single_column, Setup};
use std::hint::black_box;

const FIRST: usize = 290;
const LAST: usize = 3400;

fn calibration() -> Calibration {
    Calibration::linear(-0.492773, 0.00502883).unwrap()
}

fn detector() -> Detector {
    Detector {
        noise_kev: 0.0781703,
        fano: 0.120159,
    }
}

fn setup() -> Setup<'static> {
    Setup {
        path: vec![(&[("Be", 1.0)], 1.85 * 0.0008)],
        si_cm: 0.045,
        matrix: None,
    }
}

/// The 25 groups PyMca fits on XRFSpectrum.mca, plus 5 K groups (K, Sc, Ga, Ge, Br) to
/// make the 30-template joint fit of the issue.
fn groups(extra: bool) -> Vec<LineGroup> {
    let s = setup();
    let mut ks = vec![
        "Ar", "Ca", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "As", "Se", "Sr",
    ];
    if extra {
        ks.extend(["K", "Sc", "Ga", "Ge", "Br"]);
    }
    let mut g: Vec<LineGroup> = ks.iter().map(|el| k_group(el, &s, el)).collect();
    for el in ["Cu", "Zn", "As", "Se", "Sr", "Cd", "Sb", "Tl", "Pb"] {
        g.push(lm_group(el, 'L', &s, 17.5, el));
    }
    for el in ["Tl", "Pb"] {
        g.push(lm_group(el, 'M', &s, 17.5, el));
    }
    g
}

fn model() -> PeakModel {
    let mut m = PeakModel::gaussian(calibration(), detector());
    m.escape = Some(SiEscape::silicon());
    m
}

fn background(region: &[f64]) -> Vec<f64> {
    let mut bg = region.to_vec();
    let mut scratch = vec![0.0; bg.len()];
    snip_in_place(
        &mut bg,
        &mut scratch,
        &SnipOptions {
            width: 30,
            lls: true,
        },
    );
    bg
}

fn bench_background(c: &mut Criterion) {
    let y = read_single_column("XRFSpectrum.mca");
    assert_eq!(y.len(), 4096);
    let mut g = c.benchmark_group("background_4096");
    for (name, lls) in [("snip_w30_lls", true), ("snip_w30_plain", false)] {
        let mut data = y.clone();
        let mut scratch = vec![0.0; y.len()];
        g.bench_function(name, |b| {
            b.iter(|| {
                data.copy_from_slice(&y);
                snip_in_place(&mut data, &mut scratch, &SnipOptions { width: 30, lls });
                black_box(data[2000])
            })
        });
    }
    g.sample_size(10);
    g.bench_function("strip_pymca_w10_6000it", |b| {
        b.iter(|| {
            black_box(strip(
                &y,
                &StripOptions {
                    width: 10,
                    iterations: 6000,
                    constant: 1.0,
                    smoothing: 5,
                    final_passes: 500,
                },
            ))
        })
    });
    g.finish();
}

fn bench_peaks(c: &mut Criterion) {
    let y = read_single_column("XRFSpectrum.mca");
    let cal = calibration();
    let det = detector();
    let fwhm = |ch: f64| det.fwhm_kev(cal.energy_kev(ch)) / cal.gain_kev;
    let mut g = c.benchmark_group("peak_search_4096");
    for filter in [PeakFilter::GaussianSecondDerivative, PeakFilter::TopHat] {
        let mut searcher = PeakSearcher::new();
        let opts = PeakSearchOptions {
            filter,
            ..Default::default()
        };
        g.bench_function(format!("{filter:?}"), |b| {
            b.iter(|| black_box(searcher.search(&y, 0..y.len(), fwhm, &opts).len()))
        });
    }
    let sg = SavitzkyGolay::new(11, 3, 2).unwrap();
    let mut out = vec![0.0; y.len()];
    g.bench_function("savitzky_golay_w11_o3_d2", |b| {
        b.iter(|| {
            sg.apply_into(&y, &mut out);
            black_box(out[100])
        })
    });
    g.finish();
}

fn bench_fft(c: &mut Criterion) {
    let y = read_single_column("XRFSpectrum.mca");
    let shifted: Vec<f64> = (0..y.len()).map(|i| y[(i + 7).min(y.len() - 1)]).collect();
    let kernel: Vec<f64> = (-45..=45)
        .map(|j| (-0.5 * (j as f64 / 12.0).powi(2)).exp())
        .collect();
    let mut cache = FftCache::new();
    let mut g = c.benchmark_group("fft_4096");
    g.bench_function("convolve_91_tap", |b| {
        b.iter(|| black_box(cache.convolve_same(&y, &kernel)[1000]))
    });
    g.bench_function("align_shift", |b| {
        b.iter(|| black_box(cache.align_shift(&shifted, &y, 100)))
    });
    g.finish();
}

fn bench_fit(c: &mut Criterion) {
    let y = read_single_column("XRFSpectrum.mca");
    let region = &y[FIRST..=LAST];
    let n = region.len();
    let bg = background(region);
    let m = model();
    let groups30 = groups(true);
    assert_eq!(groups30.len(), 30);
    let templates: Vec<_> = groups30.iter().map(|g| m.template(g, FIRST, n)).collect();
    let mut fitter = LinearFitter::new(n, templates).unwrap();
    let opts = LinearOptions::default();
    let mut g = c.benchmark_group("joint_fit_4096");
    g.bench_function("linear_30_templates", |b| {
        b.iter(|| black_box(fitter.fit(region, Some(&bg), &opts).map(|f| f.chi2)))
    });
    g.bench_function("linear_30_templates_incl_building", |b| {
        b.iter(|| {
            let t: Vec<_> = groups30.iter().map(|g| m.template(g, FIRST, n)).collect();
            let mut f = LinearFitter::new(n, t).unwrap();
            black_box(f.fit(region, Some(&bg), &opts).map(|f| f.chi2))
        })
    });
    let groups25 = groups(false);
    let t25: Vec<_> = groups25.iter().map(|g| m.template(g, FIRST, n)).collect();
    let start = LinearFitter::new(n, t25)
        .unwrap()
        .fit(region, Some(&bg), &opts)
        .unwrap()
        .amplitudes;
    // Start 0.2 % off in gain so LM has calibration work to do.
    let mut m_off = m.clone();
    m_off.calibration.gain_kev *= 1.002;
    g.sample_size(20);
    g.bench_function("lm_25_groups_zero_gain_noise_fano", |b| {
        b.iter(|| {
            black_box(
                refine_groups(
                    region,
                    &bg,
                    FIRST,
                    &groups25,
                    &m_off,
                    &start,
                    GroupFitFlags::default(),
                    1,
                )
                .map(|f| f.report.chi2),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_background, bench_peaks, bench_fft, bench_fit);
criterion_main!(benches);
