//! The joint non-negative linear fit of continuum corrections, scatter, pile-up and
//! element families, and what is read off it (strong lines, strongest families).

use super::*;

impl Work<'_> {
    /// Joint fit of `comps` on the continuum (the fit's fixed part, so its `model` is
    /// continuum + Σ aₖtₖ over the region's channels).
    pub(super) fn fit(&self, comps: &[Component]) -> Option<LinearFit> {
        let templates: Vec<Template> = comps.iter().map(|c| c.template.clone()).collect();
        // the buffers of this thread's last fitter serve the next fit (no allocation)
        thread_local! {
            static SPARE: std::cell::RefCell<Option<LinearFitter>> = const { std::cell::RefCell::new(None) };
        }
        let n = self.region.len;
        let mut f = match SPARE.with(|s| s.borrow_mut().take()) {
            Some(old) => old.recycle(n, templates),
            None => LinearFitter::new(n, templates),
        }
        .ok()?;
        // start from the components that were positive in the previous fit (the fits of
        // one analysis share most components): same optimum, fewer NNLS steps
        let keys = component_keys(comps);
        let stage = self.fits_done.get();
        if self.plan.carry_fit_starts {
            self.start_where_the_last_scan_ended(stage);
        }
        {
            let last = self.last_positive.borrow();
            if !last.is_empty() {
                let start: Vec<bool> = keys
                    .iter()
                    .map(|k| last.get(k).copied().unwrap_or(true))
                    .collect();
                f.start_from(&start);
            }
        }
        // the 1σ are all the identification and quantification use
        let opts = LinearOptions {
            covariance: false,
            ..LinearOptions::default()
        };
        let fit = f
            .fit_with_memo(
                self.y(),
                Some(self.bg()),
                &opts,
                &mut self.gram_memo.borrow_mut(),
            )
            .ok()?;
        *self.last_positive.borrow_mut() = keys
            .into_iter()
            .zip(&fit.amplitudes)
            .map(|(k, a)| (k, *a > 0.0))
            .collect();
        if self.plan.carry_fit_starts {
            let mut cache = self.lines_cache.borrow_mut();
            if cache.fit_positive.len() <= stage {
                cache.fit_positive.resize_with(stage + 1, Default::default);
            }
            cache.fit_positive[stage].clone_from(&self.last_positive.borrow());
        }
        self.fits_done.set(stage + 1);
        SPARE.with(|s| *s.borrow_mut() = Some(f));
        Some(fit)
    }

    /// The quick analysis's NNLS start for fit number `stage`: what the previous fit of
    /// this scan left positive, overridden where the same fit of the instrument's last
    /// scan (the library's record) knows the component. Scans of one instrument and
    /// commodity end their fits with nearly the same passive sets, so the NNLS needs a
    /// few steps instead of one per component that changes sign; the optimum and its
    /// bits are the same from any start (see [`LinearFitter::start_from`]).
    pub(super) fn start_where_the_last_scan_ended(&self, stage: usize) {
        let cache = self.lines_cache.borrow();
        let Some(known) = cache.fit_positive.get(stage) else {
            return;
        };
        let mut last = self.last_positive.borrow_mut();
        last.extend(known.iter().map(|(k, v)| (*k, *v)));
    }
}

/// Joint fit of the scatter, pile-up and the given families; returns the components
/// and the fit.
pub(super) fn fit_families(
    work: &Work,
    fams: &[(usize, Family)],
    pileup: Option<&[(f64, f64)]>,
) -> Option<(Vec<Component>, LinearFit)> {
    let mut comps = work.scatter_components();
    comps.extend(work.splines.iter().map(|t| Component {
        kind: Kind::Background,
        template: t.clone(),
    }));
    comps.extend(work.edge_ramps());
    if let Some(lines) = pileup {
        comps.extend(work.pileup_component(lines));
    }
    for &(z, f) in fams {
        work.extend_with_components(z, f, work.free_tail.contains(&(z, f)), &mut comps);
    }
    let fit = work.fit(&comps)?;
    Some((comps, fit))
}

/// Strong lines with their fitted counts (for pile-up); a Compton peak enters at its
/// centroid ([`Work::compton_centroid_kev`]), and its sums are drawn with its own breadth.
pub(super) fn strong_lines(work: &Work, comps: &[Component], fit: &LinearFit) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = fitted_lines(comps, fit)
        .into_iter()
        .filter(|l| l.1 > 0.0)
        .map(|(e, n, _)| (e, n))
        .collect();
    for (c, &a) in comps.iter().zip(&fit.amplitudes) {
        if matches!(c.kind, Kind::Compton) && a > 0.0 {
            out.push((work.compton_centroid_kev(&c.template), a * c.template.sum()));
        }
    }
    out
}

/// The fitted fluorescence and scattered tube lines: (energy keV, counts, Z of the
/// element whose line it is, 0 for a scattered tube line).
pub(super) fn fitted_lines(comps: &[Component], fit: &LinearFit) -> Vec<(f64, f64, usize)> {
    let mut out = Vec::new();
    for (c, &a) in comps.iter().zip(&fit.amplitudes) {
        match &c.kind {
            Kind::Family(fl) => out.extend(fl.lines.iter().map(|l| (l.1, l.2 * a, fl.z))),
            Kind::Rayleigh(r) => out.extend(r.iter().map(|&(e, n)| (e, n * a, 0))),
            _ => {}
        }
    }
    out
}

/// The `n` families with the largest fitted areas.
pub(super) fn strongest_families(
    comps: &[Component],
    fit: &LinearFit,
    n: usize,
) -> Vec<(usize, Family)> {
    let mut v: Vec<(usize, Family, f64)> = comps
        .iter()
        .zip(&fit.amplitudes)
        .filter_map(|(c, a)| match &c.kind {
            Kind::Family(fl) if *a > 0.0 => Some((fl.z, fl.family, *a)),
            _ => None,
        })
        .collect();
    v.sort_by(|a, b| b.2.total_cmp(&a.2));
    v.into_iter().take(n).map(|x| (x.0, x.1)).collect()
}

/// The free-tail families ([`Work::free_tail`]) that are rare-earth L families holding
/// at least [`XrfThresholds::l_freedom_min_share`] of the strongest family's counts:
/// those whose L subshells' shares are freed ([`XrfThresholds::l_freedom`]). A weaker
/// L family's freedom would let it fit what another line's shape leaves (a Gd L
/// "family" in the low-energy tail of Fe Kα in iron ore). Only the rare earths' L
/// lines form a forest in which one family's ratio errors fall on its neighbours' lines
/// and decide what is reported; other strong L families (an Au or W anode's, Pb's) keep
/// the tables' ratios, and their misfit stays evidence against the fit.
pub(super) fn dominant_l_families(
    work: &Work,
    comps: &[Component],
    fit: &LinearFit,
) -> Vec<(usize, Family)> {
    if !work.plan.free_l {
        return Vec::new();
    }
    let amps: Vec<(usize, Family, f64, &str)> = comps
        .iter()
        .zip(&fit.amplitudes)
        .filter_map(|(c, a)| match &c.kind {
            Kind::Family(fl) => Some((fl.z, fl.family, *a, fl.symbol)),
            _ => None,
        })
        .collect();
    let strongest = amps.iter().map(|a| a.2).fold(0.0, f64::max);
    amps.into_iter()
        .filter(|a| {
            a.1 == Family::L
                && crate::tables::is_rare_earth(a.3)
                && work.free_tail.contains(&(a.0, a.1))
                && a.2 >= work.th.l_freedom_min_share * strongest
        })
        .map(|a| (a.0, a.1))
        .collect()
}
