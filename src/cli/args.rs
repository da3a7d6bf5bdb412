//! Every flag defined in one place (SPEC.md "Commands").

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Screens cargo XRF/XRD scans for smuggled rare-earth material.
#[derive(Debug, Parser)]
#[command(name = "reescan", version, about, max_term_width = 100)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// SPEC subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Screen one shipment: a verdict with its evidence.
    Scan(ScanArgs),
    /// Screen many shipments from a manifest CSV, in parallel.
    Batch(BatchArgs),
    /// Join shard outputs PREFIX.shard-KKKKK-of-NNNNN.csv into one file.
    Merge(MergeArgs),
    /// Checkpoint station: analyse scans as they arrive in DIR.
    Watch(WatchArgs),
    /// The station's web page over DIR (loopback by default): runs the station and serves
    /// its queue, scans, upload form and JSON API.
    Serve(ServeArgs),
    /// Write a self-contained forensic HTML report for one sample.
    Report(ReportArgs),
    /// Generate a labelled synthetic cargo scan (XRF and/or XRD).
    Synth(SynthArgs),
    /// Print the X-ray emission lines of elements.
    Lines(LinesArgs),
    /// List the XRD reference phase library.
    Phases(PhasesArgs),
}

/// Input files and calibration shared by `scan` and `report`.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Declared commodity: iron-ore, zirconium, ceramics, rare-earth.
    #[arg(long, value_name = "COMMODITY")]
    pub declared: String,
    /// XRF/EDS energy spectrum.
    #[arg(long, value_name = "FILE")]
    pub xrf: Option<PathBuf>,
    /// XRD pattern.
    #[arg(long, value_name = "FILE")]
    pub xrd: Option<PathBuf>,
    /// keV per channel, for XRF files without a calibration.
    #[arg(
        long,
        value_name = "KEV_PER_CH",
        requires = "offset",
        allow_hyphen_values = true
    )]
    pub gain: Option<f64>,
    /// Energy of channel 0 (keV), for XRF files without a calibration.
    #[arg(
        long,
        value_name = "KEV",
        requires = "gain",
        allow_hyphen_values = true
    )]
    pub offset: Option<f64>,
    /// XRD wavelength in Å when the file lacks it (default Cu Kα1 1.5406).
    #[arg(long, value_name = "ANGSTROM")]
    pub wavelength: Option<f64>,
    /// XRF tube voltage when the file lacks it.
    #[arg(long, value_name = "KV")]
    pub kv: Option<f64>,
    /// XRF tube anode element (e.g. Rh, Ag, W) when the file lacks it (default Rh).
    #[arg(long, value_name = "SYMBOL", value_parser = parse_anode)]
    pub anode: Option<String>,
    /// Instrument description: a TOML file (tube or monochromatic beam, beam filter,
    /// detector window, air path and crystal) or a PyMca fit configuration (.cfg).
    #[arg(long, value_name = "FILE")]
    pub instrument: Option<PathBuf>,
    /// Commodity rules file (TOML) replacing the built-in rules.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Extra XRD reference phases: a folder of CIF files.
    #[arg(long, value_name = "DIR")]
    pub phases: Option<PathBuf>,
    /// Scan date for the controlled-element lists (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
}

/// `reescan scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of the plain report.
    #[arg(long)]
    pub json: bool,
    /// Write a plot of the evidence (PNG or SVG by extension).
    #[arg(long, value_name = "OUT")]
    pub plot: Option<PathBuf>,
    /// Exit 3 when the verdict is at least this severe (inspect or hold), for scripting.
    #[arg(long, value_name = "LEVEL", value_parser = ["inspect", "hold"])]
    pub fail_on: Option<String>,
}

