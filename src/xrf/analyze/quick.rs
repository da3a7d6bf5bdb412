//! What only the quick analysis (the triage) does: channel binning, a fit range ending
//! below the tube's scattered lines, families buried under dominant lines, and the
//! families it leaves undecided ([`crate::xrf::XrfAnalysis::unconfirmed`]).

use super::*;

/// `region` ended above its highest fluorescence peak: above the last line the spectrum
/// holds the continuum, the tube's scattered lines and pile-up sums, and nothing a
/// screening fit needs. Scattered tube lines (Rayleigh at the line, Compton down to ~8 %
/// below it) and sums of two peaks each ten times stronger do not count as
/// fluorescence peaks, and when the fluorescence ends below the tube's lines the fit
/// stops at the foot of their Compton peaks: an honest iron ore under a 50 kV Rh tube
/// is fitted to 18 keV instead of past its Rh Kβ + Fe Kα pile-up (29 keV). Y K, Zr K,
/// Th L and U L, which trace levels leave below 6σ, all lie below; a rare earth's K
/// lines (La Kα 33 keV), when they show, lie above the tube's lines and keep the range
/// going past them.
pub(super) fn quick_range(
    region: Region,
    peaks: &[Peak],
    exc: &ExcitationInfo,
    th: &XrfThresholds,
) -> Region {
    let cal = region.calibration;
    let strong: Vec<(f64, f64)> = peaks
        .iter()
        .filter(|p| p.significance >= th.quick_end_min_sigma)
        .map(|p| (cal.energy_kev(p.channel), p.area))
        .collect();
    let tube_lines: Vec<f64> = exc.setup.excitation.lines.iter().map(|l| l.0).collect();
    let scattered = |e: f64| {
        tube_lines
            .iter()
            .any(|&t| e > th.compton_low * t - 0.1 && e < t + 0.15)
    };
    let pile_up = |(e, area): (f64, f64)| {
        let parents: Vec<f64> = strong
            .iter()
            .filter(|p| p.1 >= 10.0 * area)
            .map(|p| p.0)
            .collect();
        parents
            .iter()
            .any(|a| parents.iter().any(|b| (a + b - e).abs() < 0.1))
    };
    let Some(top) = strong
        .iter()
        .copied()
        .filter(|&(e, _)| !scattered(e))
        .filter(|&p| !pile_up(p))
        .map(|p| p.0)
        .reduce(f64::max)
    else {
        return region;
    };
    let step_up = |e: f64, step: f64| (e / step).ceil() * step;
    // the lowest tube line above the fluorescence: stop at the foot of its Compton
    // peak, but not within a FWHM or so of the last fluorescence line
    let end_kev = match tube_lines
        .iter()
        .copied()
        .filter(|&t| t > top)
        .reduce(f64::min)
    {
        Some(t) => (th.compton_low * t - 0.3).max(step_up(top + 0.8, 0.5)),
        None => step_up(top + th.quick_end_margin_kev, th.quick_end_step_kev),
    };
    let last = cal.channel(end_kev).floor().max(0.0) as usize;
    let len = (last + 1)
        .saturating_sub(region.first)
        .clamp(17, region.len);
    Region { len, ..region }
}

/// Channels per quick-analysis bin of at least `bin_kev` ([`XrfThresholds::quick_bin_kev`])
/// for channels `gain_kev` wide.
pub(super) fn quick_bin_factor(gain_kev: f64, bin_kev: f64) -> usize {
    ((bin_kev / gain_kev) * (1.0 + 1e-9)).floor().max(1.0) as usize
}

