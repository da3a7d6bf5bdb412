"""Builds the four RockJock host-phase CIFs (orthoclase, low albite, 1M illite, Na-montmorillonite)
and their pymatgen stick fixtures. Run from the repository root:  python3 tests/data/pymatgen/rockjock_phases.py
Needs: pip install larixite pymatgen."""
import math, sys, os
import larixite.amcsd as amcsd
from pymatgen.core import Structure
from pymatgen.analysis.diffraction.xrd import XRDCalculator
import pymatgen

root = sys.argv[1] if len(sys.argv) > 1 else "."
db = amcsd.get_amcsd()
def amcsd_text(i):
    return db.get_cif(i).ciftext

cifs = {}
cifs["orthoclase"] = amcsd_text(7928)
cifs["illite_1M"] = amcsd_text(5015)

# Low albite, Downs, Hazen & Finger (1994) Am. Mineral. 79:1042, P = 0 (AMCSD 0001683):
# published cell and fractional coordinates, C-1.
albite_sites = [
    ("Na", "Na", 0.26913, 0.98904, 0.14894, 0.038),
    ("Al1o", "Al", 0.00890, 0.16819, 0.20762, 0.00811),
    ("Si1m", "Si", 0.00398, 0.82043, 0.23665, 0.00798),
    ("Si2o", "Si", 0.69222, 0.11044, 0.31589, 0.00747),
    ("Si2m", "Si", 0.68162, 0.88179, 0.36088, 0.00773),
    ("OA1", "O", 0.00615, 0.13166, 0.96889, 0.01482),
    ("OA2", "O", 0.59158, 0.99706, 0.27896, 0.00975),
    ("OBo", "O", 0.81370, 0.11011, 0.19504, 0.01330),
    ("OBm", "O", 0.81898, 0.85089, 0.25629, 0.01507),
    ("OCo", "O", 0.01239, 0.30185, 0.26901, 0.01216),
    ("OCm", "O", 0.02327, 0.69340, 0.22754, 0.01165),
    ("ODo", "O", 0.20643, 0.10894, 0.38631, 0.01507),
    ("ODm", "O", 0.18092, 0.86801, 0.42864, 0.01824),
]
def write_cif(title, source_lines, cell, sg, ops, sites):
    a, b, c, al, be, ga = cell
    out = [f"data_{title}", *[f"# {l}" for l in source_lines],
           f"_cell_length_a {a}", f"_cell_length_b {b}", f"_cell_length_c {c}",
           f"_cell_angle_alpha {al}", f"_cell_angle_beta {be}", f"_cell_angle_gamma {ga}",
           f"_symmetry_space_group_name_H-M '{sg}'", "loop_", "_space_group_symop_operation_xyz"]
    out += [f"  '{o}'" for o in ops]
    out += ["loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x",
            "_atom_site_fract_y", "_atom_site_fract_z", "_atom_site_occupancy", "_atom_site_U_iso_or_equiv"]
    for lab, el, x, y, z, occ, u in sites:
        out.append(f"{lab} {el} {x:.5f} {y:.5f} {z:.5f} {occ:.3f} {u:.5f}")
    return "\n".join(out) + "\n"

cifs["albite_low"] = write_cif(
    "albite_low",
    ["Low albite NaAlSi3O8, Downs R T, Hazen R M & Finger L W (1994) Am. Mineral. 79:1042-1052,",
     "P = 0 (AMCSD 0001683): published cell and coordinates, U_iso as published (Na: U_eq)."],
    (8.1372, 12.7870, 7.1574, 94.245, 116.605, 87.809), "C -1",
    ["x,y,z", "1/2+x,1/2+y,z", "-x,-y,-z", "1/2-x,1/2-y,-z"],
    [(l, e, x, y, z, 1.0, u) for (l, e, x, y, z, u) in albite_sites])

