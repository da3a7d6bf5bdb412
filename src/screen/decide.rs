//! The decision logic: XRF element estimates and XRD phases against a commodity profile.
//!
//! Each check produces [`Finding`]s with a severity; the verdict is the most severe one.
//! Quantities are judged with the ISO/IEC 17025:2017 §7.8.6 decision rule (ILAC-G8:09/2019
//! "simple acceptance" with guard band U = k·σ, k = 2): result − U above the limit is
//! non-compliant, result + U below it is compliant, anything else is inconclusive.
//!
//! Fingerprints follow DOMAIN.md: natural light-REE ores are Ce-dominant (bastnäsite REO
//! Ce ≈ 50 %, La ≈ 33 %, Nd ≈ 12 %, Pr ≈ 4 %), so Nd ≥ Pr with Nd + Pr ≥ Ce means separated or
//! magnet material; Th with Ce means monazite (ThO2 4–12 %); Sm with Co means SmCo magnets.

use super::names::{capitalise, element_name, join_and, pct};
use super::rules::{Commodity, Rules};
use super::Verdict;
use crate::tables::is_rare_earth;
use crate::xrd::XrdAnalysis;
use crate::xrf::XrfAnalysis;
use chrono::NaiveDate;

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// How serious: CLEAR (information), INSPECT or HOLD.
    pub severity: Verdict,
    /// Contribution to the risk score, 0..1.
    pub risk: f64,
    /// A sentence an officer can read aloud.
    pub reason: String,
    /// Short composition finding for the `mismatch` column.
    pub mismatch: Option<String>,
}

impl Finding {
    fn new(severity: Verdict, risk: f64, reason: String) -> Self {
        Finding {
            severity,
            risk,
            reason,
            mismatch: None,
        }
    }

    fn with_mismatch(mut self, m: String) -> Self {
        self.mismatch = Some(m);
        self
    }
}

/// The outcome of the decision logic, before it is dressed as a result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Verdict.
    pub verdict: Verdict,
    /// 0..1, rounded to 3 decimals.
    pub risk: f64,
    /// Total rare earths from XRF, wt % (rounded to 4 decimals).
    pub ree_wt_pct: Option<f64>,
    /// Detected rare earths, strongest first.
    pub ree_elements: Vec<String>,
    /// Detected rare earths controlled on the scan date, strongest first.
    pub controlled_elements: Vec<String>,
    /// Phases, strongest first.
    pub phases: Vec<String>,
    /// Composition findings.
    pub mismatch: Vec<String>,
    /// Sentences, most serious first.
    pub reasons: Vec<String>,
    /// All findings (for reports).
    pub findings: Vec<Finding>,
}

/// A measured quantity: value and 1σ, wt %.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Measure {
    wt: f64,
    sigma: f64,
}

impl Measure {
    fn add(self, o: Measure) -> Measure {
        Measure {
            wt: self.wt + o.wt,
            sigma: self.sigma.hypot(o.sigma),
        }
    }
}

/// Context shared by the checks.
struct Ctx<'a> {
    rules: &'a Rules,
    name: &'a str,
    commodity: &'a Commodity,
    xrf: Option<&'a XrfAnalysis>,
    xrd: Option<&'a XrdAnalysis>,
    date: NaiveDate,
    k: f64,
}

