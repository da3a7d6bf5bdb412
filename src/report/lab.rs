//! The laboratory's side of a report: who issues it, for whom, about what, when, and who
//! authorises it — the administrative items of ISO/IEC 17025:2017 §7.8.2.1 that the scan
//! files cannot tell.
//!
//! They come from the laboratory profile ([`LabProfile`], `reescan report --lab FILE`,
//! TOML) with per-report values over it ([`Particulars`], from the command line).
//! [`LabRecord::build`] turns them into the report's record and lists every required item
//! that is still missing; a report without a laboratory is an unsigned draft
//! ([`ReportStatus::Draft`]) and says so, rather than leaving blanks.
//!
//! Where each §7.8.2.1 item comes from:
//!
//! | item | content | source |
//! |------|---------|--------|
//! | (a) | title | reescan ([`REPORT_TITLE`]) |
//! | (b) | laboratory name and address | profile `[laboratory]` |
//! | (c) | location of the activities | profile `laboratory.location` or `--location`; else the laboratory's address |
//! | (d) | report id on every page, page x of y, end of report | reescan |
//! | (e) | customer name and contact | profile `[customer]` or `--customer`, `--customer-contact` |
//! | (f) | method | reescan (software, procedures, reference data, rules hash) |
//! | (g) | item: identification, description, condition | scan id and input SHA-256 (reescan); `--sample` (customer) |
//! | (h) | date of receipt | `--received` |
//! | (i) | dates of the activity | measurement: `--measured` or the files' acquisition date; analysis: the run |
//! | (j) | date of issue | the run (`--issued-at`) |
//! | (k) | sampling | profile `sampling`; else a statement that the laboratory did not sample |
//! | (l) | results relate only to the item | reescan |
//! | (m) | results with units | reescan |
//! | (n) | deviations from the method | reescan (a rules file other than the built-in one) and `--deviation` |
//! | (o) | person authorising the report | profile `[authorised_by]` or `--authoriser`, `--authoriser-role` |
//! | (p) | results from external providers | reescan: none, every result is computed from the input files |

use super::forensic::{InputFile, RulesRecord};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// Largest laboratory profile accepted, bytes (a profile is a few hundred bytes; the limit
/// keeps a wrong path — a log, a device — from being read whole).
pub const MAX_PROFILE_BYTES: u64 = 64 * 1024;

/// The report's title (§7.8.2.1 a).
pub const REPORT_TITLE: &str = "Test report: forensic screening of cargo scan data";

/// §7.8.2.1 (p) as reescan can state it.
pub const EXTERNAL_PROVIDERS: &str = "None: every result in this report was computed with \
     reescan from the input files listed under \"Inputs and chain of custody\".";

/// §7.8.2.1 (k) when the profile names no sampling procedure.
pub const NO_SAMPLING: &str = "The laboratory did not sample: the results apply to the scan \
     files as received.";

/// The laboratory issuing the report (§7.8.2.1 b, c).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Laboratory {
    /// Name of the laboratory.
    pub name: String,
    /// Postal address (may span lines).
    pub address: String,
    /// Accreditation body and number, if the laboratory holds one for this activity.
    #[serde(default)]
    pub accreditation: Option<String>,
    /// Where the activities are performed when not at the address (a checkpoint, a
    /// mobile unit).
    #[serde(default)]
    pub location: Option<String>,
}

/// The customer (§7.8.2.1 e).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Name of the customer.
    pub name: String,
    /// Contact information (address, e-mail, telephone).
    #[serde(default)]
    pub contact: Option<String>,
}

/// The person authorising the report (§7.8.2.1 o).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Authoriser {
    /// Full name.
    pub name: String,
    /// Role or function ("Head of laboratory").
    pub role: String,
}

/// The laboratory profile (`reescan report --lab FILE`): what stays the same from one
/// report to the next. See `data/lab.example.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabProfile {
    /// The laboratory.
    pub laboratory: Laboratory,
    /// A standing customer (an agency the laboratory works for).
    #[serde(default)]
    pub customer: Option<Customer>,
    /// The usual signatory.
    #[serde(default)]
    pub authorised_by: Option<Authoriser>,
    /// The sampling plan and method, where the laboratory's reports rest on one.
    #[serde(default)]
    pub sampling: Option<String>,
}