# Na-montmorillonite (one water layer, d001 = 12.4 A, as SWy-type smectite at room humidity):
# the 2:1 layer of the 1M illite of Drits et al. (2010) (AMCSD 5015) with its octahedral
# sheet Al1.67Mg0.33, the interlayer K replaced by Na0.35 and 2 H2O (as O) per O10(OH)2,
# layer-to-layer offset c*cos(beta) kept, basal spacing widened from 10.02 to 12.4 A.
ill = dict(a=5.2021, b=8.9797, c=10.226, beta=101.57)
d_old = ill["c"] * math.sin(math.radians(ill["beta"]))
shift = ill["c"] * math.cos(math.radians(ill["beta"]))  # A, kept
d_new = 12.4
c_new = math.hypot(d_new, shift)
beta_new = math.degrees(math.atan2(d_new, shift))
def relayer(x, z):
    z2 = z * d_old / d_new
    x2 = x + (z - z2) * shift / ill["a"]
    return x2, z2
layer = [("Al", "Al", 0.5, 0.1667, 0.0, 0.835), ("Mg", "Mg", 0.5, 0.1667, 0.0, 0.165),
         ("Si", "Si", 0.4191, 0.328, 0.2688, 1.0), ("O1", "O", 0.3487, 0.31, 0.1063, 1.0),
         ("O2", "O", 0.4984, 0.5, 0.3131, 1.0), ("O3", "O", 0.6715, 0.2246, 0.335, 1.0),
         ("OH", "O", 0.4191, 0.0, 0.1006, 1.0)]
sites = []
for lab, el, x, y, z, occ in layer:
    x2, z2 = relayer(x, z)
    sites.append((lab, el, x2, y, z2, occ, 0.0127))
# Interlayer on the mid-plane z = 1/2 (relayer keeps the in-plane position of the illite's K site).
xk, zk = relayer(0.0, 0.5)
sites.append(("Na", "Na", xk, 0.5, zk, 0.175, 0.05))
sites.append(("Ow", "O", xk, 0.1667, zk, 1.0, 0.05))
cifs["montmorillonite_Na"] = write_cif(
    "montmorillonite_Na",
    ["Dioctahedral smectite model (Na-montmorillonite, one water layer, d001 = 12.4 A): 2:1 layer of",
     "1M illite, Drits V A, Zviagina B B, McCarty D K & Salyn A L (2010) Am. Mineral. 95:348 (AMCSD 5015),",
     "octahedral Al0.835Mg0.165, interlayer Na0.35 + 2 H2O (water as O) per O10(OH)2, basal spacing 12.4 A.",
     "A 3D model of a turbostratic clay: non-basal lines are really 2D bands (broadened in the refinement)."],
    (ill["a"], ill["b"], round(c_new, 4), 90.0, round(beta_new, 3), 90.0), "C 1 2/m 1",
    ["x,y,z", "1/2+x,1/2+y,z", "x,-y,z", "1/2+x,1/2-y,z", "-x,y,-z", "1/2-x,1/2+y,-z", "-x,-y,-z", "1/2-x,1/2-y,-z"],
    sites)

calc = XRDCalculator(wavelength="CuKa1")
for name, text in cifs.items():
    path = os.path.join(root, "data/xrd", name + ".cif")
    open(path, "w").write(text)
    s = Structure.from_str(text, fmt="cif")
    p = calc.get_pattern(s, scaled=True, two_theta_range=(5, 90))
    with open(os.path.join(root, "tests/data/pymatgen", name + ".csv"), "w") as f:
        f.write(f"# pymatgen {pymatgen.core.__version__} XRDCalculator(wavelength='CuKa1' = 1.54056 A), two_theta_range=(5, 90), scaled=True, no Debye-Waller; structure from data/xrd/{name}.cif\n")
        f.write("two_theta_deg,d_A,rel_intensity,hkl,multiplicity\n")
        for tt, d, i, hk in zip(p.x, p.d_hkls, p.y, p.hkls):
            h = hk[0]["hkl"]
            f.write(f"{tt:.4f},{d:.5f},{i:.3f},{''.join(str(v) for v in h)},{hk[0]['multiplicity']}\n")
    print(name, s.composition.reduced_formula, round(s.density, 3), s.lattice.abc, s.lattice.angles, len(p.x))