impl Ctx<'_> {
    /// The element if XRF detected it (value above detect_sigma·σ).
    fn detected(&self, symbol: &str) -> Option<Measure> {
        let e = self.xrf?.element(symbol)?;
        let present =
            e.wt_pct > 0.0 && e.wt_pct > self.rules.decision.detect_sigma * e.sigma_wt_pct;
        present.then_some(Measure {
            wt: e.wt_pct,
            sigma: e.sigma_wt_pct,
        })
    }

    /// Detected value, or zero.
    fn value(&self, symbol: &str) -> Measure {
        self.detected(symbol).unwrap_or_default()
    }

    /// Whether XRF looked for the element at all (detected, listed, or not detected).
    fn looked_for(&self, symbol: &str) -> bool {
        self.xrf.is_some_and(|x| {
            x.element(symbol).is_some() || x.not_detected.iter().any(|n| n.symbol == symbol)
        })
    }

    /// Detected rare earths, strongest first (ties by symbol, for determinism).
    fn rare_earths(&self) -> Vec<(String, Measure)> {
        let Some(x) = self.xrf else { return Vec::new() };
        let mut v: Vec<(String, Measure)> = x
            .elements
            .iter()
            .filter(|e| is_rare_earth(&e.symbol))
            .filter_map(|e| self.detected(&e.symbol).map(|m| (e.symbol.clone(), m)))
            .collect();
        v.sort_by(|a, b| b.1.wt.total_cmp(&a.1.wt).then_with(|| a.0.cmp(&b.0)));
        v
    }

    fn desc(&self) -> &str {
        &self.commodity.description
    }
}

/// Judge one shipment.
///
/// `commodity` must be a key of `rules.commodity` (see [`Rules::commodity`]).
pub fn assess(
    rules: &Rules,
    commodity: &str,
    xrf: Option<&XrfAnalysis>,
    xrd: Option<&XrdAnalysis>,
    date: NaiveDate,
) -> crate::Result<Assessment> {
    let (name, c) = rules.commodity(commodity)?;
    let ctx = Ctx {
        rules,
        name,
        commodity: c,
        xrf,
        xrd,
        date,
        k: rules.decision.coverage_k,
    };
    let mut findings = Vec::new();
    if xrf.is_some() {
        findings.extend(ree_excess(&ctx));
        findings.extend(controlled(&ctx));
        findings.extend(signatures(&ctx));
        findings.extend(majors(&ctx));
    }
    if xrd.is_some() {
        findings.extend(phases(&ctx));
        findings.extend(consistency(&ctx));
    }
    Ok(conclude(&ctx, findings))
}

/// Rare earths above what the declaration legitimately carries, against the inspect and hold
/// limits with the decision rule.
fn ree_excess(ctx: &Ctx) -> Vec<Finding> {
    let c = ctx.commodity;
    let ree = ctx.rare_earths();
    let excess: Vec<(&str, Measure)> = ree
        .iter()
        .filter_map(|(s, m)| {
            let over = m.wt - c.ree_allowance(s);
            (over > 0.0).then_some((
                s.as_str(),
                Measure {
                    wt: over,
                    sigma: m.sigma,
                },
            ))
        })
        .collect();
    let total = excess
        .iter()
        .fold(Measure::default(), |a, (_, m)| a.add(*m));
    let (lo, hi) = (
        total.wt - ctx.k * total.sigma,
        total.wt + ctx.k * total.sigma,
    );
    let names: Vec<String> = excess
        .iter()
        .map(|(s, _)| element_name(s).to_string())
        .collect();
    let what = join_and(&names);
    let u = format!("{} ± {} wt %", pct(total.wt), pct(ctx.k * total.sigma));
    if excess.is_empty() {
        let msg = if ree.is_empty() {
            "XRF finds no rare earths.".to_string()
        } else {
            let list: Vec<String> = ree
                .iter()
                .map(|(s, m)| format!("{} {} wt %", element_name(s), pct(m.wt)))
                .collect();
            format!(
                "The rare earths found ({}) are within what {} legitimately carries.",
                join_and(&list),
                ctx.desc()
            )
        };
        return vec![Finding::new(Verdict::Clear, 0.0, msg)];
    }
    let limit_risk = |x: f64, lim: f64| (x / lim.max(1e-9)).clamp(0.0, 1.0);
    let f = if lo > c.ree_hold_wt_pct {
        Finding::new(
            Verdict::Hold,
            0.85 + 0.15 * limit_risk(lo - c.ree_hold_wt_pct, c.ree_hold_wt_pct),
            format!(
                "{} at {u} beyond what {} legitimately carries: above the {} wt % hold limit even after allowing for measurement uncertainty.",
                capitalise(&what),
                ctx.desc(),
                pct(c.ree_hold_wt_pct)
            ),
        )
    } else if lo > c.ree_inspect_wt_pct {
        Finding::new(
            Verdict::Inspect,
            0.55 + 0.15 * limit_risk(lo, c.ree_hold_wt_pct),
            format!(
                "{} at {u} beyond what {} legitimately carries: above the {} wt % inspection limit.",
                capitalise(&what),
                ctx.desc(),
                pct(c.ree_inspect_wt_pct)
            ),
        )
    } else if hi < c.ree_inspect_wt_pct {
        Finding::new(
            Verdict::Clear,
            0.25 * limit_risk(total.wt, c.ree_inspect_wt_pct),
            format!(
                "Rare earths beyond the natural level ({u}) stay below the {} wt % inspection limit.",
                pct(c.ree_inspect_wt_pct)
            ),
        )
    } else {
        Finding::new(
            Verdict::Inspect,
            0.4 + 0.1 * limit_risk(total.wt, c.ree_hold_wt_pct),
            format!(
                "{} at {u}: the measurement cannot decide whether this is below the {} wt % inspection limit.",
                capitalise(&what),
                pct(c.ree_inspect_wt_pct)
            ),
        )
    };
    vec![f]
}