/// `reescan batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Manifest CSV: scan_id,declared,xrf,xrd (paths relative to its folder).
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Results CSV.
    #[arg(long, value_name = "RESULTS.csv")]
    pub out: PathBuf,
    /// Also write one JSON object per line.
    #[arg(long, value_name = "RESULTS.jsonl")]
    pub jsonl: Option<PathBuf>,
    /// Write plots for INSPECT/HOLD rows into DIR.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// With --plots: a plot for every row, CLEAR included.
    #[arg(long)]
    pub plots_all: bool,
    /// Worker threads (default: the CPUs this process may use).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Skip scan_ids already in RESULTS.csv.
    #[arg(long)]
    pub resume: bool,
    /// Replace an existing RESULTS.csv (and JSONL, Parquet). Without it or --resume an
    /// existing results file is refused.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Analyse every XRF scan in full. By default each scan is screened first with the
    /// quick analysis and only the scans it does not clear are analysed in full.
    #[arg(long)]
    pub full: bool,
    /// Process only rows i with i mod N = K.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Number of shards when the index comes from JOB_COMPLETION_INDEX (Kubernetes).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// Also write a Parquet file.
    #[arg(long, value_name = "RESULTS.parquet")]
    pub parquet: Option<PathBuf>,
    /// Commodity rules file (TOML).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Instrument description: a TOML file (tube or monochromatic beam, beam filter,
    /// detector window, air path and crystal) or a PyMca fit configuration (.cfg).
    #[arg(long, value_name = "FILE")]
    pub instrument: Option<PathBuf>,
    /// Scan date for the controlled-element lists (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
}

/// `reescan merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' --out path without its extension.
    #[arg(value_name = "PREFIX")]
    pub prefix: PathBuf,
    /// Merged results CSV.
    #[arg(long, value_name = "RESULTS.csv")]
    pub out: PathBuf,
}

/// `reescan watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Folder the scanner writes into.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Results CSV (appended).
    #[arg(long, value_name = "RESULTS.csv")]
    pub out: PathBuf,
    /// Process what is in DIR now (once its files are stable) and exit; scans still
    /// waiting for their declaration are left for a later run.
    #[arg(long)]
    pub once: bool,
    /// Exit after this many scans.
    #[arg(long, value_name = "N")]
    pub max_scans: Option<usize>,
    /// The station's rules, instrument and timings.
    #[command(flatten)]
    pub station: StationArgs,
}

/// The station's flags, shared by `watch` and `serve`.
#[derive(Debug, Args, Clone)]
pub struct StationArgs {
    /// Also append one JSON object per scan here.
    #[arg(long, value_name = "RESULTS.jsonl")]
    pub jsonl: Option<PathBuf>,
    /// Commodity rules file (TOML).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Instrument description: a TOML file (tube or monochromatic beam, beam filter,
    /// detector window, air path and crystal) or a PyMca fit configuration (.cfg).
    #[arg(long, value_name = "FILE")]
    pub instrument: Option<PathBuf>,
    /// Scan date for the controlled-element lists (YYYY-MM-DD; default: the day each scan arrives).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Poll interval, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub poll_ms: u64,
    /// A scan is taken when each of its files (declaration included) has kept its size
    /// and modification time this long (milliseconds) and, for formats that end with a
    /// marker (EMSA #ENDOFDATA, Amptek <<END>>), has that marker.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub settle_ms: u64,
    /// Scan files that no ID.json or manifest line declares are recorded as INSPECT
    /// ("No declaration") once their newest file is this old (milliseconds).
    #[arg(long, value_name = "MS", default_value_t = 30000)]
    pub declaration_wait_ms: u64,
}

/// `reescan serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The station folder (the scanner writes into it; the station runs in this process).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Address to listen on (default 127.0.0.1:8640, loopback only; any other address
    /// needs --token). Port 0 takes a free port; the address is printed on stderr.
    #[arg(long, value_name = "ADDR", default_value = reescan::serve::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,
    /// Access token (at least 16 printable characters): every request must carry it,
    /// as `Authorization: Bearer TOKEN` or the cookie `?token=TOKEN` sets once.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Results CSV (appended; default DIR/.reescan/results.csv).
    #[arg(long, value_name = "RESULTS.csv")]
    pub out: Option<PathBuf>,
    /// The station's rules, instrument and timings.
    #[command(flatten)]
    pub station: StationArgs,
}

/// `reescan report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file.
    #[arg(long, value_name = "REPORT.html")]
    pub out: PathBuf,
    /// html (default) or json (same content, for lab information systems).
    #[arg(long, value_name = "FORMAT", default_value = "html", value_parser = ["html", "json"])]
    pub format: String,
    /// Item id in the report (default: the first input file's stem).
    #[arg(long, value_name = "ID")]
    pub scan_id: Option<String>,
    /// Report id to issue under (default: derived from the input hashes and the time).
    #[arg(long, value_name = "ID")]
    pub report_id: Option<String>,
    /// Issue time, RFC 3339 (e.g. 2026-11-23T12:00:00Z), for a reproducible re-issue.
    #[arg(long, value_name = "TIME")]
    pub issued_at: Option<String>,
    /// The ISO/IEC 17025 §7.8.2.1 items: laboratory, customer, dates, signatory (boxed, so
    /// that `report` does not make every `Command` as large as itself).
    #[command(flatten)]
    pub lab: Box<LabArgs>,
}

