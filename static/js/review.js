// Review screen: keyboard shortcuts, partial updates of the cluster panel, preview, compare.
// No inline script anywhere: this file is loaded with <script src defer>, ready for a strict CSP.
(function () {
  "use strict";

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const panel = () => $("#cluster-panel");
  let flickerTimer = null;
  let keepNext = false;  // x was pressed: the next member key marks that member "keep separate"

  function setKeepNext(on) { keepNext = on; document.body.classList.toggle("keep-next", on); }

  function show(overlay) { overlay.hidden = false; }
  function hideOverlays() {
    $$(".overlay").forEach((o) => { o.hidden = true; });
    stopFlicker();
  }
  function anyOverlayOpen() { return $$(".overlay").some((o) => !o.hidden); }

  // Replace the cluster panel with the HTML the server sends back (views answer with a partial
  // when the request carries X-Requested-With).
  async function swap(url, options, push) {
    document.body.classList.add("busy");
    try {
      const response = await fetch(url, Object.assign({ headers: { "X-Requested-With": "fetch" } }, options || {}));
      if (response.redirected && !response.url.includes("/review/clusters/")) {
        window.location.href = response.url;
        return;
      }
      const html = await response.text();
      const holder = document.createElement("div");
      holder.innerHTML = html;
      const fresh = holder.querySelector("#cluster-panel");
      if (!fresh) { window.location.href = url; return; }
      hideOverlays();
      setKeepNext(false);
      panel().replaceWith(fresh);
      const pageUrl = response.headers.get("X-Page-Url");
      if (pageUrl && push) history.pushState({}, "", pageUrl);
      else if (pageUrl && pageUrl !== window.location.pathname) history.replaceState({}, "", pageUrl);
      document.title = (fresh.querySelector("h1") || {}).textContent?.trim().split("\n")[0] || document.title;
      fresh.dataset.ready = "1";
    } finally {
      document.body.classList.remove("busy");
    }
  }

  function submitForm(form, submitter) {
    const data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    const action = (submitter && submitter.getAttribute("formaction")) || form.action;
    return swap(action, { method: "POST", body: data, headers: { "X-Requested-With": "fetch" } }, false);
  }

  function press(key) {
    const button = $(`#cluster-panel [data-key="${key}"]`);
    if (button && !button.disabled) return submitForm(button.form, button);
  }

  // Choosing the authoritative version is marked in the page only: the field choices the curator made stay
  // as they are (a reload would reset them, and with them a curated title).
  function setChosen(member) {
    const radio = $('input[name="authoritative"]', member);
    if (!radio || radio.disabled) return;
    radio.checked = true;
    $$("#cluster-panel .member").forEach((m) => m.classList.toggle("chosen", m === member));
    const keep = $('input[name="keep"]', member);
    if (keep) keep.checked = false;  // the authoritative version is never kept apart from itself
    showKept();
    const picker = $("#member-picker");
    if (picker) picker.value = member.dataset.version;
    bringIntoView(member);
  }

  // Past twelve members the grid runs on under the sticky action bar: scroll a card whole above it.
  function bringIntoView(member) {
    const bar = $("#review-form .actions");
    const card = member.getBoundingClientRect();
    const bottom = bar ? bar.getBoundingClientRect().top : window.innerHeight;
    if (card.bottom > bottom) window.scrollBy(0, card.bottom - bottom + 8);
    else if (card.top < 0) window.scrollBy(0, card.top - 8);
  }

  function memberByShortcut(code) { return $(`#cluster-panel .member[data-shortcut="${code}"]`); }

  function chooseAuthoritative(code) {
    const member = memberByShortcut(code);
    if (member) setChosen(member);
  }

  // "Keep separate" marks: a class on the card, and the compare button's state for the compared copy.
  function showKept() {
    $$("#cluster-panel .member").forEach((m) => {
      const keep = $('input[name="keep"]', m);
      m.classList.toggle("kept", Boolean(keep && keep.checked));
    });
    const button = $("#compare [data-action=keep-compared]");
    const compared = comparePair()[1];
    if (button && compared) button.setAttribute("aria-pressed", String(compared.classList.contains("kept")));
  }

  function toggleKept(member) {
    const keep = member && !member.classList.contains("chosen") && $('input[name="keep"]', member);
    if (!keep) return;
    keep.checked = !keep.checked;
    showKept();
  }

  function navigate(direction) {
    const link = $(`#cluster-panel [data-nav="${direction}"]`);
    if (link) return swap(link.href, {}, true);
  }

  // --- preview and compare -------------------------------------------------------------
  function openPreview(member) {
    const overlay = $("#preview");
    const img = $("#preview-img");
    img.src = member.dataset.preview;
    img.classList.remove("zoomed");
    show(overlay);
  }

  // The compared pair: the chosen (authoritative) member and one other, stepped with [ and ].
  let compareIndex = 0;
  let view = { zoom: 1, x: 0, y: 0 };
  const CSS_TRANSFORMS = {
    identity: "", rot90: "rotate(-90deg)", rot180: "rotate(180deg)", rot270: "rotate(90deg)",
    flip_h: "scaleX(-1)", flip_v: "scaleY(-1)", transpose: "matrix(0,1,1,0,0,0)", transverse: "matrix(0,-1,-1,0,0,0)",
  };
  const QUARTER = new Set(["rot90", "rot270", "transpose", "transverse"]);

  function edges() {
    const data = $("#cluster-edges");
    return data ? JSON.parse(data.textContent) : [];
  }

  function comparePair() {
    const members = $$("#cluster-panel .member");
    const chosen = $("#cluster-panel .member.chosen") || members[0];
    const others = members.filter((m) => m !== chosen);
    if (!others.length) return [];
    compareIndex = ((compareIndex % others.length) + others.length) % others.length;
    return [chosen, others[compareIndex]];
  }

  function openCompare(step) {
    compareIndex += step || 0;
    const pair = comparePair();
    if (pair.length < 2) return;
    const overlay = $("#compare");
    const ids = pair.map((m) => Number(m.dataset.version));
    const edge = edges().find((e) => ids.includes(e.a) && ids.includes(e.b));
    // Verification aligned b onto a: a is drawn under, b over it turned the way verification found.
    const [under, over] = edge ? [edge.a, edge.b].map((id) => pair.find((m) => Number(m.dataset.version) === id)) : pair;
    $(".under", overlay).src = under.dataset.preview;
    $(".over", overlay).src = over.dataset.preview;
    overlay.dataset.transform = edge ? edge.transform : "identity";
    overlay.dataset.matrix = edge && edge.matrix ? JSON.stringify(edge.matrix) : "";
    $(".names", overlay).textContent = `${under.dataset.n} | ${over.dataset.n}`;
    $('input[name="version_a"]', overlay).value = under.dataset.version;
    $('input[name="version_b"]', overlay).value = over.dataset.version;
    const words = $(".aligned", overlay);
    const parts = [];
    if (!edge) parts.push(words.dataset.wordsNone);
    else {
      if (edge.words) parts.push(`${words.dataset.wordsAligned} ${edge.words}`);
      parts.push(edge.region ? words.dataset.wordsRegion : words.dataset.wordsNoregion);
      if (edge.reason) parts.push(edge.reason);
    }
    words.textContent = parts.join(" · ");
    overlay.dataset.region = edge && edge.region ? JSON.stringify(edge.region) : "";
    view = { zoom: 1, x: 0, y: 0 };
    show(overlay);
    showKept();
    const under_img = $(".under", overlay);
    const layout = () => { alignOver(overlay); applyView(overlay); };
    if (under_img.complete) layout(); else under_img.addEventListener("load", layout, { once: true });
    setSlider(overlay, $(".slider", overlay).value);
  }

  // The picture's own rectangle inside the under image's box (object-fit: contain letterboxes it).
  function contentRect(img) {
    const box = { w: img.clientWidth, h: img.clientHeight };
    const ratio = (img.naturalWidth || 1) / (img.naturalHeight || 1);
    const w = Math.min(box.w, box.h * ratio);
    const h = w / ratio;
    return { left: (box.w - w) / 2, top: (box.h - h) / 2, w, h };
  }

  function alignOver(overlay) {
    const under = $(".under", overlay);
    const over = $(".over", overlay);
    const name = overlay.dataset.transform || "identity";
    const rect = contentRect(under);
    const fitted = overlay.dataset.matrix ? JSON.parse(overlay.dataset.matrix) : null;
    if (fitted) {
      // Verification's map from the over copy's fractions to the under copy's: turn, scale, shift and skew,
      // so a cropped or resized copy lies where it came from. Stretched to the picture rectangle first, so
      // element pixels are the fractions times its width and height.
      const [xx, xy, x0, yx, yy, y0] = fitted;
      Object.assign(over.style, {
        inset: "auto", width: `${rect.w}px`, height: `${rect.h}px`, objectFit: "fill",
        left: `${rect.left}px`, top: `${rect.top}px`, transformOrigin: "0 0",
        transform: `matrix(${xx}, ${yx * rect.h / rect.w}, ${xy * rect.w / rect.h}, ${yy}, ${x0 * rect.w}, ${y0 * rect.h})`,
      });
    } else {
      // The over copy fills the under copy's picture rectangle once turned: a quarter turn swaps its box.
      const [w, h] = QUARTER.has(name) ? [rect.h, rect.w] : [rect.w, rect.h];
      Object.assign(over.style, {
        inset: "auto", width: `${w}px`, height: `${h}px`, objectFit: "fill", transformOrigin: "",
        left: `${rect.left + (rect.w - w) / 2}px`, top: `${rect.top + (rect.h - h) / 2}px`,
        transform: CSS_TRANSFORMS[name] || "",
      });
    }
    const region = $(".region", overlay);
    const fractions = overlay.dataset.region ? JSON.parse(overlay.dataset.region) : null;
    region.hidden = !fractions || !overlay.classList.contains("show-difference");
    if (fractions) {
      const [top, bottom, left, right] = fractions;
      Object.assign(region.style, {
        left: `${rect.left + left * rect.w}px`, top: `${rect.top + top * rect.h}px`,
        width: `${(right - left) * rect.w}px`, height: `${(bottom - top) * rect.h}px`,
      });
    }
  }

  // One transform for both copies: zoom and pan always stay in step.
  function applyView(overlay) {
    $(".layers", overlay).style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.zoom})`;
  }

  function zoom(factor) {
    const overlay = $("#compare");
    view.zoom = factor === 0 ? 1 : Math.min(8, Math.max(1, view.zoom * factor));
    if (factor === 0) { view.x = 0; view.y = 0; }
    applyView(overlay);
  }

  function toggleDifference() {
    const overlay = $("#compare");
    stopFlicker();
    overlay.classList.toggle("show-difference");
    if (overlay.classList.contains("show-difference")) $(".over-clip", overlay).style.clipPath = "none";
    else setSlider(overlay, $(".slider", overlay).value);
    alignOver(overlay);
  }

  // Left of the divider the under copy, right of it the over copy.
  function setSlider(overlay, value) {
    $(".over-clip", overlay).style.clipPath = `inset(0 0 0 ${value}%)`;
    $(".divider", overlay).style.left = `${value}%`;
  }

  function stopFlicker() {
    if (flickerTimer) clearInterval(flickerTimer);
    flickerTimer = null;
    const over = $("#compare .over");
    if (over) over.style.opacity = "";
  }

  function toggleFlicker() {
    if (flickerTimer) { stopFlicker(); return; }
    const over = $("#compare .over");
    $("#compare .over-clip").style.clipPath = "none";
    $("#compare .divider").style.left = "-10px";
    flickerTimer = setInterval(() => { over.style.opacity = over.style.opacity === "0" ? "1" : "0"; }, 450);
  }

  // --- queue page --------------------------------------------------------------------
  function moveQueue(step) {
    const rows = $$("#queue tbody tr[data-href]");
    if (!rows.length) return;
    const current = rows.findIndex((r) => r.classList.contains("current"));
    const next = Math.min(rows.length - 1, Math.max(0, current + step));
    rows.forEach((r) => r.classList.remove("current"));
    rows[next].classList.add("current");
    rows[next].scrollIntoView({ block: "nearest" });
  }

  // --- events ------------------------------------------------------------------------
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("[data-partial]") || !panel()) return;
    event.preventDefault();
    submitForm(form, event.submitter);
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches('#cluster-panel input[name="authoritative"]')) setChosen(target.closest(".member"));
    if (target.matches("#member-picker")) {
      const member = $(`#cluster-panel .member[data-version="${target.value}"]`);
      if (member) setChosen(member);
    }
    if (target.matches('#cluster-panel input[name="keep"]')) showKept();
    if (target.matches("#compare .slider")) setSlider($("#compare"), target.value);
    if (target.matches("#cluster-panel input.custom")) {
      const radio = target.closest(".choice").querySelector('input[type="radio"]');
      if (radio) radio.checked = true;
    }
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches("#compare .slider")) { stopFlicker(); setSlider($("#compare"), event.target.value); }
  });

  document.addEventListener("click", (event) => {
    const trigger = event.target.closest("[data-action], #preview-img, #queue tbody tr[data-href], [data-nav]");
    if (!trigger) return;
    if (trigger.matches("[data-nav]")) { event.preventDefault(); navigate(trigger.dataset.nav); return; }
    if (trigger.id === "preview-img") { trigger.classList.toggle("zoomed"); return; }
    if (trigger.matches("tr[data-href]") && !event.target.closest("a")) { window.location.href = trigger.dataset.href; return; }
    const action = trigger.dataset.action;
    if (action === "help") $("#help").hidden = !$("#help").hidden;
    if (action === "preview") openPreview(trigger.closest(".member"));
    if (action === "compare") openCompare();
    if (action === "difference") toggleDifference();
    if (action === "compare-with") {
      const member = trigger.closest(".member");
      const others = $$("#cluster-panel .member").filter((m) => !m.classList.contains("chosen"));
      if (others.includes(member)) { compareIndex = others.indexOf(member); openCompare(); }
    }
    if (action === "flicker") toggleFlicker();
    if (action === "keep-compared") toggleKept(comparePair()[1]);
    if (action === "close") hideOverlays();
  });

  // Keys pressed while a request is in flight act on the panel that comes back, in order.
  let pending = Promise.resolve();
  function enqueue(fn) { pending = pending.then(fn, fn); }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // Enter in a field must not submit the form through its first button (that would split a member).
    if (event.key === "Enter" && event.target.closest("#review-form") && event.target.matches("input")) {
      event.preventDefault();
      return;
    }
    const typing = event.target.matches('input[type="text"], input[type="search"], input[type="date"], textarea, select');
    if (event.key === "Escape") { hideOverlays(); if (typing) event.target.blur(); return; }
    if (typing) return;
    const key = event.key;
    if (key === "?") { $("#help").hidden = !$("#help").hidden; event.preventDefault(); return; }
    const comparing = $("#compare") && !$("#compare").hidden;
    if (comparing) {
      const keys = { "[": () => openCompare(-1), "]": () => openCompare(1), d: toggleDifference,
        x: () => toggleKept(comparePair()[1]),
        "+": () => zoom(1.5), "=": () => zoom(1.5), "-": () => zoom(1 / 1.5), "0": () => zoom(0) };
      if (keys[key]) { event.preventDefault(); keys[key](); return; }
    }
    if (anyOverlayOpen() && key !== "c") return;
    const onQueue = Boolean($("#queue"));
    const handled = {
      j: () => (onQueue ? moveQueue(1) : navigate("next")),
      k: () => (onQueue ? moveQueue(-1) : navigate("prev")),
      Enter: () => { if (onQueue) { const row = $("#queue tr.current"); if (row) window.location.href = row.dataset.href; } },
      m: () => press("m"),  // returns the request, so the next key waits for the new panel
      n: () => press("n"),
      s: () => press("s"),
      u: () => press("u"),
      U: () => press("U"),
      c: () => ($("#compare") && !$("#compare").hidden ? hideOverlays() : openCompare()),
      f: () => { const radio = $("#cluster-panel table.merge input[type=radio]:checked"); if (radio) radio.focus(); },
    };
    // Arrow keys move between clusters, except where they belong to a focused radio button.
    if (!event.target.matches('input[type="radio"], input[type="range"]')) {
      handled.ArrowRight = handled.j;
      handled.ArrowLeft = handled.k;
      if (onQueue) {
        handled.ArrowDown = () => moveQueue(1);
        handled.ArrowUp = () => moveQueue(-1);
      }
    }
    if (/^Digit[0-9]$/.test(event.code) && panel() && !anyOverlayOpen()) {
      event.preventDefault();
      const code = (event.shiftKey ? "shift+" : "") + event.code;
      const keeping = keepNext;
      setKeepNext(false);
      enqueue(() => (keeping ? toggleKept(memberByShortcut(code)) : chooseAuthoritative(code)));
      return;
    }
    // x, then a member's key: that member is kept separate (the same again takes it back).
    if (key === "x" && panel() && !anyOverlayOpen()) {
      event.preventDefault();
      setKeepNext(!keepNext);
      return;
    }
    if (key !== "Shift" && keepNext) setKeepNext(false);
    if (key === "p" && $("#member-picker")) { event.preventDefault(); $("#member-picker").focus(); return; }
    if (key === "Enter" && !onQueue) return;
    if (handled[key]) { event.preventDefault(); enqueue(handled[key]); }
  });

  let drag = null;
  document.addEventListener("pointerdown", (event) => {
    if (!event.target.closest("#compare .stage") || view.zoom === 1) return;
    drag = { x: event.clientX - view.x, y: event.clientY - view.y };
  });
  document.addEventListener("pointermove", (event) => {
    if (!drag) return;
    view.x = event.clientX - drag.x;
    view.y = event.clientY - drag.y;
    applyView($("#compare"));
  });
  document.addEventListener("pointerup", () => { drag = null; });
  document.addEventListener("wheel", (event) => {
    if (!event.target.closest("#compare .stage")) return;
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.25 : 0.8);
  }, { passive: false });

  window.addEventListener("popstate", () => { if (panel()) swap(window.location.pathname, {}, false); });
  if (panel()) panel().dataset.ready = "1";
})();
