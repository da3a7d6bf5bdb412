//! The work state of one analysis ([`Work`]): the spectrum, continuum, region and matrix,
//! the fit components ([`Component`], [`Kind`]) and the cache of family lines and
//! templates per region and matrix ([`LinesCache`]).

use super::*;

/// Amplitude × template value at region channel `i` (0 outside the template).
pub(super) fn template_at(t: &Template, i: usize, amp: f64) -> f64 {
    if i >= t.start && i < t.end() {
        amp * t.values[i - t.start]
    } else {
        0.0
    }
}

/// What a fit component is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Family(Arc<FamilyLines>),
    Rayleigh(Vec<(f64, f64)>),
    Compton,
    PileUp(Vec<(f64, f64)>),
    Background,
    Tail,
    /// The long tail or the step of a strong family (free, like its short tail).
    LongTail(Shape),
    /// A group of a strong family's lines alone: frees the group's share of the family
    /// (the Kβ/Kα ratio, the L subshells' shares; see [`LineGroup`]).
    LineExcess(LineGroup),
}

/// A group of lines whose share of its family the tables do not fix well enough for a
/// strong family: drawn in part with the family, in part as a free component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineGroup {
    /// The Kβ lines of a K family (see [`XrfThresholds::kb_freedom`]).
    KBeta,
    /// The lines from L1 vacancies (Lβ3, Lβ4, Lγ2, Lγ3), from L2 vacancies (Lβ1, Lγ1,
    /// Lη) and the L3 lines other than Lα1,2 (Lβ2,15, Ll, ...) of an L family (see
    /// [`XrfThresholds::l_freedom`]).
    L1,
    L2,
    L3Minor,
}

