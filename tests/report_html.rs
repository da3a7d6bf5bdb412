//! The forensic HTML/JSON report: hashes, verdict, decision rule, element and phase
//! tables, traceable fits, escaping, and (insta) its structure.

mod report_fixtures;

use chrono::{TimeZone, Utc};
use reescan::report::forensic::{
    ForensicReport, InputFile, Limit, Outcome, ReportContext, ReportInputs, RulesRecord,
};
use reescan::report::{html, json};
use reescan::screen::ScreeningResult;
use report_fixtures::screening_hold;

fn context() -> ReportContext {
    ReportContext::fixed(
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        "RS-20261123-TEST00000001",
    )
}

fn inputs(r: &ScreeningResult) -> ReportInputs<'_> {
    ReportInputs {
        result: r,
        xrf_file: Some(InputFile {
            technique: "XRF".into(),
            file: "scans/S0042_iron-ore.msa".into(),
            sha256: r.xrf_sha256.clone().unwrap(),
            size_bytes: Some(61_234),
            metadata: Some(reescan::Metadata {
                format: "EMSA/MAS".into(),
                instrument: Some("Handheld <XRF> \"S1\"".into()),
                live_time_s: Some(30.0),
                tube_kv: Some(50.0),
                ..Default::default()
            }),
        }),
        xrd_file: None,
        rules: RulesRecord {
            source: "built-in".into(),
            sha256: "0f".repeat(32),
        },
        limits: vec![
            Limit {
                quantity: "Nd".into(),
                symbols: vec!["Nd".into()],
                limit_wt_pct: 0.1,
                source: "rules: commodity.iron-ore.ree_allow.Nd".into(),
            },
            Limit {
                quantity: "Pr".into(),
                symbols: vec!["Pr".into()],
                limit_wt_pct: 0.4,
                source: "rules: commodity.iron-ore.ree_allow.Pr".into(),
            },
        ],
        reference_data: vec![],
        coverage_k: 2.0,
    }
}

fn report() -> (ScreeningResult, ForensicReport) {
    let r = screening_hold();
    let rep = ForensicReport::build(&inputs(&r), &context());
    (r, rep)
}

/// The HTML with each inline SVG body replaced by a placeholder (the plots are tested
/// on their own; the snapshot guards the document around them).
fn structure(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</svg>")
            .map_or(rest.len(), |e| start + e + 6);
        out.push_str("<svg><!-- plot --></svg>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn html_carries_hashes_verdict_tables_decision_and_statement() {
    let (r, rep) = report();
    let plots = html::plots_for(&r).unwrap();
    let page = html::render(&rep, &plots);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(r.xrf_sha256.as_deref().unwrap()), "XRF hash");
    assert!(page.contains(r.xrd_sha256.as_deref().unwrap()), "XRD hash");
    assert!(page.contains("<p class=\"verdict hold\">HOLD</p>"));
    assert!(page.contains("RS-20261123-TEST00000001"));
    assert!(page.contains("2026-11-23T12:00:00Z"));
    // Element table: Nd 1.80 ± 0.200 (k = 2), LOD, lines, and the fit it came from.
    assert!(
        page.contains("<tr class=\"ree\"><td>Nd <span class=\"tag\">REE</span></td><td class=\"num\">1.80</td><td class=\"num\">0.200</td><td class=\"num\">0.050</td><td>La1, Lb1</td><td><a href=\"#fit-XRF-1\">XRF-1</a></td></tr>"),
        "Nd row"
    );
    assert!(
        page.contains("<td>hematite</td><td class=\"num\">88.0</td><td class=\"num\">0.94</td>")
    );
    assert!(
        page.contains("&lt; 0.080 wt % (3σ detection limit)"),
        "Dy not detected"
    );
    // Decision rule: Nd 1.80 − 0.20 > 0.1 → above; Pr 0.45 ± 0.10 vs 0.4 → inconclusive.
    assert!(page.contains("U = k·u with k = 2"));
    assert!(page.contains("<tr class=\"above\"><td>Nd</td>"));
    assert!(page.contains("<tr class=\"inconclusive\"><td>Pr</td>"));
    // Traceability: the fit with χ²/ν, channels and calibration.
    assert!(page.contains("<h3 id=\"fit-XRF-1\">XRF-1: XRF fit of scans/S0042_iron-ore.msa</h3>"));
    assert!(page.contains("<tr><th>χ²/ν</th><td>1.270</td></tr>"));
    assert!(page.contains("10–4095 (4086 channels"));
    assert!(page.contains("<h3 id=\"fit-XRD-1\">"));
    // Method: software and reference data versions, rules hash.
    assert!(page.contains("xraydb crate 0."));
    assert!(page.contains(&"0f".repeat(32)));
    assert!(page.contains("The results relate only to the item tested"));
    // Self-contained: plots inline, nothing fetched.
    assert_eq!(page.matches("<svg").count(), 2);
    for external in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(external), "external reference {external}");
    }
}

