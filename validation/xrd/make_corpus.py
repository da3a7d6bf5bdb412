"""Labelled XRD corpus made without reescan's pattern code (src/xrd/synth.rs), for
tests/xrd_independent.rs.

Each pattern is a cargo powder (iron ore, zircon sand, ceramics) with or without a
rare-earth phase, measured on a lab or a portable diffractometer with a Cu or a Co tube.

Physics, all written here:
- Sticks: pymatgen's XRDCalculator (its own atomic scattering factors, Lorentz-polarisation
  factor, no Debye-Waller) for the Ka1 wavelength, unscaled intensities (|F|^2 * LP * m per
  unit cell) from the CIFs in data/xrd; the Ka2 doublet from the same d-spacings at the
  Ka2 wavelength with half the intensity.
- Weight fraction to intensity (the ZMV relation, Hill & Howard 1987): the integrated
  intensity of a reflection of phase p is I = K * (w_p / (rho_p * V_p^2)) * |F|^2 LP m,
  rho_p the density and V_p the cell volume that pymatgen gives; the mixture's mass
  attenuation coefficient is common to all phases and absorbed in K. Amorphous glass
  takes weight but gives only a hump.
- Profiles: pseudo-Voigt, FWHM from Caglioti, FWHM^2 = U tan^2(theta) + V tan(theta) + W,
  Lorentzian fraction eta per pattern.
- Geometry: zero shift and specimen displacement s on a goniometer of radius R:
  2theta_obs = 2theta + zero - (2 s cos(theta) / R) (radians to degrees).
- Intensity scatter: March-Dollase preferred orientation (r per phase about a random one
  of the low-index directions), microabsorption (a lognormal factor per phase), particle
  statistics (a lognormal factor per reflection).
- Background: a constant, a low-angle decay and a 1/sin(theta) term; iron fluorescence
  under a Cu tube (a flat level proportional to the iron mass fraction of the sample);
  the glassy hump of ceramics (a broad Gaussian at d = 4.0 A); Poisson counts.

Instruments: lab (0.02 deg steps, FWHM 0.08-0.15 deg, thousands to tens of thousands of
counts on the strongest peak) and portable (0.05 deg steps, FWHM 0.20-0.35 deg, 200-600
counts on the strongest peak, larger displacement on a 145 mm goniometer).

Output: tests/data/xrd_independent/corpus.zip (one .xy per pattern, '# wavelength:' and
'# anode:' header lines, which reescan's .xy reader takes) and truth.json (seed, settings
and the truth of each pattern).

Run from the repository root:  python3 validation/xrd/make_corpus.py
(pip install pymatgen numpy). The seed is fixed; the output is reproducible for a given
pymatgen version.
"""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Structure

SEED = 20261206
CIF_DIR = Path("data/xrd")
OUT = Path("tests/data/xrd_independent")

TUBES = {
    # anode: (Ka1, Ka2) in A
    "Cu": (1.540598, 1.544426),
    "Co": (1.788965, 1.792850),
}
KA2_RATIO = 0.5

INSTRUMENTS = {
    "lab": dict(step=0.02, range={"Cu": (10.0, 80.0), "Co": (12.0, 90.0)}, fwhm=(0.08, 0.15),
                peak_counts=(3000.0, 30000.0), bg=(40.0, 250.0), radius_mm=240.0,
                displacement_mm=0.2, zero=0.08, texture_r=(0.85, 1.15), micro_sigma=0.10),
    "portable": dict(step=0.05, range={"Cu": (10.0, 70.0), "Co": (12.0, 80.0)}, fwhm=(0.20, 0.35),
                     peak_counts=(200.0, 600.0), bg=(15.0, 60.0), radius_mm=145.0,
                     displacement_mm=0.35, zero=0.12, texture_r=(0.8, 1.2), micro_sigma=0.15),
}

# Host phases: (phase, low, high) wt % before normalisation; glass is amorphous.
COMMODITIES = {
    "iron_ore": [("hematite", 30, 90), ("magnetite", 0, 50), ("goethite", 0, 30),
                 ("quartz", 2, 15), ("kaolinite", 0, 8), ("gibbsite", 0, 5)],
    "zircon_sand": [("zircon", 70, 95), ("quartz", 2, 15), ("rutile", 0, 8),
                    ("ilmenite", 0, 8), ("anatase", 0, 3)],
    "ceramics": [("mullite", 20, 60), ("quartz", 10, 40), ("corundum", 0, 30),
                 ("cristobalite_low", 0, 10), ("glass", 10, 30)],
}

# Rare-earth phases hidden in the blended patterns, taken in turn.
REE_PHASES = ["bastnasite_Ce", "monazite_Ce", "xenotime_Y", "cerianite_CeO2", "LaOH3",
              "Nd2O3_A", "Y2O3_C", "NdF3", "Nd2Fe14B", "SmCo5", "fluocerite_LaF3",
              "Eu2O3_C", "Pr6O11"]