impl LineGroup {
    /// The groups of a family.
    pub(super) fn of_family(f: Family) -> &'static [LineGroup] {
        match f {
            Family::K => &[LineGroup::KBeta],
            Family::L => &[LineGroup::L1, LineGroup::L2, LineGroup::L3Minor],
            _ => &[],
        }
    }

    /// Whether the line `label` of element `z` belongs to the group.
    pub(super) fn holds(self, z: usize, label: &str) -> bool {
        let level = || {
            element(z)
                .and_then(|d| d.lines.iter().find(|l| l.label == label))
                .map(|l| l.level)
        };
        match self {
            LineGroup::KBeta => label.starts_with("Kb"),
            LineGroup::L1 => level() == Some(1),
            LineGroup::L2 => level() == Some(2),
            LineGroup::L3Minor => level() == Some(3) && !label.starts_with("La"),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Component {
    pub(super) kind: Kind,
    pub(super) template: Template,
}

/// What depends on the current matrix: family lines per (Z, family), and their fit
/// components (templates) per (Z, family, free tail) for one region.
#[derive(Default)]
pub(super) struct LinesCache {
    pub(super) lines: Vec<((usize, Family), SharedLines)>,
    pub(super) region: Option<Region>,
    /// Keyed by (Z, family, free tail, lines masked: see [`Work::masked_lines`]).
    pub(super) components: rustc_hash::FxHashMap<(usize, Family, bool, u64), Vec<Component>>,
    pub(super) scatter: Option<Vec<Component>>,
    /// The last pile-up lines and their component.
    pub(super) pileup: Option<PileUpCache>,
    /// FP primary-excitation tables of the set-up (independent of matrix and region).
    pub(super) fp: PrimaryCache,
    /// Which components were positive in each fit of the last scan, in the order of its
    /// fits (the same fit of the next scan starts its NNLS there; see
    /// [`LinearFitter::start_from`] and [`Work::start_where_the_last_scan_ended`]).
    pub(super) fit_positive: Vec<rustc_hash::FxHashMap<ComponentKey, bool>>,
    /// Continuum-correction splines of the last region and knot spacing.
    pub(super) splines: Option<(Region, f64, Vec<Template>)>,
    /// The templates of the regions used before the current one, most recent last (at
    /// most [`RECENT_REGIONS`]): the line-shape and gain refinements try a grid of
    /// shapes and return to one they tried, or to the shape they started from.
    pub(super) recent: Vec<RegionTemplates>,
}

/// Regions whose templates [`LinesCache`] keeps besides the current one: a line-shape
/// or gain refinement's grid (up to 17 trial regions) and the region it started from.
pub(super) const RECENT_REGIONS: usize = 24;

/// The templates drawn for one region (see [`LinesCache::use_region`]).
pub(super) struct RegionTemplates {
    region: Region,
    components: rustc_hash::FxHashMap<(usize, Family, bool, u64), Vec<Component>>,
    scatter: Option<Vec<Component>>,
    pileup: Option<PileUpCache>,
}

/// The family lines of one matrix and their templates in one region (see
/// [`LinesCache::take_matrix_part`]).
pub(super) struct MatrixPart {
    lines: Vec<((usize, Family), SharedLines)>,
    region: Option<Region>,
    components: rustc_hash::FxHashMap<(usize, Family, bool, u64), Vec<Component>>,
}

/// A family's lines in the current matrix, shared by the cache and the components
/// (none when the family has no line in range).
pub(super) type SharedLines = Option<Arc<FamilyLines>>;

/// Strong lines (energy, counts) and the pile-up component drawn from them.
pub(super) type PileUpCache = (Vec<(f64, f64)>, Option<Component>);

impl LinesCache {
    /// The continuum-correction splines of `region` on knots `spacing_kev` apart.
    pub(super) fn splines(&mut self, region: Region, spacing_kev: f64) -> Vec<Template> {
        match &self.splines {
            Some((r, s, t)) if *r == region && *s == spacing_kev => t.clone(),
            _ => {
                let t = region.background_splines(spacing_kev);
                self.splines = Some((region, spacing_kev, t.clone()));
                t
            }
        }
    }

    /// Forget the family lines and their templates (the matrix changed); the scatter
    /// and pile-up templates do not depend on it.
    pub(super) fn clear(&mut self) {
        self.lines.clear();
        self.components.clear();
        self.recent.iter_mut().for_each(|r| r.components.clear());
    }

    /// Take what depends on the matrix (family lines, their templates in the current
    /// region) before the matrix changes, for [`LinesCache::restore_matrix_part`].
    pub(super) fn take_matrix_part(&mut self) -> MatrixPart {
        MatrixPart {
            lines: std::mem::take(&mut self.lines),
            region: self.region,
            components: std::mem::take(&mut self.components),
        }
    }

    /// Back to the matrix of `saved` (taken by [`LinesCache::take_matrix_part`]): its
    /// family lines, and its templates where the region is still the one they were
    /// drawn for; the templates drawn in the other matrix are forgotten.
    pub(super) fn restore_matrix_part(&mut self, saved: MatrixPart) {
        self.clear();
        self.lines = saved.lines;
        if self.region == saved.region {
            self.components = saved.components;
        }
    }

    /// Make `region` the current one: when the region (calibration, resolution, tail)
    /// changed, the current templates are kept among the recent ones and those of
    /// `region` taken from there when it was used recently.
    pub(super) fn use_region(&mut self, region: Region) {
        if self.region == Some(region) {
            return;
        }
        let components = std::mem::take(&mut self.components);
        let scatter = self.scatter.take();
        let pileup = self.pileup.take();
        if let Some(old) = self.region.replace(region) {
            self.recent.push(RegionTemplates {
                region: old,
                components,
                scatter,
                pileup,
            });
        }
        if let Some(i) = self.recent.iter().rposition(|r| r.region == region) {
            let r = self.recent.remove(i);
            self.components = r.components;
            self.scatter = r.scatter;
            self.pileup = r.pileup;
        }
        if self.recent.len() > RECENT_REGIONS {
            self.recent.remove(0);
        }
    }
}

/// Work state of one analysis.
/// [`Work::edge_ramps`] for the strong families and region they were drawn for.
pub(super) type EdgeRampMemo =
    std::cell::RefCell<Option<((Vec<(usize, Family)>, Region), Vec<Component>)>>;

pub(super) struct Work<'a> {
    pub(super) counts: &'a [f64],
    pub(super) bg: Vec<f64>,
    pub(super) region: Region,
    pub(super) exc: ExcitationInfo,
    /// The beam and detector as the excitation model gave them, before the air path
    /// measured on the spectrum ([`Work::measure_air_path`]).
    pub(super) source: Source,
    pub(super) matrix: Mixture,
    pub(super) splines: Vec<Template>,
    /// Strong families drawn as Gaussians with a free tail template.
    pub(super) free_tail: Vec<(usize, Family)>,
    /// The continuum ramps below the strong K families' edges, drawn for `free_tail` in
    /// a region (see `Work::edge_ramps`).
    pub(super) edge_ramp_memo: EdgeRampMemo,
    /// The dominant L families among them, whose L subshells' shares are free (see
    /// [`fit::dominant_l_families`]).
    pub(super) free_l: Vec<(usize, Family)>,
    /// The free-tail families also carry a free long tail and step (chosen by χ², see
    /// [`XrfThresholds::long_tail_min_chi2_drop`]).
    pub(super) long_tails: bool,
    /// Index into [`crate::xrf::model::LONG_TAIL_SLOPES`] of the long tails' slope.
    pub(super) long_tail_slope: usize,
    /// The quick analysis's dominant lines (see [`buried_families`]): lines of other
    /// elements' families are left out near these ([`Work::masked_lines`]).
    pub(super) dominant: Vec<Dominant>,
    /// FP intensities (primary + secondary) of the matrix elements.
    pub(super) fluor: Vec<crate::xrf::fp::ElementIntensity>,
    /// Family lines computed in the current matrix.
    pub(super) lines_cache: std::cell::RefCell<LinesCache>,
    /// The thresholds of the identification and the triage.
    pub(super) th: XrfThresholds,
    /// How the stages shared by the full analysis and the triage run.
    pub(super) plan: Plan,
    /// Which components were positive in the last fit (NNLS start of the next).
    pub(super) last_positive: std::cell::RefCell<rustc_hash::FxHashMap<ComponentKey, bool>>,
    /// Fits done so far (the quick analysis's index into [`LinesCache::fit_positive`]).
    pub(super) fits_done: std::cell::Cell<usize>,
    /// Energy the line shape is refined around (see [`shape_anchor`]).
    pub(super) shape_anchor: std::cell::Cell<Option<f64>>,
    /// Gram entries of the templates fitted so far (all fits share the data weights).
    pub(super) gram_memo: std::cell::RefCell<GramMemo>,
}

/// What a component is, across fits: its kind and its element family, or its place
/// among the components of its kind (scatter, splines).
pub(super) type ComponentKey = (u8, usize);

pub(super) fn component_keys(comps: &[Component]) -> Vec<ComponentKey> {
    let mut ordinal = [0usize; 9];
    let mut family = 0;
    comps
        .iter()
        .map(|c| {
            let (tag, id) = match &c.kind {
                Kind::Family(fl) => {
                    family = 4 * fl.z + fl.family as usize;
                    (0, family)
                }
                Kind::Tail => (1, family),
                Kind::Rayleigh(_) => (2, ordinal[2]),
                Kind::Compton => (3, ordinal[3]),
                Kind::PileUp(_) => (4, 0),
                Kind::Background => (5, ordinal[5]),
                Kind::LineExcess(g) => (6, 4 * family + *g as usize),
                Kind::LongTail(Shape::StepOnly) => (8, family),
                Kind::LongTail(_) => (7, family),
            };
            ordinal[tag as usize] += 1;
            (tag, id)
        })
        .collect()
}

/// The family component `k` of a fit with its free line groups ([`Kind::LineExcess`],
/// which follow it in `comps`) added at their fitted amplitudes relative to the
/// family's (so that it is still drawn at `fit.amplitudes[k]`): what the family's
/// evidence and line tests judge, the lines the fit gave the element. The family itself
/// when it has none.
pub(super) fn family_with_groups<'c>(
    comps: &'c [Component],
    fit: &LinearFit,
    k: usize,
) -> std::borrow::Cow<'c, Component> {
    let a = fit.amplitudes[k];
    let groups: Vec<usize> = (k + 1..comps.len())
        .take_while(|&j| !matches!(comps[j].kind, Kind::Family(_)))
        .filter(|&j| matches!(comps[j].kind, Kind::LineExcess(_)) && fit.amplitudes[j] > 0.0)
        .collect();
    if groups.is_empty() || a <= 0.0 {
        return std::borrow::Cow::Borrowed(&comps[k]);
    }
    let parts: Vec<(&Template, f64)> = std::iter::once((&comps[k].template, 1.0))
        .chain(
            groups
                .iter()
                .map(|&j| (&comps[j].template, fit.amplitudes[j] / a)),
        )
        .collect();
    let start = parts.iter().map(|p| p.0.start).min().unwrap_or(0);
    let end = parts.iter().map(|p| p.0.end()).max().unwrap_or(start);
    let mut values = vec![0.0; end - start];
    for (t, w) in parts {
        for (i, v) in t.values.iter().enumerate() {
            values[t.start + i - start] += w * v;
        }
    }
    let combined = Component {
        kind: comps[k].kind.clone(),
        template: Template::new(start, values),
    };
    std::borrow::Cow::Owned(combined)
}

