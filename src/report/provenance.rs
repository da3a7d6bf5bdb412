//! Where the report's inputs come from: the input files as received, the rules file and
//! its hash, the reference data versions, and the declared commodity's limits that the
//! decision rule is applied to.

use super::forensic::{InputFile, Limit, ReferenceData, RulesRecord};
use crate::screen::conformity;
use crate::screen::rules::{Rules, DEFAULT_RULES_TOML};
use crate::screen::ScreeningResult;
use crate::tables::is_rare_earth;
use crate::{Error, Result, Spectrum};
use std::path::Path;

/// The record of an input file: its hash, size and the metadata its reader found.
pub fn input_file(technique: &str, path: &Path, spectrum: &Spectrum) -> InputFile {
    InputFile {
        technique: technique.into(),
        file: path.display().to_string(),
        sha256: spectrum.meta.sha256.clone(),
        size_bytes: std::fs::metadata(path).ok().map(|m| m.len()),
        metadata: Some(spectrum.meta.clone()),
    }
}

/// The rules used: the built-in `data/rules.toml` or the `--rules` file, with the SHA-256
/// of its text.
///
/// # Errors
/// The `--rules` file cannot be read.
pub fn rules_record(rules_path: Option<&Path>, rules: &Rules) -> Result<RulesRecord> {
    Ok(match rules_path {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| Error::Io(e).in_file(p))?;
            RulesRecord {
                source: format!("{} (rules format {})", p.display(), rules.version),
                sha256: crate::formats::sha256_hex(&bytes),
            }
        }
        None => RulesRecord {
            source: format!("built-in data/rules.toml (rules format {})", rules.version),
            sha256: crate::formats::sha256_hex(DEFAULT_RULES_TOML.as_bytes()),
        },
    })
}

/// The `--instrument` file as a reference of the method: its path and content hash, and
/// what it set (excitation, detector side).
///
/// # Errors
/// Unreadable or invalid instrument file.
pub fn instrument_reference(path: &Path) -> Result<ReferenceData> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Io(e).in_file(path))?;
    let i = crate::xrf::instrument::Instrument::parse(path, &text)?;
    let mut set = Vec::new();
    if let Some(t) = &i.tube {
        let filter = t
            .filter
            .as_ref()
            .map_or(String::new(), |(el, um)| format!(", {um} µm {el} filter"));
        set.push(format!(
            "{} tube at {} kV, {} µm Be window{filter}",
            t.anode, t.kv, t.window_be_um
        ));
    }
    if let Some(e) = i.beam_kev {
        set.push(format!("{e} keV monochromatic beam"));
    }
    if let Some(d) = i.detector {
        set.push(format!(
            "detector behind {} µm Be and {} mm air, {} µm Si",
            d.be_um, d.air_mm, d.si_um
        ));
    }
    Ok(ReferenceData {
        name: format!("Instrument description ({})", path.display()),
        version: format!(
            "content sha256 {}",
            &crate::formats::sha256_hex(text.as_bytes())[..16]
        ),
        source: format!("user file (--instrument): {}", set.join("; ")),
    })
}

/// The XRD phase library as loaded (embedded CIFs plus any `--phases DIR`), with a content
/// fingerprint: SHA-256 over each phase's name, density, RIR and reflection list, so that
/// any change to a structure changes the version.
///
/// # Errors
/// A `--phases` CIF that does not parse.
pub fn phase_library_reference(extra_dir: Option<&Path>) -> Result<ReferenceData> {
    let lib = crate::xrd::library::with_extra(extra_dir)?;
    let mut names: Vec<&str> = lib.names();
    names.sort_unstable();
    let mut text = String::new();
    let mut user = 0;
    for name in &names {
        let Some(p) = lib.get(name) else { continue };
        user += usize::from(!p.builtin);
        text.push_str(&format!("{}|{:.6}|{:.6}|", p.name, p.density_g_cm3, p.rir));
        for r in &p.reflections {
            text.push_str(&format!("{r:?};"));
        }
        text.push('\n');
    }
    let hash = crate::formats::sha256_hex(text.as_bytes());
    let user_note = match extra_dir {
        Some(d) => format!("; {user} user CIFs from {}", d.display()),
        None => String::new(),
    };
    Ok(ReferenceData {
        name: format!("XRD reference phases ({} phases{user_note})", names.len()),
        version: format!("content sha256 {}", &hash[..16]),
        source: "CIF structures embedded from data/xrd/ — AMCSD entries with their papers, COD \
                 ids, hand-built cells from the literature (data/xrd/SOURCES.md); patterns \
                 computed by reescan (Cu Kα1 RIR vs corundum)"
            .into(),
    })
}

