//! The conformity decision shared by the verdict ([`super::decide`]) and the forensic
//! report (`report::forensic`): one quantity, one rule, so that the report cannot
//! contradict the verdict.
//!
//! The rule is ISO/IEC 17025:2017 §7.8.6 with a guard band (ILAC-G8:09/2019): expanded
//! uncertainty U = k·u; result − U > limit → above the limit, result + U < limit → below
//! it, otherwise inconclusive. The rare-earth quantity is the sum of the detected rare
//! earths that exceed their legitimate level in the declared commodity, judged against
//! the sum of their legitimate levels plus the commodity's INSPECT or HOLD excess limit.

use super::rules::{Commodity, Rules};
use crate::tables::is_rare_earth;
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
}
