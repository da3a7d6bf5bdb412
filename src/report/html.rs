//! The forensic report as one self-contained HTML page: inline CSS, inline SVG plots,
//! no scripts and no external assets, laid out to print on A4 (or to PDF) from a browser.
//! Everything that came from an input file or the laboratory profile is HTML-escaped
//! ([`super::escape::html`]); what goes into the stylesheet is CSS-escaped
//! ([`super::escape::css_string`]).
//!
//! Printed, every page carries the laboratory (or the draft notice) and the item at the
//! top, and the report id, the issue date and "Page x of y" at the bottom: CSS paged
//! media (`@page` margin boxes with `counter(page)` and `counter(pages)`, CSS Paged
//! Media Module Level 3), which Chromium renders when printing to PDF. On screen the
//! same facts stand in the header and at the end of the page.

use super::escape::{css_string, html as esc};
use super::forensic::{Conformity, ForensicReport, InputFile, Outcome, XrdFit, XrfFit};
use super::lab::ReportStatus;
use super::plot::style::greek_peak;
use super::plot::{svg_string, PlotOptions, XrdFigure, XrfFigure};
use crate::screen::{ScreeningResult, Verdict};
use crate::Result;
use std::fmt::Write;

/// A plot embedded in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedPlot {
    /// Figure caption (plain text; escaped on output).
    pub caption: String,
    /// An SVG document (from [`svg_string`]).
    pub svg: String,
}

/// The XRF and XRD plots of a screened item, as inline SVG.
///
/// # Errors
/// A drawing failure.
pub fn plots_for(r: &ScreeningResult) -> Result<Vec<EmbeddedPlot>> {
    let mut plots = Vec::new();
    let beams = r.xrf_beams.iter().flat_map(|m| &m.beams);
    for b in beams {
        plots.push(EmbeddedPlot {
            caption: format!(
                "XRF spectrum of {} as measured by {} (counts, log scale) with this beam's \
                 fit: background (dashed blue), total model (red), normalised residuals \
                 below; rare earths in magenta, artefacts dashed grey, detection limits of \
                 elements not found at the bottom. {} decides each element across the beams.",
                b.file,
                b.description,
                super::forensic::XRF_FIT_ID
            ),
            svg: svg_string(
                &XrfFigure::new(&b.analysis, Some(super::plot::beam_title(b))),
                &PlotOptions::sized(1100, 680),
            )?,
        });
    }
    if let Some(x) = r.xrf.as_ref().filter(|_| r.xrf_beams.is_none()) {
        plots.push(EmbeddedPlot {
            caption: format!(
                "XRF spectrum of {} (counts, log scale) with the {} fit: background (dashed \
                 blue), total model (red), normalised residuals below. Element lines are marked \
                 at their tabulated energies; rare earths in magenta; artefacts dashed grey; \
                 detection limits of elements not found at the bottom.",
                x.file,
                super::forensic::XRF_FIT_ID
            ),
            svg: svg_string(&XrfFigure::new(x, None), &PlotOptions::sized(1100, 680))?,
        });
    }
    if let Some(d) = &r.xrd {
        plots.push(EmbeddedPlot {
            caption: format!(
                "XRD pattern of {} vs 2θ with the {} fit; reference stick patterns of the \
                 identified phases below it (legend: wt %, figure of merit); residuals at the \
                 bottom.",
                d.file,
                super::forensic::XRD_FIT_ID
            ),
            svg: svg_string(&XrdFigure::new(d, None), &PlotOptions::sized(1100, 700))?,
        });
    }
    Ok(plots)
}