# Per (tube, instrument, commodity) group: honest, 2-5 wt %, 5-25 wt % patterns.
PER_GROUP = {"honest": 13, "ree_2_5": 6, "ree_5_25": 7}

FE_MASS = 55.845


class PhaseData:
    """Sticks (d, |F|^2 LP m at Ka1, hkl) and the weight scale 1/(rho V^2) of one phase."""

    def __init__(self, name):
        s = Structure.from_file(CIF_DIR / f"{name}.cif")
        self.structure = s
        self.scale = 1.0 / (float(s.density) * float(s.volume) ** 2)
        comp = s.composition
        self.fe_fraction = float(comp.get_wt_fraction("Fe")) if "Fe" in comp else 0.0
        self.recip = s.lattice.reciprocal_lattice_crystallographic
        self.cache = {}

    def sticks(self, wavelength, lo, hi):
        key = (wavelength, lo, hi)
        if key not in self.cache:
            pat = XRDCalculator(wavelength=wavelength).get_pattern(
                self.structure, scaled=False, two_theta_range=(lo, hi))
            hkls = []
            for h in pat.hkls:
                idx = h[0]["hkl"]
                if len(idx) == 4:  # hexagonal (h, k, i, l)
                    idx = (idx[0], idx[1], idx[3])
                hkls.append(idx)
            self.cache[key] = (np.array(pat.d_hkls), np.array(pat.y), np.array(hkls, float))
        return self.cache[key]


def pseudo_voigt(x, centre, fwhm, eta):
    dx = x - centre
    g = np.sqrt(4 * np.log(2) / np.pi) / fwhm * np.exp(-4 * np.log(2) * dx ** 2 / fwhm ** 2)
    lor = (2 / (np.pi * fwhm)) / (1 + 4 * dx ** 2 / fwhm ** 2)
    return eta * lor + (1 - eta) * g


def two_theta(d, wavelength):
    s = wavelength / (2 * d)
    return np.where(s < 1, 2 * np.degrees(np.arcsin(np.clip(s, -1, 1))), np.nan)


def march_dollase(phase, hkl, axis, r):
    if len(hkl) == 0:
        return np.ones(0)
    g = phase.recip.get_cartesian_coords(hkl)
    a = phase.recip.get_cartesian_coords(axis)
    cosa = np.abs(g @ a) / (np.linalg.norm(g, axis=1) * np.linalg.norm(a) + 1e-30)
    cos2 = np.clip(cosa, 0, 1) ** 2
    return (r ** 2 * cos2 + (1 - cos2) / r) ** -1.5


def draw_host(rng, commodity):
    w = {}
    for name, lo, hi in COMMODITIES[commodity]:
        v = rng.uniform(lo, hi)
        if v > 0.5:
            w[name] = v
    total = sum(w.values())
    return {k: 100 * v / total for k, v in w.items()}


