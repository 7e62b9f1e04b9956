// The item page's actions. Each is a link to its own page with one form,
// which works without JavaScript; here the same form opens in a <dialog>
// on the item page instead, with the record of the row it was started from
// preselected. A dialog whose form came back with errors opens by itself,
// its error summary focused.
(function () {
  "use strict";

  function open(dialog, record) {
    if (record) {
      dialog.querySelectorAll("select[name=record_id], select[name=into_record_id]").forEach(function (s) { s.value = record; });
    }
    document.querySelectorAll("details.row-menu[open]").forEach(function (d) { d.open = false; });
    dialog.showModal();
    var summary = dialog.querySelector(".error-summary");
    var first = summary || dialog.querySelector("select, input:not([type=hidden]), textarea");
    if (first) { first.focus(); }
  }

  document.addEventListener("click", function (ev) {
    var link = ev.target.closest("a[data-dialog]");
    if (!link || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) { return; }
    var dialog = document.getElementById(link.dataset.dialog);
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    ev.preventDefault();
    open(dialog, link.dataset.record);
  });

  // Enter opens a link on its keydown; the same key's keypress then reaches
  // the field that just got focus in the dialog, and Enter on a select pops
  // its list open over the dialog. That keypress is the link's, not the
  // field's: it is dropped.
  var enterOpened = false;
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.closest && ev.target.closest("a[data-dialog]")) { enterOpened = true; }
  }, true);
  document.addEventListener("keypress", function (ev) {
    if (enterOpened && ev.key === "Enter" && ev.target.closest && ev.target.closest("dialog")) { ev.preventDefault(); }
    enterOpened = false;
  }, true);
  document.addEventListener("keyup", function (ev) {
    if (ev.key === "Enter") { enterOpened = false; }
  }, true);

  // An error summary's links move to their field inside the dialog.
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest("dialog .error-summary a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) { ev.preventDefault(); field.focus(); }
  });

  var again = document.querySelector("dialog[data-open]");
  if (again && typeof again.showModal === "function") { open(again, ""); }
})();