/// Render the report as a complete HTML document.
pub fn render(report: &ForensicReport, plots: &[EmbeddedPlot]) -> String {
    let mut h = String::with_capacity(64 * 1024 + plots.iter().map(|p| p.svg.len()).sum::<usize>());
    let title = format!(
        "Screening report {} — {}",
        report.report_id, report.item.scan_id
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n<style>{}</style>\n</head>\n<body>\n",
        esc(&title),
        page_css(report)
    );
    header(&mut h, report);
    verdict(&mut h, report);
    decision(&mut h, report);
    elements(&mut h, report);
    phases(&mut h, report);
    evidence(&mut h, plots);
    fits(&mut h, report);
    inputs(&mut h, report);
    method(&mut h, report);
    conditions(&mut h, report);
    let _ = write!(
        h,
        "<section id=\"statement\" class=\"statement\">\n<p><strong>{}</strong></p>\n\
         <p>This report shall not be reproduced except in full. It is a screening result for \
         targeting a physical examination, issued by software; it does not replace the \
         examining officer's or the laboratory's judgement.</p>\n</section>\n",
        esc(&report.statement),
    );
    authorisation(&mut h, report);
    let _ = write!(
        h,
        "<p class=\"footer\" id=\"end-of-report\">End of report {} · issued {} · reescan {}</p>\n\
         </body>\n</html>\n",
        esc(&report.report_id),
        esc(&report.generated_at),
        esc(&report.method.version),
    );
    h
}

/// The `@page` rules: size, margins and the running header and footer of every printed
/// page. The texts are per report, so they are CSS-escaped string literals.
fn page_css(r: &ForensicReport) -> String {
    let lab = &r.lab;
    let top_left = match (&lab.laboratory, lab.status) {
        (Some(l), ReportStatus::ForAuthorisation) => l.name.clone(),
        (Some(l), status) => format!("{} · {}", l.name, status.short()),
        (None, status) => status.short().to_string(),
    };
    let issued = r.generated_at.get(..10).unwrap_or(&r.generated_at);
    const BOX: &str =
        "font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 8pt; color: #444;";
    format!(
        "\n@page {{ size: A4; margin: 20mm 12mm 18mm;\n\
         @top-left {{ content: {}; {BOX} }}\n\
         @top-right {{ content: {}; {BOX} }}\n\
         @bottom-left {{ content: {}; {BOX} }}\n\
         @bottom-right {{ content: \"Page \" counter(page) \" of \" counter(pages); {BOX} }}\n}}\n",
        css_string(&top_left),
        css_string(&format!("Item {}", r.item.scan_id)),
        css_string(&format!("Report {} · issued {issued}", r.report_id)),
    )
}

/// A value, or a visible "not stated" where the report lacks it.
fn stated(v: Option<&str>) -> String {
    match v {
        Some(v) => esc(v),
        None => "<span class=\"missing\">not stated</span>".into(),
    }
}

