//! Commodity rules as data: `data/rules.toml` is embedded as the default and a user file
//! of the same shape replaces it (`--rules FILE`). The file cites its sources; this module
//! only parses and validates it, and answers "which elements are controlled on this date".

use crate::tables::is_rare_earth;
use crate::{Error, Result};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The built-in rules (`data/rules.toml`).
pub const DEFAULT_RULES_TOML: &str = include_str!("../../data/rules.toml");

/// The complete rule set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Format version (1).
    pub version: u32,
    /// Decision-rule constants.
    pub decision: DecisionRules,
    /// What a scan must show before it can be cleared. A rules file written before this
    /// table existed takes the built-in one.
    #[serde(default = "builtin_evidence")]
    pub evidence: EvidenceRules,
    /// Rare-earth fingerprints.
    pub signatures: SignatureRules,
    /// Export-control lists with their dates.
    pub controls: Vec<Control>,
    /// Phase name → elements an XRF scan sees in it.
    pub phases: BTreeMap<String, PhaseRule>,
    /// Commodity name → profile.
    pub commodity: BTreeMap<String, Commodity>,
}

/// Constants of the decision logic (see the comments in `data/rules.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRules {
    /// Coverage factor k of U = k·σ (ISO/IEC 17025:2017 §7.8.6).
    pub coverage_k: f64,
    /// An element is present when value > detect_sigma·σ (and ≥ its LOD).
    pub detect_sigma: f64,
    /// Relative systematic (1σ) uncertainty of an element measured by heavy lines
    /// (Z ≥ `light_below_z`), added in quadrature to its counting σ in the major-element
    /// decision.
    pub systematic_rel: f64,
    /// Relative systematic (1σ) uncertainty of an element lighter than `light_below_z`:
    /// applied as a factor (1 + this)^k either way, to the light element itself and,
    /// through the normalisation to 100 %, to the heavy elements beside it. Built-in value
    /// when a rules file leaves it out.
    #[serde(default = "builtin_systematic_light_rel")]
    pub systematic_light_rel: f64,
    /// Elements with an atomic number below this are "light" (20: below Ca). Built-in value
    /// when a rules file leaves it out.
    #[serde(default = "builtin_light_below_z")]
    pub light_below_z: u32,
    /// "Far below" = upper bound below this fraction of the range minimum.
    pub major_far_below_fraction: f64,
    /// Phases with a lower figure of merit are ignored.
    pub phase_min_fom: f64,
    /// Unexplained rare-earth phase → INSPECT above this wt %.
    pub ree_phase_inspect_wt_pct: f64,
    /// Unexplained rare-earth phase → HOLD above this wt %.
    pub ree_phase_hold_wt_pct: f64,
    /// Unexplained other phase → INSPECT above this wt %.
    pub foreign_phase_inspect_wt_pct: f64,
    /// Phases above this wt % must show one of their elements in XRF.
    pub consistency_min_phase_wt_pct: f64,
    /// Controlled element above its allowance by more than this → INSPECT.
    pub controlled_inspect_wt_pct: f64,
    /// Controlled element above its allowance by more than this → HOLD.
    pub controlled_hold_wt_pct: f64,
}

/// What a scan must show before it is cleared (see the comments in `data/rules.toml`):
/// without it the verdict is INSPECT with a reason that says what is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRules {
    /// XRF: fewer counts in the whole spectrum than this cannot support a CLEAR.
    pub min_total_counts: f64,
    /// XRF: the fit is rejected when χ²/ν exceeds this …
    pub max_reduced_chi2: f64,
    /// … and the relative misfit √((χ²/ν − 1)/n̄), n̄ the mean counts per fitted
    /// channel, exceeds this.
    pub max_relative_misfit: f64,
    /// XRF: the spectrum must start at or below this energy (keV) …
    pub ree_lines_lo_kev: f64,
    /// … and reach this energy (keV).
    pub ree_lines_hi_kev: f64,
    /// XRF: a stated tube voltage must exceed this (kV).
    pub min_excitation_kv: f64,
    /// XRD: unexplained peaks carrying more than this share of the summed net peak
    /// heights reject the identification.
    pub max_unexplained_intensity_share: f64,
    /// XRD: phases the declaration fully explains (allowance 100 wt %) must make up at
    /// least this wt % of the pattern.
    pub min_host_phase_wt_pct: f64,
}

