"""Builds the RockJock host-phase CIFs (orthoclase, maximum microcline, low albite, labradorite,
1M illite, Na-montmorillonite)
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

# Maximum microcline KAlSi3O8 (the ordered K-feldspar of the RockJock mixtures; powdR's
# fit of them uses the ORDERED_MICROCLINE reference): the framework of the orthoclase
# above (AMCSD 7928) in C-1, each general C2/m site split into its o and m images (x, y, z)
# and (x, -y, z), Al ordered into T1o (maximum microcline), in the maximum-microcline cell
# of Brown & Bailey (1964) Acta Cryst. 17:1391 (values from memory). Its (130)/(1-30) and
# (131)/(1-31) pairs (triclinicity ~1) are what tell microcline from orthoclase.
orth_sites = [("K", "K", 0.2832, 0.0, 0.1358, 0.006), ("T1", "T", 0.009, 0.1842, 0.2226, 0.002),
              ("T2", "Si", 0.7078, 0.11848, 0.3395, 0.002), ("OA1", "O", 0.0, 0.1487, 0.0, 0.012),
              ("OA2", "O", 0.6328, 0.0, 0.2782, 0.012), ("OB", "O", 0.8307, 0.1466, 0.2218, 0.012),
              ("OC", "O", 0.0364, 0.3126, 0.2546, 0.012), ("OD", "O", 0.1821, 0.1254, 0.4063, 0.012)]
def general(x, y, z):
    half = lambda v: min(abs(v % 0.5), abs(v % 0.5 - 0.5)) < 1e-9
    return not half(y) and not (half(x) and half(z))
mc_sites = []
for lab, el, x, y, z, u in orth_sites:
    if general(x, y, z):
        for suf, yy in (("o", y), ("m", (-y) % 1.0)):
            e = ("Al" if suf == "o" else "Si") if el == "T" else el
            mc_sites.append((lab + suf, e, x, yy, z, 1.0, u))
    else:
        mc_sites.append((lab, el, x, y, z, 1.0, u))
cifs["microcline_max"] = write_cif(
    "microcline_max",
    ["Maximum microcline KAlSi3O8 (model): orthoclase framework of Tseng, Heaney & Onstott (1995)",
     "Phys. Chem. Miner. 22:399 (AMCSD 7928) in C-1 with Al ordered in T1o, in the maximum-microcline",
     "cell of Brown & Bailey (1964) Acta Cryst. 17:1391 (cell values from memory)."],
    (8.560, 12.964, 7.215, 90.65, 115.83, 87.70), "C -1",
    ["x,y,z", "1/2+x,1/2+y,z", "-x,-y,-z", "1/2-x,1/2-y,-z"], mc_sites)

# Labradorite (Na0.4Ca0.6)(Al1.6Si2.4)O8, the plagioclase of the RockJock mixtures (powdR's fit
# uses the LABRADORITE reference): the low-albite framework above with Na/Ca and Al/Si mixed
# on every site (the average C-1 structure; the weak e-satellites of intermediate plagioclase
# are not modelled), in a labradorite C-1 subcell (c halved from the 14.2 A I-1 cell; values
# as commonly cited for An50-An70, from memory).
lab_sites = []
an = 0.6
for lab, el, x, y, z, u in albite_sites:
    if el == "Na":
        lab_sites += [("Na", "Na", x, y, z, 1 - an, u), ("Ca", "Ca", x, y, z, an, u)]
    elif el in ("Al", "Si"):
        al = (1 + an) / 4
        lab_sites += [(lab + "a", "Al", x, y, z, al, u), (lab + "s", "Si", x, y, z, 1 - al, u)]
    else:
        lab_sites.append((lab, el, x, y, z, 1.0, u))
cifs["labradorite"] = write_cif(
    "labradorite",
    ["Labradorite An60 (model): low-albite framework of Downs, Hazen & Finger (1994) Am. Mineral.",
     "79:1042 with Na0.4Ca0.6 and Al0.4Si0.6 on every T site, C-1 subcell a=8.17 b=12.86 c=7.10",
     "alpha=93.5 beta=116.2 gamma=89.8 (labradorite, values from memory)."],
    (8.17, 12.86, 7.10, 93.5, 116.2, 89.8), "C -1",
    ["x,y,z", "1/2+x,1/2+y,z", "-x,-y,-z", "1/2-x,1/2-y,-z"], lab_sites)

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