fn header(h: &mut String, r: &ForensicReport) {
    let lab = &r.lab;
    h.push_str("<header>\n");
    let _ = writeln!(h, "<h1>{}</h1>", esc(&lab.title));
    if let Some(notice) = lab.status.notice() {
        let _ = write!(
            h,
            "<div class=\"notice\" id=\"status-notice\"><p>{}",
            esc(notice)
        );
        if lab.status == ReportStatus::Incomplete {
            let _ = write!(h, " {}.", esc(&lab.missing.join("; ")));
        }
        h.push_str("</p></div>\n");
    }
    let laboratory = lab.laboratory.as_ref().map(|l| {
        let mut s = format!(
            "{}<br><span class=\"address\">{}</span>",
            esc(&l.name),
            esc(&l.address)
        );
        if let Some(a) = &l.accreditation {
            let _ = write!(s, "<br>Accreditation: {}", esc(a));
        }
        s
    });
    let location = match (&lab.location, &lab.laboratory) {
        (Some(loc), _) => esc(loc),
        (None, Some(_)) => "At the laboratory's address".into(),
        (None, None) => stated(None),
    };
    let customer = lab.customer.as_ref().map(|c| {
        let contact = match &c.contact {
            Some(t) => format!("<br><span class=\"address\">{}</span>", esc(t)),
            None => "<br><span class=\"missing\">contact not stated</span>".into(),
        };
        format!("{}{contact}", esc(&c.name))
    });
    let description = match &r.item.description {
        Some(d) => format!(
            "{} <span class=\"muted\">(as described by the customer)</span>",
            esc(d)
        ),
        None => "Scan data files, identified by their SHA-256 under \"Inputs and chain of \
                 custody\"; condition: as received"
            .into(),
    };
    let _ = write!(
        h,
        "<table class=\"kv\" id=\"identity\">\n\
         <tr><th>Report id</th><td class=\"mono\">{}</td></tr>\n\
         <tr><th>Date of issue</th><td>{}</td></tr>\n\
         <tr><th>Laboratory</th><td>{}</td></tr>\n\
         <tr><th>Location of the activities</th><td>{location}</td></tr>\n\
         <tr><th>Customer</th><td>{}</td></tr>\n\
         <tr><th>Item (scan id)</th><td>{}</td></tr>\n\
         <tr><th>Item description</th><td>{description}</td></tr>\n\
         <tr><th>Declared commodity</th><td>{} <span class=\"muted\">(declared by the customer)</span></td></tr>\n\
         <tr><th>Date of receipt</th><td>{}</td></tr>\n\
         <tr><th>Date of measurement</th><td>{}</td></tr>\n\
         <tr><th>Date of analysis</th><td>{}</td></tr>\n</table>\n</header>\n",
        esc(&r.report_id),
        esc(&r.generated_at),
        laboratory.unwrap_or_else(|| stated(None)),
        customer.unwrap_or_else(|| stated(None)),
        esc(&r.item.scan_id),
        esc(&r.item.declared),
        stated(lab.received.as_deref()),
        match &lab.measured {
            Some(m) => esc(m),
            None => "<span class=\"missing\">not recorded in the input files</span>".into(),
        },
        esc(&lab.analysed),
    );
}

/// Sampling, deviations from the method and external providers (§7.8.2.1 k, n, p).
fn conditions(h: &mut String, r: &ForensicReport) {
    let lab = &r.lab;
    let deviations = if lab.deviations.is_empty() {
        "None.".to_string()
    } else {
        let items: Vec<String> = lab
            .deviations
            .iter()
            .map(|d| format!("<li>{}</li>", esc(d)))
            .collect();
        format!("<ul>{}</ul>", items.concat())
    };
    let _ = write!(
        h,
        "<section id=\"conditions\">\n<h2>Sampling, deviations and external providers</h2>\n\
         <table class=\"kv\">\n<tr><th>Sampling</th><td>{}</td></tr>\n\
         <tr><th>Deviations from the method</th><td>{deviations}</td></tr>\n\
         <tr><th>Results from external providers</th><td>{}</td></tr>\n</table>\n</section>\n",
        esc(&lab.sampling),
        esc(&lab.external_providers),
    );
}

/// The person authorising the report, with room to sign (§7.8.2.1 o).
fn authorisation(h: &mut String, r: &ForensicReport) {
    let lab = &r.lab;
    h.push_str("<section id=\"authorisation\">\n<h2>Authorisation</h2>\n");
    match (&lab.authorised_by, lab.status) {
        (_, ReportStatus::Draft) => h.push_str(
            "<p class=\"missing\">Not authorised: an unsigned draft, issued without a \
             laboratory profile.</p>\n",
        ),
        (None, _) => h.push_str(
            "<p class=\"missing\">Not authorised: no person authorising the report is \
             stated.</p>\n",
        ),
        (Some(a), status) => {
            let _ = write!(
                h,
                "<table class=\"kv\" id=\"authoriser\">\n<tr><th>Authorised by</th><td>{}</td></tr>\n\
                 <tr><th>Role</th><td>{}</td></tr>\n\
                 <tr><th>Signature</th><td class=\"sign\"></td></tr>\n\
                 <tr><th>Date</th><td class=\"sign\"></td></tr>\n</table>\n",
                esc(&a.name),
                esc(&a.role)
            );
            if status == ReportStatus::Incomplete {
                h.push_str(
                    "<p class=\"missing\">Not to be signed until the missing items are \
                     filled.</p>\n",
                );
            }
        }
    }
    h.push_str("</section>\n");
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Clear => "clear",
        Verdict::Inspect => "inspect",
        Verdict::Hold => "hold",
        Verdict::Error => "error",
    }
}

