//! The numeric thresholds of the XRF identification and of the triage in one documented
//! configuration type, [`XrfThresholds`].

/// Thresholds of the XRF analysis: systematic terms of the evidence, the line-family
/// tests of the pruning, the model selections of the full analysis and the fit range,
/// binning and undecided families of the quick analysis. [`XrfThresholds::default`]
/// holds the values every analysis uses; the figures of the test suites and validation
/// corpora were measured with them. The analysis carries one in its work state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XrfThresholds {
    /// Systematic share of other components counted against a family in its window
    /// (shape/calibration imperfection of big neighbours): 0.4 %.
    pub systematic: f64,
    /// Share of the area of big neighbours (±3 FWHM) counted as systematic uncertainty:
    /// their shape is known to ~1.5 × 10⁻⁴ of their area.
    pub neighbour_systematic: f64,
    /// Half-width (FWHM) of the window in which a line cluster's observed and predicted
    /// counts are compared: ±0.7 FWHM (±1.65σ) holds 90 % of a Gaussian line's counts and
    /// little of a neighbour's a FWHM away.
    pub evidence_window_fwhm: f64,
    /// Share of the continuum under a cluster counted with the other components against
    /// it, whose sum carries the systematic share [`XrfThresholds::systematic`].
    pub continuum_systematic: f64,
    /// Half-width (FWHM) of the window whose big neighbours carry
    /// [`XrfThresholds::neighbour_systematic`].
    pub neighbour_window_fwhm: f64,
    /// Lines below this share of their family are left out when deciding whether two
    /// strong families that fail their tests overlap.
    pub overlap_min_line_share: f64,
    /// Two lines closer than this many FWHM overlap (strong failures in one group of
    /// overlapping lines are removed one at a time).
    pub overlap_fwhm: f64,
    /// A dropped family's principal line within this many FWHM of a kept family's of
    /// another element makes the two rivals for one peak (Mn Kα 5.90 / Eu Lα 5.85 keV,
    /// half a FWHM apart), decided by χ².
    pub rival_fwhm: f64,
    /// The Rayleigh and Compton areas must each reach this many σ for their ratio to
    /// choose between an oxide and a metal matrix.
    pub scatter_min_sigma: f64,
    /// Without usable scatter, a matrix is metal when its lithophile elements (Na … Ba,
    /// bound as oxides in every ore, sand and ceramic) add up to less than this mass
    /// fraction.
    pub metal_max_lithophile: f64,
    /// The matrix is metal only when the measured ln(Rayleigh/Compton) lies within this
    /// share of the oxide–metal gap from the metal prediction: clearly on the metal side.
    pub metal_side: f64,
    /// How far below the tabulated ratio a strong K family's Kβ/Kα may go: its family
    /// template carries (1 − this) of the Kβ lines and a Kβ-only component adds back what
    /// the data hold. Tabulated Kβ/Kα ratios are uncertain by a few per cent, the window,
    /// air path and detector efficiency change them again by a few per cent, and on a
    /// line of 10⁶ counts 2 % is 10⁴ counts — more than a trace element's whole family
    /// (PyMca's Steel.cfg fits Fe Kα and Fe Kβ as separate groups for this reason).
    pub kb_freedom: f64,
    /// How far below the tabulated share a strong L family's L1 lines, L2 lines and L3
    /// lines other than Lα1,2 may each go (as [`XrfThresholds::kb_freedom`] for Kβ). The
    /// tables disagree far more for L than for K: for La–Gd under a 20 keV beam Elam's
    /// (xraydb, this project's) give the L1 lines 0.10 of the family and the L2 lines
    /// 0.37, fisx's (PyMca's) 0.15–0.18 and 0.30–0.33; Lβ2,15 0.114 against 0.063–0.070,
    /// Lγ1 0.065–0.078 against 0.041–0.048. On a rare-earth L family of 10⁶ counts those
    /// differences are 10⁴–10⁵ counts in the windows of its neighbours' lines (Pr, Sm, Gd
    /// beside La, Ce and Nd in monazite), enough to fail their line tests.
    pub l_freedom: f64,
    /// An L family's share of the strongest family's counts from which its subshells are
    /// freed ([`XrfThresholds::l_freedom`]): only a family that dominates the spectrum has
    /// counts enough for the tables' L-line errors to matter, and a weaker one would use
    /// the freedom to fit another line's misfit.
    pub l_freedom_min_share: f64,
    /// Significance (amplitude over its 1σ) a family needs to survive a loose pruning
    /// round: 3σ, the detection criterion.
    pub loose_min_sigma: f64,
    /// Significance from which a family that fails its tests is strong: strong failures
    /// are removed one at a time within a group of overlapping lines (the full analysis)
    /// or kept (the quick analysis, whose unrefined line shape leaves such misfits).
    pub strong_fail_sigma: f64,
    /// Below this energy (keV) a sibling family's predicted size depends on the beam
    /// path, detector window and beam filter more than on the element (Zr L at 2 keV
    /// behind a Cu filter in air is ~100× below what an unfiltered vacuum model predicts
    /// from Zr K), so it may not veto a dominant family.
    pub sibling_veto_min_kev: f64,
    /// A family holding at least this share of all fitted line counts is dominant:
    /// pile-up sums and escape coincidences stay near 1 % of their parents.
    pub sibling_veto_max_share: f64,
    /// Significance (amplitude over σ) from which a family cannot be vetoed by a sibling
    /// family at lower energy when no beam filter is modelled: an unstated filter
    /// suppresses the lower family's excitation, not the higher one's.
    pub sibling_veto_filter_sigma: f64,
    /// A sibling family predicted below this many of its own σ cannot veto: the data
    /// could not show it.
    pub sibling_visible_sigma: f64,
    /// A sibling family is there when its amplitude reaches this share of what the FP
    /// model predicts from the family it checks, less [`XrfThresholds::sibling_sigma`]
    /// of its σ: the prediction hangs on the matrix and the path, so only a sibling
    /// missing by an order of magnitude vetoes.
    pub sibling_min_share: f64,
    /// The σ allowance of [`XrfThresholds::sibling_min_share`].
    pub sibling_sigma: f64,
    /// A K family whose edge lies above this share of the tube voltage is excited only
    /// by the beam's top (La K, 38.9 keV, at 50 kV): under an inferred beam filter or an
    /// assumed voltage its element is quantified from its L family when the fit holds
    /// one, and with an assumed voltage the K family's check against its L family
    /// stands even when the beam filter is unknown.
    pub k_top_band_share: f64,
    /// A rare-earth line cluster is contradicted by the data when what the rest of the
    /// model leaves in its window is below this share of what the family puts there …
    pub contradicted_share: f64,
    /// … by more than this many σ of the window (Gd Lα beside Cr Kβ with −5.8σ of room).
    pub contradicted_sigma: f64,
    /// Only a cluster predicted at this many σ of its window or more can be
    /// contradicted (one the data could not show cannot be found missing) …
    pub contradicted_min_expected: f64,
    /// … in a family whose clearest cluster is predicted at this many σ or more (a
    /// marginal family is judged on every line).
    pub contradicted_exempt_clearest: f64,
    /// The continuum ramp below a strong K family's absorption edge (`Work::edge_ramps`)
    /// starts this many SNIP clipping windows (2 FWHM at 8 keV, ~0.32 keV) below the
    /// family's principal line, at the foot of the bridge SNIP draws over its peaks: for
    /// Fe, from 5.4 keV to the K edge at 7.11 keV. On the independent corpus 3 windows
    /// clear two honest iron ores whose Gd L lines had been read from the step (1 and 2
    /// windows: none; 4 and 5 windows: the ramp takes rare earths' L lines with it).
    pub edge_ramp_snip_windows: f64,
    /// Ramps are drawn only below edges up to this energy, keV (Ca … Fe K, the hosts of
    /// ores, sands and ceramics whose edges sit under the rare earths' L lines). Above
    /// it they are left to SNIP: on the real spectrum of pure Cu
    /// (`tests/data/xrf_real`) a ramp below Cu's K edge (8.98 keV) took what Cu Kβ's
    /// line shape leaves above it and let a phantom Lu L family through, until the
    /// continuum is modelled with its edges rather than stripped.
    pub edge_ramp_max_kev: f64,
    /// The air path measured on the Ar K lines ([`super::source`]) is taken at most this
    /// long (mm): a handheld's air gap is 0.5–2 cm; more Ar than 4 cm of air gives is
    /// another line under Ar Kα (Ag Lα scattered from an Ag tube, Cl Kβ) or a matrix far
    /// from the one quantified.
    pub air_path_max_mm: f64,
    /// … and at least this long (mm) when Ar K lines are fitted.
    pub air_path_min_mm: f64,
    /// The Ar K lines measure the air path when their fitted area reaches this many σ;
    /// below, the assumed path stands. Behind a handheld's Cu/Ti/Al filter the beam
    /// excites Ar weakly: ceramics-0105 of the independent corpus (alumina, 15 s) holds
    /// Ar Kα at 9.1σ, and its path measured (11 mm for 8–12) puts its La within 1.3× of
    /// its content where the assumed 5 mm read 2.7×; at 4σ vacuum and helium spectra
    /// got paths from what their fits lend Ar Kα.
    pub air_argon_min_sigma: f64,
    /// A rare-earth family's clean line clusters (no other element's lines in the
    /// window) contradict it when the weighted mean of their local amplitudes (1 = the
    /// family's own counts; see `identify::local_line`) is below this …
    pub clean_lines_min_amplitude: f64,
    /// … by more than this many σ of the mean.
    pub clean_lines_sigma: f64,
    /// χ² the strong lines' free long tails and steps (two parameters for each of at most
    /// four families) must remove to enter the model: on spectra of detectors whose lines
    /// have them (incomplete charge collection; the independent corpus) they remove up to
    /// 7,000, on spectra drawn without them 0–50, where they would only fit noise and lend
    /// counts to the rare-earth L lines beside Fe Kα.
    pub long_tail_min_chi2_drop: f64,
    /// Largest relative gain change the gain refinement tries (±): a handheld's stated
    /// calibration drifts by up to a few per mille (the independent corpus: ±2 ‰).
    pub gain_search_rel: f64,
    /// Step of the gain refinement's grid (relative); the best step is refined by half a
    /// step either side.
    pub gain_step_rel: f64,
    /// The line that sets the gain lies above this energy, keV: below it the window's
    /// transmission, incomplete charge collection and the L lines of Zr … Mo against the
    /// K lines of P … Cl make a line's position a poor measure of the gain.
    pub gain_anchor_min_kev: f64,
    /// The line that sets the gain lies at least this far from the shape anchor, keV.
    pub gain_lever_min_kev: f64,
    /// ... and holds at least these counts (its position to ~1 eV).
    pub gain_anchor_min_counts: f64,
    /// Significance of a residual peak (data − model) that proposes new candidate
    /// families in the full analysis.
    pub residual_peak_sigma: f64,
    /// The quick fit ends this far (keV) above the highest fluorescence peak found …
    pub quick_end_margin_kev: f64,
    /// … above the highest peak of at least this significance (σ): a 3σ peak search over
    /// a thousand channels finds a few noise peaks, and the bend of the continuum at the
    /// tube voltage looks like one …
    pub quick_end_min_sigma: f64,
    /// … rounded up to a multiple of this (keV), so that the scans of one instrument share
    /// a few regions, and with them the template library.
    pub quick_end_step_kev: f64,
    /// The Compton peak of a tube line E lies above this fraction of E (Rh Kα scattered
    /// through 90°: 0.962; 135°: 0.948), its Doppler-broadened foot ~0.5 keV lower.
    pub compton_low: f64,
    /// The quick analysis sums adjacent channels into bins of at least this width (keV)
    /// when the spectrum's channels are finer: a screening fit needs no more than ~5 bins
    /// per FWHM (140 eV at Mn Kα over 30 eV), and every per-channel cost falls with the
    /// channel count.
    pub quick_bin_kev: f64,
    /// Lines carrying at least this share of the strongest line's counts are dominant
    /// (Fe Kβ, 17 % of Fe Kα1, among them).
    pub dominant_share: f64,
    /// Dominant lines with at least this share bury a family whose principal line lies
    /// within their FWHM: Fe Kα1 and Kα2, not Fe Kβ (Er and Tm Lα beside Fe Kβ are
    /// resolved by the joint fit; read without its Lα, Tm would rest on its Lβ1 at
    /// 8.10 keV, where the Fe Kα + Si Kα pile-up and Cu Kα lie).
    pub burying_share: f64,
    /// A buried family's lines within this many FWHM of any dominant line are left out
    /// (Dy Lβ1, 190 eV above Fe Kβ, sits where the quick fit's tabulated Fe Kβ/Kα ratio,
    /// a few per cent off, leaves ~10³ counts).
    pub mask_fwhm: f64,
    /// Significance from which a family the quick fit holds is surely something real (the
    /// unrefined line shape of honest ores leaves misfits of up to ~7σ).
    pub surely_there_sigma: f64,
    /// A minor cluster of a family (its predicted counts below this share of the family's
    /// strongest cluster) is not asked to show where the family is surely there
    /// ([`Self::surely_there_sigma`]) and is not a rare earth: the counts left in its
    /// window measure how well a much stronger neighbour is modelled (Zr Ll, 3 % of
    /// Zr Lα, under Si Kβ in a zircon on a 15 kV beam), not whether the element is there.
    pub minor_cluster_share: f64,
}

