//! What distinguishes the triage from the full analysis in the stages they share: the
//! fields of a [`Plan`], built once for each ([`Plan::FULL`], [`Plan::TRIAGE`]).

/// Compton scattering angles spanned by the full analysis's Compton templates (degrees).
const COMPTON_ANGLES: [f64; 6] = [75.0, 90.0, 105.0, 120.0, 135.0, 150.0];
/// … and by the triage's: the same span in steps of 37.5° (the Compton peaks of Rh Kα at
/// successive angles lie ~0.3 keV apart, within the ~0.25 keV Doppler σ; those of the
/// Rh L lines coincide).
const TRIAGE_COMPTON_ANGLES: [f64; 3] = [75.0, 112.5, 150.0];

/// How the stages shared by the full analysis ([`super::run`]) and the triage
/// ([`super::run_quick`]) run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plan {
    /// The fit region ends after the last fluorescence peak, below the tube's scattered
    /// lines ([`super::quick::quick_range`]), and the continuum is stripped only as far
    /// as it needs.
    pub(super) end_below_tube_lines: bool,
    /// Knot spacing (keV) of the continuum-correction splines: the continuum is smooth
    /// on keV scales, and the triage makes do with half the corrections.
    pub(super) spline_spacing_kev: f64,
    /// Scattering angles (degrees) spanned by the Compton templates of a tube-line group.
    pub(super) compton_angles: &'static [f64],
    /// One Compton template (the middle angle) for a tube-line group whose Compton peaks
    /// across the angles lie within a quarter FWHM (the Rh L lines: 16 eV).
    pub(super) merge_unresolved_compton: bool,
    /// Strong K families draw their Kβ lines in part as a free component (see
    /// [`super::XrfThresholds::kb_freedom`]).
    pub(super) free_kb: bool,
    /// Strong L families draw their L1, L2 and minor L3 lines in part as free components
    /// (see [`super::XrfThresholds::l_freedom`]).
    pub(super) free_l: bool,
    /// Only elements of the screening list are proposed (see
    /// [`super::candidates::screening_element`]).
    pub(super) screening_elements_only: bool,
    /// A rare-earth family must also hold the local line test
    /// ([`super::Work::lines_hold`]) to survive a strict pruning round.
    pub(super) rare_earth_line_tests: bool,
    /// Strong families that fail their tests are kept: with the line shape not refined, a
    /// misfit must not remove a real element (the full analysis judges).
    pub(super) keep_strong_failures: bool,
    /// A family dropped by a pruning round is compared by χ² with the rival that
    /// explains its principal line ([`super::prune::rival_swap`]).
    pub(super) rival_swaps: bool,
    /// Each fit's NNLS starts where the same fit of the set-up's last scan ended, and
    /// records where it ends in the template library
    /// ([`super::Work::start_where_the_last_scan_ended`]).
    pub(super) carry_fit_starts: bool,
    /// The continuum gets a free ramp below the strongest K families' absorption edges
    /// ([`super::Work::edge_ramps`]). The triage does without: what the ramp takes from a
    /// rare earth's L lines beside Fe K (a heavy rare earth at 0.12 wt % in iron ore)
    /// would let it clear what the full analysis flags, and a phantom it leaves only
    /// sends the scan on to the full analysis.
    pub(super) edge_ramps: bool,
    /// The air path is measured on the Ar K lines of the air
    /// ([`super::Work::measure_air_path`]).
    pub(super) air_path_from_argon: bool,
}

impl Plan {
    /// The full analysis.
    pub(super) const FULL: Plan = Plan {
        end_below_tube_lines: false,
        spline_spacing_kev: 1.0,
        compton_angles: &COMPTON_ANGLES,
        merge_unresolved_compton: false,
        free_kb: true,
        free_l: true,
        screening_elements_only: false,
        rare_earth_line_tests: true,
        keep_strong_failures: false,
        rival_swaps: true,
        carry_fit_starts: false,
        edge_ramps: true,
        air_path_from_argon: true,
    };

    /// The triage (quick analysis).
    pub(super) const TRIAGE: Plan = Plan {
        end_below_tube_lines: true,
        spline_spacing_kev: 2.0,
        compton_angles: &TRIAGE_COMPTON_ANGLES,
        merge_unresolved_compton: true,
        free_kb: false,
        free_l: false,
        screening_elements_only: true,
        rare_earth_line_tests: false,
        keep_strong_failures: true,
        rival_swaps: false,
        carry_fit_starts: true,
        edge_ramps: false,
        air_path_from_argon: true,
    };
}
