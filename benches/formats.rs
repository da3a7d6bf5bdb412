//! Parsing speed of the text formats (criterion), in MB/s of file bytes.
//!
//! Target (issue #2): a 4096-channel EMSA/MAS file parses at ≥ 100 MB/s per core.
//! Inputs are made here (seeded, Poisson-like counts) in two styles: integer
//! counts as reescan writes them, and `1234.000000,` as RosettaSciIO/Oxford
//! write them. `read_bytes` adds format detection, validation and SHA-256.
//!
//! Time is measured twice: as thread CPU time (`cpu/…` groups, the "per core"
//! figure, robust on the shared 2-core development machine whose load average
//! is ~12) and as wall-clock time (`wall/…`, which there includes preemption).
//!
//! Reference figures (2026-11-23, shared 2-core dev machine, load average ~12,
//! `cargo bench --bench formats -- --warm-up-time 1 --measurement-time 3`):
//!
//! | bench (4096 channels) | thread CPU time | MiB/s (cpu) | wall MiB/s |
//! |---|---|---|---|
//! | emsa_read/six_decimals (57 kB) | 125 µs | 446 | ~60–100 (preempted) |
//! | emsa_read/integer (37 kB) | 105 µs | 352 | ~58 |
//! | read_bytes EMSA + detect + validate + SHA-256 | 240 µs | 231 | |
//! | Amptek mca | 94 µs | 168 | |
//! | csv (energy, counts) | 330 µs | 156 | |
//! | xy (2θ, counts) | 369 µs | 124 | |
//!
//! Before the table-driven separator test, the wrapping-digit fast path and the
//! single-pass `#ENDOFDATA` stop: emsa six_decimals/4096 217 MiB/s (cpu).

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array1;
use rand::{Rng, SeedableRng};
use reescan::formats::{emsa, mca, read_bytes, text, xy, ReadOptions};
use reescan::{Axis, Calibration, Metadata, Spectrum};
use std::hint::black_box;
use std::time::Duration;

fn spectrum(n: usize) -> Spectrum {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let counts: Vec<f64> = (0..n)
        .map(|i| {
            let peak = 5e4 * (-((i as f64 - n as f64 * 0.3) / 6.0).powi(2)).exp();
            (200.0 + peak + rng.random_range(0.0..40.0)).round()
        })
        .collect();
    Spectrum {
        counts: Array1::from(counts),
        axis: Axis::Energy(Calibration::linear(-0.1, 0.01).unwrap()),
        meta: Metadata {
            live_time_s: Some(30.0),
            tube_kv: Some(40.0),
            ..Metadata::default()
        },
    }
}

/// EMSA with counts written as `1234.000000,` (RosettaSciIO/Oxford style).
fn emsa_six_decimals(s: &Spectrum) -> String {
    let plain = emsa::write(s).unwrap();
    let mut out = String::with_capacity(plain.len() * 2);
    for line in plain.lines() {
        match line.strip_suffix(',').and_then(|v| v.parse::<f64>().ok()) {
            Some(v) => out.push_str(&format!("{v:.6}, \n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Thread CPU time (`CLOCK_THREAD_CPUTIME_ID`): the time this core spent.
struct CpuTime;

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu()
    }
    fn end(&self, i: Duration) -> Duration {
        thread_cpu().saturating_sub(i)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Nanoseconds shown as µs; throughput as MiB/s of file bytes.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e3);
        "µs (cpu)"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per_iter = match t {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => *b as f64,
            Throughput::Elements(e) => *e as f64,
            _ => 1.0,
        };
        values
            .iter_mut()
            .for_each(|v| *v = per_iter * 1e9 / v.max(1.0) / 1_048_576.0);
        "MiB/s (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn emsa_group<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let mut g = c.benchmark_group(name);
    for n in [1024usize, 2048, 4096, 8192] {
        let s = spectrum(n);
        for (style, text) in [
            ("integer", emsa::write(&s).unwrap()),
            ("six_decimals", emsa_six_decimals(&s)),
        ] {
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(BenchmarkId::new(style, n), &text, |b, t| {
                b.iter(|| emsa::read(black_box(t.as_bytes())).unwrap())
            });
        }
    }
    g.finish();
}

fn bench_emsa_cpu(c: &mut Criterion<CpuTime>) {
    emsa_group(c, "cpu/emsa_read");
}

fn bench_emsa_wall(c: &mut Criterion) {
    emsa_group(c, "wall/emsa_read");
}

fn bench_others(c: &mut Criterion<CpuTime>) {
    let s = spectrum(4096);
    let mut g = c.benchmark_group("cpu/read_4096");
    let opts = ReadOptions::default();
    let emsa_text = emsa_six_decimals(&s);
    g.throughput(Throughput::Bytes(emsa_text.len() as u64));
    g.bench_function("read_bytes_emsa_with_sha256", |b| {
        b.iter(|| read_bytes(black_box(emsa_text.as_bytes()), "a.msa", &opts).unwrap())
    });
    let mca_text = mca::write(&s).unwrap();
    g.throughput(Throughput::Bytes(mca_text.len() as u64));
    g.bench_function("mca", |b| {
        b.iter(|| mca::read(black_box(mca_text.as_bytes())).unwrap())
    });
    let csv_text = text::write(&s).unwrap();
    g.throughput(Throughput::Bytes(csv_text.len() as u64));
    g.bench_function("csv", |b| {
        b.iter(|| text::read(black_box(csv_text.as_bytes())).unwrap())
    });
    let pattern = Spectrum {
        counts: s.counts.clone(),
        axis: Axis::TwoTheta {
            two_theta_deg: (0..4096).map(|i| 5.0 + 0.02 * f64::from(i)).collect(),
            wavelength_a: 1.5406,
        },
        meta: Metadata::default(),
    };
    let xy_text = xy::write(&pattern).unwrap();
    g.throughput(Throughput::Bytes(xy_text.len() as u64));
    g.bench_function("xy", |b| {
        b.iter(|| xy::read(black_box(xy_text.as_bytes()), &opts).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench_emsa_cpu, bench_others
}
criterion_group!(wall, bench_emsa_wall);
criterion_main!(cpu, wall);