impl Work<'_> {
    pub(super) fn y(&self) -> &[f64] {
        &self.counts[self.region.first..self.region.first + self.region.len]
    }
    pub(super) fn bg(&self) -> &[f64] {
        &self.bg[self.region.first..self.region.first + self.region.len]
    }
    /// Whether element `z`'s K family is excited only by the beam's top
    /// ([`XrfThresholds::k_top_band_share`], [`ExcitationInfo::k_edge_in_top_band`]).
    pub(super) fn k_in_top_band(&self, z: usize) -> bool {
        element(z).is_some_and(|d| {
            self.exc
                .k_edge_in_top_band(d.levels[0].edge_kev, self.th.k_top_band_share)
        })
    }
    pub(super) fn fwhm_kev(&self, e: f64) -> f64 {
        self.region.detector.fwhm_kev(e)
    }
    pub(super) fn lo_kev(&self) -> f64 {
        self.region.calibration.energy_kev(self.region.first as f64)
    }
    pub(super) fn hi_kev(&self) -> f64 {
        self.region
            .calibration
            .energy_kev((self.region.first + self.region.len) as f64 - 1.0)
    }

    pub(super) fn set_matrix(&mut self, mix: &[(String, f64)]) {
        self.matrix = mixture(mix);
        self.fluor = crate::xrf::fp::fluorescence_cached(
            &self.exc.setup,
            &self.matrix,
            true,
            &mut self.lines_cache.get_mut().fp,
        );
        self.lines_cache.borrow_mut().clear();
    }

    /// The lines of a family in the current matrix (computed once per matrix, shared).
    pub(super) fn lines_of(&self, z: usize, f: Family) -> SharedLines {
        let cache = &self.lines_cache;
        if let Some((_, v)) = cache.borrow().lines.iter().find(|(k, _)| *k == (z, f)) {
            return v.clone();
        }
        let v = self.compute_lines(z, f).map(Arc::new);
        cache.borrow_mut().lines.push(((z, f), v.clone()));
        v
    }

    pub(super) fn compute_lines(&self, z: usize, f: Family) -> Option<FamilyLines> {
        let cached = self
            .fluor
            .iter()
            .find(|e| e.element.z == z && e.mass_fraction > 1e-4)
            .and_then(|e| crate::xrf::model::family_lines_from(e, f, 0.004));
        cached.or_else(|| {
            family_lines_cached(
                element(z)?,
                f,
                &self.exc.setup,
                &self.matrix,
                0.004,
                &mut self.lines_cache.borrow_mut().fp,
            )
        })
    }

    /// Window (region channels) of ±`half_fwhm` FWHM around `e`.
    pub(super) fn window(&self, e: f64, half_fwhm: f64) -> std::ops::Range<usize> {
        let cal = &self.region.calibration;
        let w = half_fwhm * self.fwhm_kev(e);
        let a = cal.channel(e - w).round() - self.region.first as f64;
        let b = cal.channel(e + w).round() - self.region.first as f64 + 1.0;
        let n = self.region.len as f64;
        (a.clamp(0.0, n) as usize)..(b.clamp(0.0, n) as usize)
    }
}
