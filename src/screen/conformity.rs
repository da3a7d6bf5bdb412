//! The conformity decision shared by the verdict ([`super::decide`]) and the forensic
//! report (`report::forensic`): one quantity, one rule, so that the report cannot
//! contradict the verdict.
//!
//! The rule is ISO/IEC 17025:2017 §7.8.6 with a guard band (ILAC-G8:09/2019): expanded
//! uncertainty U = k·u; result − U > limit → above the limit, result + U < limit → below
//! it, otherwise inconclusive. The rare-earth quantity is the sum of the detected rare
//! earths that exceed their legitimate level in the declared commodity, judged against
//! the sum of their legitimate levels plus the commodity's INSPECT or HOLD excess limit.

use super::rules::{normalize_phase, Commodity, RatioRule, Rules, Variant};
use crate::tables::is_rare_earth;
use crate::xrd::XrdAnalysis;
use crate::xrf::XrfAnalysis;
use serde::Serialize;

/// Outcome of the decision rule for one quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// result − U > limit.
    AboveLimit,
    /// result + U < limit.
    BelowLimit,
    /// The uncertainty interval contains the limit.
    Inconclusive,
}

impl Outcome {
    /// ISO/IEC 17025 §7.8.6 rule with guard band U.
    pub fn decide(result: f64, expanded_u: f64, limit: f64) -> Outcome {
        if result - expanded_u > limit {
            Outcome::AboveLimit
        } else if result + expanded_u < limit {
            Outcome::BelowLimit
        } else {
            Outcome::Inconclusive
        }
    }

    /// How a report states it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::AboveLimit => "above limit (result − U > limit)",
            Outcome::BelowLimit => "below limit (result + U < limit)",
            Outcome::Inconclusive => "inconclusive (limit within result ± U)",
        }
    }
}

/// A measured sum of elements: value and standard uncertainty u (1σ, quadrature), wt %.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quantity {
    /// Elements summed.
    pub symbols: Vec<String>,
    /// Sum of their mass fractions, wt %.
    pub wt_pct: f64,
    /// Standard uncertainty of the sum, wt %.
    pub u_wt_pct: f64,
}

impl Quantity {
    /// The decision rule applied to this quantity with coverage factor `k`.
    pub fn against(&self, limit_wt_pct: f64, k: f64) -> Outcome {
        Outcome::decide(self.wt_pct, k * self.u_wt_pct, limit_wt_pct)
    }
}

/// The sum of the listed elements as XRF reports them (an element it did not report
/// counts 0).
pub fn measure(xrf: &XrfAnalysis, symbols: &[String]) -> Quantity {
    let (wt, var) = symbols
        .iter()
        .filter_map(|s| xrf.element(s))
        .fold((0.0, 0.0), |(v, u2), e| {
            (v + e.wt_pct, u2 + e.total_sigma_wt_pct().powi(2))
        });
    Quantity {
        symbols: symbols.to_vec(),
        wt_pct: wt,
        u_wt_pct: var.sqrt(),
    }
}

/// Whether XRF detected the element: reported with a value above `detect_sigma`·σ.
pub fn detected(rules: &Rules, xrf: &XrfAnalysis, symbol: &str) -> bool {
    xrf.element(symbol)
        .is_some_and(|e| e.wt_pct > 0.0 && e.wt_pct > rules.decision.detect_sigma * e.sigma_wt_pct)
}

/// The rare earths in excess: detected rare earths above their legitimate level in the
/// commodity, strongest first (ties by symbol).
pub fn ree_in_excess(rules: &Rules, commodity: &Commodity, xrf: &XrfAnalysis) -> Vec<String> {
    let mut v: Vec<(&str, f64)> = xrf
        .elements
        .iter()
        .filter(|e| is_rare_earth(&e.symbol) && detected(rules, xrf, &e.symbol))
        .filter(|e| e.wt_pct > commodity.ree_allowance(&e.symbol))
        .map(|e| (e.symbol.as_str(), e.wt_pct))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.into_iter().map(|(s, _)| s.to_string()).collect()
}

/// The rare-earth quantity the verdict and the report decide on, with its two limits:
/// the rare earths in excess ([`ree_in_excess`]) summed, and the sum of their legitimate
/// levels plus the commodity's INSPECT and HOLD excess limits.
#[derive(Debug, Clone, PartialEq)]
pub struct ReeDecision {
    /// The summed rare earths in excess.
    pub quantity: Quantity,
    /// Sum of their legitimate levels, wt %.
    pub allowance_wt_pct: f64,
    /// INSPECT limit on the sum: allowance + `ree_inspect_wt_pct`.
    pub inspect_limit_wt_pct: f64,
    /// HOLD limit on the sum: allowance + `ree_hold_wt_pct`.
    pub hold_limit_wt_pct: f64,
}

