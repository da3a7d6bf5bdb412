#!/usr/bin/env bash
# Drive `reescan serve` in headless Chromium through WebDriver (chromedriver's HTTP+JSON
# protocol, spoken with curl and jq) and check what an officer sees.
#
#   tests/serve_browser.sh SHOTDIR      (screenshots are written there, never in the repo)
#
# 1. `reescan serve` on a temporary station folder (loopback, a free port).
# 2. The queue page is opened; a HOLD scan (bundled sample S002: NdFeB magnet powder in
#    iron ore, declared iron-ore) is then dropped into the folder, and its row must appear
#    on the open page without navigation (server-sent events), badge "HOLD".
# 3. Its link is followed: the scan page must show the verdict word HOLD, the reasons the
#    API gives, and an <svg> plot.
# 4. The upload form is filled (declared commodity, scan id, the XRF file of sample S009)
#    and submitted; the page it lands on must show the scan's row once it is analysed.
# Screenshots at 1280×800 of each step go to SHOTDIR. Run by hand where Chromium exists
# (Debian `chromium` and `chromium-driver`); skips with a message and exit 0 when they are
# missing. Exit 1 on any failed check.
set -euo pipefail

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
        || ! command -v jq >/dev/null || ! command -v curl >/dev/null; then
    echo "skipping: needs chromium, chromedriver (chromium-driver), curl and jq"
    exit 0
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 SHOTDIR" >&2
    exit 2
fi
shots="$1"
mkdir -p "$shots"
shots="$(cd "$shots" && pwd)"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

cargo build --quiet --bin reescan
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/reescan"
work="$(mktemp -d)"
inbox="$work/inbox"
mkdir -p "$inbox" "$work/staging"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${session:-}" ]; then
        curl -s -X DELETE "$wd/session/$session" >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# --- the station and its page
"$bin" serve "$inbox" --listen 127.0.0.1:0 --settle-ms 200 --poll-ms 50 \
    --date 2026-01-01 >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
for _ in $(seq 1 100); do
    grep -q "listening on http://" "$work/serve.err" && break
    sleep 0.1
done
base="$(grep -o 'http://[0-9.:]*' "$work/serve.err" | head -1)"
[ -n "$base" ] || { cat "$work/serve.err"; echo "serve did not start" >&2; exit 1; }
echo "serve at $base"

# --- WebDriver
port=$((20000 + RANDOM % 20000))
chromedriver --port="$port" >"$work/driver.log" 2>&1 &
pids+=($!)
wd="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf "$wd/status" >/dev/null 2>&1 && break
    sleep 0.1
done
caps='{"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{
  "binary":"/usr/bin/chromium",
  "args":["--headless=new","--no-sandbox","--disable-gpu","--window-size=1280,800",
          "--disable-dev-shm-usage","--no-first-run","--user-data-dir='"$work"'/profile"]}}}}'
session="$(curl -sf -X POST -H 'Content-Type: application/json' -d "$caps" "$wd/session" \
    | jq -r '.value.sessionId')"
[ -n "$session" ] && [ "$session" != null ] || { echo "no WebDriver session" >&2; exit 1; }
s="$wd/session/$session"

wd_post() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$s$1"; }
wd_get() { curl -sf "$s$1"; }
go() { wd_post /url "$(jq -nc --arg u "$1" '{url:$u}')" >/dev/null; }
find_css() { # css -> element id or empty
    wd_post /element "$(jq -nc --arg v "$1" '{using:"css selector",value:$v}')" 2>/dev/null \
        | jq -r '.value | to_entries[0].value // empty' || true
}
text_of() { wd_get "/element/$1/text" | jq -r .value; }
page_source() { wd_get /source | jq -r .value; }
current_url() { wd_get /url | jq -r .value; }
shot() { wd_get /screenshot | jq -r .value | base64 -d >"$shots/$1.png"; echo "screenshot $shots/$1.png"; }
wait_css() { # css seconds -> element id (or empty after the wait)
    local el=""
    for _ in $(seq 1 $(( $2 * 5 ))); do
        el="$(find_css "$1")"
        [ -n "$el" ] && break
        sleep 0.2
    done
    echo "$el"
}
run_script() { wd_post /execute/sync "$(jq -nc --arg s "$1" '{script:$s,args:[]}')" | jq -r .value; }

# --- 1. the queue, open before anything arrives
go "$base/"
[ -n "$(wait_css '#queue-body' 5)" ] && ok "queue page open" || fail "no queue table"
run_script 'window.__marker = "same page"; return 1;' >/dev/null
sleep 1
shot 01-queue-empty