/// Export-controlled rare earths: a licence check for declared rare-earth goods, otherwise a
/// finding when they exceed the commodity's legitimate level.
fn controlled(ctx: &Ctx) -> Vec<Finding> {
    let c = ctx.commodity;
    let mut out = Vec::new();
    for (sym, m) in ctx.rare_earths() {
        let Some(ctl) = ctx.rules.control_for(&sym, ctx.date) else {
            continue;
        };
        let law = format!(
            "{} {} (in force since {})",
            ctl.authority,
            ctl.announcement,
            ctl.effective.format("%-d %b %Y")
        );
        let name = capitalise(element_name(&sym));
        if c.licence_check {
            out.push(Finding::new(
                Verdict::Inspect,
                0.5,
                format!(
                    "{name} at {} wt % is export-controlled under {law}: check the export licence.",
                    pct(m.wt)
                ),
            ));
            continue;
        }
        let over = m.wt - c.ree_allowance(&sym);
        let lo = over - ctx.k * m.sigma;
        let d = &ctx.rules.decision;
        if lo > d.controlled_hold_wt_pct {
            out.push(Finding::new(
                Verdict::Hold,
                0.9,
                format!(
                    "{name}, export-controlled under {law}, is present at {} wt %, far more than {} can explain.",
                    pct(m.wt),
                    ctx.desc()
                ),
            ));
        } else if lo > d.controlled_inspect_wt_pct {
            out.push(Finding::new(
                Verdict::Inspect,
                0.6,
                format!(
                    "{name}, export-controlled under {law}, is present at {} wt %, more than {} normally carries.",
                    pct(m.wt),
                    ctx.desc()
                ),
            ));
        }
    }
    out
}