/// Rare-earth fingerprint thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRules {
    /// (Nd + Pr) / Ce at or above which the material is separated/magnet.
    pub magnet_nd_pr_over_ce: f64,
    /// Nd + Pr must exceed this (wt %).
    pub magnet_min_wt_pct: f64,
    /// Th above this with Ce → monazite.
    pub monazite_min_th_wt_pct: f64,
    /// Ce above this with Th → monazite.
    pub monazite_min_ce_wt_pct: f64,
    /// Sm above this with Co → SmCo.
    pub smco_min_sm_wt_pct: f64,
    /// Co above this with Sm → SmCo.
    pub smco_min_co_wt_pct: f64,
    /// La, Ce and Nd all detected, Nd not above Ce, and together above this (wt %) →
    /// the unseparated light rare earths of an ore or concentrate. Rules files that
    /// predate it get the built-in value.
    #[serde(default = "default_unseparated_min_wt_pct")]
    pub unseparated_min_wt_pct: f64,
    /// Y detected with at least two heavy rare earths (Gd–Lu) detected, those together
    /// above this (wt %) → the unseparated heavy rare earths of xenotime or ionic clay.
    #[serde(default = "default_unseparated_heavy_min_wt_pct")]
    pub unseparated_heavy_min_wt_pct: f64,
}

/// The built-in `signatures.unseparated_min_wt_pct`.
fn default_unseparated_min_wt_pct() -> f64 {
    0.3
}

/// The built-in `signatures.unseparated_heavy_min_wt_pct`.
fn default_unseparated_heavy_min_wt_pct() -> f64 {
    0.2
}

/// The heavy rare earths the unseparated-heavy signature counts beside Y.
pub const HEAVY_RARE_EARTHS: [&str; 8] = ["Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"];

/// One export-control announcement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Issuing authority.
    pub authority: String,
    /// Announcement name ("No. 18 of 2025").
    pub announcement: String,
    /// Controlled element symbols.
    pub elements: Vec<String>,
    /// Date the control takes effect.
    #[serde(deserialize_with = "de_date")]
    pub effective: NaiveDate,
    /// Start of a suspension (inclusive).
    #[serde(default, deserialize_with = "de_opt_date")]
    pub suspended_from: Option<NaiveDate>,
    /// End of a suspension (exclusive: the control applies again on this date).
    #[serde(default, deserialize_with = "de_opt_date")]
    pub suspended_until: Option<NaiveDate>,
    /// The act that suspended it.
    #[serde(default)]
    pub suspended_by: Option<String>,
}

impl Control {
    /// True when this control applies on `date`.
    pub fn in_force(&self, date: NaiveDate) -> bool {
        if date < self.effective {
            return false;
        }
        let from = self.suspended_from.unwrap_or(NaiveDate::MIN);
        match self.suspended_until {
            Some(until) => !(date >= from && date < until),
            None => self.suspended_from.is_none_or(|f| date < f),
        }
    }
}

/// What an XRF scan should see in a phase.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseRule {
    /// Elements (any of them) XRF should detect when the phase is abundant.
    pub elements: Vec<String>,
    /// True for rare-earth-bearing phases.
    #[serde(default)]
    pub rare_earth: bool,
}

/// A composition range on the sum of some elements.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MajorRange {
    /// Elements summed.
    pub elements: Vec<String>,
    /// Lower end, wt %.
    pub min_wt_pct: f64,
    /// Upper end, wt %.
    pub max_wt_pct: f64,
}

/// A declared-commodity profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commodity {
    /// Words for an officer ("iron ore").
    pub description: String,
    /// HS codes.
    pub hs: Vec<String>,
    /// Other accepted spellings.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Expected composition ranges.
    pub majors: Vec<MajorRange>,
    /// Phases explained by the declaration → most wt % explained.
    pub phases: BTreeMap<String, f64>,
    /// Legitimate level per rare earth, wt %.
    pub ree_allow: BTreeMap<String, f64>,
    /// Legitimate level of any rare earth not in `ree_allow`, wt %.
    pub ree_allow_other: f64,
    /// Unexplained rare earths above this → INSPECT (decision rule).
    pub ree_inspect_wt_pct: f64,
    /// Unexplained rare earths above this → HOLD (decision rule).
    pub ree_hold_wt_pct: f64,
    /// Fingerprints ("magnet", "monazite", "smco") this declaration explains.
    pub signatures_explained: Vec<String>,
    /// Controlled elements call for a licence check.
    pub licence_check: bool,
    /// Kinds of goods under this declaration that the scan can tell apart and that carry
    /// their own rare-earth allowances (`[[commodity.NAME.variant]]`). None: the
    /// commodity's own allowances apply to every scan, as in rules files written before
    /// variants existed.
    #[serde(default, rename = "variant")]
    pub variants: Vec<Variant>,
}

/// A kind of goods within a commodity, told apart by the scan (zircon sand and
/// yttria-stabilised zirconia under "zirconium"). When the scan recognises it, its
/// `ree_allow` entries replace the commodity's for those elements; when the scan cannot
/// tell the variants apart, the commodity's own allowances apply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Words for an officer ("zircon sand"); a declaration naming it (case-insensitive)
    /// declares this variant.
    pub name: String,
    /// Other spellings and HS codes by which a declaration names this variant.
    #[serde(default)]
    pub declared_as: Vec<String>,
    /// XRF recognition: a mass ratio of element sums that this kind of goods fixes.
    #[serde(default)]
    pub xrf_ratio: Option<RatioRule>,
    /// XRD recognition: phases that make up this kind of goods (matched like the rule
    /// phase names, by normalised prefix).
    #[serde(default)]
    pub xrd_phases: Vec<String>,
    /// Legitimate level of the listed rare earths in this kind of goods, wt %; the others
    /// keep the commodity's.
    pub ree_allow: BTreeMap<String, f64>,
    /// Rare earths in excess of this kind's allowances above this → INSPECT (decision
    /// rule), in place of the commodity's `ree_inspect_wt_pct`: a kind of goods in which
    /// some rare earths are a red flag wherever they are found needs a limit at the
    /// detection level rather than the commodity's.
    #[serde(default)]
    pub ree_inspect_wt_pct: Option<f64>,
}

