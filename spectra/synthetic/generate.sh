#!/bin/sh
# Regenerates the bundled sample shipments with `reescan synth` (deterministic per seed).
# Run from the repository root:  sh spectra/synthetic/generate.sh
set -eu
R="${REESCAN:-cargo run --release --quiet --}"
D=spectra/synthetic
s() { # id commodity seed [synth flags...]
    id=$1; c=$2; seed=$3; shift 3
    $R synth --commodity "$c" --seed "$seed" "$@" --xrf "$D/$id.msa" --xrd "$D/$id.xy"
}
s S001 iron-ore 101
s S002 iron-ore 102 --carrier ndfeb --fraction 0.04
s S003 iron-ore 103 --carrier bastnasite --fraction 0.03
s S004 zirconium 104
s S005 zirconium 106
s S006 zirconium 107 --carrier monazite --fraction 0.05
s S007 ceramics 108
s S008 ceramics 109 --carrier oxides --fraction 0.02
s S009 ceramics 110 --carrier smco --fraction 0.03
s S010 rare-earth 111 --carrier bastnasite
s S011 zirconium 112 --carrier ionic-clay --fraction 0.02
s S012 iron-ore 113 --ree Dy=0.4,Tb=0.1
