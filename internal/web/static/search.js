// Search as you type in the header. Without this script the box is a plain
// form that opens /search; with it, the matches (an HTML fragment the server
// escaped) appear under the box as a list of links. Down arrow moves into
// the list, up and down between links, Escape closes it.
(function () {
  "use strict";
  const input = document.getElementById("site-search");
  const box = document.getElementById("search-suggestions");
  const status = document.getElementById("search-status");
  if (!input || !box) return;
  // The status line tells screen readers how many matches arrived, not
  // the whole list again at every keystroke.
  function announce() {
    if (!status) return;
    const n = box.querySelectorAll("ul a").length;
    status.textContent = input.value.trim() === "" ? "" :
      n === 0 ? "No matches" : n + (n === 1 ? " match" : " matches") + ", down arrow to reach them";
  }
  let timer = 0, asked = "", pending = null;

  function close() { box.hidden = true; }

  async function suggest() {
    const q = input.value.trim();
    if (q === asked) { box.hidden = box.childElementCount === 0; return; }
    asked = q;
    if (pending) pending.abort();
    if (q === "") { box.replaceChildren(); close(); announce(); return; }
    pending = new AbortController();
    try {
      const res = await fetch("/search/suggest?q=" + encodeURIComponent(q), { signal: pending.signal, credentials: "same-origin" });
      if (!res.ok || res.redirected) return; // signed out: the login page is no suggestion
      box.innerHTML = await res.text();
      box.hidden = box.childElementCount === 0;
      announce();
    } catch (e) {
      // Aborted by a newer keystroke, or offline: the form still submits.
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });
  input.addEventListener("focus", function () { if (box.childElementCount) box.hidden = false; });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") {
      const first = box.querySelector("a");
      if (first && !box.hidden) { e.preventDefault(); first.focus(); }
    } else if (e.key === "Escape") {
      close();
    }
  });
  box.addEventListener("keydown", function (e) {
    const links = Array.from(box.querySelectorAll("a"));
    const i = links.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && i >= 0 && i < links.length - 1) {
      e.preventDefault();
      links[i + 1].focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (i > 0) links[i - 1].focus(); else input.focus();
    } else if (e.key === "Escape") {
      close();
      input.focus();
    }
  });
  document.addEventListener("click", function (e) {
    if (!e.target.closest("form.search")) close();
  });
  document.addEventListener("focusin", function (e) {
    if (!e.target.closest("form.search")) close();
  });
})();
