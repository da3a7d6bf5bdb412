"""Writes the CIFs added to data/xrd/ for issue 22 (rare-earth compounds in trade and the
host phases of iron ore, zircon sand and ceramics; the phases of the Dara real patterns).

Two kinds of entry, each listed in data/xrd/SOURCES.md:
- AMCSD: the CIF text of the American Mineralogist Crystal Structure Database entry as
  shipped in the PyPI wheel larixite (amcsd_cif1.db), via larixite.amcsd.get_cif(id);
  only the label of a water oxygen ("Wat") is renamed to O so that the file parses.
- HAND-BUILT: a structure type with a published cell and prototype coordinates, written
  with pymatgen (Structure.from_spacegroup + CifWriter); the parameters are here.

Run from the repository root:  python3 validation/xrd/build_library.py
(pip install pymatgen larixite). Then validation/xrd/pymatgen_fixtures.py.
"""

from pathlib import Path

from larixite.amcsd import get_cif
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

OUT = Path("data/xrd")

# name -> AMCSD id
AMCSD = {
    # rare-earth compounds
    "fluocerite_LaF3": 20644,
    "fluocerite_CeF3": 9548,
    "rhabdophane_Ce": 19169,
    "monazite_La": 1699,
    "kozoite_Nd": 19379,
    "YIG_Y3Fe5O12": 16519,
    # hosts
    "fluorapatite": 1256,
    "fluorite": 11683,
    "barite": 5144,
    "dolomite": 584,
    "siderite": 101,
    "spinel": 1398,
    "wustite": 13894,
    "pyrite": 605,
    "anatase": 19093,
    "gibbsite": 17978,
    "shcherbinaite_V2O5": 13891,
    "zincite": 5203,
    "zabuyelite_Li2CO3": 10813,
    "pseudobrookite": 18179,
    "franklinite": 8475,
}

# Bixbyite (Ia-3) coordinates used for the C-type sesquioxides below: M1 8b, M2 24d
# (x, 0, 1/4), O 48e.
BIXBYITE_Y2O3 = (-0.0327, (0.3907, 0.1520, 0.3804))  # as Dy2O3_C / Gd2O3_C
BIXBYITE_IN2O3 = (-0.0335, (0.3905, 0.1529, 0.3832))  # Marezio (1966) Acta Cryst. 20:723


def bixbyite(metal, a, coords):
    x_m, o = coords
    return Structure.from_spacegroup(
        "Ia-3",
        Lattice.cubic(a),
        [metal, metal, "O"],
        [[0.25, 0.25, 0.25], [x_m, 0.0, 0.25], list(o)],
    )


def fluorite(metal, a, o_occ):
    return Structure.from_spacegroup(
        "Fm-3m",
        Lattice.cubic(a),
        [{metal: 1.0}, {"O": o_occ}],
        [[0, 0, 0], [0.25, 0.25, 0.25]],
    )


def ucl3(metal, a, c, o_xy):
    # UCl3 type (P6_3/m): M 2c (1/3, 2/3, 1/4), O 6h (x, y, 1/4); H not included.
    return Structure.from_spacegroup(
        "P6_3/m",
        Lattice.hexagonal(a, c),
        [metal, "O"],
        [[1 / 3, 2 / 3, 0.25], [o_xy[0], o_xy[1], 0.25]],
    )


def th2zn17(r, t, a, c):
    # Th2Zn17 type (R-3m, hexagonal axes): R 6c, T 6c, 9d, 18f, 18h.
    return Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(a, c),
        [r, t, t, t, t],
        [
            [0, 0, 0.3430],
            [0, 0, 0.0970],
            [0.5, 0, 0.5],
            [0.2905, 0, 0],
            [0.5015, 0.4985, 0.1560],
        ],
    )


HAND = {
    "LaOH3": lambda: ucl3("La", 6.5286, 3.8588, (0.3964, 0.3087)),
    "NdOH3": lambda: ucl3("Nd", 6.421, 3.742, (0.3964, 0.3087)),
    "Eu2O3_C": lambda: bixbyite("Eu", 10.868, BIXBYITE_Y2O3),
    "Sm2O3_C": lambda: bixbyite("Sm", 10.932, BIXBYITE_Y2O3),
    "In2O3": lambda: bixbyite("In", 10.117, BIXBYITE_IN2O3),
    "Pr6O11": lambda: fluorite("Pr", 5.4678, 11 / 12),
    "Tb4O7": lambda: fluorite("Tb", 5.2835, 7 / 8),
    "Sm2Co17": lambda: th2zn17("Sm", "Co", 8.395, 12.216),
}


def main():
    for name, amcsd_id in AMCSD.items():
        text = get_cif(amcsd_id).ciftext
        text = "\n".join(
            "O3" + line[3:] if line.startswith("Wat ") else line for line in text.splitlines()
        )
        (OUT / f"{name}.cif").write_text(text.rstrip() + "\n")
        s = Structure.from_file(OUT / f"{name}.cif")
        print(f"{name:22} AMCSD {amcsd_id:05d} {s.composition.reduced_formula:12} {s.density:.3f}")
    for name, build in HAND.items():
        s = build()
        CifWriter(s, symprec=0.01).write_file(OUT / f"{name}.cif")
        s2 = Structure.from_file(OUT / f"{name}.cif")
        dmin = min(
            s2.get_distance(i, j)
            for i in range(len(s2))
            for j in range(i + 1, len(s2))
        )
        print(f"{name:22} hand-built {s2.composition.reduced_formula:12} {s2.density:.3f} shortest {dmin:.3f} A")


if __name__ == "__main__":
    main()
