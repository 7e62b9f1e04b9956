// stocktrail station screen: small progressive enhancements. The screen works
// without this file (plain forms, autofocus); it keeps the SKU field focused
// for the scanner, names the quantity by mode, and stops a double Enter from
// a scanner submitting the same scan twice.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form) return;
  var sku = document.getElementById("scan-sku");
  var qty = document.getElementById("scan-quantity");
  var qtyLabel = qty && qty.closest("label");

  function mode() {
    var checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "receive";
  }

  function label() {
    if (!qtyLabel) return;
    var counting = mode() === "count" || mode() === "batch";
    qtyLabel.firstChild.nodeValue = counting ? "Counted " : "Quantity ";
  }

  function refocus() {
    if (sku) sku.focus();
  }

  form.addEventListener("change", function (ev) {
    if (ev.target.name === "mode") {
      label();
      refocus();
    }
  });

  var sent = false;
  form.addEventListener("submit", function (ev) {
    if (sent) {
      ev.preventDefault();
      return;
    }
    sent = true;
  });

  // Coming back to the page from the browser's cache allows a new scan.
  window.addEventListener("pageshow", function () {
    sent = false;
  });

  label();
  if (document.activeElement === document.body || !document.activeElement) refocus();
})();