impl ReeDecision {
    /// Of the rare earths XRF reports for a commodity.
    pub fn of(rules: &Rules, commodity: &Commodity, xrf: &XrfAnalysis) -> ReeDecision {
        let symbols = ree_in_excess(rules, commodity, xrf);
        let allowance: f64 = symbols.iter().map(|s| commodity.ree_allowance(s)).sum();
        ReeDecision {
            quantity: measure(xrf, &symbols),
            allowance_wt_pct: allowance,
            inspect_limit_wt_pct: allowance + commodity.ree_inspect_wt_pct,
            hold_limit_wt_pct: allowance + commodity.ree_hold_wt_pct,
        }
    }

    /// The excess over the legitimate levels, wt % (what an officer is told).
    pub fn excess_wt_pct(&self) -> f64 {
        self.quantity.wt_pct - self.allowance_wt_pct
    }

    /// Where the quantity stands against its two limits by the decision rule with
    /// coverage factor `k` (no rare earth in excess: below the inspection limit).
    pub fn standing(&self, k: f64) -> ReeStanding {
        if self.quantity.symbols.is_empty() {
            return ReeStanding::BelowInspect;
        }
        match (
            self.quantity.against(self.hold_limit_wt_pct, k),
            self.quantity.against(self.inspect_limit_wt_pct, k),
        ) {
            (Outcome::AboveLimit, _) => ReeStanding::AboveHold,
            (_, Outcome::AboveLimit) => ReeStanding::AboveInspect,
            (_, Outcome::Inconclusive) => ReeStanding::Inconclusive,
            (_, Outcome::BelowLimit) => ReeStanding::BelowInspect,
        }
    }
}

/// Where a [`ReeDecision`] stands against its limits, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReeStanding {
    /// result + U below the inspection limit: CLEAR.
    BelowInspect,
    /// The inspection limit within result ± U: INSPECT.
    Inconclusive,
    /// result − U above the inspection limit (not the hold limit): INSPECT.
    AboveInspect,
    /// result − U above the hold limit: HOLD.
    AboveHold,
}