/// Rare-earth fingerprints the declaration cannot explain.
fn signatures(ctx: &Ctx) -> Vec<Finding> {
    let s = &ctx.rules.signatures;
    let c = ctx.commodity;
    let mut out = Vec::new();
    let severity = |m: Measure| {
        if m.wt - ctx.k * m.sigma > c.ree_inspect_wt_pct {
            (Verdict::Hold, 0.9)
        } else {
            (Verdict::Inspect, 0.6)
        }
    };
    let (nd, pr, ce) = (ctx.detected("Nd"), ctx.value("Pr"), ctx.value("Ce"));
    if let Some(nd) = nd {
        let ndpr = nd.add(pr);
        let magnet = nd.wt >= pr.wt
            && ndpr.wt >= s.magnet_nd_pr_over_ce * ce.wt
            && ndpr.wt > s.magnet_min_wt_pct;
        if magnet && !c.explains_signature("magnet") {
            let (v, r) = severity(ndpr);
            out.push(Finding::new(
                v,
                r,
                format!(
                    "Neodymium and praseodymium ({} wt %) outweigh cerium ({} wt %): the signature of separated or magnet material, not natural ore.",
                    pct(ndpr.wt),
                    pct(ce.wt)
                ),
            ));
        }
    }
    if let (Some(th), Some(ce)) = (ctx.detected("Th"), ctx.detected("Ce")) {
        let monazite = th.wt > s.monazite_min_th_wt_pct && ce.wt > s.monazite_min_ce_wt_pct;
        if monazite && !c.explains_signature("monazite") {
            let lree = ce.add(ctx.value("La")).add(ctx.value("Nd"));
            let (v, r) = severity(lree);
            out.push(Finding::new(
                v,
                r,
                format!(
                    "Thorium ({} wt %) together with cerium ({} wt %): the signature of monazite, a rare-earth ore.",
                    pct(th.wt),
                    pct(ce.wt)
                ),
            ));
        }
    }
    if let (Some(sm), Some(co)) = (ctx.detected("Sm"), ctx.detected("Co")) {
        let smco = sm.wt > s.smco_min_sm_wt_pct && co.wt > s.smco_min_co_wt_pct;
        if smco && !c.explains_signature("smco") {
            let (v, r) = severity(sm);
            out.push(Finding::new(
                v,
                r,
                format!(
                    "Samarium ({} wt %) together with cobalt ({} wt %): the signature of samarium-cobalt magnet material.",
                    pct(sm.wt),
                    pct(co.wt)
                ),
            ));
        }
    }
    out
}

/// Major elements far outside the declared commodity's range.
fn majors(ctx: &Ctx) -> Vec<Finding> {
    let d = &ctx.rules.decision;
    let mut out = Vec::new();
    for range in &ctx.commodity.majors {
        if !range.elements.iter().any(|e| ctx.looked_for(e)) {
            continue;
        }
        let sum = range
            .elements
            .iter()
            .fold(Measure::default(), |a, e| a.add(ctx.value(e)));
        let label = label_elements(&range.elements);
        let expected = format!("{}–{} wt %", pct(range.min_wt_pct), pct(range.max_wt_pct));
        if sum.wt + ctx.k * sum.sigma < d.major_far_below_fraction * range.min_wt_pct {
            let reading = if sum.wt <= 0.0 {
                format!("{} is absent", capitalise(&label_words(&range.elements)))
            } else {
                format!(
                    "{} reads {} wt %",
                    capitalise(&label_words(&range.elements)),
                    pct(sum.wt)
                )
            };
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.55,
                    format!(
                        "{reading}, far below the {expected} expected of {}: the goods may not be what the declaration says.",
                        ctx.desc()
                    ),
                )
                .with_mismatch(format!("{label} below {} range", ctx.name)),
            );
        } else if sum.wt - ctx.k * sum.sigma > range.max_wt_pct / d.major_far_below_fraction {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.45,
                    format!(
                        "{} reads {} wt %, far above the {expected} expected of {}.",
                        capitalise(&label_words(&range.elements)),
                        pct(sum.wt),
                        ctx.desc()
                    ),
                )
                .with_mismatch(format!("{label} above {} range", ctx.name)),
            );
        }
    }
    out
}

/// Symbols for the mismatch column: "Fe", "Zr+Hf"; all rare earths as "REE".
fn label_elements(elements: &[String]) -> String {
    if elements.len() > 4 && elements.iter().all(|e| is_rare_earth(e)) {
        return "REE".into();
    }
    elements.join("+")
}

/// Words for a sentence: "iron", "zirconium plus hafnium", "the rare-earth total".
fn label_words(elements: &[String]) -> String {
    if elements.len() > 4 && elements.iter().all(|e| is_rare_earth(e)) {
        return "the rare-earth total".into();
    }
    elements
        .iter()
        .map(|e| element_name(e).to_string())
        .collect::<Vec<_>>()
        .join(" plus ")
}

