// Bulk upload: one request per file into one batch, per-file and overall progress, retry of a single file.
// One request per file means every file the server answered is stored and committed on its own: a batch
// cut off half way (reload, lost connection) keeps what arrived, and the page opened again with ?batch=
// skips those files instead of sending them again.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const strings = document.getElementById("upload-strings").dataset;
  const rowsBody = document.getElementById("file-rows");
  const overall = document.getElementById("overall");
  const overallText = document.getElementById("overall-text");
  const maxBytes = Number(form.dataset.maxBytes);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const CONCURRENCY = 3;
  let batchId = form.dataset.batch || "";
  let queue = [];
  let active = 0;
  const entries = [];
  const received = new Map(); // path → size of the files the batch already holds

  function text(el, value) { el.textContent = value; return el; }

  function cell(row, content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content || "";
    row.appendChild(td);
    return td;
  }

  function updateOverall() {
    const total = entries.reduce((n, e) => n + e.file.size, 0) || 1;
    const sent = entries.reduce((n, e) => n + (e.finished ? e.file.size : e.loaded), 0);
    const finished = entries.filter((e) => e.finished).length;
    overall.max = total;
    overall.value = sent;
    text(overallText, strings.progress.replace("%(done)s", finished).replace("%(total)s", entries.length));
    document.getElementById("upload-progress").dataset.finished = String(finished === entries.length);
    // While files are being sent the batch page opens in a new tab, so leaving does not cut the upload off.
    const link = document.querySelector("#batch-link a");
    if (sending()) { link.target = "_blank"; link.rel = "noopener"; } else { link.removeAttribute("target"); }
  }

  function sending() { return active > 0 || queue.length > 0; }

  function normalise(path) {
    return path.trim().replace(/\\/g, "/").replace(/^\.\//, "").replace(/^\/+|\/+$/g, "");
  }

  function addEntry(file, path) {
    const row = document.createElement("tr");
    const bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    cell(row, path);
    cell(row, bar);
    const result = cell(row, strings.waiting);
    const action = cell(row, "");
    rowsBody.appendChild(row);
    const entry = { file, path, row, bar, result, action, loaded: 0, finished: false };
    entries.push(entry);
    if (file.size > maxBytes) {
      finish(entry, "refused", strings.refusedSize);
    } else if (received.get(normalise(path)) === file.size) {
      finish(entry, "received", strings.received);
    } else {
      queue.push(entry);
    }
  }

  function finish(entry, status, message, already) {
    entry.finished = true;
    entry.row.dataset.result = status;
    entry.result.className = "result-" + status;
    text(entry.result, message);
    if (already) {
      entry.result.appendChild(document.createElement("br"));
      const link = document.createElement("a");
      link.href = already.url;
      text(link, already.identifier);
      const by = strings.uploadedBy.replace("%(who)s", already.uploader || "—").replace("%(when)s", already.uploaded_at_text || already.uploaded_at);
      const label = text(document.createElement("strong"), strings.already);
      label.className = "already";
      entry.result.append(label, " ", link, ", " + by);
    }
    entry.bar.value = entry.bar.max;
    updateOverall();
  }

  function fail(entry, message) {
    entry.loaded = 0;
    entry.row.dataset.result = "failed";
    entry.result.className = "result-failed";
    text(entry.result, strings.failed + (message ? ": " + message : ""));
    const button = document.createElement("button");
    button.type = "button";
    text(button, strings.retry);
    button.addEventListener("click", () => {
      entry.action.replaceChildren();
      text(entry.result, strings.waiting);
      queue.push(entry);
      pump();
    });
    entry.action.replaceChildren(button);
    updateOverall();
  }

  // The reason the API gives: {"detail": "..."} or {"field": ["...", ...]}.
  function refusal(xhr) {
    let body;
    try { body = JSON.parse(xhr.responseText); } catch (error) { return ""; }
    if (!body || typeof body !== "object") return "";
    if (typeof body.detail === "string") return body.detail;
    return Object.values(body).flat(Infinity).filter((m) => typeof m === "string").join(" ");
  }

  function send(entry) {
    active += 1;
    const data = new FormData();
    data.append("batch", batchId);
    data.append("files", entry.file, entry.file.name);
    data.append("paths", entry.path);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadsUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.addEventListener("progress", (event) => {
      entry.loaded = event.loaded;
      entry.bar.value = event.loaded;
      updateOverall();
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) {
        const answer = JSON.parse(xhr.responseText).files;
        const first = answer[0] || { status: "created", message: "" };
        // A ZIP answers for each file inside it; a single file needs no name, its row shows it.
        const message = answer.length === 1 ? first.message : answer.map((f) => f.path + ": " + f.message).join(" ");
        finish(entry, first.status, message, first.already_in_collection);
      } else if ((xhr.status === 400 || xhr.status === 403) && refusal(xhr)) {
        // Refused in words (a sidecar CSV that cannot be read, someone else's batch): sending again would not help.
        finish(entry, "refused", refusal(xhr));
      } else {
        fail(entry, xhr.status + " " + xhr.statusText);
      }
    });
    xhr.addEventListener("error", () => fail(entry, ""));
    xhr.addEventListener("loadend", () => { active -= 1; pump(); updateOverall(); });
    xhr.send(data);
  }

  function pump() {
    while (active < CONCURRENCY && queue.length) send(queue.shift());
  }

  async function ensureBatch() {
    if (batchId) return true;
    const source = form.querySelector("[name=source]").value;
    if (!source) { window.alert(strings.noSource); return false; }
    const response = await fetch(form.dataset.batchesUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ source: source, label: form.dataset.label }),
    });
    if (!response.ok) { window.alert(response.status + " " + response.statusText); return false; }
    batchId = String((await response.json()).id);
    // A reload comes back to this batch; files already received are recognised, not stored twice.
    window.history.replaceState(null, "", form.dataset.uploadPage + "?batch=" + batchId);
    return true;
  }

  // Files the batch already holds, read page by page from the API; on any error everything is sent
  // and the server still stores nothing twice.
  async function loadReceived() {
    let url = form.dataset.versionsUrl + "?batch=" + encodeURIComponent(batchId);
    try {
      while (url) {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return;
        const page = await response.json();
        page.results.forEach((version) => received.set(version.original_path, version.byte_size));
        url = page.next;
      }
    } catch (error) {
      received.clear();
    }
  }

  async function start(files) {
    if (!files.length) return;
    const resuming = Boolean(batchId);
    if (!(await ensureBatch())) return;
    if (resuming) await loadReceived();
    document.getElementById("upload-progress").hidden = false;
    const link = document.getElementById("batch-link");
    link.querySelector("a").href = form.dataset.batchUrl.replace("/0/", "/" + batchId + "/");
    link.hidden = false;
    // Sidecar CSVs go last so the files they describe are already there (either order works).
    files.sort((a, b) => Number(a.path.toLowerCase().endsWith(".csv")) - Number(b.path.toLowerCase().endsWith(".csv")));
    files.forEach((f) => addEntry(f.file, f.path));
    updateOverall();
    pump();
  }

  function fromInput(input) {
    return Array.from(input.files || []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  }

  function readEntry(entry, prefix) {
    return new Promise((resolve) => {
      if (entry.isFile) {
        entry.file((file) => resolve([{ file, path: prefix + file.name }]), () => resolve([]));
        return;
      }
      const reader = entry.createReader();
      const found = [];
      const next = () => reader.readEntries(async (batch) => {
        if (!batch.length) { resolve(found); return; }
        for (const child of batch) found.push(...(await readEntry(child, prefix + entry.name + "/")));
        next();
      }, () => resolve(found));
      next();
    });
  }

  async function fromDrop(dataTransfer) {
    const items = Array.from(dataTransfer.items || []).map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry());
    if (items.length && items.every(Boolean)) {
      const lists = await Promise.all(items.map((entry) => readEntry(entry, "")));
      return lists.flat();
    }
    return Array.from(dataTransfer.files).map((file) => ({ file, path: file.name }));
  }

  window.addEventListener("beforeunload", (event) => {
    if (sending()) { event.preventDefault(); event.returnValue = ""; }
  });

  const zone = document.getElementById("drop-zone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    start(await fromDrop(event.dataTransfer));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const files = [...fromInput(form.querySelector("input[name=files]")), ...fromInput(document.getElementById("folder-input"))];
    files.push(...fromInput(form.querySelector("input[name=metadata]")));
    start(files);
  });
})();