/// `spectrum` with every `m` adjacent channels summed (mk … mk + m − 1 → k, trailing
/// channels that fill no bin dropped) when its channels are finer than
/// `bin_kev`; the calibration is that of the bin centres.
pub(super) fn binned_channels(spectrum: &Spectrum, bin_kev: f64) -> Option<Spectrum> {
    let cal = *spectrum.axis.calibration()?;
    let m = quick_bin_factor(cal.gain_kev, bin_kev);
    if m < 2 || spectrum.len() < 64 * m {
        return None;
    }
    let c = spectrum.counts_slice();
    let counts: Vec<f64> = c.chunks_exact(m).map(|p| p.iter().sum()).collect();
    // E(c) = o + g·c + q·c²; the mean of E(mk + j), j = 0 … m − 1, is
    // (o + g(m − 1)/2 + q(m − 1)(2m − 1)/6) + (gm + qm(m − 1))·k + qm²·k²
    let (o, g, q) = (cal.offset_kev, cal.gain_kev, cal.quad_kev);
    let mf = m as f64;
    let binned = crate::Calibration {
        offset_kev: o + 0.5 * g * (mf - 1.0) + q * (mf - 1.0) * (2.0 * mf - 1.0) / 6.0,
        gain_kev: g * mf + q * mf * (mf - 1.0),
        quad_kev: q * mf * mf,
    };
    Some(Spectrum {
        counts: counts.into(),
        axis: crate::spectrum::Axis::Energy(binned),
        meta: spectrum.meta.clone(),
    })
}

/// A dominant line of the quick analysis (see [`buried_families`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Dominant {
    pub(super) energy_kev: f64,
    /// Of the strongest line's counts.
    pub(super) share: f64,
    /// The element whose line it is (0: the scattered tube line).
    pub(super) z: usize,
}

/// The rare-earth, Th and U families whose principal line lies within a FWHM of a
/// burying line (Tb Lα 130 eV below and Dy Lα 95 eV above Fe Kα). Without a refined
/// line shape, what a line of 10⁶ counts leaves within a FWHM exceeds the whole family
/// at a few 0.1 wt % (the first fit of an honest iron ore holds up to ~0.4 % of Fe Kα
/// as "Tb"), so the quick analysis draws these families without their lines near the
/// dominant ones ([`Work::masked_lines`]) and measures them by their free lines (Dy Lβ2
/// and Lγ1, 0.6 and 1.4 keV above Fe Kβ), as an analyst reads an interfered element by
/// a clean line. Sets [`Work::dominant`] from the lines of the first fit; from then on
/// every family the quick analysis draws is masked the same way when a dominant line of
/// another element buries its principal line, but only these are added to the
/// candidates.
pub(super) fn buried_families(
    work: &mut Work,
    comps: &[Component],
    fit: &LinearFit,
) -> Vec<(usize, Family)> {
    let lines = fitted_lines(comps, fit);
    let top = lines.iter().map(|l| l.1).fold(0.0, f64::max);
    work.dominant = lines
        .iter()
        .filter(|l| top > 0.0 && l.1 >= work.th.dominant_share * top)
        .map(|l| Dominant {
            energy_kev: l.0,
            share: l.1 / top,
            z: l.2,
        })
        .collect();
    let buried: Vec<(usize, Family)> = LOD_ELEMENTS
        .iter()
        .filter_map(|s| element_by_symbol(s))
        .map(|d| (d.z, principal_family(d.z, work.exc.max_kev)))
        .filter(|&(z, f)| work.masked_lines(z, f) != 0)
        .collect();
    buried
}

