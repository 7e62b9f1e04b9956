// Small conveniences over plain forms; every page works without them.
(function () {
  "use strict";
  // Copy buttons: [data-copy] names the element whose text to copy. Shown
  // only where the Clipboard API exists; the text stays selectable anyway.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) {
      return;
    }
    var status = btn.parentNode.querySelector(".copy-status");
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        if (status) { status.textContent = "Copied"; }
      }, function () {
        if (status) { status.textContent = "Could not copy: select the text and copy it"; }
      });
    });
  });
  // A party picker sets the kind select its option belongs to, so one
  // choice fills both query parameters (actor_kind, actor_id).
  document.querySelectorAll("select[data-kind-select]").forEach(function (sel) {
    var kind = document.getElementById(sel.getAttribute("data-kind-select"));
    if (!kind) {
      return;
    }
    sel.addEventListener("change", function () {
      var opt = sel.options[sel.selectedIndex];
      kind.value = opt && opt.getAttribute("data-kind") ? opt.getAttribute("data-kind") : kind.value;
    });
  });
})();