#[test]
fn decision_outcomes_follow_the_guard_band() {
    let (_, rep) = report();
    let a = &rep.decision_rule.assessments;
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].outcome, Outcome::AboveLimit);
    assert!((a[0].expanded_u_wt_pct - 0.2).abs() < 1e-12);
    assert_eq!(a[1].outcome, Outcome::Inconclusive);
}

#[test]
fn text_from_files_is_escaped() {
    let mut r = screening_hold();
    r.reasons.push("<script>alert(1)</script>".into());
    if let Some(x) = r.xrf.as_mut() {
        x.file = "a&b<i>.msa".into();
    }
    let rep = ForensicReport::build(&inputs(&r), &context());
    let page = html::render(&rep, &html::plots_for(&r).unwrap());
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        page.contains("Handheld &lt;XRF&gt; &quot;S1&quot;"),
        "metadata escaped"
    );
    assert!(page.contains("a&amp;b&lt;i&gt;.msa"));
    assert!(!page.contains("a&b<i>"));
}

#[test]
fn json_has_the_same_content() {
    let (_, rep) = report();
    let text = json::render(&rep).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["report_id"], "RS-20261123-TEST00000001");
    assert_eq!(v["verdict"], "HOLD");
    assert_eq!(v["inputs"][0]["sha256"], rep.inputs[0].sha256.as_str());
    assert_eq!(v["inputs"][1]["technique"], "XRD");
    assert_eq!(v["elements"][1]["symbol"], "Nd");
    assert_eq!(v["elements"][1]["expanded_u_wt_pct"], 0.2);
    assert_eq!(v["phases"][0]["name"], "hematite");
    assert_eq!(v["fits"]["xrf"]["reduced_chi2"], 1.27);
    assert_eq!(v["fits"]["xrf"]["channels_used"], 4086);
    assert_eq!(v["decision_rule"]["k"], 2.0);
    assert_eq!(
        v["decision_rule"]["assessments"][0]["outcome"],
        "above_limit"
    );
    assert!(v["statement"]
        .as_str()
        .unwrap()
        .contains("relate only to the item tested"));
}

#[test]
fn derived_report_ids_are_unique_per_issue_time_and_inputs() {
    let r = screening_hold();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let t1 = t0 + chrono::Duration::nanoseconds(1);
    let id0 = reescan::report::forensic::derive_report_id(&r, &t0);
    assert!(id0.starts_with("RS-20261123-") && id0.len() == 24, "{id0}");
    assert_ne!(id0, reescan::report::forensic::derive_report_id(&r, &t1));
    let mut other = r.clone();
    other.xrf_sha256 = Some("00".repeat(32));
    assert_ne!(
        id0,
        reescan::report::forensic::derive_report_id(&other, &t0)
    );
}

#[test]
fn html_structure_snapshot() {
    let (r, rep) = report();
    let page = html::render(&rep, &html::plots_for(&r).unwrap());
    insta::assert_snapshot!("report_html_structure", structure(&page));
}
