//! Time `xrf::analyze` on a fixed set of synthetic scans and print what it found, so a
//! speed change can be checked for changed results:
//! `cargo run --release --example xrf_timing [N_SCANS] [REPEATS] [quick]`
//! (`quick`: [`reescan::xrf::analyze_quick`], the screening path).
use reescan::tables::materials::{Carrier, Commodity};
use reescan::xrf::{analyze, analyze_quick, synth, XrfOptions};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let quick = args.next().is_some_and(|a| a == "quick");
    let run = if quick { analyze_quick } else { analyze };
    let kinds = [
        (Commodity::IronOre, Some(Carrier::NdFeB)),
        (Commodity::Zirconium, Some(Carrier::Monazite)),
        (Commodity::Ceramics, Some(Carrier::IonicClay)),
        (Commodity::IronOre, None),
    ];
    let scans: Vec<_> = (0..n)
        .filter_map(|s| {
            let (c, k) = kinds[(s % 4) as usize];
            synth::generate(c, k, 0.03, &[], s).ok()
        })
        .collect();
    let opts = XrfOptions::default();
    let t = Instant::now();
    let mut out = Vec::new();
    for _ in 0..reps {
        out = scans.iter().map(|s| run(&s.spectrum, &opts)).collect();
    }
    let per = t.elapsed().as_secs_f64() / (reps * scans.len()) as f64;
    for (s, a) in scans.iter().zip(&out) {
        let found = match a {
            Ok(a) => a
                .elements
                .iter()
                .map(|e| format!("{}:{:.2}", e.symbol, e.wt_pct))
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("ERROR {e}"),
        };
        println!("{:>4}ch {found}", s.spectrum.len());
    }
    println!("{:.2} ms/scan ({:.0} scans/s)", 1e3 * per, 1.0 / per);
}