/// Which variant of the declared commodity applies ([`Variant`]), and on what evidence.
/// The verdict and the forensic report take the allowances from the same recognition.
#[derive(Debug, Clone)]
pub struct Recognition<'a> {
    /// The variant whose allowances apply (index and rule): the one the scan shows, else
    /// the one the declaration names; `None` when neither tells.
    pub variant: Option<(usize, &'a Variant)>,
    /// The variant the scan shows, when it can tell.
    pub scanned: Option<(usize, &'a Variant)>,
    /// The variant the declaration names, if it names one.
    pub declared: Option<(usize, &'a Variant)>,
    /// What the scan's recognition rests on, for an officer: "Si/(Zr+Hf) 0.29 from XRF",
    /// "zircon 92 wt % by XRD", or why the scan cannot tell.
    pub evidence: String,
    /// When neither the scan nor the declaration tells: the variant that explains the
    /// rare earths XRF found best ([`explains_best`]), whose allowances then apply.
    pub judged: Option<(usize, &'a Variant)>,
}

impl Recognition<'_> {
    /// The commodity with the allowances that apply: the variant's (the one recognised or
    /// declared, else the one judged), or the commodity's own when no variant applies.
    pub fn applied(&self, commodity: &Commodity) -> Commodity {
        match self.variant.or(self.judged) {
            Some((_, v)) => commodity.as_variant(v),
            None => commodity.clone(),
        }
    }

    /// True when the declaration names one variant and the scan shows another.
    pub fn contradicts_declaration(&self) -> bool {
        matches!((self.scanned, self.declared), (Some((a, _)), Some((b, _))) if a != b)
    }

    /// One sentence an officer can read: which variant, on what evidence.
    pub fn sentence(&self, commodity: &Commodity) -> String {
        match (self.scanned, self.declared) {
            (Some((_, v)), _) => format!(
                "Recognised as {} ({}); its rare-earth allowances apply.",
                v.name, self.evidence
            ),
            (None, Some((_, v))) => format!(
                "Declared as {}, which the scan cannot confirm or contradict ({}); its rare-earth allowances apply.",
                v.name, self.evidence
            ),
            (None, None) => match self.judged {
                Some((_, v)) => format!(
                    "The scan cannot tell {} ({}): the rare earths are judged against the allowances of {}, the kind of goods that explains them best.",
                    variant_names(commodity),
                    self.evidence,
                    v.name
                ),
                None => format!(
                    "The scan cannot tell {} ({}): the rare earths are judged against the allowances of {}.",
                    variant_names(commodity),
                    self.evidence,
                    commodity.description
                ),
            },
        }
    }
}

/// The variants as the object of "tell … apart": "zircon sand from zirconia", or
/// "A, B and C apart".
fn variant_names(commodity: &Commodity) -> String {
    let names: Vec<&str> = commodity.variants.iter().map(|v| v.name.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => format!("{one} from other goods"),
        [a, b] => format!("{a} from {b}"),
        [rest @ .., last] => format!("{} and {last} apart", rest.join(", ")),
    }
}

/// "Si", "(Zr+Hf)".
fn sum_label(symbols: &[String]) -> String {
    if symbols.len() == 1 {
        symbols[0].clone()
    } else {
        format!("({})", symbols.join("+"))
    }
}

/// Recognise the variant of the declared commodity that the scan shows, or `None` when
/// the commodity has no variants.
///
/// XRD decides first: a variant is recognised when the accepted phases (figure of merit
/// ≥ `decision.phase_min_fom`) of exactly one variant make up at least
/// `evidence.min_host_phase_wt_pct`. Otherwise XRF: each variant's mass ratio is measured
/// as an interval, the counting σ at `coverage_k` widened by the systematic factor of its
/// two sums — g = (1 + `systematic_light_rel`)^k for a sum holding a light element,
/// 1 + k·`systematic_rel` for heavy lines. The normalisation to 100 % scales numerator
/// and denominator alike, so the ratio carries only the relative sensitivity error, not
/// the normalisation's; and the σ is the counting σ alone, because the excitation's
/// share (an assumed tube voltage) is a relative sensitivity error of light against
/// heavy lines, which g already bounds. A numerator XRF looked for and did not detect counts as 0 up to
/// its detection limit. A variant is recognised when its range is the only one the
/// interval meets; otherwise the scan cannot tell.
pub fn recognise<'a>(
    rules: &Rules,
    declared: &str,
    commodity: &'a Commodity,
    xrf: Option<&XrfAnalysis>,
    xrd: Option<&XrdAnalysis>,
) -> Option<Recognition<'a>> {
    if commodity.variants.is_empty() {
        return None;
    }
    let (scanned, evidence) = match xrd.and_then(|d| by_xrd(rules, commodity, d)) {
        Some((v, e)) => (Some(v), e),
        None => match xrf {
            Some(x) => by_xrf(rules, commodity, x),
            None => (None, "no XRF reading of the light elements".to_string()),
        },
    };
    let declared = commodity.declared_variant(declared);
    let variant = scanned.or(declared);
    let judged = match (variant, xrf) {
        (None, Some(x)) => explains_best(rules, commodity, x),
        _ => None,
    };
    Some(Recognition {
        variant,
        scanned,
        declared,
        evidence,
        judged,
    })
}

/// Of the variants the scan leaves possible, the one that explains the rare earths XRF
/// found best: the mildest outcome of the decision rule on its [`ReeDecision`] (below
/// the inspection limit, inconclusive, above it, above the hold limit), then the least
/// excess over its allowances ([`ReeDecision::excess_wt_pct`]: the detected rare earths
/// above their allowances, summed). Goods that may be
/// either kind are judged as the kind they may be that carries what was found, never
/// against the broadest allowance of each element taken from different kinds (yttrium
/// at zirconia's level beside the light rare earths of zircon sand is neither).
pub fn explains_best<'a>(
    rules: &Rules,
    commodity: &'a Commodity,
    xrf: &XrfAnalysis,
) -> Option<(usize, &'a Variant)> {
    let k = rules.decision.coverage_k;
    let burden = |v: &Variant| {
        let d = ReeDecision::of(rules, &commodity.as_variant(v), xrf);
        (d.standing(k), d.excess_wt_pct())
    };
    commodity
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| ((i, v), burden(v)))
        .min_by(|a, b| a.1 .0.cmp(&b.1 .0).then(a.1 .1.total_cmp(&b.1 .1)))
        .map(|(v, _)| v)
}

