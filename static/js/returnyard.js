// Returnyard screens: keep the scan field focused, and say ok / error by colour and sound.
(function () {
  "use strict";

  function scanField() {
    return document.querySelector("input[data-scan]");
  }

  // Put the cursor back in the scan field unless the operator is typing in another field.
  function refocus() {
    const field = scanField();
    if (!field) return;
    const active = document.activeElement;
    const typingElsewhere = active && active !== field &&
      (active.matches("input, textarea, select, [contenteditable]") || active.closest("dialog[open]"));
    if (!typingElsewhere) field.focus({ preventScroll: true });
  }

  let audio;
  // Two short tones made on the spot (no sound files): high for ok, low double buzz for error.
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = kind === "ok" ? [[880, 0, 0.12]] : [[220, 0, 0.18], [180, 0.22, 0.25]];
      tones.forEach(function ([freq, start, length]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = kind === "ok" ? "sine" : "square";
        osc.frequency.value = freq;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + start);
        osc.stop(audio.currentTime + start + length);
      });
    } catch (e) { /* no audio device: colour and text still tell */ }
  }

  function signal(kind) {
    const bar = document.querySelector(".scanbar");
    document.body.dataset.lastScan = kind;
    if (bar) {
      bar.classList.remove("is-ok", "is-error");
      void bar.offsetWidth; // restart the transition
      bar.classList.add(kind === "ok" ? "is-ok" : "is-error");
    }
    beep(kind);
  }

  // Servers say how a scan went with the HX-Trigger header: "scan-ok" or "scan-error".
  document.addEventListener("scan-ok", function () { signal("ok"); });
  document.addEventListener("scan-error", function () { signal("error"); });

  // Empty the scan field as soon as its scan is on its way (htmx has read the value by then),
  // not when the answer arrives: a scanner that fires the next code quickly loses nothing.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const field = scanField();
    if (field && field.dataset.keep !== "true" && event.detail.elt.contains(field)) {
      field.value = "";
    }
  });
  document.addEventListener("htmx:afterSettle", refocus);
  // A 4xx / 5xx answer still carries the message fragment: swap it in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("input, textarea, select, label, dialog")) setTimeout(refocus, 0);
  });
  document.addEventListener("DOMContentLoaded", refocus);
  window.addEventListener("focus", refocus);
})();
