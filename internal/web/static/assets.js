// stocktrail assets and inventory sessions: small progressive enhancements.
// Every page works without this file; it adds modal dialogs, client scan ids
// (so a resubmitted scan counts once), live progress and camera scanning.
(function () {
  "use strict";

  function newScanID() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // Modal dialogs: buttons name the dialog they open or close.
  document.addEventListener("click", function (ev) {
    var open = ev.target.closest("[data-open-dialog]");
    if (open) {
      var d = document.getElementById(open.getAttribute("data-open-dialog"));
      if (d && !d.open) d.showModal();
      return;
    }
    var close = ev.target.closest("[data-close-dialog]");
    if (close) {
      var c = document.getElementById(close.getAttribute("data-close-dialog"));
      if (c) c.close();
    }
  });

  // A scan modal rendered open by the server becomes a real modal.
  document.querySelectorAll("dialog[data-modal][open]").forEach(function (d) {
    d.close();
    d.showModal();
  });

  // Each scan or hand check carries its own client id, set once per
  // submission: a browser or proxy that resends the same request resends
  // the same id, which the server counts once.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var field = form.querySelector("#client-scan-id, .client-scan-id");
    if (field && !field.value) field.value = newScanID();
  }, true);

  // Live progress: poll a small JSON endpoint (works on every node).
  var progress = document.getElementById("progress");
  var url = progress && progress.getAttribute("data-progress-url");
  if (url) {
    setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) return;
          if (body.status !== "in_progress") { location.reload(); return; }
          var p = body.progress;
          document.getElementById("progress-scanned").textContent = p.scanned;
          document.getElementById("progress-total").textContent = p.total;
          document.getElementById("progress-percent").textContent = p.percent;
          var bar = document.getElementById("progress-bar");
          bar.max = p.total; bar.value = p.scanned;
        })
        .catch(function () { /* offline for a moment: try again next tick */ });
    }, 3000);
  }

  // Camera scanning with the browser's own BarcodeDetector, where it exists;
  // elsewhere the typed box (and handheld scanners) remain.
  var startButton = document.getElementById("camera-start");
  var codeBox = document.getElementById("scan-code");
  var note = document.getElementById("camera-note");
  if (startButton && codeBox) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      note.textContent = "Camera scanning needs a browser with barcode detection (e.g. Chrome on Android); type or use a handheld scanner.";
      note.hidden = false;
    } else {
      startButton.hidden = false;
      startButton.addEventListener("click", function () {
        var video = document.getElementById("camera");
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
          video.srcObject = stream;
          video.hidden = false;
          video.play();
          var done = false;
          var tick = function () {
            if (done) return;
            detector.detect(video).then(function (codes) {
              if (codes.length > 0 && !done) {
                done = true;
                stream.getTracks().forEach(function (t) { t.stop(); });
                codeBox.value = codes[0].rawValue;
                document.getElementById("scan-form").requestSubmit();
                return;
              }
              setTimeout(tick, 250);
            }).catch(function () { setTimeout(tick, 500); });
          };
          tick();
        }).catch(function (err) {
          note.textContent = "Could not open the camera: " + err.message;
          note.hidden = false;
        });
      });
    }
    codeBox.focus();
  }
})();