/// XRD phases the declaration cannot explain.
fn phases(ctx: &Ctx) -> Vec<Finding> {
    let Some(xrd) = ctx.xrd else {
        return Vec::new();
    };
    let d = &ctx.rules.decision;
    let mut out = Vec::new();
    for p in xrd.phases.iter().filter(|p| p.fom >= d.phase_min_fom) {
        let excess = p.wt_pct - ctx.commodity.phase_allowance(&p.name);
        if excess <= 0.0 {
            continue;
        }
        let rare_earth = ctx.rules.phase(&p.name).is_some_and(|r| r.rare_earth);
        let said = format!(
            "XRD identifies {} at {} wt % (figure of merit {:.2})",
            p.name,
            pct(p.wt_pct),
            p.fom
        );
        if rare_earth && excess >= d.ree_phase_hold_wt_pct {
            out.push(
                Finding::new(
                    Verdict::Hold,
                    0.9,
                    format!(
                        "{said}: a rare-earth phase that {} cannot explain.",
                        ctx.desc()
                    ),
                )
                .with_mismatch(format!("{} not expected in {}", p.name, ctx.name)),
            );
        } else if rare_earth && excess >= d.ree_phase_inspect_wt_pct {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.6,
                    format!(
                        "{said}: a rare-earth phase, more than {} normally carries.",
                        ctx.desc()
                    ),
                )
                .with_mismatch(format!("{} not expected in {}", p.name, ctx.name)),
            );
        } else if !rare_earth && excess >= d.foreign_phase_inspect_wt_pct {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.45,
                    format!("{said}, which is not a constituent of {}.", ctx.desc()),
                )
                .with_mismatch(format!("{} not expected in {}", p.name, ctx.name)),
            );
        }
    }
    out
}

/// XRF/XRD consistency: an abundant phase must show one of its elements in XRF.
fn consistency(ctx: &Ctx) -> Vec<Finding> {
    let (Some(_), Some(xrd)) = (ctx.xrf, ctx.xrd) else {
        return Vec::new();
    };
    let d = &ctx.rules.decision;
    let mut out = Vec::new();
    for p in xrd
        .phases
        .iter()
        .filter(|p| p.fom >= d.phase_min_fom && p.wt_pct >= d.consistency_min_phase_wt_pct)
    {
        let Some(rule) = ctx.rules.phase(&p.name) else {
            continue;
        };
        let looked: Vec<&String> = rule.elements.iter().filter(|e| ctx.looked_for(e)).collect();
        if looked.is_empty() || rule.elements.iter().any(|e| ctx.detected(e).is_some()) {
            continue;
        }
        let names: Vec<String> = looked.iter().map(|e| element_name(e).to_string()).collect();
        out.push(
            Finding::new(
                Verdict::Inspect,
                0.5,
                format!(
                    "XRD identifies {} at {} wt % but XRF finds no {}: the two scans disagree and may not be of the same goods.",
                    p.name,
                    pct(p.wt_pct),
                    join_and(&names)
                ),
            )
            .with_mismatch(format!("XRF/XRD disagree on {}", p.name)),
        );
    }
    out
}

/// Combine findings into the verdict, the risk and the columns.
fn conclude(ctx: &Ctx, mut findings: Vec<Finding>) -> Assessment {
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.risk.total_cmp(&a.risk)));
    let verdict = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Verdict::Clear);
    let risk = combine_risk(verdict, &findings);
    let ree = ctx.rare_earths();
    let ree_elements: Vec<String> = ree.iter().map(|(s, _)| s.clone()).collect();
    let controlled_elements = ree_elements
        .iter()
        .filter(|s| ctx.rules.control_for(s, ctx.date).is_some())
        .cloned()
        .collect();
    let phases = ctx
        .xrd
        .map(|x| x.phases.iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    let mismatch = findings.iter().filter_map(|f| f.mismatch.clone()).collect();
    let mut reasons: Vec<String> = if verdict == Verdict::Clear {
        let mut v = vec![format!(
            "Consistent with the declaration as {} ({}).",
            ctx.desc(),
            ctx.name
        )];
        v.extend(findings.iter().map(|f| f.reason.clone()));
        v
    } else {
        findings
            .iter()
            .filter(|f| f.severity != Verdict::Clear)
            .map(|f| f.reason.clone())
            .collect()
    };
    reasons.dedup();
    let ree_wt_pct = ctx.xrf.map(|x| round(x.ree_total_wt_pct().0, 4));
    Assessment {
        verdict,
        risk,
        ree_wt_pct,
        ree_elements,
        controlled_elements,
        phases,
        mismatch,
        reasons,
        findings,
    }
}

