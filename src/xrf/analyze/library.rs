//! Per-instrument template libraries of the quick analysis. Archived scans of one
//! instrument share its calibration, resolution and tube: the family templates drawn
//! for one scan serve the next, as a handheld analyser's element library does. The
//! set-up is quantised (offset to ¼ channel, electronic noise to 3 % steps) so that
//! scans of one instrument share a library; at most [`CAPACITY`] libraries
//! are kept, the least recently used dropped first. A library holds exactly what a
//! fresh draw would give, and where each fit of the last scan ended (the same fit of
//! the next scan starts its NNLS there; the amplitudes are recomputed from the final
//! passive set), so results do not depend on which scans came before.

use super::{ExcitationInfo, LinesCache, Region};
use std::sync::Mutex;

/// Set-ups kept.
pub const CAPACITY: usize = 64;
/// Noise quantisation step (relative).
const NOISE_STEP: f64 = 0.03;

/// What the templates depend on.
#[derive(PartialEq)]
pub struct Key {
    region: Region,
    source: String,
    kv: Option<f64>,
    max_kev: f64,
    /// The whole primary spectrum and detector (tube window and filter, detector
    /// window and air path): compared last, after the cheap fields.
    setup: super::Setup,
}

impl Key {
    pub fn new(region: &Region, exc: &ExcitationInfo) -> Self {
        Key {
            region: *region,
            source: exc.source.clone(),
            kv: exc.kv,
            max_kev: exc.max_kev,
            setup: exc.setup.clone(),
        }
    }
}

static LIBRARIES: Mutex<Vec<(Key, LinesCache)>> = Mutex::new(Vec::new());

/// The region on the library grid.
pub fn quantised(mut r: Region) -> Region {
    let cal = &mut r.calibration;
    let quarter = 0.25 * cal.gain_kev;
    cal.offset_kev = (cal.offset_kev / quarter).round() * quarter;
    let det = &mut r.detector;
    let step = (1.0 + NOISE_STEP).ln();
    det.noise_kev = ((det.noise_kev.ln() / step).round() * step).exp();
    r
}

/// A library of `key` (empty when none is free); the caller hands it back with
/// [`put`].
pub fn take(key: &Key) -> LinesCache {
    let mut libs = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
    match libs.iter().rposition(|(k, _)| k == key) {
        Some(i) => libs.remove(i).1,
        None => LinesCache::default(),
    }
}

/// Keep `cache` as a library of `key` (most recently used last). Threads working
/// on scans of one instrument each hold a copy, so a key may be kept several times.
pub fn put(key: Key, cache: LinesCache) {
    let mut libs = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
    if libs.len() >= CAPACITY {
        libs.remove(0);
    }
    libs.push((key, cache));
}