impl Default for XrfThresholds {
    fn default() -> Self {
        XrfThresholds {
            systematic: 0.004,
            neighbour_systematic: 1.5e-4,
            evidence_window_fwhm: 0.7,
            continuum_systematic: 0.3,
            neighbour_window_fwhm: 3.0,
            overlap_min_line_share: 0.02,
            overlap_fwhm: 2.0,
            rival_fwhm: 0.5,
            scatter_min_sigma: 5.0,
            metal_max_lithophile: 0.01,
            metal_side: 0.25,
            kb_freedom: 0.2,
            l_freedom: 0.3,
            l_freedom_min_share: 0.2,
            loose_min_sigma: 3.0,
            strong_fail_sigma: 8.0,
            sibling_veto_min_kev: 4.0,
            sibling_veto_max_share: 0.05,
            sibling_veto_filter_sigma: 30.0,
            sibling_visible_sigma: 10.0,
            sibling_min_share: 0.1,
            sibling_sigma: 3.0,
            k_top_band_share: 0.6,
            contradicted_share: 0.25,
            contradicted_sigma: 3.0,
            contradicted_min_expected: 2.0,
            contradicted_exempt_clearest: 40.0,
            edge_ramp_snip_windows: 3.0,
            edge_ramp_max_kev: 8.0,
            air_path_max_mm: 40.0,
            air_path_min_mm: 0.1,
            air_argon_min_sigma: 9.0,
            clean_lines_min_amplitude: 0.5,
            clean_lines_sigma: 3.0,
            long_tail_min_chi2_drop: 100.0,
            gain_search_rel: 0.003,
            gain_step_rel: 0.0005,
            gain_anchor_min_kev: 3.0,
            gain_lever_min_kev: 2.5,
            gain_anchor_min_counts: 5000.0,
            residual_peak_sigma: 5.0,
            quick_end_margin_kev: 1.5,
            quick_end_min_sigma: 6.0,
            quick_end_step_kev: 4.0,
            compton_low: 0.92,
            quick_bin_kev: 0.03,
            dominant_share: 0.1,
            burying_share: 0.3,
            mask_fwhm: 1.5,
            surely_there_sigma: 10.0,
            minor_cluster_share: 0.05,
        }
    }
}
