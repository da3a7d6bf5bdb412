// reescan station: live rows on the queue page.
//
// The queue's table body names its event stream (data-events, with the page's filters
// and the last journal entry it shows). Each `scan` event carries the table row the
// server rendered for the new decision; it goes on top, replacing the scan's older row
// (a re-scan), so every scan is listed once. Without JavaScript the page works the same,
// reloaded by hand.
"use strict";
(function () {
  const body = document.getElementById("queue-body");
  const live = document.getElementById("live");
  if (!body || !body.dataset.events || !window.EventSource) {
    if (live) live.textContent = "live updates off (reload to see new scans)";
    return;
  }
  const say = (text) => { if (live) live.textContent = text; };
  const source = new EventSource(body.dataset.events);
  source.addEventListener("open", () => say("live: new verdicts appear here"));
  source.addEventListener("error", () => say("live updates: reconnecting…"));
  source.addEventListener("scan", (ev) => {
    const data = JSON.parse(ev.data);
    const t = document.createElement("template");
    t.innerHTML = data.row;
    const row = t.content.firstElementChild;
    if (!row) return;
    let replaced = false;
    for (const old of body.querySelectorAll("tr[data-scan-id]")) {
      if (old.dataset.scanId === data.scan_id) { old.remove(); replaced = true; }
    }
    const matched = document.getElementById("matched");
    if (matched && !replaced) {
      const n = Number(matched.dataset.n) + 1;
      matched.dataset.n = String(n);
      matched.textContent = n + (n === 1 ? " scan" : " scans");
    }
    row.classList.add("fresh");
    body.prepend(row);
    const empty = document.getElementById("queue-empty");
    if (empty) empty.remove();
    say("live: " + data.scan_id + " " + data.verdict);
  });
})();
