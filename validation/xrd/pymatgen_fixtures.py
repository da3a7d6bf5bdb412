"""Writes tests/data/pymatgen/<phase>.csv: pymatgen's XRDCalculator stick pattern of a
data/xrd CIF (Cu Ka1 = 1.54056 A, 5-90 deg 2theta, scaled to 100, no Debye-Waller), the
independent reference that tests/xrd_pymatgen.rs checks the project's own pattern
calculator against.

Run from the repository root:  python3 validation/xrd/pymatgen_fixtures.py NAME...
(no NAME: every CIF in data/xrd that has no fixture yet).
"""

import sys
from pathlib import Path

import pymatgen.core
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Structure

CIF_DIR = Path("data/xrd")
OUT = Path("tests/data/pymatgen")


def write(name):
    s = Structure.from_file(CIF_DIR / f"{name}.cif")
    pat = XRDCalculator(wavelength="CuKa1").get_pattern(s, scaled=True, two_theta_range=(5, 90))
    ver = pymatgen.core.__version__
    lines = [
        f"# pymatgen {ver} XRDCalculator(wavelength='CuKa1' = 1.54056 A), two_theta_range=(5, 90), "
        f"scaled=True, no Debye-Waller; structure from data/xrd/{name}.cif; "
        "written by validation/xrd/pymatgen_fixtures.py",
        "two_theta_deg,d_A,rel_intensity,hkl,multiplicity",
    ]
    for x, y, hkls, d in zip(pat.x, pat.y, pat.hkls, pat.d_hkls):
        h = hkls[0]
        hkl = "".join(str(i) for i in h["hkl"])
        lines.append(f"{x:.4f},{d:.5f},{y:.3f},{hkl},{h['multiplicity']}")
    (OUT / f"{name}.csv").write_text("\n".join(lines) + "\n")
    print(f"{name}: {len(pat.x)} lines")


def main():
    names = sys.argv[1:] or sorted(
        p.stem for p in CIF_DIR.glob("*.cif") if not (OUT / f"{p.stem}.csv").exists()
    )
    for n in names:
        write(n)


if __name__ == "__main__":
    main()
