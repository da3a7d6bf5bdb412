//! Evidence for a fitted family: per-cluster observed against predicted counts with
//! their systematic terms, and the local line test of clusters beside bigger lines.

use super::*;

impl Work<'_> {
    pub(super) fn evidence(
        &self,
        comp: &Component,
        amp: f64,
        model: &[f64],
        fl: &FamilyLines,
    ) -> Vec<ClusterEvidence> {
        let y = self.y();
        let bg = self.bg();
        let t = &comp.template;
        let fw = self.fwhm_kev(fl.principal_kev());
        fl.clusters(0.9 * fw)
            .into_iter()
            .take(4)
            .map(|(e, _)| {
                let w = self.window(e, self.th.evidence_window_fwhm);
                let (mut p, mut o, mut v, mut others) = (0.0, 0.0, 0.0, 0.0);
                for i in w {
                    let ti = template_at(t, i, amp);
                    p += ti;
                    o += y[i] - model[i] + ti;
                    v += y[i].max(1.0);
                    others +=
                        (model[i] - ti - bg[i]).max(0.0) + self.th.continuum_systematic * bg[i];
                }
                // big neighbours within ±3 FWHM: their shape is known to ~1e-4 of their area
                let neighbours: f64 = self
                    .window(e, self.th.neighbour_window_fwhm)
                    .map(|i| (model[i] - template_at(t, i, amp) - bg[i]).max(0.0))
                    .sum();
                ClusterEvidence {
                    energy_kev: e,
                    predicted: p,
                    observed: o,
                    variance: v
                        + (self.th.systematic * others).powi(2)
                        + (self.th.neighbour_systematic * neighbours).powi(2),
                    others,
                }
            })
            .collect()
    }
}

