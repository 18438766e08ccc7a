// Batch page: refreshes the live part (counts, per-file status, refusals) while the worker is busy.
// Loaded with <script src defer>; no inline script, ready for a strict CSP.
(function () {
  "use strict";
  const BUSY_MS = 2000;
  // Once nothing waits, files may still be arriving from an upload page: look a while longer, less often.
  const IDLE_MS = 10000;
  const IDLE_LOOKS = 30;
  let idleLooks = 0;

  function live() { return document.getElementById("batch-live"); }

  // Each render masks the CSRF token differently; only a real change replaces the table (and the focus).
  function comparable(element) {
    return element.innerHTML.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
  }

  function schedule() {
    const current = live();
    if (!current) return;
    if (current.dataset.waiting !== "0") idleLooks = 0;
    else if (++idleLooks > IDLE_LOOKS) return;
    window.setTimeout(refresh, current.dataset.waiting !== "0" ? BUSY_MS : IDLE_MS);
  }

  async function refresh() {
    if (document.hidden) { schedule(); return; }
    try {
      const response = await fetch(window.location.pathname, {
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      if (response.ok && !response.redirected) {
        const holder = document.createElement("div");
        holder.innerHTML = await response.text();
        const fresh = holder.querySelector("#batch-live");
        if (fresh && comparable(fresh) !== comparable(live())) live().replaceWith(fresh);
      }
    } catch (error) {
      // A dropped connection is retried at the next tick.
    }
    schedule();
  }

  schedule();
})();
