/* Switchboard console: the little the pages do without a reload. Every page works without
   it; nothing is loaded from elsewhere (the page's policy allows this file only). */
"use strict";

/* A "select all" checkbox ticks every checkbox named by its data-selects, and shows
   how many are ticked. */
function wireSelectAll() {
  const all = document.querySelector("input[data-selects]");
  if (!all) return;
  const name = all.dataset.selects;
  const boxes = Array.from(document.querySelectorAll(`input[type=checkbox][name="${name}"]`));
  const count = document.getElementById("selected-count");
  const show = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
    if (count) count.textContent = String(ticked);
  };
  all.closest("[hidden]")?.removeAttribute("hidden");
  all.addEventListener("change", () => {
    boxes.forEach((box) => { box.checked = all.checked; });
    show();
  });
  boxes.forEach((box) => box.addEventListener("change", show));
  show();
}

/* The counts table of the Messages page asks /ui/live/counts every few seconds (not while
   the tab is hidden) and rewrites its cells: a count links to the messages it counts. */
function wireLiveCounts() {
  const table = document.getElementById("counts");
  const note = document.getElementById("counts-live");
  if (!table || !note) return;
  const every = Number(note.dataset.poll || "5") * 1000;
  note.querySelector(".live-note")?.removeAttribute("hidden");
  const stamp = note.firstChild;
  let timer = 0;
  const cell = (route, status, n) => {
    const td = table.querySelector(`td[data-route="${CSS.escape(route)}"][data-status="${CSS.escape(status)}"]`);
    if (!td || td.dataset.count === String(n)) return;
    td.dataset.count = String(n);
    td.textContent = "";
    if (n > 0) {
      const a = document.createElement("a");
      a.href = `/ui/messages?route=${encodeURIComponent(route)}&status=${encodeURIComponent(status)}`;
      a.textContent = String(n);
      td.appendChild(a);
    } else {
      td.textContent = "0";
    }
  };
  const poll = async () => {
    timer = 0;
    if (document.hidden) return;
    try {
      const answer = await fetch("/ui/live/counts", { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 401 || answer.status === 403) {
        stamp.textContent = "Signed out: the counts no longer refresh (reload to sign in)";
        note.querySelector(".live-note")?.setAttribute("hidden", "");
        return;
      }
      if (answer.ok) {
        const body = await answer.json();
        for (const [route, byStatus] of Object.entries(body.counts)) {
          for (const [status, n] of Object.entries(byStatus)) cell(route, status, n);
        }
        stamp.textContent = `Counts as of ${body.at.slice(11, 19)} UTC`;
        table.dataset.refreshed = body.at;
      }
    } catch (_) {
      /* the hub is restarting or unreachable: try again at the next turn */
    }
    timer = window.setTimeout(poll, every);
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !timer) poll();
  });
  timer = window.setTimeout(poll, every);
}

/* A problem's "line L, column C" link puts the caret there in the mapping's text area. */
function wireGoTo() {
  document.querySelectorAll("a[data-line]").forEach((link) => {
    link.addEventListener("click", (event) => {
      const area = document.getElementById(link.getAttribute("href").slice(1));
      if (!area || area.tagName !== "TEXTAREA") return;
      event.preventDefault();
      const lines = area.value.split("\n");
      const line = Math.min(Number(link.dataset.line), lines.length);
      let at = 0;
      for (let i = 0; i < line - 1; i += 1) at += lines[i].length + 1;
      at += Math.min(Math.max(Number(link.dataset.column) - 1, 0), lines[line - 1].length);
      area.focus();
      area.setSelectionRange(at, at);
      const height = area.scrollHeight / Math.max(lines.length, 1);
      area.scrollTop = Math.max(0, (line - 3) * height);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wireSelectAll();
  wireGoTo();
  wireLiveCounts();
});