/// The limits of the declared commodity that apply to what XRF found: each detected rare
/// earth against its legitimate level (`ree_allow`), and the rare earths in excess of
/// their levels summed against their summed levels plus the INSPECT and HOLD excess
/// limits: the quantity and limits the verdict is decided on
/// ([`crate::screen::conformity::ReeDecision`]).
pub fn commodity_limits(rules: &Rules, declared: &str, r: &ScreeningResult) -> Vec<Limit> {
    let (Ok((name, commodity)), Some(x)) = (rules.commodity(declared), r.xrf.as_ref()) else {
        return Vec::new();
    };
    // The variant of the commodity whose allowances the verdict applied.
    let recognition = conformity::recognise(rules, declared, commodity, Some(x), r.xrd.as_ref());
    let variant = recognition.as_ref().and_then(|v| v.variant);
    let applied = recognition.as_ref().map(|v| v.applied(commodity));
    let c = applied.as_ref().unwrap_or(commodity);
    let mut limits: Vec<Limit> = x
        .elements
        .iter()
        .map(|e| e.symbol.as_str())
        .filter(|s| is_rare_earth(s) && conformity::detected(rules, x, s))
        .map(|s| {
            let key = if let Some((i, _)) = variant.filter(|(_, v)| v.ree_allow.contains_key(s)) {
                format!("commodity.{name}.variant[{i}].ree_allow.{s}")
            } else if c.ree_allow.contains_key(s) {
                format!("commodity.{name}.ree_allow.{s}")
            } else {
                format!("commodity.{name}.ree_allow_other")
            };
            Limit {
                quantity: format!("{s} (legitimate level in {})", c.description),
                symbols: vec![s.to_string()],
                limit_wt_pct: c.ree_allowance(s),
                source: format!("rules: {key}"),
            }
        })
        .collect();
    let d = conformity::ReeDecision::of(rules, c, x);
    let symbols = &d.quantity.symbols;
    if !symbols.is_empty() {
        for (level, limit, key) in [
            ("INSPECT", d.inspect_limit_wt_pct, "ree_inspect_wt_pct"),
            ("HOLD", d.hold_limit_wt_pct, "ree_hold_wt_pct"),
        ] {
            limits.push(Limit {
                quantity: format!(
                    "Σ {} (the rare earths above their legitimate levels; {level} limit)",
                    symbols.join("+")
                ),
                symbols: symbols.clone(),
                limit_wt_pct: limit,
                source: format!("rules: Σ ree_allow + commodity.{name}.{key}"),
            });
        }
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_are_hashed_from_their_text() {
        let r = rules_record(None, Rules::builtin()).unwrap();
        assert_eq!(r.sha256.len(), 64);
        assert!(r.source.starts_with("built-in"));
    }

    /// The report's Σ rows are the verdict's rare-earth decision: the same elements, the
    /// same sum, the same limits, the same rule (`screen::conformity`).
    #[test]
    fn the_report_decides_on_the_quantity_the_verdict_is_decided_on() {
        use crate::screen::conformity::Outcome;
        use crate::screen::{Input, Screener, Verdict};
        let rules = Rules::builtin();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let screener = Screener::new(std::sync::Arc::new(rules.clone()), date);
        let k = rules.decision.coverage_k;
        for (id, declared, verdict) in [
            ("S001", "iron-ore", Verdict::Clear),
            ("S003", "iron-ore", Verdict::Hold),
            ("S004", "zirconium", Verdict::Clear),
            ("S008", "ceramics", Verdict::Hold),
        ] {
            let path =
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("spectra/synthetic/{id}.msa"));
            let input = Input {
                path: &path,
                shown: id,
            };
            let r = screener.screen(id, declared, Some(input), None).unwrap();
            assert_eq!(r.verdict, verdict, "{id}: {:?}", r.reasons);
            let (_, c) = rules.commodity(declared).unwrap();
            let c = conformity::recognise(rules, declared, c, r.xrf.as_ref(), r.xrd.as_ref())
                .map_or_else(|| c.clone(), |v| v.applied(c));
            let d = conformity::ReeDecision::of(rules, &c, r.xrf.as_ref().unwrap());
            let limits = commodity_limits(rules, declared, &r);
            let sums: Vec<&Limit> = limits
                .iter()
                .filter(|l| l.quantity.starts_with('Σ'))
                .collect();
            if d.quantity.symbols.is_empty() {
                assert!(sums.is_empty(), "{id}");
                continue;
            }
            assert_eq!(sums.len(), 2);
            for l in sums {
                assert_eq!(l.symbols, d.quantity.symbols, "{id}");
                let q = conformity::measure(r.xrf.as_ref().unwrap(), &l.symbols);
                assert_eq!(q, d.quantity);
                let hold = l.limit_wt_pct == d.hold_limit_wt_pct;
                let above = q.against(l.limit_wt_pct, k) == Outcome::AboveLimit;
                if hold {
                    assert_eq!(above, r.verdict == Verdict::Hold, "{id}");
                }
            }
        }
    }

    #[test]
    fn phase_library_has_a_stable_fingerprint() {
        let a = phase_library_reference(None).unwrap();
        let b = phase_library_reference(None).unwrap();
        assert_eq!(a, b);
        assert!(a.name.contains("phases"), "{}", a.name);
    }
}
