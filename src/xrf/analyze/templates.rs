//! Detector response drawn as fit components: element families (with free tail, long
//! tail, step and Kβ excess for the strong ones, lines masked beside dominant lines),
//! Rayleigh and Compton scatter of the tube lines, and pile-up.

use super::*;

/// Strongest lines whose pairwise sums (with each other and with the Compton peaks)
/// make the pile-up component.
const PILEUP_LINES: usize = 8;

impl Work<'_> {
    /// [`Work::cached_components`] appended to `out`.
    pub(super) fn extend_with_components(
        &self,
        z: usize,
        f: Family,
        free: bool,
        out: &mut Vec<Component>,
    ) {
        out.extend_from_slice(&self.cached_components(z, f, free));
    }

    /// The fit components of a family, with (`free`) or without a free tail: drawn once
    /// per region and matrix into the cache, and borrowed from it.
    pub(super) fn cached_components(
        &self,
        z: usize,
        f: Family,
        free: bool,
    ) -> std::cell::Ref<'_, [Component]> {
        // a free family is never masked: its key's mask says whether it has long tails,
        // and their slope
        let mask = if free {
            u64::from(self.long_tails) | (self.long_tail_slope as u64) << 1
        } else {
            self.masked_lines(z, f)
        };
        let key = (z, f, free, mask);
        let missing = {
            let mut cache = self.lines_cache.borrow_mut();
            cache.use_region(self.region);
            !cache.components.contains_key(&key)
        };
        if missing {
            // drawn outside the borrow: drawing looks up the family's lines in the cache
            let c = match free && self.long_tails {
                true => self.with_long_tails(z, f),
                false => None,
            };
            let c = c.unwrap_or_else(|| self.draw_family(z, f, free, if free { 0 } else { mask }));
            self.lines_cache.borrow_mut().components.insert(key, c);
        }
        std::cell::Ref::map(self.lines_cache.borrow(), |c| {
            c.components.get(&key).map_or(&[][..], |v| v.as_slice())
        })
    }

    /// Which lines of a family (bit i: line i) lie within [`XrfThresholds::mask_fwhm`] of a dominant
    /// line ([`Work::dominant`]); none unless the family's principal line lies within a
    /// FWHM of a burying one ([`XrfThresholds::burying_share`]).
    pub(super) fn masked_lines(&self, z: usize, f: Family) -> u64 {
        if self.dominant.is_empty() {
            return 0;
        }
        let Some(fl) = self.lines_of(z, f) else {
            return 0;
        };
        // a family is never buried by its own lines
        let near = |e: f64, share: f64, fwhms: f64| {
            self.dominant.iter().any(|d| {
                d.z != z
                    && d.share >= share
                    && (d.energy_kev - e).abs() < fwhms * self.fwhm_kev(d.energy_kev)
            })
        };
        let Some(principal) = fl.lines.iter().max_by(|a, b| a.2.total_cmp(&b.2)) else {
            return 0;
        };
        if !near(principal.1, self.th.burying_share, 1.0) {
            return 0;
        }
        fl.lines
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, l)| near(l.1, 0.0, self.th.mask_fwhm))
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    pub(super) fn draw_family(&self, z: usize, f: Family, free: bool, mask: u64) -> Vec<Component> {
        let Some(mut fl) = self.lines_of(z, f) else {
            return Vec::new();
        };
        if mask != 0 {
            // the family's other lines, at their share of the whole family (the
            // amplitude stays the family's counts)
            let mut masked = (*fl).clone();
            let mut i = 0;
            masked.lines.retain(|_| {
                i += 1;
                i > 64 || mask & (1 << (i - 1)) == 0
            });
            fl = Arc::new(masked);
        }
        let shape = if free { Shape::Gauss } else { Shape::Line };
        // the full analysis frees the Kβ/Kα ratio of the strongest K families and the L
        // subshells' shares of the strongest L families: the family carries (1 − freedom)
        // of each group's lines, and each group alone is a free component
        let freedom = match f {
            Family::K if free && self.plan.free_kb => self.th.kb_freedom,
            Family::L if free && self.free_l.contains(&(z, f)) => self.th.l_freedom,
            _ => 0.0,
        };
        let groups: &[LineGroup] = if freedom > 0.0 {
            LineGroup::of_family(f)
        } else {
            &[]
        };
        let peaks = if groups.is_empty() {
            fl.draw_peaks_with(shape)
        } else {
            groups
                .iter()
                .fold((*fl).clone(), |s, g| {
                    s.scaled_where(|label| g.holds(z, label), 1.0 - freedom)
                })
                .draw_peaks_with(shape)
        };
        let t = self.region.template(&peaks);
        if t.values.is_empty() || t.sum() <= 0.05 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for &g in groups {
            let alone = fl.scaled_where(|label| !g.holds(z, label), 0.0);
            let tg = self.region.template(&alone.draw_peaks_with(shape));
            if tg.sum() > 0.05 * freedom {
                out.push(Component {
                    kind: Kind::LineExcess(g),
                    template: tg,
                });
            }
        }
        if free {
            let tt = self.region.template(&fl.shaped_peaks(Shape::TailOnly));
            if tt.sum() > 0.05 {
                out.push(Component {
                    kind: Kind::Tail,
                    template: tt,
                });
            }
            if self.long_tails {
                for shape in [Shape::LongTailOnly(self.long_tail_slope), Shape::StepOnly] {
                    out.extend(self.long_tail_component(&fl, shape));
                }
            }
        }
        out.insert(
            0,
            Component {
                kind: Kind::Family(fl),
                template: t,
            },
        );
        out
    }

    /// The long tail or step component (`shape`) of a free family's lines `fl`, none
    /// where it holds no counts in the region.
    fn long_tail_component(&self, fl: &FamilyLines, shape: Shape) -> Option<Component> {
        let t = self.region.template(&fl.shaped_peaks(shape));
        (t.sum() > 0.05).then_some(Component {
            kind: Kind::LongTail(shape),
            template: t,
        })
    }

    /// The components of free family (`z`, `f`) with long tails of the current slope,
    /// built from the cached ones of this region with another slope (the long tail
    /// redrawn) or without long tails (long tail and step drawn): what
    /// [`Work::draw_family`] would draw, without redrawing the family, its free line
    /// groups, its tail and its step. None when neither is cached.
    fn with_long_tails(&self, z: usize, f: Family) -> Option<Vec<Component>> {
        let (other, had_long_tails) = {
            let cache = self.lines_cache.borrow();
            let free_entries = || {
                cache
                    .components
                    .iter()
                    .filter(move |(k, _)| k.0 == z && k.1 == f && k.2)
            };
            let (k, v) = free_entries()
                .find(|(k, _)| k.3 & 1 == 1)
                .or_else(|| free_entries().next())?;
            (v.clone(), k.3 & 1 == 1)
        };
        let Some(Kind::Family(fl)) = other.first().map(|c| c.kind.clone()) else {
            // the family draws nothing in this region, with or without long tails
            return Some(other);
        };
        let step = other
            .iter()
            .find(|c| c.kind == Kind::LongTail(Shape::StepOnly))
            .cloned();
        let mut out: Vec<Component> = other
            .into_iter()
            .filter(|c| !matches!(c.kind, Kind::LongTail(_)))
            .collect();
        out.extend(self.long_tail_component(&fl, Shape::LongTailOnly(self.long_tail_slope)));
        if had_long_tails {
            out.extend(step);
        } else {
            out.extend(self.long_tail_component(&fl, Shape::StepOnly));
        }
        Some(out)
    }

    /// The pile-up component of the given strong lines (cached for the last lines and
    /// region).
    pub(super) fn pileup_component(&self, lines: &[(f64, f64)]) -> Option<Component> {
        {
            let mut cache = self.lines_cache.borrow_mut();
            cache.use_region(self.region);
            if let Some((l, c)) = &cache.pileup {
                if l.as_slice() == lines {
                    return c.clone();
                }
            }
        }
        // drawn without the cache borrowed: the Compton peaks' templates come from it
        let c = self.draw_pileup(lines);
        self.lines_cache.borrow_mut().pileup = Some((lines.to_vec(), c.clone()));
        c
    }

    /// The pile-up sums of the strongest of `lines` (energy keV, fitted counts; see
    /// [`strong_lines`]), pair by pair in proportion to the product of their counts. A
    /// sum of two lines is a peak a little wider than a line's; a sum with the Compton
    /// peak (the entries at the Compton templates' centroids, one per scattering angle,
    /// together one broad peak) has the Compton peak's own breadth, drawn as that peak
    /// moved up by the other's energy (Zr Kα with the Rh Kα Compton peak spans
    /// 34.5–35.3 keV, over Ce Kα), and the Compton peak with itself is that peak moved
    /// up by its centroid.
    pub(super) fn draw_pileup(&self, lines: &[(f64, f64)]) -> Option<Component> {
        let comptons: Vec<(f64, Template)> = self
            .scatter_components()
            .into_iter()
            .filter(|c| matches!(c.kind, Kind::Compton))
            .map(|c| (self.compton_centroid_kev(&c.template), c.template))
            .collect();
        let compton_at = |e: f64| {
            comptons
                .iter()
                .find(|(c, _)| (c - e).abs() < 1e-9)
                .map(|(_, t)| t)
        };
        let n = self.region.len;
        // the Compton peak in counts: Σ over its templates of counts × shape
        let mut compton = vec![0.0; n];
        let (mut compton_counts, mut compton_moment) = (0.0, 0.0);
        let mut strong: Vec<(f64, f64)> = Vec::new();
        for &(e, counts) in lines.iter().filter(|l| l.1 > 0.0) {
            match compton_at(e) {
                Some(t) if t.sum() > 0.0 => {
                    let per = counts / t.sum();
                    for (k, &v) in t.values.iter().enumerate() {
                        compton[t.start + k] += per * v;
                    }
                    compton_counts += counts;
                    compton_moment += counts * e;
                }
                Some(_) => {}
                None => strong.push((e, counts)),
            }
        }
        strong.sort_by(|a, b| b.1.total_cmp(&a.1));
        strong.truncate(PILEUP_LINES);
        // pair weights A_i·A_j (×2 for i ≠ j) sum to (Σ A)²: the lines' pairs to the
        // square of their counts, all pairs with the Compton peak's to that of the sum
        let sharp_counts: f64 = strong.iter().map(|l| l.1).sum();
        let total = (sharp_counts + compton_counts).powi(2);
        if total <= 0.0 {
            return None;
        }
        // (shift keV, weight) of the Compton peak's copies
        let mut moved: Vec<(f64, f64)> = strong
            .iter()
            .map(|&(e, c)| (e, 2.0 * c * compton_counts))
            .collect();
        if compton_counts > 0.0 {
            moved.push((
                compton_moment / compton_counts,
                compton_counts * compton_counts,
            ));
        }
        let sharp_share = sharp_counts.powi(2) / total;
        let peaks: Vec<DrawPeak> = pileup_group(&strong, PILEUP_LINES)
            .lines
            .iter()
            .map(|l| DrawPeak {
                energy_kev: l.energy_kev,
                area: l.intensity * sharp_share,
                extra_sigma_kev: self.region.detector.sigma_kev(l.energy_kev) * 0.5,
                shape: Shape::Gauss,
            })
            .collect();
        let mut dense = vec![0.0; n];
        let t = self.region.template(&peaks);
        for (k, &v) in t.values.iter().enumerate() {
            dense[t.start + k] += v;
        }
        if compton_counts > 0.0 {
            let cal = &self.region.calibration;
            let centre = compton_moment / compton_counts;
            for (shift_kev, w) in moved {
                let shift = (cal.channel(centre + shift_kev) - cal.channel(centre)).round();
                let Ok(shift) = usize::try_from(shift as i64) else {
                    continue;
                };
                let scale = w / total / compton_counts;
                for (d, &c) in dense[shift.min(n)..].iter_mut().zip(&compton) {
                    *d += scale * c;
                }
            }
        }
        let t = Template::from_dense(&dense);
        (t.sum() > 0.05).then_some(Component {
            kind: Kind::PileUp(lines.to_vec()),
            template: t,
        })
    }

    /// Centroid (keV) of a Compton template.
    pub(super) fn compton_centroid_kev(&self, t: &Template) -> f64 {
        let (mut sum, mut moment) = (0.0, 0.0);
        for (k, &v) in t.values.iter().enumerate() {
            let e = self
                .region
                .calibration
                .energy_kev((self.region.first + t.start + k) as f64);
            sum += v;
            moment += v * e;
        }
        if sum > 0.0 {
            moment / sum
        } else {
            0.0
        }
    }

    /// Rayleigh and Compton components of the tube lines (cached for the region).
    pub(super) fn scatter_components(&self) -> Vec<Component> {
        let mut cache = self.lines_cache.borrow_mut();
        cache.use_region(self.region);
        cache
            .scatter
            .get_or_insert_with(|| self.draw_scatter())
            .clone()
    }

    pub(super) fn draw_scatter(&self) -> Vec<Component> {
        let mut out = Vec::new();
        for g in excitation_groups(&self.exc.setup) {
            let t = self.region.template(&rayleigh_peaks(&g));
            if t.sum() > 0.05 {
                out.push(Component {
                    kind: Kind::Rayleigh(g.clone()),
                    template: t,
                });
            }
            for &a in self.compton_angles(&g) {
                let t = self.region.template(&compton_peaks(&g, a));
                if t.sum() > 0.05 {
                    out.push(Component {
                        kind: Kind::Compton,
                        template: t,
                    });
                }
            }
        }
        out
    }

    /// The scattering angles of the Compton templates of the tube-line group `g`: the
    /// plan's ([`Plan::compton_angles`]), or its middle one for a group whose Compton
    /// peaks across them lie within a quarter FWHM where the plan says so
    /// ([`Plan::merge_unresolved_compton`]).
    pub(super) fn compton_angles(&self, g: &[(f64, f64)]) -> &'static [f64] {
        let angles = self.plan.compton_angles;
        let (Some(&widest), Some(&narrowest)) = (angles.first(), angles.last()) else {
            return angles;
        };
        if !self.plan.merge_unresolved_compton {
            return angles;
        }
        let top = g.iter().map(|l| l.0).fold(0.0, f64::max);
        let spread = crate::xrf::physics::compton_energy(top, widest)
            - crate::xrf::physics::compton_energy(top, narrowest);
        if spread < 0.25 * self.fwhm_kev(top) {
            let mid = angles.len() / 2;
            &angles[mid..mid + 1]
        } else {
            angles
        }
    }
}
