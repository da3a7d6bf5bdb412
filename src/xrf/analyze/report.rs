//! The result ([`crate::xrf::XrfAnalysis`]) built from the final fit and quantification:
//! peaks, artefacts, elements, elements not detected and the fit curves.

use super::*;

pub(super) fn short_label(label: &str) -> String {
    let base: String = label
        .split(',')
        .next()
        .unwrap_or(label)
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string();
    base
}

pub(super) fn report(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
    quant: &[(usize, Measured)],
    q: &Quantified,
    spectrum: &Spectrum,
) -> XrfAnalysis {
    let model = &fit.model;
    let cont = continuum(work, comps, fit);
    let cal = work.region.calibration;
    let mut peaks = Vec::new();
    let mut artefacts = Vec::new();
    let mut elements = Vec::new();
    let mut not_detected = Vec::new();
    for (k, c) in comps.iter().enumerate() {
        let a = fit.amplitudes[k];
        let s = fit.sigmas[k];
        match &c.kind {
            Kind::Family(fl) if a > 0.0 => {
                if fl.z == ARGON && s > 0.0 && a > 3.0 * s {
                    artefacts.push(Artefact {
                        energy_kev: fl.principal_kev(),
                        kind: "air".into(),
                        parent: "Ar in the air path".into(),
                    });
                }
                for (e, r) in fl
                    .clusters(0.5 * work.fwhm_kev(fl.principal_kev()))
                    .into_iter()
                    .take(3)
                {
                    let label = fl
                        .lines
                        .iter()
                        .filter(|l| (l.1 - e).abs() < 0.5 * work.fwhm_kev(e))
                        .max_by(|x, y| x.2.total_cmp(&y.2))
                        .map_or(String::new(), |l| short_label(l.0));
                    peaks.push(FittedPeak {
                        energy_kev: e,
                        area: a * r,
                        sigma: s * r,
                        fwhm_kev: work.fwhm_kev(e),
                        label: format!("{} {}", fl.symbol, label),
                    });
                    // labelled when it would be detected: counts above 3√N of all
                    // the model holds within ±1 FWHM of the escape energy (continuum
                    // and the flanks of nearby lines)
                    let f = crate::xrf::model::si_escape().fraction(e);
                    let b: f64 = work
                        .window(e - SI_KA_KEV, 1.0)
                        .map(|i| model[i].max(0.0))
                        .sum();
                    if a * r * f > 3.0 * b.max(1.0).sqrt() && e - SI_KA_KEV > work.lo_kev() {
                        artefacts.push(Artefact {
                            energy_kev: e - SI_KA_KEV,
                            kind: "escape".into(),
                            parent: format!("{} {}", fl.symbol, label),
                        });
                    }
                }
            }
            Kind::Rayleigh(lines) if a > 0.0 => {
                for &(e, _) in lines.iter().take(1) {
                    if e <= work.hi_kev() {
                        artefacts.push(Artefact {
                            energy_kev: e,
                            kind: "rayleigh".into(),
                            parent: format!("{} {e:.2} keV", work.exc.source),
                        });
                    }
                }
            }
            Kind::Compton if a > 0.0 && s > 0.0 && a > 3.0 * s => {
                if let Some(&(e, _)) = work.exc.setup.excitation.lines.first() {
                    let ec = crate::xrf::physics::compton_energy(e, 90.0);
                    if !artefacts.iter().any(|x: &Artefact| x.kind == "compton")
                        && ec <= work.hi_kev()
                    {
                        artefacts.push(Artefact {
                            energy_kev: ec,
                            kind: "compton".into(),
                            parent: format!("{} {e:.2} keV", work.exc.source),
                        });
                    }
                }
            }
            Kind::PileUp(lines) if a > 0.0 && s > 0.0 && a > 3.0 * s => {
                // the three strongest resolved lines (Kα1/Kα2 count once); their sums
                // that carry ≥ 5 % of the strongest sum, one label per resolved sum
                let mut strong = lines.clone();
                strong.sort_by(|x, y| y.1.total_cmp(&x.1));
                let mut picks: Vec<(f64, f64)> = Vec::new();
                for l in &strong {
                    if picks.len() < 3
                        && picks.iter().all(|p| (p.0 - l.0).abs() > work.fwhm_kev(l.0))
                    {
                        picks.push(*l);
                    }
                }
                let top = picks.first().map_or(0.0, |p| p.1 * p.1);
                let mut sums: Vec<f64> = Vec::new();
                for (i, x) in picks.iter().enumerate() {
                    for y in picks.iter().skip(i) {
                        let e = x.0 + y.0;
                        let resolved = sums.iter().all(|s| (s - e).abs() > work.fwhm_kev(e));
                        if e <= work.hi_kev() && x.1 * y.1 >= 0.05 * top && resolved {
                            sums.push(e);
                            artefacts.push(Artefact {
                                energy_kev: e,
                                kind: "pileup".into(),
                                parent: format!("{:.2}+{:.2} keV", x.0, y.0),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (sym, c, sc) in &q.elements {
        let Some((k, m)) = quant.iter().find(|(_, m)| &m.symbol == sym) else {
            continue;
        };
        let Kind::Family(fl) = &comps[*k].kind else {
            continue;
        };
        let z = fl.z;
        let lod = detection_limit(work, model, z, m.family, q).unwrap_or(0.0);
        // below the 3σ detection limit an element is not reported as present
        if 100.0 * c < lod {
            if LOD_ELEMENTS.contains(&sym.as_str()) {
                not_detected.push(NotDetected {
                    symbol: sym.clone(),
                    lod_wt_pct: lod,
                });
            }
            continue;
        }
        let lines = fl
            .lines
            .iter()
            .filter(|l| l.2 >= 0.05)
            .map(|l| l.0.to_string())
            .collect();
        elements.push(ElementResult {
            symbol: sym.clone(),
            wt_pct: 100.0 * c,
            sigma_wt_pct: 100.0 * sc,
            lod_wt_pct: lod,
            excitation_sigma_wt_pct: 0.0,
            lines,
        });
    }
    elements.sort_by(|a, b| b.wt_pct.total_cmp(&a.wt_pct));
    for sym in LOD_ELEMENTS {
        if elements.iter().any(|e| e.symbol == sym) || not_detected.iter().any(|e| e.symbol == sym)
        {
            continue;
        }
        let Some(d) = element_by_symbol(sym) else {
            continue;
        };
        let f = principal_family(d.z, work.exc.max_kev);
        if let Some(lod) = detection_limit(work, model, d.z, f, q) {
            not_detected.push(NotDetected {
                symbol: sym.to_string(),
                lod_wt_pct: lod,
            });
        }
    }
    let energy: Vec<f64> = (0..work.region.len)
        .map(|i| cal.energy_kev((work.region.first + i) as f64))
        .collect();
    let mut analysis = XrfAnalysis {
        file: spectrum
            .meta
            .source_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        sha256: spectrum.meta.sha256.clone(),
        live_time_s: spectrum.meta.live_time_s,
        tube_kv: work.exc.kv,
        excitation: work.exc.describe(),
        excitation_basis: work.exc.basis,
        calibration: CalibrationReport {
            offset_kev: cal.offset_kev,
            gain_kev: cal.gain_kev,
            fwhm_mn_ka_ev: 1000.0 * work.region.detector.fwhm_kev(5.895),
        },
        peaks,
        artefacts,
        elements,
        not_detected,
        reduced_chi2: fit.reduced_chi2,
        fit_channels: (work.region.first, work.region.first + work.region.len - 1),
        energy_range_kev: (
            cal.energy_kev(0.0),
            cal.energy_kev(spectrum.len().saturating_sub(1) as f64),
        ),
        total_counts: spectrum.counts_slice().iter().sum(),
        fit_mean_counts: work.y().iter().sum::<f64>() / work.y().len().max(1) as f64,
        curves: FitCurves {
            energy_kev: energy,
            counts: work.y().to_vec(),
            background: cont,
            model: model.to_vec(),
        },
        unconfirmed: Vec::new(),
        notes: spectrum.meta.notes.clone(),
    };
    work.exc.qualify(&mut analysis);
    analysis
}