impl LabProfile {
    /// Parse a profile; every text field must hold something.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the key and line (TOML syntax, unknown or missing keys,
    /// empty values).
    pub fn from_toml(text: &str) -> Result<LabProfile> {
        let profile: LabProfile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = e.message().trim().to_string();
            Error::parse(
                "lab profile",
                match line {
                    Some(l) => format!("{message} (line {l})"),
                    None => message,
                },
            )
        })?;
        profile.validate()?;
        Ok(profile)
    }

    /// Read a profile from a regular file of at most [`MAX_PROFILE_BYTES`].
    ///
    /// # Errors
    /// Not a regular file, too large, unreadable, not UTF-8, or invalid; the path is
    /// attached.
    pub fn from_path(path: &Path) -> Result<LabProfile> {
        let in_file = |e: Error| e.in_file(path);
        let meta = std::fs::metadata(path).map_err(|e| in_file(Error::Io(e)))?;
        if !meta.is_file() {
            return Err(in_file(Error::Invalid {
                what: "lab profile",
                message: "not a regular file".into(),
            }));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PROFILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| in_file(Error::Io(e)))?;
        if bytes.len() as u64 > MAX_PROFILE_BYTES {
            return Err(in_file(Error::Invalid {
                what: "lab profile",
                message: format!("larger than {MAX_PROFILE_BYTES} bytes"),
            }));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| in_file(Error::parse("lab profile", "not UTF-8 text")))?;
        LabProfile::from_toml(&text).map_err(in_file)
    }

    fn validate(&self) -> Result<()> {
        let l = &self.laboratory;
        let mut fields: Vec<(&str, Option<&str>)> = vec![
            ("laboratory.name", Some(&l.name)),
            ("laboratory.address", Some(&l.address)),
            ("laboratory.accreditation", l.accreditation.as_deref()),
            ("laboratory.location", l.location.as_deref()),
            ("sampling", self.sampling.as_deref()),
        ];
        if let Some(c) = &self.customer {
            fields.push(("customer.name", Some(&c.name)));
            fields.push(("customer.contact", c.contact.as_deref()));
        }
        if let Some(a) = &self.authorised_by {
            fields.push(("authorised_by.name", Some(&a.name)));
            fields.push(("authorised_by.role", Some(&a.role)));
        }
        match fields
            .into_iter()
            .find(|(_, v)| v.is_some_and(|v| v.trim().is_empty()))
        {
            Some((key, _)) => Err(Error::parse(
                "lab profile",
                format!("{key} is empty (fill it in or remove the key)"),
            )),
            None => Ok(()),
        }
    }
}

/// The §7.8.2.1 particulars of one report: the profile's values with the per-report ones
/// (command-line flags) over them. `Default` is a report with no laboratory: a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Particulars {
    /// The laboratory (from the profile).
    pub laboratory: Option<Laboratory>,
    /// The customer.
    pub customer: Option<Customer>,
    /// The person authorising the report.
    pub authorised_by: Option<Authoriser>,
    /// Where the activities were performed, when not at the laboratory's address.
    pub location: Option<String>,
    /// The item as the customer describes it.
    pub sample_description: Option<String>,
    /// Date the item (the scan files) was received.
    pub received: Option<NaiveDate>,
    /// Date of the measurement, when the files do not record it (or record it wrongly).
    pub measured: Option<NaiveDate>,
    /// Sampling plan and method.
    pub sampling: Option<String>,
    /// Additions to, deviations from or exclusions from the method.
    pub deviations: Vec<String>,
}

impl Particulars {
    /// The profile's values; flags then override fields one by one.
    pub fn from_profile(p: LabProfile) -> Particulars {
        Particulars {
            location: p.laboratory.location.clone(),
            laboratory: Some(p.laboratory),
            customer: p.customer,
            authorised_by: p.authorised_by,
            sampling: p.sampling,
            ..Particulars::default()
        }
    }
}

/// How far the report is from one a laboratory can sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// No laboratory profile: an unsigned draft, not a laboratory report.
    Draft,
    /// A laboratory, but some required §7.8.2.1 item is missing ([`LabRecord::missing`]).
    Incomplete,
    /// Every §7.8.2.1 item reescan knows of is filled; ready for the authorising
    /// person's signature.
    ForAuthorisation,
}

