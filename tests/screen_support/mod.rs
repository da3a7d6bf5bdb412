//! Synthetic shipments for the screening/batch tests, written to disk as `reescan synth`
//! writes them: the XRF spectrum from `xrf::synth::generate` (EMSA) and the XRD pattern of
//! the same drawn sample's crystalline phases from `xrd::synth::synth` (Cu Kα, `.xy`).
#![allow(dead_code)]

use reescan::tables::materials::{Carrier, Commodity, SampleComposition};
use std::path::Path;

/// Write `dir/name.msa` (and `dir/name.xy` when `xrd`); returns the drawn sample.
pub fn synth(
    dir: &Path,
    name: &str,
    commodity: &str,
    carrier: Option<&str>,
    fraction: f64,
    ree: &[(&str, f64)],
    seed: u64,
    xrd: bool,
) -> SampleComposition {
    let c: Commodity = commodity.parse().expect("commodity");
    let carrier: Option<Carrier> = carrier.map(|s| s.parse().expect("carrier"));
    let ree: Vec<(String, f64)> = ree.iter().map(|(s, w)| (s.to_string(), *w)).collect();
    let scan = reescan::xrf::synth::generate(c, carrier, fraction, &ree, seed).expect("synth");
    reescan::formats::write_path(&dir.join(format!("{name}.msa")), &scan.spectrum)
        .expect("write msa");
    if xrd {
        use reescan::xrd::synth::{synth, Radiation, SynthOptions};
        let mut opts = SynthOptions::for_radiation(Radiation::Cu);
        opts.seed = seed;
        let lib = reescan::xrd::library::builtin();
        let pattern = synth(&lib, &scan.truth.phases, &opts).expect("xrd synth");
        reescan::formats::write_path(&dir.join(format!("{name}.xy")), &pattern).expect("write xy");
    }
    scan.truth
}