impl Work<'_> {
    /// The local line test ([`local_line`]) of a fitted family's cluster at `e` keV:
    /// the data less every other component, in ±[`LineTest::window_fwhm`] around it,
    /// fitted with the family's own profile shifted by up to
    /// ±[`LineTest::max_shift_fwhm`] and a free straight baseline. `None` when the
    /// window is too short to judge.
    pub(super) fn local_line_at(
        &self,
        comp: &Component,
        amp: f64,
        model: &[f64],
        e: f64,
    ) -> Option<LocalLine> {
        let test = LineTest::default();
        let max_shift_ch =
            test.max_shift_fwhm * self.fwhm_kev(e) / self.region.calibration.gain_kev;
        self.local_line_within(comp, amp, model, e, max_shift_ch)
    }

    /// [`Work::local_line_at`] with the profile held at its table energy, within the
    /// calibration allowance ([`LineTest::systematic_kev`]): how much of the family's
    /// own peak the data hold where it must be.
    pub(super) fn local_amplitude_at(
        &self,
        comp: &Component,
        amp: f64,
        model: &[f64],
        e: f64,
    ) -> Option<LocalLine> {
        let test = LineTest::default();
        let max_shift_ch = test.systematic_kev / self.region.calibration.gain_kev;
        self.local_line_within(comp, amp, model, e, max_shift_ch)
    }

    fn local_line_within(
        &self,
        comp: &Component,
        amp: f64,
        model: &[f64],
        e: f64,
        max_shift_ch: f64,
    ) -> Option<LocalLine> {
        let test = LineTest::default();
        let w = self.window(e, test.window_fwhm);
        let m = max_shift_ch.ceil().max(1.0) as usize;
        let y = self.y();
        let t = &comp.template;
        let residual: Vec<f64> = w
            .clone()
            .map(|i| y[i] - model[i] + template_at(t, i, amp))
            .collect();
        let variance: Vec<f64> = w.clone().map(|i| y[i].max(1.0)).collect();
        let profile: Vec<f64> = (w.start as i64 - m as i64..w.end as i64 + m as i64)
            .map(|i| usize::try_from(i).map_or(0.0, |i| template_at(t, i, amp)))
            .collect();
        local_line(&residual, &variance, &profile, max_shift_ch)
    }

    /// Every cluster of the family that should show clearly (expected significance ≥
    /// [`LineTest::min_expected`], and always the clearest one) and lies beside a
    /// bigger line of another element (its window holds [`LineTest::min_neighbour_ratio`]
    /// times the cluster's counts of other elements' lines, their tails, Kβ excess,
    /// pile-up or scatter) holds the local line test ([`LocalLine::holds`]): at its
    /// energy, a peak of its own. A sister cluster (not the clearest) also holds when
    /// the data do not contradict it, its local amplitude within 3σ of the family's own
    /// counts: a sister expected at 4.5σ misses 3σ from zero one time in ten (La Lβ2
    /// beside Ce Lβ1 and Nd Lα in an iron ore with 0.6 wt % La), while a phantom's
    /// sisters, empty, sit far below. A sister whose window holds more of the other
    /// rare earths' lines than of its own is not tested: its local fit there measures
    /// how the joint fit shares the window among them. A window too short to judge does
    /// not reject.
    pub(super) fn lines_hold(
        &self,
        comp: &Component,
        amp: f64,
        evidence: &[ClusterEvidence],
        comps: &[Component],
        fit: &LinearFit,
    ) -> bool {
        let test = LineTest::default();
        let systematic_ch = test.systematic_kev / self.region.calibration.gain_kev;
        let clearest = evidence
            .iter()
            .map(ClusterEvidence::expected_significance)
            .fold(0.0, f64::max);
        let model = &fit.model;
        // counts of the lines and detector response of every element other than the
        // rare earths (and of the scattered tube lines) in a window
        // (a family's free tail, long tail, step and Kβ excess follow it in `comps` and
        // belong to its element)
        let mut of_ree = false;
        let mut owner = 0;
        let (ree_part, owners): (Vec<bool>, Vec<usize>) = comps
            .iter()
            .map(|c| match &c.kind {
                Kind::Family(fl) => {
                    of_ree = crate::tables::is_rare_earth(fl.symbol);
                    owner = fl.z;
                    (of_ree, owner)
                }
                Kind::Tail | Kind::LongTail(_) | Kind::LineExcess(_) => (of_ree, owner),
                _ => (false, 0),
            })
            .unzip();
        let own_z = match &comp.kind {
            Kind::Family(fl) => fl.z,
            _ => 0,
        };
        // counts in a window of the components `keep` chooses (by kind, whether of a
        // rare earth, and the owning element)
        let in_window = |e: f64, keep: &dyn Fn(&Component, bool, usize) -> bool| -> f64 {
            let w = self.window(e, test.window_fwhm);
            comps
                .iter()
                .zip(&fit.amplitudes)
                .zip(ree_part.iter().zip(&owners))
                .filter(|((c, a), (ree, z))| **a > 0.0 && keep(c, **ree, **z))
                .map(|((c, a), _)| {
                    w.clone()
                        .map(|i| template_at(&c.template, i, *a))
                        .sum::<f64>()
                })
                .sum()
        };
        let neighbours =
            |e: f64| in_window(e, &|c, ree, _| !ree && !matches!(c.kind, Kind::Background));
        // counts of the other rare earths' lines in a window: where they outnumber the
        // family's own, a local fit of one of its lines measures how the joint fit
        // shares the window among them (La Lβ2 amid Ce Lβ1, Nd Lα and Pr Lβ1), which the
        // window's sum already judges
        let other_rare_earths = |e: f64| in_window(e, &|_, ree, z| ree && z != own_z);
        // the family's clearest cluster is a peak of its own at its table energy (what
        // lets a sister buried beside a far bigger line go untested)
        let anchored = || {
            evidence
                .iter()
                .max_by(|a, b| {
                    a.expected_significance()
                        .total_cmp(&b.expected_significance())
                })
                .and_then(|c| self.local_line_at(comp, amp, model, c.energy_kev))
                .is_some_and(|l| l.holds(&test, systematic_ch))
        };
        // no line of the family is contradicted by the data: what the rest of the model
        // leaves in a cluster's window is not far below what the family puts there
        // (Gd Lα beside Cr Kβ with −5.8σ of room, held by lines elsewhere), whatever
        // the window's σ; in a family its clearest line holds beyond doubt, a line the
        // data could not show (predicted under `contradicted_min_expected` σ of its
        // window) contradicts nothing: a deficit there is the misfit of the big line it
        // sits under (Nd Lγ1 on Fe Kα's flank beside a 67σ Nd Lα)
        let contradicted = evidence.iter().any(|c| {
            (c.expected_significance() >= self.th.contradicted_min_expected
                || clearest < self.th.contradicted_exempt_clearest)
                && c.observed
                    < self.th.contradicted_share * c.predicted
                        - self.th.contradicted_sigma * c.variance.sqrt()
        });
        // the clean clusters (no other element's lines in the window: the family alone
        // must explain what is there) together: the weighted mean of their local
        // amplitudes at the table energies (1 = the family's own counts) is not far
        // below what the family predicts (Gd Lγ1 at −0.9 ± 0.4 where a phantom Gd Lα
        // leans on Fe Kα's tail)
        let (mut weight, mut weighted) = (0.0, 0.0);
        for c in evidence {
            if neighbours(c.energy_kev) >= test.min_neighbour_ratio * c.predicted {
                continue;
            }
            if let Some(l) = self.local_amplitude_at(comp, amp, model, c.energy_kev) {
                if l.amplitude_sigma > 0.0 {
                    let w = l.amplitude_sigma.powi(-2);
                    weight += w;
                    weighted += w * l.amplitude;
                }
            }
        }
        let clean_contradicted = weight > 0.0
            && weighted / weight + self.th.clean_lines_sigma / weight.sqrt()
                < self.th.clean_lines_min_amplitude;
        !contradicted
            && !clean_contradicted
            && evidence
                .iter()
                .filter(|c| {
                    let x = c.expected_significance();
                    let n = neighbours(c.energy_kev);
                    (x >= test.min_expected || x >= clearest)
                        && n >= test.min_neighbour_ratio * c.predicted
                        && (x >= clearest
                            || (n <= test.max_sister_neighbour_ratio * c.predicted
                                && other_rare_earths(c.energy_kev) <= c.predicted)
                            || !anchored())
                })
                .all(|c| {
                    let x = c.expected_significance();
                    self.local_line_at(comp, amp, model, c.energy_kev)
                        .is_none_or(|l| {
                            l.holds(&test, systematic_ch)
                                || (x < clearest && l.amplitude + 3.0 * l.amplitude_sigma >= 1.0)
                        })
                })
    }
}