impl ReportStatus {
    /// The notice a report in this state carries (none when ready for signature).
    pub fn notice(self) -> Option<&'static str> {
        match self {
            ReportStatus::Draft => Some(
                "UNSIGNED DRAFT: not an accredited laboratory report. No laboratory profile \
                 (--lab) was given, so the laboratory, the customer and the person authorising \
                 the report are not stated.",
            ),
            ReportStatus::Incomplete => Some(
                "INCOMPLETE: not to be signed. Items that ISO/IEC 17025 §7.8.2.1 requires are \
                 missing:",
            ),
            ReportStatus::ForAuthorisation => None,
        }
    }

    /// Short form for running headers.
    pub fn short(self) -> &'static str {
        match self {
            ReportStatus::Draft => "UNSIGNED DRAFT: not an accredited laboratory report",
            ReportStatus::Incomplete => "INCOMPLETE: not to be signed",
            ReportStatus::ForAuthorisation => "",
        }
    }
}

/// The §7.8.2.1 items of the record (the JSON `lab` object; the HTML shows them in the
/// identity table and the closing sections).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabRecord {
    /// Draft, incomplete or ready for authorisation.
    pub status: ReportStatus,
    /// (a) Title.
    pub title: String,
    /// (b) The laboratory.
    pub laboratory: Option<Laboratory>,
    /// (c) Where the activities were performed.
    pub location: Option<String>,
    /// (e) The customer.
    pub customer: Option<Customer>,
    /// (h) Date of receipt, YYYY-MM-DD.
    pub received: Option<String>,
    /// (i) Date of measurement: `--measured` (YYYY-MM-DD) or as the files record it.
    pub measured: Option<String>,
    /// (i) Date of the analysis (this run), YYYY-MM-DD UTC.
    pub analysed: String,
    /// (k) Sampling.
    pub sampling: String,
    /// (n) Deviations from the method; empty when none.
    pub deviations: Vec<String>,
    /// (o) Person authorising the report.
    pub authorised_by: Option<Authoriser>,
    /// (p) Results from external providers.
    pub external_providers: String,
    /// Required items not filled, as "(e) customer contact".
    pub missing: Vec<String>,
}