/// A mass ratio Σ`of` / Σ`to` and the range this kind of goods holds it in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatioRule {
    /// Elements summed in the numerator.
    pub of: Vec<String>,
    /// Elements summed in the denominator.
    pub to: Vec<String>,
    /// Lowest ratio of this kind of goods.
    #[serde(default)]
    pub min: f64,
    /// Highest ratio of this kind of goods (unbounded when left out).
    #[serde(default = "unbounded")]
    pub max: f64,
}

fn unbounded() -> f64 {
    f64::INFINITY
}

impl Commodity {
    /// Legitimate level of one rare earth, wt %.
    pub fn ree_allowance(&self, symbol: &str) -> f64 {
        self.ree_allow
            .get(symbol)
            .copied()
            .unwrap_or(self.ree_allow_other)
    }

    /// The most wt % of a phase this declaration explains (0 when it explains none).
    pub fn phase_allowance(&self, phase_name: &str) -> f64 {
        let key = normalize_phase(phase_name);
        self.phases
            .iter()
            .filter(|(rule, _)| key.starts_with(&normalize_phase(rule)))
            .map(|(_, wt)| *wt)
            .fold(0.0, f64::max)
    }

    /// The commodity as it applies to one of its variants: described by the variant's
    /// name, with the variant's rare-earth allowances in place of the commodity's for the
    /// elements it lists, and its inspection limit where it sets one.
    pub fn as_variant(&self, v: &Variant) -> Commodity {
        let mut c = self.clone();
        c.description.clone_from(&v.name);
        for (sym, wt) in &v.ree_allow {
            c.ree_allow.insert(sym.clone(), *wt);
        }
        if let Some(limit) = v.ree_inspect_wt_pct {
            c.ree_inspect_wt_pct = limit;
        }
        c
    }

    /// The variant a declaration names (by name or `declared_as`, case-insensitive), if
    /// any.
    pub fn declared_variant(&self, declared: &str) -> Option<(usize, &Variant)> {
        let want = declared.trim().to_ascii_lowercase();
        self.variants.iter().enumerate().find(|(_, v)| {
            v.name.to_ascii_lowercase() == want
                || v.declared_as.iter().any(|a| a.to_ascii_lowercase() == want)
        })
    }

    /// True when the declaration explains this fingerprint.
    pub fn explains_signature(&self, name: &str) -> bool {
        self.signatures_explained.iter().any(|s| s == name)
    }
}

/// Signature names known to the decision logic.
pub const SIGNATURES: [&str; 4] = ["magnet", "monazite", "smco", "unseparated"];

