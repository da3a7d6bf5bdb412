//! Turning `--xrf/--xrd` files and their flags into spectra (ripgrep's
//! "HiArgs" stage for inputs). Every failure here is an input error: the CLI
//! exits 2 and prints one line naming the file and the problem.

use super::args::InputArgs;
use super::InputError;
use reescan::formats::{self, ReadOptions};
use reescan::{Axis, Error, Spectrum, Technique};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Wrap an error so that the CLI exits 2.
pub fn input_error(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(InputError(e.into()))
}

/// A library error as an exit-2 error. Its message already holds its
/// causes (`path: format: problem`), so it is kept as one message: anyhow's
/// `{:#}` would otherwise print the `#[source]` chain a second time.
pub fn lib_input_error(e: Error) -> anyhow::Error {
    input_error(anyhow::Error::msg(e.to_string()))
}

/// A library error about `path` as an exit-2 error.
fn file_error(e: Error, path: &Path) -> anyhow::Error {
    lib_input_error(e.in_file(path))
}

/// The screener the flags ask for: rules (built-in or `--rules`), scan date, the
/// declared commodity checked against the rules, tube and phase-library overrides.
pub fn screener(args: &InputArgs) -> anyhow::Result<reescan::screen::Screener> {
    let mut screener =
        reescan::screen::Screener::from_flags(args.rules.as_deref(), args.date.as_deref())
            .map_err(lib_input_error)?;
    screener
        .rules
        .commodity(&args.declared)
        .map_err(lib_input_error)?;
    screener.xrf.tube_kv = read_options(args, Technique::Xrf)?.tube_kv;
    screener.xrf.anode = args.anode.clone();
    apply_instrument(args.instrument.as_deref(), &mut screener)?;
    screener.xrd.extra_phase_dir = args.phases.clone();
    Ok(screener)
}

/// `--instrument FILE`: its tube or beam and detector replace the defaults.
pub fn apply_instrument(
    path: Option<&Path>,
    screener: &mut reescan::screen::Screener,
) -> anyhow::Result<()> {
    if let Some(p) = path {
        let i = reescan::xrf::instrument::Instrument::read(p).map_err(lib_input_error)?;
        i.apply(&mut screener.xrf);
    }
    Ok(())
}

/// [`ReadOptions`] from the command-line flags, checked against
/// [`LIMITS`](formats::LIMITS): gain, offset, wavelength (laboratory anodes) and tube
/// voltage (XRF tubes) within their physical ranges.
pub fn read_options(args: &InputArgs, expected: Technique) -> anyhow::Result<ReadOptions> {
    let within = |flag: &'static str, v: Option<f64>, range: (f64, f64), unit: &str| {
        v.map(|x| formats::InputLimits::check(flag, x, range, unit))
            .transpose()
            .map_err(lib_input_error)
    };
    let l = &formats::LIMITS;
    Ok(ReadOptions {
        gain_kev: within("--gain", args.gain, l.gain_kev, "keV per channel")?,
        offset_kev: within("--offset", args.offset, l.offset_kev, "keV")?,
        wavelength_a: within("--wavelength", args.wavelength, l.flag_wavelength_a, "Å")?,
        tube_kv: within("--kv", args.kv, l.xrf_tube_kv, "kV")?,
        technique: Some(expected),
    })
}

/// Read one input file as the technique its flag promises (`--xrf` → energy
/// spectrum, `--xrd` → diffraction pattern). An XRF file with no energy
/// calibration and no `--gain/--offset` is refused.
pub fn load_spectrum(
    path: &Path,
    args: &InputArgs,
    expected: Technique,
) -> anyhow::Result<Spectrum> {
    let opts = read_options(args, expected)?;
    let s = formats::read_path(path, &opts).map_err(lib_input_error)?;
    check_technique(s, path, expected)
}

/// Every beam of one `--xrf` file (each beam of a multi-beam `.pdz` assay; the one
/// spectrum of any other format), each checked as [`load_spectrum`] checks.
fn load_beams(path: &Path, args: &InputArgs) -> anyhow::Result<Vec<Spectrum>> {
    let opts = read_options(args, Technique::Xrf)?;
    formats::read_all_path(path, &opts)
        .map_err(lib_input_error)?
        .into_iter()
        .map(|s| check_technique(s, path, Technique::Xrf))
        .collect()
}

/// The files `--xrf` names: the path itself when it is a file, else its `;`-separated
/// parts (the beams of one multi-beam assay, SPEC).
pub fn xrf_paths(given: &Path) -> Vec<PathBuf> {
    let text = given.to_string_lossy();
    if given.is_file() || !text.contains(';') {
        return vec![given.to_path_buf()];
    }
    reescan::batch::manifest::xrf_files(&text)
        .map(PathBuf::from)
        .collect()
}