fn by_xrd<'a>(
    rules: &Rules,
    commodity: &'a Commodity,
    xrd: &XrdAnalysis,
) -> Option<((usize, &'a Variant), String)> {
    let sums: Vec<f64> = commodity
        .variants
        .iter()
        .map(|v| {
            xrd.phases
                .iter()
                .filter(|p| p.fom >= rules.decision.phase_min_fom)
                .filter(|p| {
                    let key = normalize_phase(&p.name);
                    v.xrd_phases
                        .iter()
                        .any(|r| key.starts_with(&normalize_phase(r)))
                })
                .map(|p| p.wt_pct)
                .sum()
        })
        .collect();
    let min = rules.evidence.min_host_phase_wt_pct;
    let mut hits = sums.iter().enumerate().filter(|(_, s)| **s >= min);
    let (i, wt) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let v = &commodity.variants[i];
    let phases = v.xrd_phases.join(" + ");
    Some(((i, v), format!("{phases} {wt:.0} wt % by XRD")))
}

/// The ratio interval of one rule, or why XRF cannot give it.
fn ratio_interval(
    rules: &Rules,
    xrf: &XrfAnalysis,
    r: &RatioRule,
) -> std::result::Result<(f64, f64, f64), String> {
    let d = &rules.decision;
    let k = d.coverage_k;
    let light = |s: &String| {
        crate::xrf::physics::atomic_number(s).is_some_and(|z| z < d.light_below_z as usize)
    };
    let factor = |symbols: &[String]| {
        if symbols.iter().any(light) {
            (1.0 + d.systematic_light_rel).powf(k)
        } else {
            1.0 + k * d.systematic_rel
        }
    };
    let sum = |symbols: &[String]| -> Option<(f64, f64, f64)> {
        // (value, σ, detection limit of what was looked for and not found)
        let (mut wt, mut var, mut lod) = (0.0, 0.0, 0.0);
        let mut seen = false;
        for s in symbols {
            if detected(rules, xrf, s) {
                let e = xrf.element(s)?;
                wt += e.wt_pct;
                var += e.sigma_wt_pct.powi(2);
                seen = true;
            } else if let Some(n) = xrf.not_detected.iter().find(|n| &n.symbol == s) {
                lod += n.lod_wt_pct;
                seen = true;
            } else if let Some(e) = xrf.element(s) {
                // Reported below detect_sigma·σ: present at most at its upper bound.
                lod += e.wt_pct.max(0.0) + k * e.sigma_wt_pct;
                seen = true;
            }
        }
        seen.then(|| (wt, var.sqrt(), lod))
    };
    let Some((n, sn, n_lod)) = sum(&r.of) else {
        return Err(format!("{} not measured by XRF", r.of.join(", ")));
    };
    let Some((dn, sd, _)) = sum(&r.to) else {
        return Err(format!("{} not measured by XRF", r.to.join(", ")));
    };
    if dn <= 0.0 || dn - k * sd <= 0.0 {
        return Err(format!("{} not detected by XRF", r.to.join(", ")));
    }
    let f = factor(&r.of) * factor(&r.to);
    let ratio = n / dn;
    let lo = (n - k * sn).max(0.0) / (dn + k * sd) / f;
    let hi = (n + k * sn + n_lod) / (dn - k * sd) * f;
    Ok((ratio, lo, hi))
}

fn by_xrf<'a>(
    rules: &Rules,
    commodity: &'a Commodity,
    xrf: &XrfAnalysis,
) -> (Option<(usize, &'a Variant)>, String) {
    let mut fits = Vec::new();
    let mut readings = Vec::new();
    for (i, v) in commodity.variants.iter().enumerate() {
        let Some(r) = &v.xrf_ratio else { continue };
        let label = format!("{}/{}", sum_label(&r.of), sum_label(&r.to));
        match ratio_interval(rules, xrf, r) {
            Ok((ratio, lo, hi)) => {
                let reading = format!("{label} {ratio:.2} from XRF");
                if !readings.contains(&reading) {
                    readings.push(reading);
                }
                if hi >= r.min && lo <= r.max {
                    fits.push((i, v));
                }
            }
            Err(why) => return (None, why),
        }
    }
    let evidence = readings.join(", ");
    match fits.as_slice() {
        [one] => (Some(*one), evidence),
        [] => (None, format!("{evidence}, outside the range of every kind")),
        _ => (
            None,
            format!("{evidence}, within the measurement uncertainty of more than one kind"),
        ),
    }
}
