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

document.addEventListener("DOMContentLoaded", () => {
  wireSelectAll();
});