/// `reescan report`: who issues the report, for whom, on what dates (ISO/IEC 17025
/// §7.8.2.1). The profile holds what stays the same; the flags hold what changes per
/// report and override the profile. Without `--lab` the report is an unsigned draft and
/// says so.
#[derive(Debug, Args)]
#[command(next_help_heading = "Laboratory (ISO/IEC 17025 §7.8.2.1)")]
pub struct LabArgs {
    /// Laboratory profile, TOML: [laboratory] name, address (accreditation, location),
    /// [customer] name, contact, [authorised_by] name, role, and sampling; see
    /// data/lab.example.toml. The flags below override it. Without it the report is an
    /// unsigned draft.
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,
    /// Customer name; replaces the profile's customer (and its contact).
    #[arg(long, value_name = "NAME")]
    pub customer: Option<String>,
    /// Customer contact (address, e-mail); replaces the contact.
    #[arg(long, value_name = "TEXT")]
    pub customer_contact: Option<String>,
    /// The item as the customer describes it (e.g. "container MSKU 123456-7, bulk ore").
    #[arg(long, value_name = "TEXT")]
    pub sample: Option<String>,
    /// Date the scan files were received, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub received: Option<String>,
    /// Date of the measurement, YYYY-MM-DD (default: as the input files record it).
    #[arg(long, value_name = "DATE")]
    pub measured: Option<String>,
    /// Where the scans were taken when not at the laboratory (a checkpoint, a mobile unit);
    /// replaces the profile's location.
    #[arg(long, value_name = "TEXT")]
    pub location: Option<String>,
    /// A deviation from, addition to or exclusion from the method (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub deviation: Vec<String>,
    /// Person authorising this report; replaces the profile's signatory.
    #[arg(long, value_name = "NAME", requires = "authoriser_role")]
    pub authoriser: Option<String>,
    /// Role of the person authorising this report (with --authoriser).
    #[arg(long, value_name = "ROLE", requires = "authoriser")]
    pub authoriser_role: Option<String>,
}

/// `reescan synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Declared commodity the scan imitates (host matrix).
    #[arg(long, value_name = "COMMODITY")]
    pub commodity: String,
    /// Rare earths added, e.g. Nd=1.5,Dy=0.3 (wt %).
    #[arg(long, value_name = "EL=WT%,...")]
    pub ree: Option<String>,
    /// Rare-earth carrier blended in (bastnasite, monazite, ionic-clay, ndfeb, smco, oxides).
    #[arg(long, value_name = "NAME")]
    pub carrier: Option<String>,
    /// Mass fraction of the carrier (0..1).
    #[arg(long, value_name = "F")]
    pub fraction: Option<f64>,
    /// Random seed (output is deterministic per seed).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Write an XRF spectrum here (.msa or .mca).
    #[arg(long, value_name = "OUT")]
    pub xrf: Option<PathBuf>,
    /// Write an XRD pattern here (.xy).
    #[arg(long, value_name = "OUT")]
    pub xrd: Option<PathBuf>,
}

/// `reescan lines`.
#[derive(Debug, Args)]
pub struct LinesArgs {
    /// Element symbols.
    #[arg(value_name = "ELEMENT", required = true)]
    pub elements: Vec<String>,
}

/// `reescan phases`.
#[derive(Debug, Args)]
pub struct PhasesArgs {
    /// Only phases containing this element.
    #[arg(long, value_name = "EL")]
    pub element: Option<String>,
    /// Also list the CIF files of this folder (as `scan --phases DIR` would use them).
    #[arg(long, value_name = "DIR")]
    pub phases: Option<PathBuf>,
}

/// An anode must be an element with K or L lines (Z 4–92).
fn parse_anode(s: &str) -> Result<String, String> {
    match reescan::xrf::physics::atomic_number(s) {
        Some(z) if (4..=92).contains(&z) => Ok(s.to_string()),
        _ => Err(format!("{s:?} is not an element symbol (e.g. Rh, Ag, W)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
