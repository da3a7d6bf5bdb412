#!/usr/bin/env bash
# Print the forensic report to PDF with headless Chromium and check every printed page.
#
#   tests/report_pdf.sh [OUTDIR]      (default: $TMPDIR/reescan-report-pdf)
#
# Two reports of one mislabelled synthetic iron-ore shipment (iron ore with 8 %
# bastnäsite concentrate, seed 42; XRF .msa and XRD .xy): one issued with the example
# laboratory profile (data/lab.example.toml) and per-report flags, one without a profile
# (an unsigned draft). For each, `pdftotext` must find on every page "Page x of y" (x
# running 1..y, y the PDF's page count) and the report id; the lab report must show the
# laboratory, customer, dates of receipt and analysis and the authorising person and role
# (ISO/IEC 17025 §7.8.2.1), the draft must say on every page that it is not an accredited
# laboratory report. Every page is rendered to PNG with `pdftoppm` for a person to look
# at, and the lab report is also captured as a screen shows it. Nothing is written inside
# the repository.
#
# Needs chromium and poppler-utils (`apt-get install -y chromium poppler-utils`); skips
# with a message and exit 0 when they are missing. Exit 1 on a failed check.
set -euo pipefail

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ] || ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null \
        || ! command -v pdfinfo >/dev/null; then
    echo "skipping: needs chromium and poppler-utils (apt-get install -y chromium poppler-utils)"
    exit 0
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/reescan-report-pdf}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$repo"

cargo build --quiet --bin reescan
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/reescan"
xrf="$out/S0042_iron-ore.msa"
xrd="$out/S0042_iron-ore.xy"
"$bin" synth --commodity iron-ore --carrier bastnasite --fraction 0.08 --seed 42 \
    --xrf "$xrf" --xrd "$xrd" >/dev/null

lab_id="RS-PDFCHECK-LAB"
draft_id="RS-PDFCHECK-DRAFT"
common=(--declared iron-ore --xrf "$xrf" --xrd "$xrd" --scan-id S0042
        --issued-at 2026-11-23T12:00:00Z)
"$bin" report "${common[@]}" --report-id "$lab_id" --out "$out/lab.html" \
    --lab data/lab.example.toml --received 2026-11-20 --measured 2026-11-19 \
    --sample "Container MSKU 1234567, bulk iron ore" >/dev/null
"$bin" report "${common[@]}" --report-id "$draft_id" --out "$out/draft.html" >/dev/null

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

print_pdf() { # html pdf
    rm -f "$2"
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d)" --no-pdf-header-footer --print-to-pdf="$2" \
        "file://$1" >/dev/null 2>&1 || true
    [ -s "$2" ] || { fail "$2 not written by $browser"; return 1; }
}

# Every page: "Page x of y" with x = the page, y = the page count, and the report id.
check_pages() { # pdf report_id [text that must be on every page]
    local pdf="$1" id="$2" every="${3:-}" pages p text
    pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
    [ "${pages:-0}" -ge 1 ] || { fail "$pdf: no pages"; return; }
    for p in $(seq 1 "$pages"); do
        text=$(pdftotext -f "$p" -l "$p" -layout "$pdf" -)
        grep -q "Page $p of $pages" <<<"$text" || fail "$pdf page $p: no \"Page $p of $pages\""
        grep -qF "$id" <<<"$text" || fail "$pdf page $p: no report id $id"
        if [ -n "$every" ]; then
            grep -qF "$every" <<<"$text" || fail "$pdf page $p: no \"$every\""
        fi
    done
    echo "$pdf: $pages pages, each with \"Page x of $pages\" and $id"
}

# The whole text holds each of the given strings.
check_text() { # pdf string...
    local pdf="$1" text s
    shift
    text=$(pdftotext "$pdf" - | tr -s ' \n' '  ')
    for s in "$@"; do
        grep -qF "$s" <<<"$text" || fail "$pdf: no \"$s\""
    done
}

if print_pdf "$out/lab.html" "$out/lab.pdf"; then
    check_pages "$out/lab.pdf" "$lab_id" "Harbour Materials Testing Laboratory"
    check_text "$out/lab.pdf" \
        "Test report: forensic screening of cargo scan data" \
        "Quay 4, Building 17" "1234 AB Port Town" \
        "Customs Agency, Risk Analysis Unit" "risk-analysis@customs.example" \
        "Container MSKU 1234567, bulk iron ore" \
        "Date of receipt 2026-11-20" "Date of measurement 2026-11-19" \
        "Date of analysis 2026-11-23" \
        "Dr. A. N. Example" "Head of laboratory" \
        "End of report $lab_id" "La Kα"
    if pdftotext "$out/lab.pdf" - | grep -q "UNSIGNED DRAFT"; then
        fail "lab.pdf: a complete lab report calls itself a draft"
    fi
fi
if print_pdf "$out/draft.html" "$out/draft.pdf"; then
    check_pages "$out/draft.pdf" "$draft_id" "UNSIGNED DRAFT: not an accredited laboratory report"
    check_text "$out/draft.pdf" "Not authorised: an unsigned draft"
fi

# The report as a screen shows it (1200 px wide, the whole page), for a person to look at.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1200,4600 \
    --screenshot="$out/lab-screen.png" "file://$out/lab.html" >/dev/null 2>&1 || true
[ -s "$out/lab-screen.png" ] && echo "screen: $out/lab-screen.png"

for name in lab draft; do
    if [ -s "$out/$name.pdf" ]; then
        rm -f "$out/$name"-*.png
        pdftoppm -r 60 -png "$out/$name.pdf" "$out/$name"
        echo "pages as PNG: $(ls "$out/$name"-*.png | tr '\n' ' ')"
    fi
done

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "ok: every page numbered and identified; lab fields present"