/// Lower-case, letters and digits only: "Monazite-(Ce)" → "monazitece".
pub fn normalize_phase(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The built-in `[evidence]` table, for rules files that predate it. (The embedded file
/// carries the table, so building the built-in rules never calls this.)
fn builtin_evidence() -> EvidenceRules {
    Rules::builtin().evidence.clone()
}

fn builtin_systematic_light_rel() -> f64 {
    Rules::builtin().decision.systematic_light_rel
}

fn builtin_light_below_z() -> u32 {
    Rules::builtin().decision.light_below_z
}

impl Rules {
    /// The built-in rules.
    pub fn builtin() -> &'static Rules {
        static RULES: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            // The embedded file is checked by the unit tests; a failure here is a build bug.
            Rules::from_toml(DEFAULT_RULES_TOML).expect("built-in data/rules.toml is valid")
        })
    }

    /// Parse and validate rules from TOML text.
    ///
    /// # Errors
    /// [`Error::Rules`] naming the dotted key that is missing, mistyped or out of range.
    pub fn from_toml(text: &str) -> Result<Rules> {
        let rules: Rules = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        rules.validate()?;
        Ok(rules)
    }

    /// Read rules from a file (`--rules FILE`).
    ///
    /// # Errors
    /// I/O errors and [`Error::Rules`], with the path attached.
    pub fn from_path(path: &Path) -> Result<Rules> {
        let bytes = crate::formats::read_file(path)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::Rules {
                key: "(file)".into(),
                message: "the file is not UTF-8 text".into(),
            }
            .in_file(path)
        })?;
        Rules::from_toml(&text).map_err(|e| e.in_file(path))
    }

    /// The commodity a declaration names (by name, alias or HS code; case-insensitive).
    ///
    /// # Errors
    /// [`Error::Unknown`] listing the known commodities.
    pub fn commodity(&self, declared: &str) -> Result<(&str, &Commodity)> {
        let want = declared.trim().to_ascii_lowercase();
        let found = self.commodity.iter().find(|(name, c)| {
            name.to_ascii_lowercase() == want
                || c.aliases.iter().any(|a| a.to_ascii_lowercase() == want)
                || c.hs.iter().any(|h| h == &want)
        });
        found
            .map(|(n, c)| (n.as_str(), c))
            .ok_or_else(|| Error::Unknown {
                what: "commodity",
                name: declared.to_string(),
                known: self
                    .commodity
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The lowest rare-earth limit any rule acts on (wt %): the controlled elements'
    /// inspection level and every commodity's and kind's inspection limit. A reading
    /// whose expanded range stays below it can change no verdict.
    pub fn lowest_ree_limit(&self) -> f64 {
        self.commodity
            .values()
            .flat_map(|c| {
                std::iter::once(c.ree_inspect_wt_pct)
                    .chain(c.variants.iter().filter_map(|v| v.ree_inspect_wt_pct))
            })
            .fold(self.decision.controlled_inspect_wt_pct, f64::min)
    }

    /// The control announcement under which `symbol` is controlled on `date`, if any.
    pub fn control_for(&self, symbol: &str, date: NaiveDate) -> Option<&Control> {
        self.controls
            .iter()
            .find(|c| c.in_force(date) && c.elements.iter().any(|e| e == symbol))
    }

    /// The phase rule matching a reported phase name (longest matching rule key).
    pub fn phase(&self, phase_name: &str) -> Option<&PhaseRule> {
        let key = normalize_phase(phase_name);
        self.phases
            .iter()
            .filter(|(rule, _)| key.starts_with(&normalize_phase(rule)))
            .max_by_key(|(rule, _)| rule.len())
            .map(|(_, p)| p)
    }

    fn validate(&self) -> Result<()> {
        if self.version != 1 {
            return Err(rules_err(
                "version",
                format!("{} (only 1 is known)", self.version),
            ));
        }
        self.validate_decision()?;
        for (i, c) in self.controls.iter().enumerate() {
            let key = format!("controls[{i}]");
            check_symbols(&format!("{key}.elements"), &c.elements)?;
            if let (Some(f), Some(u)) = (c.suspended_from, c.suspended_until) {
                if u < f {
                    return Err(rules_err(
                        &format!("{key}.suspended_until"),
                        format!("{u} is before suspended_from {f}"),
                    ));
                }
            }
        }
        for (name, p) in &self.phases {
            check_symbols(&format!("phases.{name}.elements"), &p.elements)?;
        }
        if self.commodity.is_empty() {
            return Err(rules_err("commodity", "no commodities defined".into()));
        }
        for (name, c) in &self.commodity {
            validate_commodity(&format!("commodity.{name}"), c)?;
        }
        Ok(())
    }

    fn validate_decision(&self) -> Result<()> {
        let d = &self.decision;
        let e = &self.evidence;
        let s = &self.signatures;
        let values = [
            ("decision.coverage_k", d.coverage_k),
            ("decision.detect_sigma", d.detect_sigma),
            ("decision.systematic_rel", d.systematic_rel),
            ("decision.systematic_light_rel", d.systematic_light_rel),
            ("evidence.min_total_counts", e.min_total_counts),
            ("evidence.max_reduced_chi2", e.max_reduced_chi2),
            ("evidence.max_relative_misfit", e.max_relative_misfit),
            ("evidence.ree_lines_lo_kev", e.ree_lines_lo_kev),
            ("evidence.ree_lines_hi_kev", e.ree_lines_hi_kev),
            ("evidence.min_excitation_kv", e.min_excitation_kv),
            (
                "evidence.max_unexplained_intensity_share",
                e.max_unexplained_intensity_share,
            ),
            ("evidence.min_host_phase_wt_pct", e.min_host_phase_wt_pct),
            (
                "decision.controlled_inspect_wt_pct",
                d.controlled_inspect_wt_pct,
            ),
            (
                "decision.major_far_below_fraction",
                d.major_far_below_fraction,
            ),
            ("decision.phase_min_fom", d.phase_min_fom),
            (
                "decision.ree_phase_inspect_wt_pct",
                d.ree_phase_inspect_wt_pct,
            ),
            ("decision.ree_phase_hold_wt_pct", d.ree_phase_hold_wt_pct),
            (
                "decision.foreign_phase_inspect_wt_pct",
                d.foreign_phase_inspect_wt_pct,
            ),
            (
                "decision.consistency_min_phase_wt_pct",
                d.consistency_min_phase_wt_pct,
            ),
            ("decision.controlled_hold_wt_pct", d.controlled_hold_wt_pct),
            ("signatures.magnet_nd_pr_over_ce", s.magnet_nd_pr_over_ce),
            ("signatures.magnet_min_wt_pct", s.magnet_min_wt_pct),
            (
                "signatures.monazite_min_th_wt_pct",
                s.monazite_min_th_wt_pct,
            ),
            (
                "signatures.monazite_min_ce_wt_pct",
                s.monazite_min_ce_wt_pct,
            ),
            ("signatures.smco_min_sm_wt_pct", s.smco_min_sm_wt_pct),
            ("signatures.smco_min_co_wt_pct", s.smco_min_co_wt_pct),
            (
                "signatures.unseparated_min_wt_pct",
                s.unseparated_min_wt_pct,
            ),
            (
                "signatures.unseparated_heavy_min_wt_pct",
                s.unseparated_heavy_min_wt_pct,
            ),
        ];
        for (key, v) in values {
            check_non_negative(key, v)?;
        }
        if !(1..=98).contains(&d.light_below_z) {
            return Err(rules_err(
                "decision.light_below_z",
                format!("{} (an atomic number 1–98)", d.light_below_z),
            ));
        }
        if e.ree_lines_hi_kev <= e.ree_lines_lo_kev {
            return Err(rules_err(
                "evidence.ree_lines_hi_kev",
                "must be above evidence.ree_lines_lo_kev".into(),
            ));
        }
        if e.max_unexplained_intensity_share > 1.0 {
            return Err(rules_err(
                "evidence.max_unexplained_intensity_share",
                format!("{} (a share 0–1)", e.max_unexplained_intensity_share),
            ));
        }
        if d.ree_phase_hold_wt_pct < d.ree_phase_inspect_wt_pct {
            return Err(rules_err(
                "decision.ree_phase_hold_wt_pct",
                "must be ≥ decision.ree_phase_inspect_wt_pct".into(),
            ));
        }
        Ok(())
    }
}

fn validate_commodity(key: &str, c: &Commodity) -> Result<()> {
    for (i, m) in c.majors.iter().enumerate() {
        let k = format!("{key}.majors[{i}]");
        check_symbols(&format!("{k}.elements"), &m.elements)?;
        check_non_negative(&format!("{k}.min_wt_pct"), m.min_wt_pct)?;
        check_non_negative(&format!("{k}.max_wt_pct"), m.max_wt_pct)?;
        if m.max_wt_pct < m.min_wt_pct {
            return Err(rules_err(
                &format!("{k}.max_wt_pct"),
                format!("{} is below min_wt_pct {}", m.max_wt_pct, m.min_wt_pct),
            ));
        }
    }
    for (sym, v) in &c.ree_allow {
        let k = format!("{key}.ree_allow.{sym}");
        if !is_rare_earth(sym) {
            return Err(rules_err(
                &k,
                format!("'{sym}' is not a rare earth (Sc, Y, La–Lu)"),
            ));
        }
        check_non_negative(&k, *v)?;
    }
    for (phase, v) in &c.phases {
        check_non_negative(&format!("{key}.phases.{phase}"), *v)?;
    }
    check_non_negative(&format!("{key}.ree_allow_other"), c.ree_allow_other)?;
    check_non_negative(&format!("{key}.ree_inspect_wt_pct"), c.ree_inspect_wt_pct)?;
    check_non_negative(&format!("{key}.ree_hold_wt_pct"), c.ree_hold_wt_pct)?;
    if c.ree_hold_wt_pct < c.ree_inspect_wt_pct {
        return Err(rules_err(
            &format!("{key}.ree_hold_wt_pct"),
            format!(
                "{} is below ree_inspect_wt_pct {}",
                c.ree_hold_wt_pct, c.ree_inspect_wt_pct
            ),
        ));
    }
    for (i, v) in c.variants.iter().enumerate() {
        let vkey = format!("{key}.variant[{i}]");
        validate_variant(&vkey, v)?;
        if let Some(limit) = v.ree_inspect_wt_pct.filter(|l| *l > c.ree_hold_wt_pct) {
            return Err(rules_err(
                &format!("{vkey}.ree_inspect_wt_pct"),
                format!(
                    "{limit} is above the commodity's ree_hold_wt_pct {}",
                    c.ree_hold_wt_pct
                ),
            ));
        }
    }
    for s in &c.signatures_explained {
        if !SIGNATURES.contains(&s.as_str()) {
            return Err(rules_err(
                &format!("{key}.signatures_explained"),
                format!("unknown signature '{s}'; known: {}", SIGNATURES.join(", ")),
            ));
        }
    }
    Ok(())
}

fn validate_variant(key: &str, v: &Variant) -> Result<()> {
    if v.name.trim().is_empty() {
        return Err(rules_err(&format!("{key}.name"), "is empty".into()));
    }
    if v.xrf_ratio.is_none() && v.xrd_phases.is_empty() {
        return Err(rules_err(
            key,
            "no recognition rule: give xrf_ratio or xrd_phases".into(),
        ));
    }
    if let Some(r) = &v.xrf_ratio {
        let k = format!("{key}.xrf_ratio");
        for (part, symbols) in [("of", &r.of), ("to", &r.to)] {
            if symbols.is_empty() {
                return Err(rules_err(&format!("{k}.{part}"), "is empty".into()));
            }
            check_symbols(&format!("{k}.{part}"), symbols)?;
        }
        check_non_negative(&format!("{k}.min"), r.min)?;
        if r.max.is_nan() || r.max < r.min {
            return Err(rules_err(
                &format!("{k}.max"),
                format!("{} is below min {}", r.max, r.min),
            ));
        }
    }
    for (sym, wt) in &v.ree_allow {
        let k = format!("{key}.ree_allow.{sym}");
        if !is_rare_earth(sym) {
            return Err(rules_err(
                &k,
                format!("'{sym}' is not a rare earth (Sc, Y, La–Lu)"),
            ));
        }
        check_non_negative(&k, *wt)?;
    }
    if let Some(limit) = v.ree_inspect_wt_pct {
        check_non_negative(&format!("{key}.ree_inspect_wt_pct"), limit)?;
    }
    Ok(())
}

fn check_non_negative(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(rules_err(key, format!("{v} (must be a finite number ≥ 0)")))
    }
}

fn check_symbols(key: &str, symbols: &[String]) -> Result<()> {
    match symbols.iter().find(|s| !is_element_symbol(s)) {
        Some(bad) => Err(rules_err(key, format!("'{bad}' is not an element symbol"))),
        None => Ok(()),
    }
}

/// Element symbols Z = 1..=98 (enough for any XRF-visible element).
fn is_element_symbol(s: &str) -> bool {
    const SYMBOLS: &str = "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co \
        Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La \
        Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr \
        Ra Ac Th Pa U Np Pu Am Cm Bk Cf";
    SYMBOLS.split_whitespace().any(|x| x == s)
}

fn rules_err(key: &str, message: String) -> Error {
    Error::Rules {
        key: key.to_string(),
        message,
    }
}

/// Turn a TOML/serde error into [`Error::Rules`] naming the dotted key at the error.
fn toml_error(text: &str, e: &toml::de::Error) -> Error {
    let key = e
        .span()
        .map(|span| key_at(text, span.start))
        .unwrap_or_default();
    let message = e.message().trim().to_string();
    // "missing field `x`" is reported at the enclosing table: name the missing key itself.
    let key = match message.strip_prefix("missing field `") {
        Some(rest) => {
            let field = rest.split('`').next().unwrap_or("");
            if key.is_empty() {
                field.to_string()
            } else {
                format!("{key}.{field}")
            }
        }
        None => key,
    };
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let message = match line {
        Some(l) => format!("{message} (line {l})"),
        None => message,
    };
    Error::Rules {
        key: if key.is_empty() {
            "(top level)".into()
        } else {
            key
        },
        message,
    }
}

/// The dotted key path at a byte offset: the last `[table]` header above it plus the key
/// on its line.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
        .unwrap_or_default();
    let trimmed = line.trim();
    if trimmed.starts_with('[') {
        return trimmed
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_string();
    }
    let key = trimmed.split('=').next().unwrap_or("").trim();
    match (table.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

fn de_date<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<NaiveDate, D::Error> {
    let v = toml::value::Datetime::deserialize(d)?;
    datetime_to_date(&v).map_err(serde::de::Error::custom)
}

fn de_opt_date<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<NaiveDate>, D::Error> {
    let v = Option::<toml::value::Datetime>::deserialize(d)?;
    v.map(|v| datetime_to_date(&v).map_err(serde::de::Error::custom))
        .transpose()
}

fn datetime_to_date(v: &toml::value::Datetime) -> std::result::Result<NaiveDate, String> {
    let d = v
        .date
        .ok_or_else(|| format!("{v} is not a date (write YYYY-MM-DD)"))?;
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        .ok_or_else(|| format!("{v} is not a valid date"))
}

/// Parse a `--date` value (YYYY-MM-DD).
///
/// # Errors
/// [`Error::Invalid`] for anything else.
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|e| Error::Invalid {
        what: "date",
        message: format!("'{s}': {e} (write YYYY-MM-DD)"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The built-in rules with the zirconium variants removed, as a rules file written
    /// before variants existed would read.
    pub(crate) fn without_variants(text: &str) -> String {
        let mut out = String::new();
        let mut skipping = false;
        for l in text.lines() {
            if l.starts_with('[') {
                skipping = l.ends_with(".variant]]");
            }
            if !skipping {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn builtin_rules_parse_and_name_the_four_commodities() {
        let r = Rules::builtin();
        for c in ["iron-ore", "zirconium", "ceramics", "rare-earth"] {
            assert!(r.commodity(c).is_ok(), "{c}");
        }
        assert_eq!(r.commodity("2601").unwrap().0, "iron-ore");
        assert_eq!(r.commodity("Zircon Sand").unwrap().0, "zirconium");
        let e = r.commodity("bananas").unwrap_err().to_string();
        assert!(e.contains("bananas") && e.contains("iron-ore"), "{e}");
    }

    #[test]
    fn dysprosium_is_controlled_only_from_4_april_2025() {
        let r = Rules::builtin();
        assert!(r.control_for("Dy", d("2025-04-03")).is_none());
        let c = r.control_for("Dy", d("2025-04-04")).unwrap();
        assert_eq!(c.announcement, "No. 18 of 2025");
        assert!(r.control_for("Nd", d("2026-01-01")).is_none());
    }

    #[test]
    fn erbium_control_is_suspended_until_10_november_2026() {
        let r = Rules::builtin();
        assert!(
            r.control_for("Er", d("2025-11-06")).is_none(),
            "before No. 57"
        );
        assert!(
            r.control_for("Er", d("2025-11-08")).is_none(),
            "suspended by No. 70"
        );
        assert!(
            r.control_for("Er", d("2026-11-09")).is_none(),
            "still suspended"
        );
        assert!(
            r.control_for("Er", d("2026-11-10")).is_some(),
            "suspension over"
        );
    }

    #[test]
    fn mistyped_value_names_its_key() {
        let bad = DEFAULT_RULES_TOML.replacen(
            "ree_inspect_wt_pct = 0.1",
            "ree_inspect_wt_pct = \"x\"",
            1,
        );
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("commodity.iron-ore.ree_inspect_wt_pct"), "{e}");
    }

    #[test]
    fn unknown_key_names_its_table() {
        let bad =
            DEFAULT_RULES_TOML.replacen("coverage_k = 2.0", "coverage_k = 2.0\ncoverage = 3", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("decision.coverage"), "{e}");
    }

    #[test]
    fn missing_key_is_named() {
        let bad = DEFAULT_RULES_TOML.replacen("detect_sigma = 3.0\n", "", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("decision.detect_sigma"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let bad = DEFAULT_RULES_TOML.replacen("Ce = 0.05, La = 0.04", "Fe = 0.05, La = 0.04", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("commodity.iron-ore.ree_allow.Fe"), "{e}");
        let bad = DEFAULT_RULES_TOML.replacen("min_wt_pct = 51.0", "min_wt_pct = 80.0", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("commodity.iron-ore.majors[0].max_wt_pct"), "{e}");
    }

    #[test]
    fn a_rules_file_written_before_the_evidence_table_takes_the_built_in_one() {
        let lines: Vec<&str> = DEFAULT_RULES_TOML.lines().collect();
        let start = lines.iter().position(|l| *l == "[evidence]").unwrap();
        let end = start
            + 1
            + lines[start + 1..]
                .iter()
                .position(|l| l.starts_with('['))
                .unwrap();
        let old: String = lines[..start]
            .iter()
            .chain(&lines[end..])
            .filter(|l| !l.starts_with("systematic_light_rel") && !l.starts_with("light_below_z"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(!old.contains("\n[evidence]") && !old.contains("\nlight_below_z ="));
        let rules = Rules::from_toml(&old).unwrap();
        let builtin = Rules::builtin();
        assert_eq!(
            rules.evidence.min_total_counts,
            builtin.evidence.min_total_counts
        );
        assert_eq!(rules.decision.light_below_z, builtin.decision.light_below_z);
        assert_eq!(
            rules.decision.systematic_light_rel,
            builtin.decision.systematic_light_rel
        );
    }

    #[test]
    fn evidence_and_systematic_keys_are_validated() {
        let bad =
            DEFAULT_RULES_TOML.replacen("ree_lines_hi_kev = 15.2", "ree_lines_hi_kev = 3.0", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("evidence.ree_lines_hi_kev"), "{e}");
        let bad = DEFAULT_RULES_TOML.replacen("light_below_z = 20", "light_below_z = 0", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("decision.light_below_z"), "{e}");
        let bad = DEFAULT_RULES_TOML.replacen(
            "max_unexplained_intensity_share = 0.35",
            "max_unexplained_intensity_share = 1.5",
            1,
        );
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(
            e.contains("evidence.max_unexplained_intensity_share"),
            "{e}"
        );
        let bad = DEFAULT_RULES_TOML.replacen("min_total_counts = 20000.0\n", "", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("evidence.min_total_counts"), "{e}");
        let bad = DEFAULT_RULES_TOML.replacen(
            "systematic_light_rel = 1.5",
            "systematic_light_rel = -1",
            1,
        );
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("decision.systematic_light_rel"), "{e}");
    }

    #[test]
    fn zirconium_has_two_variants_with_their_own_yttrium_allowance() {
        let (_, zr) = Rules::builtin().commodity("zirconium").unwrap();
        let names: Vec<&str> = zr.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["zircon sand", "zirconia"]);
        let sand = zr.as_variant(&zr.variants[0]);
        let tzp = zr.as_variant(&zr.variants[1]);
        assert_eq!(sand.ree_allowance("Y"), 0.35);
        assert_eq!(tzp.ree_allowance("Y"), 8.0);
        assert_eq!(tzp.description, "zirconia");
        // Elements the variant does not list keep the commodity's allowance, and so does
        // the inspection limit where the variant sets none.
        assert_eq!(tzp.ree_allowance("Yb"), zr.ree_allowance("Yb"));
        assert_eq!(sand.ree_allowance("Dy"), zr.ree_allowance("Dy"));
        assert_eq!(sand.ree_inspect_wt_pct, zr.ree_inspect_wt_pct);
        // zirconia carries no Nd, Dy, Tb or Sm (DOMAIN: red flags anywhere) and inspects
        // rare earths in excess from the detection level
        for s in ["Nd", "Dy", "Tb", "Sm", "Ce", "La", "Pr"] {
            assert_eq!(tzp.ree_allowance(s), 0.0, "{s}");
        }
        assert_eq!(tzp.ree_inspect_wt_pct, 0.05);
    }

    #[test]
    fn a_rules_file_without_variants_loads_with_none() {
        let old = without_variants(DEFAULT_RULES_TOML);
        assert!(!old.contains("variant]]"));
        let rules = Rules::from_toml(&old).unwrap();
        let (_, zr) = rules.commodity("zirconium").unwrap();
        assert!(zr.variants.is_empty());
        assert!(rules.commodity.values().all(|c| c.variants.is_empty()));
        assert!(zr.declared_variant("zircon sand").is_none());
    }

    #[test]
    fn a_declaration_can_name_the_variant() {
        let (_, zr) = Rules::builtin().commodity("zirconium").unwrap();
        let name = |d: &str| zr.declared_variant(d).map(|(_, v)| v.name.as_str());
        assert_eq!(name("Zircon Sand"), Some("zircon sand"));
        assert_eq!(name("2615.10"), Some("zircon sand"));
        assert_eq!(name("zirconium oxide"), Some("zirconia"));
        assert_eq!(name("2825.60"), Some("zirconia"));
        assert_eq!(name("zirconium"), None);
    }

    #[test]
    fn variant_keys_are_validated() {
        // the built-in rules with one edit, as the error their loading gives
        let rejected = |from: &str, to: &str| {
            Rules::from_toml(&DEFAULT_RULES_TOML.replacen(from, to, 1))
                .unwrap_err()
                .to_string()
        };
        let e = rejected("ree_allow = { Y = 0.35 }", "ree_allow = { Zr = 0.35 }");
        assert!(
            e.contains("commodity.zirconium.variant[0].ree_allow.Zr"),
            "{e}"
        );
        let e = rejected(
            "to = [\"Zr\", \"Hf\"], max = 0.015",
            "to = [\"Zr\", \"Hf\"], min = 0.1, max = 0.015",
        );
        assert!(
            e.contains("commodity.zirconium.variant[1].xrf_ratio.max"),
            "{e}"
        );
        let e = rejected("of = [\"Si\"], to", "of = [\"Qq\"], to");
        assert!(
            e.contains("commodity.zirconium.variant[0].xrf_ratio.of"),
            "{e}"
        );
        let bad = DEFAULT_RULES_TOML
            .replacen(
                "xrf_ratio = { of = [\"Si\"], to = [\"Zr\", \"Hf\"], min = 0.25 }\n",
                "",
                1,
            )
            .replacen("xrd_phases = [\"zircon\"]\n", "", 1);
        let e = Rules::from_toml(&bad).unwrap_err().to_string();
        assert!(
            e.contains("commodity.zirconium.variant[0]") && e.contains("recognition"),
            "{e}"
        );
        let e = rejected("name = \"zirconia\"", "name = \"zirconia\"\nkind = 1");
        assert!(e.contains("kind"), "{e}");
        let e = rejected("ree_inspect_wt_pct = 0.05", "ree_inspect_wt_pct = 2.0");
        assert!(
            e.contains("commodity.zirconium.variant[1].ree_inspect_wt_pct") && e.contains("hold"),
            "{e}"
        );
        let e = rejected("ree_inspect_wt_pct = 0.05", "ree_inspect_wt_pct = -1.0");
        assert!(
            e.contains("commodity.zirconium.variant[1].ree_inspect_wt_pct"),
            "{e}"
        );
    }

    #[test]
    fn phase_names_match_by_normalised_prefix() {
        let r = Rules::builtin();
        assert!(r.phase("Monazite-(Ce)").unwrap().rare_earth);
        assert!(r.phase("Nd2Fe14B").unwrap().rare_earth);
        assert_eq!(r.phase("cZrO2_YSZ").unwrap().elements, vec!["Zr"]);
        let (_, zr) = r.commodity("zirconium").unwrap();
        assert_eq!(zr.phase_allowance("zircon"), 100.0);
        assert_eq!(zr.phase_allowance("monazite_Ce"), 1.0);
        assert_eq!(zr.phase_allowance("hematite"), 0.0);
    }
}
