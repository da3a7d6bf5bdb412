#!/usr/bin/env bash
# Open the forensic report of a mislabelled synthetic iron-ore shipment in a real headless
# browser (Debian `chromium --headless`): a full-page screenshot and a print to PDF.
#
#   tests/browser_screenshot.sh [OUTDIR]      (default: $TMPDIR/reescan-browser-check)
#
# The shipment: iron ore blended with 8 % bastnäsite concentrate (seed 42), XRF (.msa)
# and XRD (.xy, hematite + bastnäsite), declared as iron-ore — `reescan report` should
# say HOLD and show the Ce/La lines and the bastnäsite sticks. Nothing is written inside
# the repository. Skips (exit 0) with a message when no chromium is installed
# (`apt-get install chromium`).
set -euo pipefail

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
    echo "skipping: no chromium/chrome on PATH (apt-get install chromium)"
    exit 0
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/reescan-browser-check}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$repo"

cargo build --quiet --bin reescan
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/reescan"
xrf="$out/S0042_iron-ore.msa"
xrd="$out/S0042_iron-ore.xy"
rm -f "$xrf" "$xrd"
"$bin" synth --commodity iron-ore --carrier bastnasite --fraction 0.08 --seed 42 \
    --xrf "$xrf" --xrd "$xrd" >/dev/null

"$bin" report --declared iron-ore --xrf "$xrf" --xrd "$xrd" --scan-id S0042 \
    --out "$out/report.html"

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run)
"$browser" "${flags[@]}" --window-size=1200,4600 --screenshot="$out/report.png" \
    "file://$out/report.html" >/dev/null 2>&1
"$browser" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$out/report.pdf" \
    "file://$out/report.html" >/dev/null 2>&1

for f in report.png report.pdf; do
    size=$(stat -c %s "$out/$f" 2>/dev/null || echo 0)
    if [ "$size" -lt 20000 ]; then
        echo "FAIL: $out/$f missing or too small ($size bytes)" >&2
        exit 1
    fi
done
pages=$(grep -c "/Type /Page\b" "$out/report.pdf" 2>/dev/null || true)
echo "report:     $out/report.html"
echo "screenshot: $out/report.png ($(stat -c %s "$out/report.png") bytes)"
echo "pdf:        $out/report.pdf (${pages:-?} pages)"