fn verdict(h: &mut String, r: &ForensicReport) {
    let _ = write!(
        h,
        "<section id=\"verdict\">\n<h2>Verdict</h2>\n<p class=\"verdict {}\">{}</p>\n\
         <p>Risk score {:.2} (0 = consistent with the declaration, 1 = certain mismatch).",
        verdict_class(r.verdict),
        r.verdict,
        r.risk
    );
    if let Some(ree) = r.ree_wt_pct {
        let _ = write!(
            h,
            " Total rare earths (Sc, Y, La–Lu) by XRF: {} wt %.",
            wt(ree)
        );
    }
    h.push_str("</p>\n<h3>Reasons</h3>\n");
    list(h, &r.reasons, "No finding against the declaration.");
    if !r.mismatch.is_empty() {
        h.push_str("<h3>Composition findings against the declaration</h3>\n");
        list(h, &r.mismatch, "");
    }
    h.push_str("</section>\n");
}

fn list(h: &mut String, items: &[String], empty: &str) {
    if items.is_empty() {
        let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(empty));
        return;
    }
    h.push_str("<ul>\n");
    for i in items {
        let _ = writeln!(h, "<li>{}</li>", esc(i));
    }
    h.push_str("</ul>\n");
}

fn decision(h: &mut String, r: &ForensicReport) {
    let d = &r.decision_rule;
    let _ = write!(
        h,
        "<section id=\"decision-rule\">\n<h2>Decision rule</h2>\n<p>{}</p>\n",
        esc(&d.rule)
    );
    if d.assessments.is_empty() {
        h.push_str(
            "<p class=\"muted\">No numeric limit of the declared commodity applies to the \
             quantities measured; the verdict rests on the findings above.</p>\n",
        );
    } else {
        h.push_str(
            "<table id=\"conformity\">\n<thead><tr><th>Quantity</th><th>Result (wt %)</th>\
             <th>u (1σ)</th><th>U = k·u</th><th>Limit (wt %)</th><th>Outcome</th>\
             <th>Limit source</th><th>Fit</th></tr></thead>\n<tbody>\n",
        );
        for c in &d.assessments {
            conformity_row(h, c);
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn conformity_row(h: &mut String, c: &Conformity) {
    let class = match c.outcome {
        Outcome::AboveLimit => "above",
        Outcome::BelowLimit => "below",
        Outcome::Inconclusive => "inconclusive",
    };
    let _ = writeln!(
        h,
        "<tr class=\"{class}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td>\
         <td><a href=\"#fit-{}\">{}</a></td></tr>",
        esc(&c.quantity),
        wt(c.result_wt_pct),
        wt(c.u_wt_pct),
        wt(c.expanded_u_wt_pct),
        wt(c.limit_wt_pct),
        c.outcome.as_str(),
        esc(&c.limit_source),
        esc(&c.fit),
        esc(&c.fit),
    );
}

fn elements(h: &mut String, r: &ForensicReport) {
    h.push_str("<section id=\"elements\">\n<h2>Elements (XRF)</h2>\n");
    if r.elements.is_empty() && r.not_detected.is_empty() {
        h.push_str("<p class=\"muted\">No XRF result.</p>\n</section>\n");
        return;
    }
    let _ = write!(
        h,
        "<table id=\"element-table\">\n<thead><tr><th>Element</th><th>wt %</th>\
         <th>± U (k = {})</th><th>LOD (3σ)</th><th>Lines</th><th>Fit</th></tr></thead>\n<tbody>\n",
        r.decision_rule.k
    );
    for e in &r.elements {
        let class = if e.rare_earth { " class=\"ree\"" } else { "" };
        let _ = writeln!(
            h,
            "<tr{class}><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td><a href=\"#fit-{}\">{}</a></td></tr>",
            esc(&e.symbol),
            if e.rare_earth {
                " <span class=\"tag\">REE</span>"
            } else {
                ""
            },
            wt(e.wt_pct),
            wt(e.expanded_u_wt_pct),
            wt(e.lod_wt_pct),
            esc(&e.lines.join(", ")),
            esc(&e.fit),
            esc(&e.fit),
        );
    }
    h.push_str("</tbody>\n</table>\n");
    if !r.not_detected.is_empty() {
        h.push_str(
            "<h3>Looked for, not detected</h3>\n<table id=\"not-detected\">\n<thead><tr>\
             <th>Element</th><th>Result</th></tr></thead>\n<tbody>\n",
        );
        for n in &r.not_detected {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>&lt; {} wt % (3σ detection limit)</td></tr>",
                esc(&n.symbol),
                wt(n.lod_wt_pct)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    if !r.artefacts.is_empty() {
        h.push_str(
            "<h3>Peaks explained by the detector or the source (not elements)</h3>\n\
             <table id=\"artefacts\">\n<thead><tr><th>Energy (keV)</th><th>Kind</th>\
             <th>Parent line</th></tr></thead>\n<tbody>\n",
        );
        for a in &r.artefacts {
            let _ = writeln!(
                h,
                "<tr><td class=\"num\">{:.3}</td><td>{}</td><td>{}</td></tr>",
                a.energy_kev,
                esc(&a.kind),
                esc(&greek_peak(&a.parent))
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn phases(h: &mut String, r: &ForensicReport) {
    h.push_str("<section id=\"phases\">\n<h2>Phases (XRD)</h2>\n");
    if r.phases.is_empty() {
        let msg = if r.fits.xrd.is_some() {
            "No reference phase matched."
        } else {
            "No XRD result."
        };
        let _ = writeln!(h, "<p class=\"muted\">{msg}</p>\n</section>");
        return;
    }
    h.push_str(
        "<table id=\"phase-table\">\n<thead><tr><th>Phase</th><th>wt % (semi-quant.)</th>\
         <th>FOM</th><th>Matched peaks</th><th>Fit</th></tr></thead>\n<tbody>\n",
    );
    for p in &r.phases {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{:.2}</td>\
             <td class=\"num\">{}</td><td><a href=\"#fit-{}\">{}</a></td></tr>",
            esc(&p.name),
            p.wt_pct,
            p.fom,
            p.matched_peaks,
            esc(&p.fit),
            esc(&p.fit)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn evidence(h: &mut String, plots: &[EmbeddedPlot]) {
    if plots.is_empty() {
        return;
    }
    h.push_str("<section id=\"evidence\">\n<h2>Evidence</h2>\n");
    for (i, p) in plots.iter().enumerate() {
        let _ = write!(
            h,
            "<figure id=\"figure-{}\">\n{}\n<figcaption>Figure {}. {}</figcaption>\n</figure>\n",
            i + 1,
            p.svg.trim(),
            i + 1,
            esc(&p.caption)
        );
    }
    h.push_str("</section>\n");
}

fn fits(h: &mut String, r: &ForensicReport) {
    h.push_str(
        "<section id=\"fits\">\n<h2>Fits (traceability)</h2>\n<p>Every number above names \
         the fit that produced it.</p>\n",
    );
    if let Some(x) = &r.fits.xrf {
        xrf_fit(h, x);
    }
    if let Some(d) = &r.fits.xrd {
        xrd_fit(h, d);
    }
    h.push_str("</section>\n");
}

fn opt(v: Option<f64>, digits: usize, unit: &str) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$} {unit}"),
        _ => "not recorded".into(),
    }
}

fn xrf_fit(h: &mut String, x: &XrfFit) {
    let c = &x.calibration;
    let _ = write!(
        h,
        "<h3 id=\"fit-{id}\">{id}: XRF fit of {}</h3>\n<table class=\"kv\">\n\
         <tr><th>χ²/ν</th><td>{:.3}</td></tr>\n\
         <tr><th>Channels fitted</th><td>{}–{} ({} channels, {:.3}–{:.3} keV)</td></tr>\n\
         <tr><th>Calibration</th><td>E = {:.4} keV + {:.6} keV × channel; FWHM at Mn Kα {:.1} eV</td></tr>\n\
         <tr><th>Live time</th><td>{}</td></tr>\n<tr><th>Tube voltage</th><td>{}</td></tr>\n\
         <tr><th>Excitation assumed</th><td>{}</td></tr>\n</table>\n",
        esc(&x.file),
        x.reduced_chi2,
        x.channels.0,
        x.channels.1,
        x.channels_used,
        x.energy_range_kev.0,
        x.energy_range_kev.1,
        c.offset_kev,
        c.gain_kev,
        c.fwhm_mn_ka_ev,
        opt(x.live_time_s, 1, "s"),
        opt(x.tube_kv, 1, "kV"),
        esc(&x.excitation),
        id = esc(&x.id),
    );
    if x.line_groups.is_empty() {
        return;
    }
    h.push_str(
        "<table class=\"peaks\">\n<thead><tr><th>Line group</th><th>Energy (keV)</th>\
         <th>Net area (counts)</th><th>σ (counts)</th><th>FWHM (eV)</th></tr></thead>\n<tbody>\n",
    );
    for g in &x.line_groups {
        let energies: Vec<String> = g.energies_kev.iter().map(|e| format!("{e:.3}")).collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0}</td>\
             <td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td></tr>",
            esc(&g.label),
            energies.join(", "),
            g.area,
            g.sigma,
            g.fwhm_kev * 1e3
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn xrd_fit(h: &mut String, d: &XrdFit) {
    let range = match d.two_theta_range_deg {
        Some((a, b)) => format!("{a:.2}–{b:.2}° 2θ, {} points", d.points),
        None => "not recorded".into(),
    };
    let _ = write!(
        h,
        "<h3 id=\"fit-{id}\">{id}: XRD fit of {}</h3>\n<table class=\"kv\">\n\
         <tr><th>Wavelength</th><td>{:.5} Å</td></tr>\n\
         <tr><th>Refined zero shift</th><td>{:+.3}° 2θ</td></tr>\n\
         <tr><th>Pattern</th><td>{}</td></tr>\n\
         <tr><th>Observed peaks</th><td>{}</td></tr>\n</table>\n",
        esc(&d.file),
        d.wavelength_a,
        d.zero_shift_deg,
        range,
        d.peaks.len(),
        id = esc(&d.id),
    );
}

fn inputs(h: &mut String, r: &ForensicReport) {
    h.push_str(
        "<section id=\"inputs\">\n<h2>Inputs and chain of custody</h2>\n<table id=\"input-table\">\n\
         <thead><tr><th>Technique</th><th>File</th><th>Size (bytes)</th><th>SHA-256</th>\
         </tr></thead>\n<tbody>\n",
    );
    for i in &r.inputs {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"mono hash\">{}</td></tr>",
            esc(&i.technique),
            esc(&i.file),
            i.size_bytes.map_or("—".to_string(), |s| s.to_string()),
            esc(&i.sha256)
        );
    }
    h.push_str("</tbody>\n</table>\n");
    for i in &r.inputs {
        instrument(h, i);
    }
    h.push_str("</section>\n");
}

fn instrument(h: &mut String, i: &InputFile) {
    let Some(m) = &i.metadata else {
        return;
    };
    let mut rows: Vec<(&str, String)> = vec![("Format", m.format.clone())];
    let text = [
        ("Title", &m.title),
        ("Instrument", &m.instrument),
        ("Detector", &m.detector),
        ("Anode", &m.anode),
        ("Acquired", &m.acquired),
    ];
    rows.extend(
        text.iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone()))),
    );
    let nums = [
        ("Live time (s)", m.live_time_s),
        ("Real time (s)", m.real_time_s),
        ("Tube voltage (kV)", m.tube_kv),
        ("Tube current (µA)", m.tube_ua),
    ];
    rows.extend(
        nums.iter()
            .filter_map(|(k, v)| v.map(|v| (*k, format!("{v}")))),
    );
    if let Some(f) = &m.beam_filter {
        rows.push(("Beam filter", crate::spectrum::describe_filter(f)));
    }
    let _ = writeln!(
        h,
        "<h3>{} instrument metadata ({})</h3>\n<table class=\"kv\">",
        esc(&i.technique),
        esc(&i.file)
    );
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    h.push_str("</table>\n");
}

fn method(h: &mut String, r: &ForensicReport) {
    let m = &r.method;
    let _ = write!(
        h,
        "<section id=\"method\">\n<h2>Method</h2>\n<table class=\"kv\">\n\
         <tr><th>Software</th><td>{} {}</td></tr>\n<tr><th>XRF</th><td>{}</td></tr>\n\
         <tr><th>XRD</th><td>{}</td></tr>\n\
         <tr><th>Rules</th><td>{} <span class=\"mono hash\">sha256 {}</span></td></tr>\n</table>\n\
         <h3>Reference data</h3>\n<table id=\"reference-data\">\n<thead><tr><th>Data</th>\
         <th>Version</th><th>Source</th></tr></thead>\n<tbody>\n",
        esc(&m.software),
        esc(&m.version),
        esc(&m.xrf_procedure),
        esc(&m.xrd_procedure),
        esc(&m.rules.source),
        esc(&m.rules.sha256),
    );
    for d in &m.reference_data {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            esc(&d.version),
            esc(&d.source)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

/// A mass fraction with precision suited to its size.
fn wt(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "—".into()
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

const CSS: &str = r#"
:root { --ink:#1b1b1b; --muted:#666; --rule:#c9c9c9; --ree:#be0096; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  max-width: 1120px; margin: 1.5em auto; padding: 0 1em; font-size: 14px; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 0 0 .4em; border-bottom: 3px solid var(--ink); }
h2 { font-size: 1.25em; margin: 1.4em 0 .5em; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05em; margin: 1em 0 .4em; }
table { border-collapse: collapse; margin: .3em 0 .8em; }
th, td { border: 1px solid var(--rule); padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
table.kv th { background: #f7f7f7; font-weight: 600; width: 13em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.hash { font-size: .85em; word-break: break-all; }
.muted { color: var(--muted); }
.verdict { display: inline-block; font-size: 1.6em; font-weight: 700; letter-spacing: .08em;
  color: #fff; padding: .15em .7em; border-radius: 4px; margin: .2em 0; }
.verdict.clear { background: #1e823c; } .verdict.inspect { background: #cd8200; }
.verdict.hold { background: #be141e; } .verdict.error { background: #5a5a5a; }
tr.ree td:first-child { color: var(--ree); font-weight: 700; }
.tag { font-size: .75em; border: 1px solid var(--ree); color: var(--ree); border-radius: 3px; padding: 0 3px; }
tr.above td { background: #fbe9ea; } tr.inconclusive td { background: #fff6e0; }
figure { margin: .5em 0 1.2em; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { font-size: .9em; color: var(--muted); margin-top: .3em; }
.statement { margin-top: 2em; border-top: 3px solid var(--ink); padding-top: .5em; }
.footer { color: var(--muted); font-size: .85em; border-top: 1px solid var(--rule); padding-top: .3em; }
.address { white-space: pre-line; }
.missing { color: #a0141e; font-style: italic; }
.notice { border: 2px solid #a0141e; background: #fbe9ea; color: #6e0a12; padding: .2em .8em;
  margin: .5em 0 .8em; font-weight: 600; }
td.sign { height: 2.6em; min-width: 22em; }
#conformity { width: 100%; }
td a { white-space: nowrap; }
a { color: inherit; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  figure, tr, table.kv, #authorisation { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .verdict, .notice { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead th, tr.above td, tr.inconclusive td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { text-decoration: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_fractions_keep_meaningful_digits() {
        assert_eq!(wt(58.21), "58.2");
        assert_eq!(wt(1.804), "1.80");
        assert_eq!(wt(0.0812), "0.081");
        assert_eq!(wt(0.00512), "0.0051");
        assert_eq!(wt(f64::NAN), "—");
    }
}