impl LabRecord {
    /// The record for a report issued at `issued` on `inputs`, decided with `rules`.
    pub fn build(
        p: &Particulars,
        inputs: &[InputFile],
        rules: &RulesRecord,
        issued: &DateTime<Utc>,
    ) -> LabRecord {
        let mut missing = Vec::new();
        if p.laboratory.is_none() {
            missing.push("(b) laboratory name and address".to_string());
        }
        match &p.customer {
            None => missing.push("(e) customer".into()),
            Some(c) if c.contact.is_none() => missing.push("(e) customer contact".into()),
            Some(_) => {}
        }
        if p.received.is_none() {
            missing.push("(h) date of receipt".into());
        }
        if p.authorised_by.is_none() {
            missing.push("(o) person authorising the report".into());
        }
        let status = if p.laboratory.is_none() {
            ReportStatus::Draft
        } else if missing.is_empty() {
            ReportStatus::ForAuthorisation
        } else {
            ReportStatus::Incomplete
        };
        let measured = p.measured.map(|d| d.to_string()).or_else(|| {
            let recorded: Vec<String> = inputs
                .iter()
                .filter_map(|i| {
                    let at = i.metadata.as_ref()?.acquired.as_deref()?.trim();
                    (!at.is_empty()).then(|| format!("{}: {at}", i.technique))
                })
                .collect();
            (!recorded.is_empty()).then(|| recorded.join("; "))
        });
        let mut deviations = Vec::new();
        if !rules.source.starts_with("built-in") {
            deviations.push(format!(
                "Screening rules from {} in place of the built-in data/rules.toml.",
                rules.source
            ));
        }
        deviations.extend(p.deviations.iter().cloned());
        LabRecord {
            status,
            title: REPORT_TITLE.into(),
            location: p.location.clone(),
            laboratory: p.laboratory.clone(),
            customer: p.customer.clone(),
            received: p.received.map(|d| d.to_string()),
            measured,
            analysed: issued.date_naive().to_string(),
            sampling: p.sampling.clone().unwrap_or_else(|| NO_SAMPLING.into()),
            deviations,
            authorised_by: p.authorised_by.clone(),
            external_providers: EXTERNAL_PROVIDERS.into(),
            missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = r#"
sampling = "Customs sampling plan CSP-7"

[laboratory]
name = "Border Materials Lab"
address = "1 Quay Road\nPort Town"

[customer]
name = "Customs Agency"
contact = "lab-requests@customs.example"

[authorised_by]
name = "Dr A. Example"
role = "Head of laboratory"
"#;

    fn rules() -> RulesRecord {
        RulesRecord {
            source: "built-in data/rules.toml (rules format 1)".into(),
            sha256: "0".repeat(64),
        }
    }

    fn issued() -> DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_full_profile_with_a_receipt_date_is_ready_for_authorisation() {
        let mut p = Particulars::from_profile(LabProfile::from_toml(PROFILE).unwrap());
        p.received = NaiveDate::from_ymd_opt(2026, 11, 20);
        let r = LabRecord::build(&p, &[], &rules(), &issued());
        assert_eq!(r.status, ReportStatus::ForAuthorisation, "{:?}", r.missing);
        assert!(r.missing.is_empty());
        assert_eq!(r.laboratory.unwrap().address, "1 Quay Road\nPort Town");
        assert_eq!(r.received.as_deref(), Some("2026-11-20"));
        assert_eq!(r.analysed, "2026-11-23");
        assert_eq!(r.sampling, "Customs sampling plan CSP-7");
        assert!(r.deviations.is_empty());
    }

    #[test]
    fn without_a_profile_the_report_is_a_draft_listing_what_is_missing() {
        let r = LabRecord::build(&Particulars::default(), &[], &rules(), &issued());
        assert_eq!(r.status, ReportStatus::Draft);
        assert_eq!(
            r.missing,
            [
                "(b) laboratory name and address",
                "(e) customer",
                "(h) date of receipt",
                "(o) person authorising the report"
            ]
        );
        assert_eq!(r.sampling, NO_SAMPLING);
    }

    #[test]
    fn a_profile_without_a_receipt_date_is_incomplete() {
        let p = Particulars::from_profile(LabProfile::from_toml(PROFILE).unwrap());
        let r = LabRecord::build(&p, &[], &rules(), &issued());
        assert_eq!(r.status, ReportStatus::Incomplete);
        assert_eq!(r.missing, ["(h) date of receipt"]);
    }

    #[test]
    fn a_rules_file_is_a_deviation_from_the_method() {
        let mut p = Particulars::default();
        p.deviations
            .push("Tube voltage given by the operator".into());
        let custom = RulesRecord {
            source: "site.toml (rules format 1)".into(),
            sha256: "1".repeat(64),
        };
        let r = LabRecord::build(&p, &[], &custom, &issued());
        assert_eq!(r.deviations.len(), 2);
        assert!(r.deviations[0].contains("site.toml"), "{:?}", r.deviations);
        assert_eq!(r.deviations[1], "Tube voltage given by the operator");
    }

    #[test]
    fn the_measurement_date_comes_from_the_files_unless_given() {
        let file = |technique: &str, acquired: Option<&str>| InputFile {
            technique: technique.into(),
            file: "f".into(),
            sha256: "0".repeat(64),
            size_bytes: None,
            metadata: Some(crate::Metadata {
                acquired: acquired.map(str::to_string),
                ..Default::default()
            }),
        };
        let inputs = [file("XRF", Some("12-NOV-2026 09:14")), file("XRD", None)];
        let mut p = Particulars::default();
        let r = LabRecord::build(&p, &inputs, &rules(), &issued());
        assert_eq!(r.measured.as_deref(), Some("XRF: 12-NOV-2026 09:14"));
        p.measured = NaiveDate::from_ymd_opt(2026, 11, 13);
        let r = LabRecord::build(&p, &inputs, &rules(), &issued());
        assert_eq!(r.measured.as_deref(), Some("2026-11-13"));
        let r = LabRecord::build(&p, &[], &rules(), &issued());
        assert_eq!(r.measured.as_deref(), Some("2026-11-13"));
    }

    #[test]
    fn profile_errors_name_the_key() {
        let typo = PROFILE.replace("role =", "rolle =");
        let e = LabProfile::from_toml(&typo).unwrap_err().to_string();
        assert!(
            e.contains("unknown field `rolle`") && e.contains("line 14"),
            "{e}"
        );
        let empty = PROFILE.replace("Border Materials Lab", " ");
        let e = LabProfile::from_toml(&empty).unwrap_err().to_string();
        assert!(e.contains("laboratory.name is empty"), "{e}");
        let e = LabProfile::from_toml("[customer]\nname = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("laboratory"), "{e}");
    }

    #[test]
    fn only_a_small_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let e = LabProfile::from_path(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_PROFILE_BYTES as usize + 1]).unwrap();
        let e = LabProfile::from_path(&big).unwrap_err().to_string();
        assert!(e.contains("larger than"), "{e}");
        let ok = dir.path().join("lab.toml");
        std::fs::write(&ok, PROFILE).unwrap();
        assert_eq!(
            LabProfile::from_path(&ok).unwrap().laboratory.name,
            "Border Materials Lab"
        );
    }
}
