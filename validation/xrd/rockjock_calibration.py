"""Intensity calibration of reescan's XRD library against measured standards.

Real powders diffract less than their ideal crystal-structure models predict
(microabsorption, extinction, stacking disorder, poorly ordered grain rims), and by
amounts that differ from mineral to mineral. The USGS RockJock library (Eberl 2003,
as distributed in powdR, data/rockjock.rda) holds measured Cu Kα patterns of pure
standards, normalised to 10,000 counts at their highest point, and each standard's
reference intensity ratio against corundum (RIR) measured on 1 : 1 mixtures.

For each library phase with a RockJock standard of the same mineral this script
builds the pattern of its 1 : 1 mixture with corundum the way RockJock's own
quantification models one (corundum pattern + RIR x standard pattern), analyses it
with `examples/xrd_calibrate.rs` (that phase and corundum only) and writes the factor
that makes the refinement read 1 : 1 to data/xrd/intensity_calibration.csv.

Usage (from the repository root; needs `pip install rdata numpy`):
    python3 validation/xrd/rockjock_calibration.py PATH/TO/powdR/data/rockjock.rda

Run it again after a change to the structure models or the refinement: the example
multiplies the factor already in the library, so a second run converges.
"""

import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import rdata

# Library phase -> RockJock standard (phase_id) of the same mineral. The standards of
# the RockJock test mixtures are these (powdR's ?rockjock_mixtures): QUARTZ,
# ORDERED_MICROCLINE, LABRADORITE, KAOLINITE_DRY_BRANCH, MONTMORILLONITE_WYO,
# ILLITE_1M_RM30, CORUNDUM.
STANDARDS = {
    "quartz": "QUARTZ",
    "microcline_max": "ORDERED_MICROCLINE",
    "orthoclase": "ORTHOCLASE",
    "labradorite": "LABRADORITE",
    "albite_low": "ALBITE_CLEAVELANDITE",
    "kaolinite": "KAOLINITE_DRY_BRANCH",
    "montmorillonite_Na": "MONTMORILLONITE_WYO",
    "illite_1M": "ILLITE_1M_RM30",
    "calcite": "CALCITE",
    "dolomite": "DOLOMITE",
    "siderite": "SIDERITE",
    "pyrite": "PYRITE",
    "barite": "BARITE",
    "magnetite": "MAGNETITE",
    "hematite": "HEMATITE",
    "goethite": "GOETHITE",
    "fluorapatite": "FLUORAPATITE",
    "anatase": "ANATASE",
    "rutile": "RUTILE",
    "fluorite": "FLUORITE",
    "gibbsite": "GIBBSITE",
    "ilmenite": "ILMENITE",
    "cristobalite_low": "CRISTOBALITE",
    "spinel": "SPINEL",
    "zircon": "ZIRCON",
    "zincite": "ZINCITE",
}

# A standard whose 1 : 1 pattern the two-phase refinement cannot describe (R_wp above
# this) is a different material from the library's structure: no factor from it.
MAX_R_WP = 0.25


def main(rda: str) -> None:
    warnings.filterwarnings("ignore")
    lib = rdata.read_rda(rda)["rockjock"]
    phases, xrd = lib["phases"], lib["xrd"]
    tth = np.asarray(lib["tth"], float)
    rir = dict(zip(phases.phase_id, phases.rir))
    corundum = np.asarray(xrd["CORUNDUM"], float)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, pid in STANDARDS.items():
            mix = np.maximum(corundum + rir[pid] * np.asarray(xrd[pid], float), 0.0)
            mix *= 10000.0 / mix.max()
            path = Path(tmp) / f"{name}.xy"
            with open(path, "w") as f:
                f.write(f"# 1:1 corundum + RockJock {pid} (RIR {rir[pid]:.4f})\n")
                for t, c in zip(tth, mix):
                    f.write(f"{t:.3f} {c:.2f}\n")
            files.append(str(path))
        out = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "xrd_calibrate", "--"] + files,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    rows = [line.split(",") for line in out.strip().splitlines()[1:]]
    target = Path("data/xrd/intensity_calibration.csv")
    with open(target, "w") as f:
        f.write(
            "# Measured/ideal intensity per unit weight of library phases, corundum = 1.\n"
            "# Source: USGS RockJock standards (Eberl 2003, User's guide to RockJock), as\n"
            "# distributed in powdR (github benmbutler/powdR@1edf506, data/rockjock.rda):\n"
            "# each standard's measured Cu Ka pattern and its RIR against corundum. Derived by\n"
            "# validation/xrd/rockjock_calibration.py; standards fitted with R_wp > "
            f"{MAX_R_WP} are left out.\n"
            "phase,standard,rir,factor,r_wp\n"
        )
        for name, factor, r_wp in rows:
            if float(r_wp) > MAX_R_WP:
                print(f"{name}: R_wp {r_wp} > {MAX_R_WP}, left out", file=sys.stderr)
                continue
            pid = STANDARDS[name]
            f.write(f"{name},{pid},{rir[pid]:.4f},{factor},{r_wp}\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1])
