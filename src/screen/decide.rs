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

use super::conformity::{self, ReeDecision, ReeStanding};
use super::names::{capitalise, element_name, join_and, join_or, pct};
use super::rules::{Commodity, Rules, HEAVY_RARE_EARTHS};
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
    /// Detected rare earths whose reading reaches the lowest limit any rule acts on
    /// ([`Rules::lowest_ree_limit`]) within the coverage k·σ, strongest first.
    pub ree_elements: Vec<String>,
    /// Those of `ree_elements` controlled on the scan date, strongest first.
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
#[derive(Clone, Copy)]
struct Ctx<'a> {
    rules: &'a Rules,
    name: &'a str,
    commodity: &'a Commodity,
    xrf: Option<&'a XrfAnalysis>,
    xrd: Option<&'a XrdAnalysis>,
    date: NaiveDate,
    k: f64,
    /// Which variant of the commodity the scan shows, as a sentence (`None`: the
    /// commodity has none).
    variant: Option<&'a str>,
    /// What the goods are taken to be: the variant the scan recognises or the
    /// declaration names, else the commodity's description (`commodity` may be a variant
    /// judged only for its rare-earth allowances, [`conformity::explains_best`]).
    goods: &'a str,
}

impl Ctx<'_> {
    /// The element if XRF detected it (value above detect_sigma·σ).
    fn detected(&self, symbol: &str) -> Option<Measure> {
        let x = self.xrf?;
        let e = x.element(symbol)?;
        conformity::detected(self.rules, x, symbol).then_some(Measure {
            wt: e.wt_pct,
            sigma: e.total_sigma_wt_pct(),
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
    let (name, declared) = rules.commodity(commodity)?;
    let recognition = conformity::recognise(rules, commodity, declared, xrf, xrd);
    let applied = recognition.as_ref().map(|r| r.applied(declared));
    let sentence = recognition.as_ref().map(|r| r.sentence(declared));
    let ctx = Ctx {
        rules,
        name,
        commodity: applied.as_ref().unwrap_or(declared),
        xrf,
        xrd,
        date,
        k: rules.decision.coverage_k,
        variant: sentence.as_deref(),
        goods: recognition
            .as_ref()
            .and_then(|r| r.variant)
            .map_or(declared.description.as_str(), |(_, v)| v.name.as_str()),
    };
    let mut findings = Vec::new();
    if let Some(v) = ctx.variant {
        findings.push(Finding::new(Verdict::Clear, 0.0, v.to_string()));
    }
    if let Some(r) = recognition.as_ref().filter(|r| r.contradicts_declaration()) {
        if let (Some((_, shown)), Some((_, named))) = (r.scanned, r.declared) {
            findings.push(
                Finding::new(
                    Verdict::Inspect,
                    0.5,
                    format!(
                        "Declared as {}, but the scan shows {} ({}): the goods may not be what the declaration says.",
                        named.name, shown.name, r.evidence
                    ),
                )
                .with_mismatch(format!("{} declared as {}", shown.name, named.name)),
            );
        }
    }
    if let Some(x) = xrf {
        findings.extend(xrf_evidence(&ctx, x));
        let ree = ree_excess(&ctx, x);
        let ctl = controlled(&ctx);
        if let Some(r) = recognition.as_ref().filter(|r| r.variant.is_none()) {
            if let Some(note) = undecided_variants(&ctx, declared, x, &r.evidence) {
                // says more than the plain "cannot tell" sentence, which it replaces
                findings.retain(|f| Some(f.reason.as_str()) != ctx.variant);
                findings.push(Finding::new(Verdict::Clear, 0.0, note));
            }
        }
        findings.extend(ree);
        findings.extend(ctl);
        findings.extend(signatures(&ctx));
        findings.extend(majors(&ctx, x));
    }
    if let Some(d) = xrd {
        findings.extend(xrd_evidence(&ctx, d));
        findings.extend(phases(&ctx));
        findings.extend(consistency(&ctx));
    }
    Ok(conclude(&ctx, findings))
}

/// Rare earths above what the declaration legitimately carries, against the inspect and hold
/// limits with the decision rule, on the quantity the forensic report states
/// ([`ReeDecision`]).
fn ree_excess(ctx: &Ctx, x: &XrfAnalysis) -> Vec<Finding> {
    let c = ctx.commodity;
    let ree = ctx.rare_earths();
    let d = ReeDecision::of(ctx.rules, c, x);
    if d.quantity.symbols.is_empty() {
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
    let (excess, u) = (d.excess_wt_pct(), d.quantity.u_wt_pct);
    let lo = excess - ctx.k * u;
    let names: Vec<String> = d
        .quantity
        .symbols
        .iter()
        .map(|s| element_name(s).to_string())
        .collect();
    let what = join_and(&names);
    let u = format!("{} ± {} wt %", pct(excess), pct(ctx.k * u));
    let limit_risk = |x: f64, lim: f64| (x / lim.max(1e-9)).clamp(0.0, 1.0);
    let f = match d.standing(ctx.k) {
        ReeStanding::AboveHold => Finding::new(
            Verdict::Hold,
            0.85 + 0.15 * limit_risk(lo - c.ree_hold_wt_pct, c.ree_hold_wt_pct),
            format!(
                "{} at {u} beyond what {} legitimately carries: above the {} wt % hold limit even after allowing for measurement uncertainty.",
                capitalise(&what),
                ctx.desc(),
                pct(c.ree_hold_wt_pct)
            ),
        ),
        ReeStanding::AboveInspect => Finding::new(
            Verdict::Inspect,
            0.55 + 0.15 * limit_risk(lo, c.ree_hold_wt_pct),
            format!(
                "{} at {u} beyond what {} legitimately carries: above the {} wt % inspection limit.",
                capitalise(&what),
                ctx.desc(),
                pct(c.ree_inspect_wt_pct)
            ),
        ),
        ReeStanding::BelowInspect => Finding::new(
            Verdict::Clear,
            0.25 * limit_risk(excess, c.ree_inspect_wt_pct),
            format!(
                "Rare earths beyond the natural level ({u}) stay below the {} wt % inspection limit.",
                pct(c.ree_inspect_wt_pct)
            ),
        ),
        ReeStanding::Inconclusive => Finding::new(
            Verdict::Inspect,
            0.4 + 0.1 * limit_risk(excess, c.ree_hold_wt_pct),
            format!(
                "{} at {u}: the measurement cannot decide whether this is below the {} wt % inspection limit.",
                capitalise(&what),
                pct(c.ree_inspect_wt_pct)
            ),
        ),
    };
    vec![with_variant(ctx, f)]
}

/// When the scan cannot tell the variants apart and the rare earths found are legitimate
/// in some of them only, a sentence that says so (the variant that explains them best,
/// [`conformity::explains_best`], decides).
fn undecided_variants(
    ctx: &Ctx,
    declared: &Commodity,
    x: &XrfAnalysis,
    why: &str,
) -> Option<String> {
    let (mut ok, mut not): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for v in &declared.variants {
        let c = declared.as_variant(v);
        let vctx = Ctx {
            commodity: &c,
            variant: None,
            ..*ctx
        };
        let flagged = ree_excess(&vctx, x)
            .iter()
            .chain(&controlled(&vctx))
            .any(|f| f.severity != Verdict::Clear);
        if flagged {
            not.push(v.name.clone());
        } else {
            ok.push(v.name.clone());
        }
    }
    (!not.is_empty() && !ok.is_empty()).then(|| {
        format!(
            "The rare earths found are legitimate in {} but not in {}, and neither the scan ({why}) nor the declaration tells which the goods are: they are judged as {}; a declaration that names the kind of goods (by name or HS code) is judged against that kind's.",
            join_or(&ok),
            join_or(&not),
            ctx.desc()
        )
    })
}

/// A rare-earth finding that is not CLEAR says which variant's allowances it was judged
/// against, and on what evidence.
fn with_variant(ctx: &Ctx, mut f: Finding) -> Finding {
    if let (Some(v), true) = (ctx.variant, f.severity != Verdict::Clear) {
        f.reason = format!("{} {v}", f.reason);
    }
    f
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
            out.push(with_variant(ctx, Finding::new(
                Verdict::Hold,
                0.9,
                format!(
                    "{name}, export-controlled under {law}, is present at {} wt %, far more than {} can explain.",
                    pct(m.wt),
                    ctx.desc()
                ),
            )));
        } else if lo > d.controlled_inspect_wt_pct {
            out.push(with_variant(ctx, Finding::new(
                Verdict::Inspect,
                0.6,
                format!(
                    "{name}, export-controlled under {law}, is present at {} wt %, more than {} normally carries.",
                    pct(m.wt),
                    ctx.desc()
                ),
            )));
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
    if let (Some(la), Some(ce), Some(nd)) =
        (ctx.detected("La"), ctx.detected("Ce"), ctx.detected("Nd"))
    {
        let lree = la.add(ce).add(nd);
        let unseparated = nd.wt <= ce.wt && lree.wt > s.unseparated_min_wt_pct;
        if unseparated && !c.explains_signature("unseparated") {
            let (v, r) = severity(lree);
            out.push(Finding::new(
                v,
                r,
                format!(
                    "Lanthanum, cerium and neodymium together ({} wt %): the unseparated light rare earths of an ore or concentrate, not the single separated oxides that glazes and catalysts use.",
                    pct(lree.wt)
                ),
            ));
        }
    }
    if ctx.detected("Y").is_some() && !c.explains_signature("unseparated") {
        let heavy: Vec<Measure> = HEAVY_RARE_EARTHS
            .iter()
            .filter_map(|h| ctx.detected(h))
            .collect();
        let sum = heavy.iter().fold(Measure::default(), |a, m| a.add(*m));
        if heavy.len() >= 2 && sum.wt > s.unseparated_heavy_min_wt_pct {
            let (v, r) = severity(sum);
            out.push(Finding::new(
                v,
                r,
                format!(
                    "Yttrium with heavy rare earths ({} wt % of Gd–Lu): the unseparated heavy rare earths of xenotime or ionic clay, not the pure yttria of a sintering aid.",
                    pct(sum.wt)
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

/// Declared major elements absent, or far outside the declared commodity's range.
///
/// A declared major that XRF does not detect is a finding whether or not the analysis
/// took it for a candidate. Otherwise the range is judged with the decision rule on
/// bounds that carry a systematic term per element class: heavy lines
/// (Z ≥ `light_below_z`) `systematic_rel` in quadrature with the counting σ; light
/// elements a factor g = (1 + `systematic_light_rel`)^k either way. The normalisation to
/// 100 % carries the light factor over to the heavy elements: with shares W_H, W_L of
/// heavy and light among the detected elements, a heavy reading could be up to
/// g/(g·W_H + W_L) times higher (light over-read) or 1/(W_H + g·W_L) times lower, so a
/// heavy major beside abundant light elements (zircon's Zr beside Si) leans on the heavy
/// lines and is not flagged by the light elements' uncertainty alone.
fn majors(ctx: &Ctx, x: &XrfAnalysis) -> Vec<Finding> {
    let d = &ctx.rules.decision;
    let k = ctx.k;
    let light = |s: &str| {
        crate::xrf::physics::atomic_number(s).is_some_and(|z| z < d.light_below_z as usize)
    };
    let (mut heavy_sum, mut light_sum) = (0.0, 0.0);
    for e in &x.elements {
        if let Some(m) = ctx.detected(&e.symbol) {
            if light(&e.symbol) {
                light_sum += m.wt;
            } else {
                heavy_sum += m.wt;
            }
        }
    }
    let total = heavy_sum + light_sum;
    let (wh, wl) = if total > 0.0 {
        (heavy_sum / total, light_sum / total)
    } else {
        (1.0, 0.0)
    };
    let g = (1.0 + d.systematic_light_rel).powf(k);
    let heavy_up = g / (g * wh + wl);
    let heavy_down = 1.0 / (wh + g * wl);
    let mut out = Vec::new();
    for range in &ctx.commodity.majors {
        let present: Vec<(&str, Measure)> = range
            .elements
            .iter()
            .filter_map(|e| ctx.detected(e).map(|m| (e.as_str(), m)))
            .collect();
        let label = label_elements(&range.elements);
        let expected = format!("{}–{} wt %", pct(range.min_wt_pct), pct(range.max_wt_pct));
        if present.is_empty() {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.55,
                    format!(
                        "No {} in a scan declared as {} (expected {expected}): the declared major is absent, and the goods may not be what the declaration says.",
                        absent_words(&range.elements),
                        ctx.goods
                    ),
                )
                .with_mismatch(format!("{label} absent from {}", ctx.name)),
            );
            continue;
        }
        let (mut reading, mut hi, mut lo) = (0.0, 0.0, 0.0);
        for (s, m) in &present {
            reading += m.wt;
            if light(s) {
                hi += (m.wt + k * m.sigma) * g;
                lo += (m.wt - k * m.sigma).max(0.0) / g;
            } else {
                let u = m.sigma.hypot(d.systematic_rel * m.wt);
                hi += (m.wt + k * u) * heavy_up;
                lo += (m.wt - k * u).max(0.0) * heavy_down;
            }
        }
        let words = capitalise(&label_words(&range.elements));
        if hi < d.major_far_below_fraction * range.min_wt_pct {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.55,
                    format!(
                        "{words} reads {} wt % (at most {} wt % allowing for measurement and calibration uncertainty), far below the {expected} expected of {}: the goods may not be what the declaration says.",
                        pct(reading),
                        pct(hi),
                        ctx.goods
                    ),
                )
                .with_mismatch(format!("{label} below {} range", ctx.name)),
            );
        } else if lo > range.max_wt_pct / d.major_far_below_fraction {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.45,
                    format!(
                        "{words} reads {} wt %, far above the {expected} expected of {}.",
                        pct(reading),
                        ctx.goods
                    ),
                )
                .with_mismatch(format!("{label} above {} range", ctx.name)),
            );
        }
    }
    out
}

/// Words for an absence: "iron", "zirconium or hafnium", "rare earths".
fn absent_words(elements: &[String]) -> String {
    if elements.len() > 4 && elements.iter().all(|e| is_rare_earth(e)) {
        return "rare earths".into();
    }
    let names: Vec<String> = elements
        .iter()
        .map(|e| element_name(e).to_string())
        .collect();
    join_or(&names)
}

/// What the XRF scan itself must show before it can be cleared (`[evidence]` in the
/// rules): enough counts, some fluorescence, a fit that describes the spectrum, an
/// energy range and excitation that reach the lines the rare-earth decision rests on.
fn xrf_evidence(ctx: &Ctx, x: &XrfAnalysis) -> Vec<Finding> {
    let e = &ctx.rules.evidence;
    let mut out = Vec::new();
    let mut missing = |risk: f64, reason: String| {
        out.push(Finding::new(Verdict::Inspect, risk, reason));
    };
    if x.total_counts < e.min_total_counts {
        missing(
            0.45,
            format!(
                "The spectrum holds {} counts, fewer than the {} a clearance needs: it is no evidence of what the goods are.",
                x.total_counts.round(),
                e.min_total_counts.round()
            ),
        );
    } else if x.elements.is_empty() {
        missing(
            0.45,
            "XRF finds no element at all: the spectrum shows no fluorescence lines, so it is no evidence of what the goods are.".into(),
        );
    }
    let misfit = ((x.reduced_chi2 - 1.0).max(0.0) / x.fit_mean_counts.max(1e-9)).sqrt();
    if !x.reduced_chi2.is_finite()
        || (x.reduced_chi2 > e.max_reduced_chi2 && misfit > e.max_relative_misfit)
    {
        missing(
            0.45,
            format!(
                "The fit does not describe the spectrum (χ²/ν {:.0}, misfit {:.0} % of the counts): its element readings cannot clear the goods.",
                x.reduced_chi2,
                100.0 * misfit
            ),
        );
    }
    let (lo, hi) = x.energy_range_kev;
    if hi < e.ree_lines_hi_kev || lo > e.ree_lines_lo_kev {
        let what = if hi < 10.0 {
            "rare-earth K and most L lines, and Y K, are not covered"
        } else if hi < e.ree_lines_hi_kev {
            "the yttrium K lines are not covered"
        } else {
            "the lanthanum and scandium lines are not covered"
        };
        let range = if lo > e.ree_lines_lo_kev {
            format!("starts at {lo:.1} keV")
        } else {
            format!("ends at {hi:.1} keV")
        };
        missing(
            0.45,
            format!(
                "The spectrum {range}: {what} ({:.1}–{:.1} keV needed).",
                e.ree_lines_lo_kev, e.ree_lines_hi_kev
            ),
        );
    }
    if let Some(kv) = x.tube_kv.filter(|kv| *kv <= e.min_excitation_kv) {
        missing(
            0.4,
            format!(
                "The tube ran at {kv:.0} kV, too low to excite yttrium K (above {:.1} kV needed).",
                e.min_excitation_kv
            ),
        );
    }
    out
}

/// What the XRD pattern must show before it can be cleared: its peaks explained by the
/// accepted phases, and phases of the declared goods among them.
fn xrd_evidence(ctx: &Ctx, xrd: &XrdAnalysis) -> Vec<Finding> {
    let e = &ctx.rules.evidence;
    let mut out = Vec::new();
    let n = xrd.peaks.len();
    let bad = xrd.unexplained_peaks.len();
    let height = |i: &usize| xrd.peaks.get(*i).map_or(0.0, |p| p.intensity.max(0.0));
    let total: f64 = (0..n).map(|i| height(&i)).sum();
    let share = xrd.unexplained_peaks.iter().map(height).sum::<f64>() / total.max(1e-300);
    if bad > 0 && share > e.max_unexplained_intensity_share {
        out.push(
            Finding::new(
                Verdict::Inspect,
                0.45,
                format!(
                    "{bad} of {n} diffraction peaks ({:.0} % of the diffracted intensity) are explained by no phase in the library: the identification cannot clear the goods (check the wavelength the pattern was read with, {:.4} Å).",
                    100.0 * share,
                    xrd.wavelength_a
                ),
            )
            .with_mismatch("XRD peaks unexplained".into()),
        );
    }
    let d = &ctx.rules.decision;
    let host: f64 = xrd
        .phases
        .iter()
        .filter(|p| p.fom >= d.phase_min_fom && ctx.commodity.phase_allowance(&p.name) >= 100.0)
        .map(|p| p.wt_pct)
        .sum();
    if host < e.min_host_phase_wt_pct {
        let reason = if xrd.phases.is_empty() {
            format!(
                "XRD identifies no phase, so it shows nothing of {}.",
                ctx.goods
            )
        } else {
            format!(
                "XRD finds {} wt % of phases that make up {} (at least {} wt % expected).",
                pct(host),
                ctx.goods,
                pct(e.min_host_phase_wt_pct)
            )
        };
        out.push(
            Finding::new(Verdict::Inspect, 0.45, reason)
                .with_mismatch(format!("no {} phase in XRD", ctx.name)),
        );
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
                        ctx.goods
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
                        ctx.goods
                    ),
                )
                .with_mismatch(format!("{} not expected in {}", p.name, ctx.name)),
            );
        } else if !rare_earth && excess >= d.foreign_phase_inspect_wt_pct {
            out.push(
                Finding::new(
                    Verdict::Inspect,
                    0.45,
                    format!("{said}, which is not a constituent of {}.", ctx.goods),
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
    // the rare earths that matter to a decision: detected, and reaching the lowest
    // limit any rule acts on within the decision rule's coverage (a trace read at
    // 0.004 ± 0.001 wt % stays in the XRF element table and the reasons)
    let level = ctx.rules.lowest_ree_limit();
    let ree_elements: Vec<String> = ctx
        .rare_earths()
        .into_iter()
        .filter(|(_, m)| m.wt + ctx.k * m.sigma >= level)
        .map(|(s, _)| s)
        .collect();
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
            ctx.goods, ctx.name
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
            excitation_basis: Default::default(),
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
                    excitation_sigma_wt_pct: 0.0,
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
            energy_range_kev: (0.0, 40.96),
            total_counts: 1.0e6,
            fit_mean_counts: 250.0,
            curves: Default::default(),
            unconfirmed: vec![],
            notes: vec![],
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
                    wt_pct_sigma: 0.0,
                    fom: 0.9,
                    matched_peaks: 10,
                })
                .collect(),
            unexplained_peaks: vec![],
            fit: Default::default(),
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

    /// A glaze colours with one separated oxide: a La glaze is ceramic ware, the same
    /// amount as bastnäsite's La + Ce + Nd is an unseparated ore, and so is xenotime's
    /// Y with its heavy rare earths.
    #[test]
    fn ceramics_tell_a_glaze_oxide_from_unseparated_ore() {
        let body = [("Si", 30.0, 0.5), ("Al", 11.0, 0.5), ("K", 2.0, 0.1)];
        let with = |extra: &[(&'static str, f64, f64)]| {
            let mut e = body.to_vec();
            e.extend_from_slice(extra);
            judge("ceramics", Some(&xrf(&e, &[])), None)
        };
        let glaze = with(&[("La", 0.9, 0.02)]);
        assert_eq!(glaze.verdict, Verdict::Clear, "{:?}", glaze.reasons);
        let ore = with(&[("Ce", 0.45, 0.02), ("La", 0.3, 0.02), ("Nd", 0.12, 0.01)]);
        assert_eq!(ore.verdict, Verdict::Hold, "{:?}", ore.reasons);
        assert!(ore.reasons.iter().any(|r| r.contains("unseparated")));
        let below = with(&[("Ce", 0.12, 0.01), ("La", 0.1, 0.01), ("Nd", 0.05, 0.01)]);
        assert!(
            !below.reasons.iter().any(|r| r.contains("unseparated")),
            "{:?}",
            below.reasons
        );
        // pure yttria (a sintering aid) beside an Er pink glaze is ceramic ware; Y with
        // xenotime's Gd, Dy, Er and Yb is not
        let yttria = with(&[("Y", 0.8, 0.01), ("Er", 0.5, 0.01)]);
        assert_eq!(yttria.verdict, Verdict::Clear, "{:?}", yttria.reasons);
        let xenotime = with(&[
            ("Y", 0.35, 0.002),
            ("Dy", 0.072, 0.002),
            ("Yb", 0.065, 0.002),
            ("Er", 0.05, 0.002),
            ("Gd", 0.046, 0.002),
        ]);
        assert_ne!(xenotime.verdict, Verdict::Clear, "{:?}", xenotime.reasons);
        assert!(xenotime
            .reasons
            .iter()
            .any(|r| r.contains("heavy rare earths")));
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
        // Yb 0.03 ± 0.005 and Er 0.02 ± 0.005 cannot reach 0.05 wt %, the lowest limit
        // any rule acts on: they are not listed, and the reasons still give them
        assert_eq!(a.ree_elements, vec!["Y"]);
        assert!(
            a.reasons.iter().any(|r| r.contains("ytterbium")),
            "{:?}",
            a.reasons
        );
        // Yb at 0.04 ± 0.01 may reach it and is listed
        let mut near = x.clone();
        near.elements[3].wt_pct = 0.04;
        near.elements[3].sigma_wt_pct = 0.01;
        let a = judge("zirconium", Some(&near), Some(&xrd(&[("zircon", 97.0)])));
        assert_eq!(a.ree_elements, vec!["Y", "Yb"]);
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

    /// Zircon sand (Si/(Zr+Hf) ≈ 0.30) blended with xenotime: yttrium at zirconia's level
    /// is not what zircon sand carries, and the reason names the variant and its evidence.
    #[test]
    fn yttrium_in_recognised_zircon_sand_is_judged_against_zircon_sand() {
        let x = xrf(
            &[
                ("Si", 14.5, 0.3),
                ("Zr", 46.0, 0.4),
                ("Hf", 0.9, 0.05),
                ("Y", 3.0, 0.05),
                ("P", 1.5, 0.2),
            ],
            &["Ce", "Nd"],
        );
        let a = judge("zirconium", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Hold, "{:?}", a.reasons);
        let why = reasons_of(&a);
        assert!(
            why.contains("zircon sand (Si/(Zr+Hf) 0.31 from XRF)"),
            "{why}"
        );
        // the same Zr, Hf and Y without silicon is yttria-stabilised zirconia
        let tzp = xrf(
            &[("Zr", 68.0, 0.6), ("Hf", 1.2, 0.1), ("Y", 4.2, 0.1)],
            &["Si", "Ce", "Nd"],
        );
        let a = judge("zirconium", Some(&tzp), None);
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert!(
            reasons_of(&a).contains("Recognised as zirconia (Si/(Zr+Hf) 0.00 from XRF)"),
            "{:?}",
            a.reasons
        );
    }

    /// Undecided between zircon sand and zirconia, the goods are judged as the kind that
    /// explains the rare earths best: yttrium at zirconia's level with neodymium beside it
    /// is neither (zircon sand does not carry the yttrium, zirconia carries no
    /// neodymium: DOMAIN's red flag anywhere), where the broadest allowance of each
    /// element would have cleared it; a natural zircon with monazite's cerium is judged
    /// as zircon sand and stays CLEAR.
    #[test]
    fn undecided_zirconium_is_judged_as_the_kind_that_explains_its_rare_earths() {
        let tzp_nd = xrf(
            &[
                ("Zr", 68.0, 0.6),
                ("Hf", 1.2, 0.1),
                ("Y", 4.2, 0.1),
                ("Nd", 0.17, 0.016),
            ],
            &[],
        );
        let a = judge("zirconium", Some(&tzp_nd), None);
        assert_eq!(a.verdict, Verdict::Inspect, "{:?}", a.reasons);
        let why = reasons_of(&a);
        assert!(
            why.contains("allowances of zirconia, the kind of goods that explains them best"),
            "{why}"
        );
        // declared as zircon sand, the same scan is held on its yttrium
        assert_eq!(
            judge("zircon sand", Some(&tzp_nd), None).verdict,
            Verdict::Hold
        );
        let sand_ce = xrf(
            &[
                ("Zr", 48.0, 0.6),
                ("Hf", 1.0, 0.1),
                ("Y", 0.12, 0.01),
                ("Ce", 0.10, 0.01),
            ],
            &[],
        );
        let a = judge("zirconium", Some(&sand_ce), None);
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert!(
            reasons_of(&a).contains("judged as zircon sand"),
            "{:?}",
            a.reasons
        );
    }

    /// XRD names the variant when a pattern is present, ahead of the XRF ratio.
    #[test]
    fn xrd_phases_recognise_the_variant() {
        let x = xrf(
            &[("Zr", 48.0, 0.5), ("Hf", 1.0, 0.05), ("Y", 3.0, 0.05)],
            &[],
        );
        let a = judge("zirconium", Some(&x), Some(&xrd(&[("zircon", 94.0)])));
        assert_eq!(a.verdict, Verdict::Hold, "{:?}", a.reasons);
        assert!(reasons_of(&a).contains("zircon sand (zircon 94 wt % by XRD)"));
        let a = judge("zirconium", Some(&x), Some(&xrd(&[("tZrO2", 90.0)])));
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
    }

    /// Without silicon measured the scan cannot tell zircon sand from zirconia: a
    /// declaration that says only "zirconium" takes the allowances of both, and the reason
    /// says the yttrium found is legitimate only in zirconia; a declaration that names the
    /// kind of goods is judged against that kind's, and a scan that shows the other kind
    /// contradicts it.
    #[test]
    fn the_declaration_names_the_variant_when_the_scan_cannot_tell() {
        let x = xrf(&[("Zr", 68.0, 0.6), ("Hf", 1.2, 0.1), ("Y", 4.2, 0.1)], &[]);
        let a = judge("zirconium", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        let why = reasons_of(&a);
        assert!(
            why.contains("legitimate in zirconia but not in zircon sand, and neither the scan (Si not measured by XRF)"),
            "{why}"
        );
        let a = judge("zircon sand", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Hold, "{:?}", a.reasons);
        assert!(
            reasons_of(&a).contains("Declared as zircon sand"),
            "{:?}",
            a.reasons
        );
        assert_eq!(judge("2825.60", Some(&x), None).verdict, Verdict::Clear);
        // natural zircon yttrium is within both
        let natural = xrf(
            &[("Zr", 48.0, 0.6), ("Hf", 1.0, 0.1), ("Y", 0.1, 0.01)],
            &[],
        );
        let a = judge("2615.10", Some(&natural), None);
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        // declared zircon sand, diffraction shows zirconia
        let a = judge("zircon sand", Some(&x), Some(&xrd(&[("tZrO2", 90.0)])));
        assert_eq!(a.verdict, Verdict::Inspect, "{:?}", a.reasons);
        assert_eq!(a.mismatch, vec!["zirconia declared as zircon sand"]);
    }

    /// A rules file written before variants existed behaves as it always did: one
    /// allowance for the whole commodity.
    #[test]
    fn rules_without_variants_keep_the_commodity_allowance() {
        let old =
            super::super::rules::tests::without_variants(super::super::rules::DEFAULT_RULES_TOML);
        let rules = Rules::from_toml(&old).unwrap();
        assert!(rules.commodity("zirconium").unwrap().1.variants.is_empty());
        let x = xrf(
            &[
                ("Si", 14.5, 0.3),
                ("Zr", 46.0, 0.4),
                ("Hf", 0.9, 0.05),
                ("Y", 3.0, 0.05),
            ],
            &[],
        );
        let a = assess(&rules, "zirconium", Some(&x), None, date()).unwrap();
        assert_eq!(a.verdict, Verdict::Clear, "{:?}", a.reasons);
        assert!(!reasons_of(&a).contains("Recognised"), "{:?}", a.reasons);
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
        assert_eq!(a.mismatch, vec!["Zr+Hf absent from zirconium"]);
        assert!(
            a.reasons[0].starts_with("No zirconium or hafnium in a scan declared as zircon"),
            "{:?}",
            a.reasons
        );
    }

    /// The strongest mismatch: the declared major is absent although the analysis never
    /// took it for a candidate (not reported, not among the detection limits).
    #[test]
    fn declared_major_absent_without_being_a_candidate_is_a_mismatch() {
        let nickel = xrf(&[("Ni", 99.4, 0.06), ("Cu", 0.27, 0.003)], &[]);
        let a = judge("iron-ore", Some(&nickel), None);
        assert_eq!(a.verdict, Verdict::Inspect, "{:?}", a.reasons);
        assert_eq!(a.mismatch, vec!["Fe absent from iron-ore"]);
        assert!(a.reasons[0].starts_with("No iron in a scan declared as iron ore"));
        let silicon = xrf(&[("Si", 46.0, 0.13), ("Al", 0.5, 0.02)], &[]);
        assert_eq!(
            judge("iron-ore", Some(&silicon), None).mismatch,
            vec!["Fe absent from iron-ore"]
        );
        // a trace of iron below 3σ is not a detection
        let trace = xrf(&[("Si", 46.0, 0.13), ("Fe", 0.02, 0.01)], &[]);
        assert_eq!(
            judge("iron-ore", Some(&trace), None).mismatch,
            vec!["Fe absent from iron-ore"]
        );
    }

    /// Zircon read with Zr at 8–22 wt % because the normalisation leans on Si: the heavy
    /// lines carry the decision, so it is not flagged; a heavy matrix with little Zr is.
    #[test]
    fn low_zirconium_beside_abundant_silicon_leans_on_the_heavy_lines() {
        for zr in [8.0, 15.0, 22.0] {
            let x = xrf(
                &[("Si", 40.0, 0.4), ("Zr", zr, 0.05), ("Hf", zr / 50.0, 0.01)],
                &[],
            );
            let a = judge("zirconium", Some(&x), None);
            assert_eq!(a.verdict, Verdict::Clear, "Zr {zr}: {:?}", a.reasons);
        }
        // the same Zr reading among heavy elements cannot be explained by Si
        let x = xrf(&[("Fe", 60.0, 0.1), ("Zr", 8.0, 0.05)], &[]);
        let a = judge("zirconium", Some(&x), None);
        assert_eq!(a.mismatch, vec!["Zr+Hf below zirconium range"]);
        // a light major is itself judged with the light factor: 5 % Si+Al is consistent
        // with ceramics at the 20 % minimum, 0.5 % is not
        let tile = xrf(
            &[("Si", 4.0, 0.1), ("Al", 1.0, 0.1), ("Zn", 3.0, 0.01)],
            &[],
        );
        assert!(judge("ceramics", Some(&tile), None).mismatch.is_empty());
        let metal = xrf(&[("Si", 0.4, 0.02), ("Cu", 90.0, 0.1)], &[]);
        assert_eq!(
            judge("ceramics", Some(&metal), None).mismatch,
            vec!["Si+Al+Zr below ceramics range"]
        );
    }

    /// The heavy-line systematic (`systematic_rel`) widens the interval: 26 ± 0.1 wt % Fe
    /// is far below 51 × 0.6 = 30.6 on counting statistics alone (26.2), not with 10 %
    /// systematic (26 + 2·2.6 = 31.2); 25 wt % is (30.0).
    #[test]
    fn heavy_majors_carry_the_systematic_term() {
        let x = xrf(&[("Fe", 26.0, 0.1), ("Mn", 30.0, 0.1)], &[]);
        assert!(judge("iron-ore", Some(&x), None).mismatch.is_empty());
        let x = xrf(&[("Fe", 25.0, 0.1), ("Mn", 30.0, 0.1)], &[]);
        assert_eq!(
            judge("iron-ore", Some(&x), None).mismatch,
            vec!["Fe below iron-ore range"]
        );
    }

    fn reasons_of(a: &Assessment) -> String {
        a.reasons.join(" ")
    }

    #[test]
    fn clear_needs_enough_counts_a_good_fit_and_the_rare_earth_lines() {
        let honest = || xrf(&[("Fe", 62.0, 0.5), ("Si", 2.0, 0.2)], &["Ce"]);
        assert_eq!(
            judge("iron-ore", Some(&honest()), None).verdict,
            Verdict::Clear
        );
        let mut x = honest();
        x.total_counts = 0.0;
        let a = judge("iron-ore", Some(&x), None);
        assert_eq!(a.verdict, Verdict::Inspect);
        assert!(reasons_of(&a).contains("holds 0 counts"), "{:?}", a.reasons);
        // χ²/ν 25 at 20 counts per channel: a misfit of 110 % of the counts
        let mut x = honest();
        (x.reduced_chi2, x.fit_mean_counts) = (25.0, 20.0);
        let a = judge("iron-ore", Some(&x), None);
        assert!(
            reasons_of(&a).contains("The fit does not describe the spectrum (χ²/ν 25"),
            "{:?}",
            a.reasons
        );
        // χ²/ν 25 at 5,000 counts per channel: 7 % misfit, a real detector's line shape
        let mut x = honest();
        (x.reduced_chi2, x.fit_mean_counts) = (25.0, 5000.0);
        assert_eq!(judge("iron-ore", Some(&x), None).verdict, Verdict::Clear);
        let mut x = honest();
        x.energy_range_kev = (0.0, 6.0);
        let a = judge("iron-ore", Some(&x), None);
        assert!(
            reasons_of(&a).contains("The spectrum ends at 6.0 keV: rare-earth K and most L lines"),
            "{:?}",
            a.reasons
        );
        let mut x = honest();
        x.tube_kv = Some(15.0);
        assert_eq!(judge("iron-ore", Some(&x), None).verdict, Verdict::Inspect);
        let mut x = honest();
        x.elements.clear();
        let a = judge("iron-ore", Some(&x), None);
        assert!(
            reasons_of(&a).contains("no fluorescence lines"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn clear_needs_the_diffraction_peaks_explained_by_phases_of_the_goods() {
        let mut d = xrd(&[("hematite", 90.0), ("quartz", 10.0)]);
        d.peaks = (0..71)
            .map(|i| crate::xrd::XrdPeak {
                two_theta_deg: 10.0 + i as f64,
                d_a: 1.0,
                intensity: 100.0,
            })
            .collect();
        // 20 weak peaks unexplained (a third of the height of the others): 10 % of the
        // intensity
        for p in d.peaks.iter_mut().skip(51) {
            p.intensity = 30.0;
        }
        d.unexplained_peaks = (51..71).collect();
        assert_eq!(judge("iron-ore", None, Some(&d)).verdict, Verdict::Clear);
        d.unexplained_peaks = (0..41).collect();
        let a = judge("iron-ore", None, Some(&d));
        assert_eq!(a.verdict, Verdict::Inspect);
        assert!(
            a.reasons[0].starts_with("41 of 71 diffraction peaks (72 % of the diffracted"),
            "{:?}",
            a.reasons
        );
        let a = judge(
            "iron-ore",
            None,
            Some(&xrd(&[("quartz", 95.0), ("calcite", 5.0)])),
        );
        assert!(
            a.mismatch.contains(&"no iron-ore phase in XRD".to_string()),
            "{:?}",
            a.mismatch
        );
        let a = judge("iron-ore", None, Some(&xrd(&[])));
        assert!(
            reasons_of(&a).contains("XRD identifies no phase"),
            "{:?}",
            a.reasons
        );
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
