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
        xrf_files: vec![InputFile {
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
        }],
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

/// A laboratory profile's particulars, as `reescan report --lab` would read them.
fn lab_particulars(lab_name: &str) -> reescan::report::lab::Particulars {
    use reescan::report::lab::{Authoriser, Customer, Laboratory, Particulars};
    Particulars {
        laboratory: Some(Laboratory {
            name: lab_name.into(),
            address: "Quay 4\nPort Town".into(),
            accreditation: Some("Accreditation body, no. L-0001".into()),
            location: None,
        }),
        customer: Some(Customer {
            name: "Customs Agency".into(),
            contact: Some("risk@customs.example".into()),
        }),
        authorised_by: Some(Authoriser {
            name: "Dr A. Example".into(),
            role: "Head of laboratory".into(),
        }),
        location: Some("Gate B, mobile unit 2".into()),
        sample_description: Some("Container MSKU 1234567".into()),
        received: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
        measured: chrono::NaiveDate::from_ymd_opt(2026, 11, 19),
        sampling: None,
        deviations: vec!["Tube voltage from the operator's log".into()],
    }
}

fn lab_report(lab_name: &str) -> (ScreeningResult, ForensicReport) {
    let r = screening_hold();
    let ctx = context().with_particulars(lab_particulars(lab_name));
    let rep = ForensicReport::build(&inputs(&r), &ctx);
    (r, rep)
}

/// The text of the `@page` rule (the running header and footer of every printed page).
fn page_rule(page: &str) -> &str {
    let start = page.find("@page {").expect("an @page rule");
    let end = page[start..].find("\n}\n").expect("end of @page") + start;
    &page[start..end]
}

#[test]
fn html_carries_the_17025_lab_items() {
    let (r, rep) = lab_report("Harbour Materials Lab");
    let page = html::render(&rep, &html::plots_for(&r).unwrap());
    for item in [
        "<h1>Test report: forensic screening of cargo scan data</h1>",
        "<tr><th>Laboratory</th><td>Harbour Materials Lab<br><span class=\"address\">Quay 4\nPort Town</span><br>Accreditation: Accreditation body, no. L-0001</td></tr>",
        "<tr><th>Location of the activities</th><td>Gate B, mobile unit 2</td></tr>",
        "<tr><th>Customer</th><td>Customs Agency<br><span class=\"address\">risk@customs.example</span></td></tr>",
        "Container MSKU 1234567 <span class=\"muted\">(as described by the customer)</span>",
        "<tr><th>Date of receipt</th><td>2026-11-20</td></tr>",
        "<tr><th>Date of measurement</th><td>2026-11-19</td></tr>",
        "<tr><th>Date of analysis</th><td>2026-11-23</td></tr>",
        "<tr><th>Authorised by</th><td>Dr A. Example</td></tr>",
        "<tr><th>Role</th><td>Head of laboratory</td></tr>",
        "<li>Tube voltage from the operator&#39;s log</li>",
        "The laboratory did not sample",
        "None: every result in this report was computed with reescan from the input files \
         listed under &quot;Inputs and chain of custody&quot;.",
        "End of report RS-20261123-TEST00000001",
    ] {
        assert!(page.contains(item), "missing: {item}");
    }
    assert!(
        !page.contains("UNSIGNED DRAFT"),
        "a complete report is no draft"
    );
    assert!(!page.contains("class=\"missing\""), "nothing left unstated");
    // Every printed page: the laboratory and item at the top, id, date, page x of y below.
    let rule = page_rule(&page);
    assert!(
        rule.contains("@top-left { content: \"Harbour Materials Lab\";"),
        "{rule}"
    );
    assert!(
        rule.contains("@top-right { content: \"Item S0042\";"),
        "{rule}"
    );
    assert!(
        rule.contains(
            "@bottom-left { content: \"Report RS-20261123-TEST00000001 \\B7  issued 2026-11-23\";"
        ),
        "{rule}"
    );
    assert!(
        rule.contains("@bottom-right { content: \"Page \" counter(page) \" of \" counter(pages);"),
        "{rule}"
    );
}

#[test]
fn a_report_without_a_laboratory_says_it_is_an_unsigned_draft() {
    let (r, rep) = report();
    assert_eq!(rep.lab.status, reescan::report::lab::ReportStatus::Draft);
    let page = html::render(&rep, &html::plots_for(&r).unwrap());
    assert!(page.contains(
        "<div class=\"notice\" id=\"status-notice\"><p>UNSIGNED DRAFT: not an accredited \
         laboratory report."
    ));
    for row in ["Laboratory", "Customer", "Date of receipt"] {
        assert!(
            page.contains(&format!(
                "<tr><th>{row}</th><td><span class=\"missing\">not stated</span></td></tr>"
            )),
            "{row} said to be missing"
        );
    }
    assert!(page.contains("Not authorised: an unsigned draft"));
    let rule = page_rule(&page);
    assert!(
        rule.contains(
            "@top-left { content: \"UNSIGNED DRAFT: not an accredited laboratory report\";"
        ),
        "every printed page says draft: {rule}"
    );
}

#[test]
fn a_laboratory_report_missing_an_item_lists_it_and_is_not_for_signature() {
    let r = screening_hold();
    let mut p = lab_particulars("Lab");
    p.received = None;
    p.customer.as_mut().unwrap().contact = None;
    let rep = ForensicReport::build(&inputs(&r), &context().with_particulars(p));
    assert_eq!(
        rep.lab.status,
        reescan::report::lab::ReportStatus::Incomplete
    );
    let page = html::render(&rep, &[]);
    assert!(page.contains(
        "INCOMPLETE: not to be signed. Items that ISO/IEC 17025 §7.8.2.1 requires are missing: \
         (e) customer contact; (h) date of receipt."
    ));
    assert!(page.contains("Not to be signed until the missing items are filled."));
    assert!(page_rule(&page).contains("Lab \\B7  INCOMPLETE: not to be signed"));
}

