// The System Jobs page: a small amount of hand-written script, no build step.
// Fragments are rendered by the server; this swaps them in, sends actions as
// POST with the CSRF token, and refreshes on the server-sent "change" events.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (sel) => document.querySelector(sel);
  let openId = null;
  let after = "";

  function filterQuery() {
    const p = new URLSearchParams(new FormData($("#filters")));
    if (after) p.set("after", after);
    return p.toString();
  }
  async function load(sel, url) {
    const r = await fetch(url, { credentials: "same-origin" });
    $(sel).innerHTML = await r.text();
  }
  function refresh() {
    const picked = new Set([...document.querySelectorAll(".pick:checked")].map((c) => c.value));
    load("#grid", "/fragments/grid?" + filterQuery()).then(() => {
      document.querySelectorAll(".pick").forEach((c) => { c.checked = picked.has(c.value); });
    });
    load("#counts", "/fragments/counts");
    if (openId !== null) load("#detail", "/fragments/job/" + openId);
  }
  function showResult(results) {
    const box = $("#result");
    box.innerHTML = "";
    for (const r of results) {
      const line = document.createElement("div");
      line.className = r.ok ? "ok" : "refused";
      const who = r.id != null ? "Job " + r.id + ": " : "";
      line.textContent = who + (r.ok ? r.now : (r.code + (r.hresult ? " (" + r.hresult + ")" : "") + ": " + r.message));
      box.appendChild(line);
    }
  }
  async function act(body) {
    const r = await fetch("/api/actions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    if (r.ok) showResult((await r.json()).results);
    else showResult([{ ok: false, code: "HTTP " + r.status, message: await r.text() }]);
    refresh();
  }
  function withUntil(body) {
    if (body.action === "postpone") body.until = $("#postpone-until").value;
    return body;
  }

  $("#filters").addEventListener("submit", (e) => { e.preventDefault(); after = ""; refresh(); });
  document.addEventListener("click", (e) => {
    const t = e.target;
    if (t.matches("a.open")) {
      e.preventDefault();
      openId = t.closest("tr").dataset.id;
      load("#detail", "/fragments/job/" + openId);
    } else if (t.matches("#close-detail")) {
      openId = null; $("#detail").innerHTML = "";
    } else if (t.matches("#next-page")) {
      after = t.dataset.after; refresh();
    } else if (t.matches("#select-all")) {
      document.querySelectorAll(".pick").forEach((c) => { c.checked = t.checked; });
    } else if (t.matches("[data-row-action]")) {
      act(withUntil({ action: t.dataset.rowAction, ids: [Number(t.closest("tr").dataset.id)] }));
    } else if (t.matches("[data-detail-action]")) {
      act(withUntil({ action: t.dataset.detailAction, ids: [Number(openId)] }));
    } else if (t.matches("#bulk [data-action]")) {
      const ids = [...document.querySelectorAll(".pick:checked")].map((c) => Number(c.value));
      if (t.dataset.action === "delete" && !confirm("Delete " + ids.length + " job(s)?")) return;
      act(withUntil({ action: t.dataset.action, ids }));
    } else if (t.matches("#hold, #release")) {
      act({ action: t.id, operation_type: Number($("#hold-type").value) });
    }
  });

  refresh();
  // A running job's progress moves no count, so no event: its open detail is re-read each second.
  setInterval(() => {
    const state = document.querySelector("#detail-state");
    if (openId !== null && state && state.textContent.startsWith("Locked")) load("#detail", "/fragments/job/" + openId);
  }, 1000);
  const events = new EventSource("/events");
  events.addEventListener("change", refresh);
  events.onopen = () => $("#live").classList.add("on");
  events.onerror = () => $("#live").classList.remove("on");
})();