# --- 2. a HOLD scan dropped into the folder appears without a reload
cp spectra/synthetic/S002.msa "$work/staging/HOLD-1.msa"
cp spectra/synthetic/S002.xy "$work/staging/HOLD-1.xy"
echo '{"declared": "iron-ore"}' >"$work/staging/HOLD-1.json"
mv "$work/staging/HOLD-1.msa" "$work/staging/HOLD-1.xy" "$inbox/"
mv "$work/staging/HOLD-1.json" "$inbox/"
row="$(wait_css 'tr[data-scan-id="HOLD-1"]' 60)"
if [ -n "$row" ]; then
    ok "HOLD-1 row appeared on the open page"
    badge="$(text_of "$(find_css 'tr[data-scan-id="HOLD-1"] .badge')")"
    [ "$badge" = HOLD ] && ok "badge says HOLD" || fail "badge says '$badge', not HOLD"
    [ "$(run_script 'return window.__marker || "reloaded";')" = "same page" ] \
        && ok "no reload happened" || fail "the page was reloaded"
    count="$(text_of "$(find_css '#matched')")"
    [ "$count" = "1 scan" ] && ok "count says 1 scan" || fail "count says '$count'"
    n="$(run_script 'return document.querySelectorAll("tr[data-scan-id=\"HOLD-1\"]").length;')"
    [ "$n" = 1 ] && ok "listed once" || fail "HOLD-1 listed $n times"
else
    fail "HOLD-1 did not appear on the open queue page"
fi
shot 02-queue-live-hold

# --- 3. its scan page: verdict, reasons, plot
link="$(find_css 'tr[data-scan-id="HOLD-1"] a')"
if [ -n "$link" ]; then
    wd_post "/element/$link/click" '{}' >/dev/null
    sleep 1
    [ -n "$(wait_css 'section.verdict' 30)" ] || fail "scan page did not open"
    word="$(text_of "$(find_css 'section.verdict .word')")"
    [ "$word" = HOLD ] && ok "scan page verdict HOLD" || fail "scan page verdict '$word'"
    reasons="$(curl -sf "$base/api/scans/HOLD-1" | jq -r '.reasons[0]')"
    shown="$(text_of "$(find_css 'ol.reasons li')")"
    [ -n "$reasons" ] && [ "$shown" = "$reasons" ] && ok "first reason shown: $shown" \
        || fail "reason on the page '$shown' is not the API's '$reasons'"
    [ -n "$(find_css 'figure.plot svg')" ] && ok "inline SVG plot" || fail "no <svg> plot"
    shot 03-scan-page-top
    run_script 'document.querySelector("#plots-h").scrollIntoView(); return 1;' >/dev/null
    sleep 0.3
    shot 04-scan-page-plot
else
    fail "no link to the HOLD-1 scan page"
fi

# --- 4. the upload form
go "$base/upload"
form="$(wait_css 'form.upload' 5)"
if [ -n "$form" ]; then
    run_script 'document.querySelector("select[name=declared]").value = "ceramics"; return 1;' >/dev/null
    idf="$(find_css 'input[name=scan_id]')"
    wd_post "/element/$idf/value" '{"text":"BENCH-9"}' >/dev/null
    cp spectra/synthetic/S009.msa "$work/bench9.msa"
    file="$(find_css 'input[name=xrf]')"
    wd_post "/element/$file/value" "$(jq -nc --arg t "$work/bench9.msa" '{text:$t}')" >/dev/null
    shot 05-upload-form
    wd_post "/element/$(find_css 'form.upload button[type=submit]')/click" '{}' >/dev/null
    sleep 1
    case "$(current_url)" in
        *"uploaded=BENCH-9"*) ok "upload accepted, back on the queue" ;;
        *) fail "upload landed on $(current_url)"; page_source | head -40 >&2 ;;
    esac
    up="$(wait_css 'tr[data-scan-id="BENCH-9"]' 60)"
    if [ -n "$up" ]; then
        verdict="$(text_of "$(find_css 'tr[data-scan-id="BENCH-9"] .badge')")"
        api="$(curl -sf "$base/api/scans/BENCH-9" | jq -r .verdict)"
        [ "$verdict" = "$api" ] && ok "uploaded scan analysed: $verdict" \
            || fail "uploaded scan shows '$verdict', API says '$api'"
    else
        fail "the uploaded scan did not appear"
    fi
    shot 06-queue-after-upload
else
    fail "no upload form"
fi

echo "screenshots in $shots"
if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all browser checks passed"