/// A spectrum read for `expected` when its axis fits that technique.
fn check_technique(s: Spectrum, path: &Path, expected: Technique) -> anyhow::Result<Spectrum> {
    match (expected, &s.axis) {
        (Technique::Xrf, Axis::Channels) => Err(file_error(Error::MissingCalibration, path)),
        (Technique::Xrf, Axis::Energy(_)) => Ok(s),
        (Technique::Xrf, _) => Err(file_error(
            Error::Invalid {
                what: "input",
                message: format!(
                    "{} file is a diffraction pattern, given as --xrf (use --xrd)",
                    s.meta.format
                ),
            },
            path,
        )),
        (_, Axis::TwoTheta { .. } | Axis::EnergyDispersive { .. }) => Ok(s),
        (_, _) => Err(file_error(
            Error::Invalid {
                what: "input",
                message: format!(
                    "{} file is an energy spectrum, given as --xrd (use --xrf)",
                    s.meta.format
                ),
            },
            path,
        )),
    }
}

/// The spectra named by `--xrf` and `--xrd` (at least one must be given).
pub struct Inputs {
    /// The XRF/EDS spectra: one, or every beam of a multi-beam scan in order (several
    /// `;`-separated files, or a `.pdz` holding several beams); empty without `--xrf`.
    pub xrf: Vec<Spectrum>,
    /// The file each XRF spectrum was read from.
    pub xrf_files: Vec<PathBuf>,
    /// The diffraction pattern.
    pub xrd: Option<Spectrum>,
}

/// Load `--xrf` and `--xrd`; a usage error (exit 2) when neither is given.
pub fn load_inputs(args: &InputArgs) -> anyhow::Result<Inputs> {
    if args.xrf.is_none() && args.xrd.is_none() {
        return Err(input_error(anyhow::anyhow!(
            "give at least one of --xrf FILE and --xrd FILE"
        )));
    }
    let mut xrf = Vec::new();
    let mut xrf_files = Vec::new();
    for p in args.xrf.as_deref().map(xrf_paths).unwrap_or_default() {
        let beams = load_beams(&p, args)?;
        xrf_files.extend(std::iter::repeat_n(p, beams.len()));
        xrf.extend(beams);
    }
    let xrd = args
        .xrd
        .as_deref()
        .map(|p| load_spectrum(p, args, Technique::Xrd))
        .transpose()?;
    Ok(Inputs {
        xrf,
        xrf_files,
        xrd,
    })
}

/// A plain-text summary of a parsed spectrum: file, format, axis, times,
/// tube, chain-of-custody hash, total counts.
pub fn summary(s: &Spectrum) -> String {
    let m = &s.meta;
    let mut out = String::new();
    let file = m
        .source_file
        .as_deref()
        .map_or("-".into(), |p| p.display().to_string());
    let _ = writeln!(out, "file:         {file}");
    let _ = writeln!(out, "format:       {}", m.format);
    let _ = writeln!(out, "technique:    {:?}", s.technique());
    let _ = writeln!(out, "channels:     {}", s.len());
    match &s.axis {
        Axis::Channels => {
            let _ = writeln!(out, "calibration:  none");
        }
        Axis::Energy(c) => {
            let _ = writeln!(
                out,
                "calibration:  offset {:.6} keV, gain {:.6} keV/channel ({:.3}–{:.3} keV)",
                c.offset_kev,
                c.gain_kev,
                c.energy_kev(0.0),
                c.energy_kev(s.len().saturating_sub(1) as f64)
            );
        }
        Axis::EnergyDispersive {
            calibration: c,
            two_theta_deg,
        } => {
            let _ = writeln!(
                out,
                "calibration:  offset {:.6} keV, gain {:.6} keV/channel at 2θ = {two_theta_deg}°",
                c.offset_kev, c.gain_kev
            );
        }
        Axis::TwoTheta {
            two_theta_deg,
            wavelength_a,
        } => {
            let first = two_theta_deg.first().copied().unwrap_or(f64::NAN);
            let last = two_theta_deg.last().copied().unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "axis:         2θ {first:.3}–{last:.3}°, wavelength {wavelength_a} Å"
            );
        }
    }
    let opt = |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |x| format!("{x} {unit}"));
    let _ = writeln!(out, "live time:    {}", opt(m.live_time_s, "s"));
    let _ = writeln!(out, "real time:    {}", opt(m.real_time_s, "s"));
    let _ = writeln!(out, "tube:         {}", opt(m.tube_kv, "kV"));
    for (k, v) in [
        ("anode", &m.anode),
        ("detector", &m.detector),
        ("instrument", &m.instrument),
        ("title", &m.title),
        ("acquired", &m.acquired),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "{:<14}{v}", format!("{k}:"));
        }
    }
    let _ = writeln!(out, "sha256:       {}", m.sha256);
    let _ = writeln!(out, "total counts: {}", s.counts.sum());
    out
}
