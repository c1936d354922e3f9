// fablabctl pages: upload with progress, live updates from the event stream. No inline script anywhere.
"use strict";
(function () {
  const body = document.body;
  const csrf = body.dataset.csrf || "";
  const fr = body.dataset.lang !== "en";
  const say = (f, e) => (fr ? f : e);

  // ---- upload: drag and drop or file picker, progress bar (XHR), then the report page
  function setupUpload(form) {
    const input = form.querySelector("input[type=file]");
    const zone = form.querySelector("[data-dropzone]");
    const box = form.querySelector("[data-upload-progress]");
    const bar = box.querySelector("progress");
    const pct = form.querySelector("[data-upload-percent]");
    const err = form.querySelector("[data-upload-error]");
    const button = form.querySelector("[data-upload-button]");
    const main = zone.querySelector(".drop-main");
    function send(file) {
      if (!file) return;
      err.hidden = true;
      main.textContent = file.name;
      box.hidden = false;
      button.disabled = true;
      const data = new FormData();
      data.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) {
          const p = Math.round((ev.loaded / ev.total) * 100);
          bar.value = p;
          pct.textContent = p + " %";
        }
      });
      xhr.addEventListener("load", () => {
        let answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        if (xhr.status < 300 && answer.url) {
          pct.textContent = say("vérification terminée", "check done");
          window.location.assign(answer.url);
          return;
        }
        if (xhr.status === 413) {
          err.textContent = say("Fichier trop gros.", "File too large.");
        } else {
          err.textContent = answer.message || say("L'envoi a échoué : réessayez.", "Upload failed: try again.");
        }
        err.hidden = false;
        button.disabled = false;
      });
      xhr.addEventListener("error", () => {
        err.textContent = say("Connexion perdue pendant l'envoi : réessayez.", "Connection lost while uploading: try again.");
        err.hidden = false;
        button.disabled = false;
      });
      xhr.send(data);
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (input.files && input.files[0]) send(input.files[0]);
      else { err.textContent = say("Choisissez d'abord un fichier.", "Choose a file first."); err.hidden = false; }
    });
    input.addEventListener("change", () => { if (input.files && input.files[0]) send(input.files[0]); });
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (ev) => {
      ev.preventDefault(); zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const file = ev.dataTransfer && ev.dataTransfer.files[0];
      if (file) send(file);
    });
  }
  document.querySelectorAll("form[data-upload]").forEach(setupUpload);

  // ---- live: the event stream updates bars in place and re-reads the changed parts of the page
  const all = (sel) => Array.from(document.querySelectorAll(sel));
  function progress(data) {
    const id = data.job_id, p = Number(data.progress) || 0;
    // a machine board that does not show this job yet: read it again
    if (!document.querySelector(`[data-job-progress="${id}"]`) && document.querySelector("[data-board]")) later();
    all(`[data-job-progress="${id}"]`).forEach((el) => { el.value = p; });
    all(`[data-job-percent="${id}"]`).forEach((el) => { el.textContent = Math.round(p * 100) + " %"; });
    all(`[data-job-left="${id}"]`).forEach((el) => {
      const d = Number(el.dataset.duration) || 0;
      if (d > 0) el.textContent = (Math.round((d * (1 - p)) / 6) / 10).toLocaleString(fr ? "fr-FR" : "en-GB") + " min";
    });
  }
  function temperatures(data) {
    const parts = [];
    Object.keys(data).forEach((key) => {
      const v = data[key];
      if (v && typeof v === "object" && "actual" in v) {
        const name = key === "bed" || key === "B" ? say("plateau", "bed") : key.startsWith("T") || key === "tool0" || key === "hotend" ? say("buse", "nozzle") : key;
        parts.push(`${name} ${Math.round(v.actual)} / ${Math.round(v.target || 0)} °C`);
      }
    });
    if (parts.length) all(`[data-machine-temps="${data.machine_id}"]`).forEach((el) => { el.textContent = parts.join(" · "); });
  }
  let timer = null;
  async function refresh() {
    timer = null;
    const regions = all("[data-refresh]");
    if (!regions.length) return;
    let html;
    try {
      const r = await fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
      if (!r.ok) return;
      html = await r.text();
    } catch (e) { return; }
    const fresh = new DOMParser().parseFromString(html, "text/html");
    regions.forEach((old) => {
      const name = old.dataset.refresh;
      const next = fresh.querySelector(`[data-refresh="${name}"]`);
      if (!next) return;
      // never pull the floor from under someone typing or tabbing in this part of the page
      if (old.contains(document.activeElement) && document.activeElement !== document.body) return;
      // nor under a choice made and not sent yet (a picked priority, a ticked box): kept 20 s
      if (Date.now() - Number(old.dataset.changedAt || 0) < 20000) return;
      old.replaceWith(document.importNode(next, true));
    });
    document.dispatchEvent(new CustomEvent("fablab:refreshed"));
  }
  function later() { if (!timer) timer = setTimeout(refresh, 400); }
  document.addEventListener("change", (e) => {
    const region = e.target instanceof Element ? e.target.closest("[data-refresh]") : null;
    if (region) region.dataset.changedAt = String(Date.now());
  }, true);

  const status = document.getElementById("live-status");
  if (body.dataset.live && window.EventSource) {
    const source = new EventSource("/api/v1/events");
    // whatever changed between the page's rendering and this (re)connection: read the page again once
    let connected = false;
    source.addEventListener("open", () => {
      status.hidden = true;
      if (connected) later();
      else setTimeout(later, 50);
      connected = true;
    });
    source.addEventListener("error", () => {
      status.textContent = say("Connexion au service perdue : nouvelle tentative…", "Lost the connection to the service: retrying…");
      status.hidden = false;
    });
    const read = (ev) => { try { return JSON.parse(ev.data); } catch (e) { return {}; } };
    source.addEventListener("notify_job_progress", (ev) => progress(read(ev)));
    source.addEventListener("notify_machine_temperatures", (ev) => temperatures(read(ev)));
    ["notify_job_state_changed", "notify_machine_state_changed", "notify_operator_prompt"].forEach((name) =>
      source.addEventListener(name, later));
    window.addEventListener("pagehide", () => source.close());
  }
})();