def make_pattern(rng, phases, tube, inst_name, commodity, ree, ree_wt):
    inst = INSTRUMENTS[inst_name]
    ka1, ka2 = TUBES[tube]
    lo, hi = inst["range"][tube]
    step = inst["step"]
    x = np.round(np.arange(lo, hi + step / 2, step), 4)
    host = draw_host(rng, commodity)
    mix = {k: v * (100 - ree_wt) / 100 for k, v in host.items()}
    if ree:
        mix[ree] = ree_wt
    # Instrument state of this pattern.
    fwhm_mid = rng.uniform(*inst["fwhm"])
    w_cag = fwhm_mid ** 2 * rng.uniform(0.6, 0.9)
    u_cag = (fwhm_mid ** 2 - w_cag) / np.tan(np.radians(20.0)) ** 2 * rng.uniform(0.8, 1.2)
    v_cag = -rng.uniform(0.0, 0.2) * w_cag
    eta = rng.uniform(0.3, 0.7)
    zero = rng.uniform(-inst["zero"], inst["zero"])
    disp = rng.uniform(-inst["displacement_mm"], inst["displacement_mm"])
    radius = inst["radius_mm"]

    def fwhm_at(tt):
        t = np.tan(np.radians(tt / 2))
        return np.sqrt(np.maximum(u_cag * t ** 2 + v_cag * t + w_cag, 1e-6))

    def shifted(tt):
        return tt + zero - np.degrees(2 * disp * np.cos(np.radians(tt / 2)) / radius)

    signal = np.zeros_like(x)
    fe_fraction = 0.0
    margin = 1.0
    for name, wt in mix.items():
        if name == "glass":
            continue
        p = phases[name]
        fe_fraction += wt / 100 * p.fe_fraction
        d, inten, hkl = p.sticks(ka1, max(lo - margin, 1.0), min(hi + margin, 150.0))
        if len(d) == 0:
            continue
        axis = [(0, 0, 1), (1, 0, 0), (1, 1, 0), (1, 1, 1)][rng.integers(0, 4)]
        r = rng.uniform(*inst["texture_r"])
        factor = (wt / 100) * p.scale * np.exp(rng.normal(0, inst["micro_sigma"]))
        areas = factor * inten * march_dollase(p, hkl, axis, r) * np.exp(rng.normal(0, 0.05, len(d)))
        for wavelength, ratio in ((ka1, 1.0), (ka2, KA2_RATIO)):
            tt = two_theta(d, wavelength)
            ok = np.isfinite(tt)
            for centre, area in zip(shifted(tt[ok]), areas[ok] * ratio):
                f = fwhm_at(centre)
                win = np.abs(x - centre) < 12 * f
                signal[win] += area * pseudo_voigt(x[win], centre, f, eta)
    # Scale: the strongest peak gets the instrument's counts.
    peak = rng.uniform(*inst["peak_counts"])
    signal *= peak / max(signal.max(), 1e-300)
    # Background.
    b0 = rng.uniform(*inst["bg"])
    theta = np.radians(x / 2)
    bg = b0 * (0.7 + 0.3 * np.exp(-(x - lo) / rng.uniform(5, 15)) * rng.uniform(1, 4)
               + 0.05 / np.sin(theta))
    fe_level = 0.0
    if tube == "Cu" and fe_fraction > 0:
        # Fe K fluorescence excited by Cu Ka: a flat level that grows with the iron content.
        fe_level = fe_fraction * peak * rng.uniform(0.08, 0.2)
        bg += fe_level
    hump = 0.0
    if "glass" in mix:
        d_hump = 4.0
        centre = float(two_theta(np.array([d_hump]), ka1)[0])
        width = 7.0 * ka1 / 1.540598
        hump = mix["glass"] / 100 * peak * rng.uniform(0.2, 0.5)
        bg += hump * np.exp(-4 * np.log(2) * (x - centre) ** 2 / width ** 2)
    counts = rng.poisson(np.maximum(signal + bg, 0))
    truth = dict(
        commodity=commodity, instrument=inst_name, tube=tube,
        wavelength_a=ka1, phases={k: round(v, 3) for k, v in sorted(mix.items())},
        ree_phase=ree, ree_wt_pct=round(ree_wt, 3) if ree else 0.0,
        zero_shift_deg=round(zero, 4), displacement_mm=round(disp, 4),
        goniometer_radius_mm=radius, caglioti_uvw=[u_cag, v_cag, w_cag], eta=round(eta, 3),
        fwhm_at_40deg=round(float(fwhm_at(40.0)), 4), strongest_peak_counts=round(peak, 1),
        fe_fluorescence_counts=round(fe_level, 1), glass_hump_counts=round(hump, 1),
    )
    return x, counts, truth


def main():
    rng = np.random.default_rng(SEED)
    names = {n for c in COMMODITIES.values() for n, _, _ in c if n != "glass"} | set(REE_PHASES)
    phases = {n: PhaseData(n) for n in sorted(names)}
    OUT.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    records = []
    k = 0
    # Each class takes the rare-earth phases in turn on its own counter, so that every
    # phase appears at 2-5 and at 5-25 wt % in every kind of pattern.
    ree_turn = {cls: 0 for cls in PER_GROUP}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for tube in TUBES:
            for inst_name in INSTRUMENTS:
                for commodity in COMMODITIES:
                    for cls, n in PER_GROUP.items():
                        for _ in range(n):
                            if cls == "honest":
                                ree, wt = None, 0.0
                            else:
                                ree = REE_PHASES[ree_turn[cls] % len(REE_PHASES)]
                                ree_turn[cls] += 1
                                wt = rng.uniform(2.0, 5.0) if cls == "ree_2_5" else rng.uniform(5.0, 25.0)
                            x, counts, truth = make_pattern(rng, phases, tube, inst_name,
                                                            commodity, ree, wt)
                            name = f"{k:03d}_{tube}_{inst_name}_{commodity}_{cls}.xy"
                            k += 1
                            lines = [f"# wavelength: {TUBES[tube][0]}", f"# anode: {tube}"]
                            lines += [f"{a:.2f} {int(c)}" for a, c in zip(x, counts)]
                            z.writestr(name, "\n".join(lines) + "\n")
                            truth.update(file=name, **{"class": cls})
                            records.append(truth)
    (OUT / "corpus.zip").write_bytes(buf.getvalue())
    meta = dict(
        seed=SEED,
        generator="validation/xrd/make_corpus.py",
        sticks="pymatgen XRDCalculator, Ka1 + Ka2 (ratio 0.5), no Debye-Waller",
        weight_to_intensity="I = K * w / (rho * V^2) * |F|^2 LP m (ZMV relation; rho, V from pymatgen)",
        instruments=INSTRUMENTS, tubes=TUBES, commodities=COMMODITIES, ree_phases=REE_PHASES,
        patterns=records,
    )
    (OUT / "truth.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{len(records)} patterns, zip {len(buf.getvalue()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