/// What the quick analysis leaves undecided ([`crate::xrf::XrfAnalysis::unconfirmed`]): the
/// rare-earth, Th and U families its fits held at ≥ 3σ that it does not report —
/// `held` by an earlier fit (confirmed in the first, dropped by the line tests of a
/// pruning round), or kept in the final fit (`comps`, `fit`) but not reported (`a`), or
/// reported only by lines away from the principal one while the detection limit of the
/// principal line's window, which a big neighbour such as Fe Kβ beside Er Lα raises far
/// above what the joint fit resolves, is above what is reported. Each comes with the
/// mass fraction its fitted area would mean (`q`'s instrument constant and the family's
/// FP sensitivity; at least the detection limit where the fit surely holds something,
/// see [`XrfThresholds::surely_there_sigma`], or reads a buried family by its free lines alone, see
/// [`buried_families`]), the most significant once per family. Only the family
/// that detection limits are quoted for counts (L for the rare earths, see
/// [`principal_family`]): the rare earths' K lines lie among the Zr K pile-up sums.
pub(super) fn unconfirmed(
    work: &Work,
    held: &[Held],
    comps: &[Component],
    fit: &LinearFit,
    q: &Quantified,
    a: &XrfAnalysis,
) -> Vec<crate::xrf::Unconfirmed> {
    // (family, still in the final fit)
    let in_final = held_families(comps, fit, &[])
        .into_iter()
        .map(|h| (h, true));
    let mut out: Vec<(Held, bool)> = Vec::new();
    for (h, in_fit) in held.iter().map(|h| (*h, false)).chain(in_final) {
        let Some(d) = element(h.z) else { continue };
        let principal = h.family == principal_family(h.z, work.exc.max_kev);
        if !principal || !LOD_ELEMENTS.contains(&d.symbol) {
            continue;
        }
        match out
            .iter_mut()
            .find(|o| (o.0.z, o.0.family) == (h.z, h.family))
        {
            Some(o) if o.0.significance >= h.significance => {}
            Some(o) => *o = (h, in_fit),
            None => out.push((h, in_fit)),
        }
    }
    out.into_iter()
        .filter_map(|(h, in_fit)| {
            let (z, f, sig) = (h.z, h.family, h.significance);
            let symbol = element(z)?.symbol.to_string();
            // a family in the final fit, or one held far above what misfits of the
            // unrefined line shape give (honest ores: ≤ 7σ), is resolved no better than
            // the detection limit of its principal line's window (a big neighbour's
            // counts)
            let lod = detection_limit_in(work, &fit.model, z, f, q, false);
            // reported, and seen by its principal line: decided; reported only by its
            // free lines (Er Lα beside Fe Kβ), which the unrefined line shape of the
            // quick fit reads no better than the principal line's window allows:
            // undecided
            if a.element(&symbol)
                .is_some_and(|e| lod.is_none_or(|lod| e.wt_pct >= lod))
            {
                return None;
            }
            let lod = lod.unwrap_or(0.0);
            let fitted = wt_pct_of_area(h.amplitude, work.lines_of(z, f)?.sensitivity, q)?;
            // a buried family, read by its free lines alone, is resolved no better than
            // their detection limit either
            let buried = work.masked_lines(z, f) != 0;
            Some(crate::xrf::Unconfirmed {
                symbol,
                family: format!("{f:?}"),
                significance: sig,
                wt_pct: if in_fit || buried || sig >= work.th.surely_there_sigma {
                    fitted.max(lod)
                } else {
                    fitted
                },
            })
        })
        .collect()
}

/// The principal rare-earth, Th and U families of a fit held at ≥ 3σ whose line
/// clusters confirm them ([`family_is_real`]), as [`held_families`] lists them.
pub(super) fn confirmed_rare_earths(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
) -> Vec<Held> {
    let mut out = held_families(comps, fit, &[]);
    // the lines of the free-tail families (principal energy)
    let tails: Vec<f64> = comps
        .iter()
        .filter_map(|c| match &c.kind {
            Kind::Family(fl) if work.free_tail.contains(&(fl.z, fl.family)) => {
                Some(fl.principal_kev())
            }
            _ => None,
        })
        .collect();
    out.retain(|h| {
        // within a FWHM below a free-tail line the first fit (no free tail) takes the
        // tail for the family: Tb Lα 130 eV below Fe Kα
        let in_tail = tails
            .iter()
            .any(|&e| e > h.principal_kev && e - h.principal_kev < work.fwhm_kev(e));
        !in_tail
            && element(h.z).is_some_and(|d| LOD_ELEMENTS.contains(&d.symbol))
            && h.family == principal_family(h.z, work.exc.max_kev)
    });
    out.retain(|h| {
        comps.iter().enumerate().any(|(k, c)| match &c.kind {
            Kind::Family(fl) if (fl.z, fl.family) == (h.z, h.family) => family_is_real(
                &work.evidence(
                    &family_with_groups(comps, fit, k),
                    h.amplitude,
                    &fit.model,
                    fl,
                ),
                h.significance,
            ),
            _ => false,
        })
    });
    out
}