#[test]
fn lab_text_from_the_profile_is_inert() {
    let hostile = "<script>alert(1)</script>\"; } body { display: none } </style><b>";
    let (r, mut rep) = lab_report(hostile);
    if let Some(c) = rep.lab.customer.as_mut() {
        c.name = "<img src=x onerror=alert(2)>".into();
    }
    let page = html::render(&rep, &html::plots_for(&r).unwrap());
    assert!(!page.contains("<script"), "no script element");
    assert!(!page.contains("<img"), "no element from the customer name");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
    // In the stylesheet: one @page rule whose header is still one string literal, and the
    // only </style> closes the styles.
    let rule = page_rule(&page);
    assert!(
        rule.contains("@top-left { content: \"\\3C script\\3E alert(1)\\3C /script\\3E \\22 ; \\7D  body \\7B  display: none \\7D  \\3C /style\\3E \\3C b\\3E \";"),
        "{rule}"
    );
    assert_eq!(
        page.matches("</style>").count(),
        2,
        "the two style elements only"
    );
    let v: serde_json::Value = serde_json::from_str(&json::render(&rep).unwrap()).unwrap();
    assert_eq!(
        v["lab"]["laboratory"]["name"], hostile,
        "JSON keeps the raw text"
    );
}

#[test]
fn json_carries_the_same_lab_fields() {
    let (_, rep) = lab_report("Harbour Materials Lab");
    let v: serde_json::Value = serde_json::from_str(&json::render(&rep).unwrap()).unwrap();
    let lab = &v["lab"];
    assert_eq!(lab["status"], "for_authorisation");
    assert_eq!(
        lab["title"],
        "Test report: forensic screening of cargo scan data"
    );
    assert_eq!(lab["laboratory"]["name"], "Harbour Materials Lab");
    assert_eq!(lab["laboratory"]["address"], "Quay 4\nPort Town");
    assert_eq!(
        lab["laboratory"]["accreditation"],
        "Accreditation body, no. L-0001"
    );
    assert_eq!(lab["location"], "Gate B, mobile unit 2");
    assert_eq!(lab["customer"]["name"], "Customs Agency");
    assert_eq!(lab["customer"]["contact"], "risk@customs.example");
    assert_eq!(lab["received"], "2026-11-20");
    assert_eq!(lab["measured"], "2026-11-19");
    assert_eq!(lab["analysed"], "2026-11-23");
    assert_eq!(lab["authorised_by"]["name"], "Dr A. Example");
    assert_eq!(lab["authorised_by"]["role"], "Head of laboratory");
    assert_eq!(lab["deviations"][0], "Tube voltage from the operator's log");
    assert_eq!(lab["missing"].as_array().unwrap().len(), 0);
    assert_eq!(v["item"]["description"], "Container MSKU 1234567");
    // Without a laboratory: the draft status and what is missing.
    let (_, draft) = report();
    let v: serde_json::Value = serde_json::from_str(&json::render(&draft).unwrap()).unwrap();
    assert_eq!(v["lab"]["status"], "draft");
    assert!(v["lab"]["laboratory"].is_null());
    assert_eq!(v["lab"]["missing"][0], "(b) laboratory name and address");
}

#[test]
fn resolved_k_alpha_lines_carry_one_label() {
    // La Kα1 (33.442 keV) and Kα2 (33.034 keV) are resolved at this energy; the fit
    // reports both as "La Ka".
    let mut r = screening_hold();
    let peak = |energy_kev: f64, area: f64| reescan::xrf::FittedPeak {
        energy_kev,
        area,
        sigma: area / 10.0,
        fwhm_kev: 0.295,
        label: "La Ka".into(),
    };
    let x = r.xrf.as_mut().unwrap();
    x.peaks.push(peak(33.442, 169.0));
    x.peaks.push(peak(33.034, 94.0));
    let rep = ForensicReport::build(&inputs(&r), &context());
    let page = html::render(&rep, &[]);
    assert_eq!(page.matches("<td>La Kα</td>").count(), 1, "one row");
    assert!(page.contains(
        "<tr><td>La Kα</td><td class=\"num\">33.034, 33.442</td><td class=\"num\">263</td>\
         <td class=\"num\">26</td><td class=\"num\">295</td></tr>"
    ));
    assert!(!page.contains("<td>La Ka</td>"));
    assert!(page.contains("<tr><td>Fe Kα</td>"), "Fe Ka → Fe Kα");
    let v: serde_json::Value = serde_json::from_str(&json::render(&rep).unwrap()).unwrap();
    let groups = v["fits"]["xrf"]["line_groups"].as_array().unwrap();
    assert_eq!(groups.iter().filter(|g| g["label"] == "La Kα").count(), 1);
}

#[test]
fn the_item_statement_points_to_the_hashes_where_they_are() {
    let (r, rep) = report();
    let page = html::render(&rep, &html::plots_for(&r).unwrap());
    for wrong in ["SHA-256 below", "identified below", "listed below"] {
        assert!(!page.contains(wrong), "the hashes are not below: {wrong}");
    }
    let statement = page.find("id=\"statement\"").unwrap();
    let custody = page
        .find("<h2>Inputs and chain of custody</h2>")
        .expect("the inputs section");
    assert!(custody < statement, "the inputs come before the statement");
    assert!(page.contains(
        "(the input files identified by their SHA-256 under &quot;Inputs and chain of \
         custody&quot;)"
    ));
    let end = page.find("id=\"end-of-report\"").unwrap();
    assert!(end > statement && page[end..].starts_with("id=\"end-of-report\">End of report "));
}