/// Noisy-OR of the findings' risks, kept inside the verdict's band
/// (CLEAR < 0.3 ≤ INSPECT < 0.7 ≤ HOLD).
fn combine_risk(verdict: Verdict, findings: &[Finding]) -> f64 {
    let p = 1.0
        - findings
            .iter()
            .fold(1.0, |acc, f| acc * (1.0 - f.risk.clamp(0.0, 1.0)));
    let (lo, hi) = match verdict {
        Verdict::Clear => (0.0, 0.29),
        Verdict::Inspect => (0.3, 0.69),
        Verdict::Hold | Verdict::Error => (0.7, 1.0),
    };
    round(p.clamp(lo, hi), 3)
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xrd::PhaseResult;
    use crate::xrf::{CalibrationReport, ElementResult, NotDetected};

    fn xrf(elements: &[(&str, f64, f64)], not_detected: &[&str]) -> XrfAnalysis {
        XrfAnalysis {
            file: "t.msa".into(),
            sha256: "0".repeat(64),
            live_time_s: Some(30.0),
            tube_kv: Some(50.0),
            excitation: "Rh tube, 50 kV".into(),
            calibration: CalibrationReport::default(),
            peaks: vec![],
            artefacts: vec![],
            elements: elements
                .iter()
                .map(|(s, w, sg)| ElementResult {
                    symbol: s.to_string(),
                    wt_pct: *w,
                    sigma_wt_pct: *sg,
                    lod_wt_pct: 3.0 * sg,
                    lines: vec![],
                })
                .collect(),
            not_detected: not_detected
                .iter()
                .map(|s| NotDetected {
                    symbol: s.to_string(),
                    lod_wt_pct: 0.01,
                })
                .collect(),
            reduced_chi2: 1.0,
            fit_channels: (0, 0),
            curves: Default::default(),
            unconfirmed: vec![],
        }
    }

    fn xrd(phases: &[(&str, f64)]) -> XrdAnalysis {
        XrdAnalysis {
            file: "t.xy".into(),
            sha256: "0".repeat(64),
            wavelength_a: 1.5406,
            zero_shift_deg: 0.0,
            displacement_mm: 0.0,
            wavelength_source: Default::default(),
            peaks: vec![],
            phases: phases
                .iter()
                .map(|(n, w)| PhaseResult {
                    name: n.to_string(),
                    wt_pct: *w,
                    fom: 0.9,
                    matched_peaks: 10,
                })
                .collect(),
            curves: Default::default(),
        }
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
    }

    fn judge(c: &str, x: Option<&XrfAnalysis>, d: Option<&XrdAnalysis>) -> Assessment {
        assess(Rules::builtin(), c, x, d, date()).unwrap()
    }

    #[test]
    fn honest_hematite_ore_is_clear() {
        let x = xrf(
            &[("Fe", 62.0, 0.5), ("Si", 2.0, 0.2), ("Mn", 0.05, 0.01)],
            &["Ce", "Nd", "La"],
        );
        let a = judge(
            "iron-ore",
            Some(&x),
            Some(&xrd(&[("hematite", 90.0), ("quartz", 8.0)])),
        );
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert!(a.risk < 0.3);
        assert!(a.mismatch.is_empty());
        assert_eq!(a.phases, vec!["hematite", "quartz"]);
    }

    #[test]
    fn ndfeb_declared_as_iron_ore_is_held_with_magnet_signature() {
        let x = xrf(
            &[
                ("Fe", 64.0, 0.5),
                ("Nd", 24.0, 0.5),
                ("Pr", 6.0, 0.3),
                ("Dy", 0.9, 0.05),
            ],
            &["Ce"],
        );
        let a = judge("iron-ore", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Hold);
        assert!(a.risk >= 0.7);
        assert!(
            a.reasons.iter().any(|r| r.contains("magnet")),
            "{:?}",
            a.reasons
        );
        assert_eq!(a.ree_elements, vec!["Nd", "Pr", "Dy"]);
        assert_eq!(a.controlled_elements, vec!["Dy"]);
        assert!(a.reasons.iter().any(|r| r.contains("No. 18")));
    }

    #[test]
    fn decision_rule_inconclusive_near_the_inspection_limit_gives_inspect() {
        // 0.14 ± 0.04 La beyond the 0.01 allowance: 0.13 − 0.08 < 0.1 < 0.13 + 0.08.
        let x = xrf(&[("Fe", 60.0, 0.5), ("La", 0.14, 0.04)], &[]);
        assert_eq!(judge("iron-ore", Some(&x), None).verdict, Verdict::Inspect);
        // The same reading with a tight σ is certainly above 0.1 but not above 0.5.
        let x = xrf(&[("Fe", 60.0, 0.5), ("La", 0.3, 0.01)], &[]);
        assert_eq!(judge("iron-ore", Some(&x), None).verdict, Verdict::Inspect);
        // A trace that is certainly below the limit is clear.
        let x = xrf(&[("Fe", 60.0, 0.5), ("La", 0.05, 0.01)], &[]);
        assert_eq!(judge("iron-ore", Some(&x), None).verdict, Verdict::Clear);
        // Well above the hold limit.
        let x = xrf(&[("Fe", 60.0, 0.5), ("La", 0.9, 0.05)], &[]);
        assert_eq!(judge("iron-ore", Some(&x), None).verdict, Verdict::Hold);
    }

    #[test]
    fn undetected_noise_does_not_count() {
        // 0.2 ± 0.1 is below 3σ: not a detection.
        let x = xrf(&[("Fe", 60.0, 0.5), ("Nd", 0.2, 0.1)], &[]);
        let a = judge("iron-ore", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert!(a.ree_elements.is_empty());
    }

    #[test]
    fn zircon_with_natural_yttrium_and_heavy_rare_earths_is_clear() {
        let x = xrf(
            &[
                ("Zr", 48.0, 0.5),
                ("Hf", 1.0, 0.05),
                ("Y", 0.12, 0.01),
                ("Yb", 0.03, 0.005),
                ("Er", 0.02, 0.005),
            ],
            &["Ce", "Nd"],
        );
        let a = judge("zirconium", Some(&x), Some(&xrd(&[("zircon", 97.0)])));
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert_eq!(a.ree_elements, vec!["Y", "Yb", "Er"]);
    }

    #[test]
    fn yttria_stabilised_zirconia_declared_as_zirconium_is_clear() {
        let x = xrf(&[("Zr", 68.0, 0.6), ("Y", 4.2, 0.1), ("Hf", 1.2, 0.1)], &[]);
        let a = judge(
            "zirconium",
            Some(&x),
            Some(&xrd(&[("cZrO2_YSZ", 70.0), ("tZrO2", 30.0)])),
        );
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert_eq!(a.controlled_elements, vec!["Y"], "listed, but explained");
    }

    #[test]
    fn pr_yellow_glazed_tile_is_clear_but_nd_oxide_in_tile_is_not() {
        let glaze = xrf(
            &[("Si", 30.0, 0.5), ("Zr", 6.0, 0.2), ("Pr", 1.6, 0.08)],
            &["Ce", "Nd"],
        );
        let a = judge(
            "ceramics",
            Some(&glaze),
            Some(&xrd(&[
                ("quartz", 40.0),
                ("mullite", 40.0),
                ("zircon", 10.0),
            ])),
        );
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        let smuggled = xrf(
            &[("Si", 25.0, 0.5), ("Nd", 2.0, 0.1), ("Pr", 0.6, 0.05)],
            &["Ce"],
        );
        let a = judge("ceramics", Some(&smuggled), None);
        assert_eq!(a.verdict, Verdict::Hold, "{:?}", a.reasons);
    }

    #[test]
    fn monazite_signature_in_zircon_sand_is_flagged() {
        let x = xrf(
            &[
                ("Zr", 45.0, 0.5),
                ("Ce", 1.2, 0.05),
                ("La", 0.6, 0.04),
                ("Th", 0.3, 0.02),
            ],
            &[],
        );
        let a = judge("zirconium", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Hold);
        assert!(
            a.reasons.iter().any(|r| r.contains("monazite")),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn smco_signature_is_flagged_in_ceramics() {
        let x = xrf(
            &[("Si", 25.0, 0.5), ("Sm", 3.0, 0.1), ("Co", 5.0, 0.1)],
            &[],
        );
        let a = judge("ceramics", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Hold);
        assert!(a.reasons.iter().any(|r| r.contains("samarium-cobalt")));
    }

    #[test]
    fn low_iron_in_iron_ore_is_a_mismatch() {
        let x = xrf(&[("Fe", 8.0, 0.2), ("Si", 30.0, 0.5)], &[]);
        let a = judge("iron-ore", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Inspect);
        assert_eq!(a.mismatch, vec!["Fe below iron-ore range"]);
    }

    #[test]
    fn zirconium_absent_in_zircon_is_a_mismatch() {
        let x = xrf(&[("Fe", 55.0, 0.5)], &["Zr", "Hf"]);
        let a = judge("zircon", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Inspect);
        assert_eq!(a.mismatch, vec!["Zr+Hf below zirconium range"]);
        assert!(a.reasons[0].contains("absent"), "{:?}", a.reasons);
    }

    #[test]
    fn rare_earth_phase_in_iron_ore_xrd_only_is_held() {
        let a = judge(
            "iron-ore",
            None,
            Some(&xrd(&[("hematite", 85.0), ("bastnasite_Ce", 12.0)])),
        );
        assert_eq!(a.verdict, Verdict::Hold);
        assert_eq!(a.ree_wt_pct, None);
        assert_eq!(a.mismatch, vec!["bastnasite_Ce not expected in iron-ore"]);
    }

    #[test]
    fn small_monazite_in_zircon_is_explained() {
        let a = judge(
            "zirconium",
            None,
            Some(&xrd(&[("zircon", 99.0), ("monazite_Ce", 0.6)])),
        );
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
    }

    #[test]
    fn xrd_phase_without_its_element_in_xrf_is_inconsistent() {
        let x = xrf(&[("Si", 40.0, 0.5)], &["Fe"]);
        let a = judge("iron-ore", Some(&x), Some(&xrd(&[("hematite", 80.0)])));
        assert!(
            a.mismatch
                .iter()
                .any(|m| m == "XRF/XRD disagree on hematite"),
            "{:?}",
            a.mismatch
        );
        assert!(a.verdict >= Verdict::Inspect);
    }

    #[test]
    fn declared_rare_earth_with_controlled_elements_needs_a_licence_check() {
        let x = xrf(
            &[
                ("Nd", 22.0, 0.5),
                ("Pr", 6.0, 0.3),
                ("Dy", 1.0, 0.05),
                ("Fe", 65.0, 0.5),
            ],
            &[],
        );
        let a = judge("rare-earth", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Inspect, "{:?}", a.reasons);
        assert!(a.reasons[0].contains("licence"));
        let x = xrf(
            &[("Ce", 30.0, 0.5), ("La", 20.0, 0.4), ("Nd", 7.0, 0.2)],
            &[],
        );
        assert_eq!(judge("rare-earth", Some(&x), None).verdict, Verdict::Clear);
    }

    #[test]
    fn verdict_depends_on_the_scan_date() {
        // Holmium in iron ore: controlled under No. 57 only once its suspension ends.
        let x = xrf(&[("Fe", 60.0, 0.5), ("Ho", 0.3, 0.02)], &[]);
        let before = assess(Rules::builtin(), "iron-ore", Some(&x), None, date()).unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let after = assess(Rules::builtin(), "iron-ore", Some(&x), None, after).unwrap();
        assert!(before.controlled_elements.is_empty());
        assert_eq!(after.controlled_elements, vec!["Ho"]);
        assert_eq!(before.verdict, Verdict::Inspect);
        assert_eq!(after.verdict, Verdict::Hold);
    }
}
