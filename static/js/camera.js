// Camera scanning on tablets without a scanner: ZXing (static/vendor/zxing-browser) decodes
// Code128 and EAN-13 from the camera; the code lands in the scan field and is sent as a scan.
(function () {
  "use strict";
  const button = document.querySelector("[data-camera]");
  const dialog = document.getElementById("camera-dialog");
  if (!button || !dialog) return;
  if (!window.ZXingBrowser || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    button.hidden = true; // no camera API here: the scanner or the keyboard it is
    return;
  }
  const video = dialog.querySelector("video");
  const message = dialog.querySelector("[data-camera-message]");
  let controls = null;
  let session = 0; // which opening of the dialog is current: a closed one must not keep the camera

  async function start() {
    const mine = ++session;
    dialog.showModal();
    message.textContent = window.returnyardSay("Hold the barcode inside the frame.");
    const reader = new window.ZXingBrowser.BrowserMultiFormatOneDReader();
    try {
      const started = await reader.decodeFromVideoDevice(undefined, video, function (result) {
        if (!result || !controls || mine !== session) return;
        const code = result.getText();
        stop();
        const field = document.getElementById("scan-code");
        field.value = code;
        document.body.dataset.lastCamera = code;
        field.form.requestSubmit();
      });
      if (mine !== session) {
        started.stop(); // closed while the camera was starting: switch it off at once
        return;
      }
      controls = started;
    } catch (error) {
      if (mine !== session) return;
      message.textContent = window.returnyardSay(
        "The camera is not available (%(error)s). Use the scanner or type the code.", { error: error.name });
    }
  }

  function stop() {
    session += 1;
    if (controls) { controls.stop(); controls = null; }
    if (dialog.open) dialog.close();
  }

  button.addEventListener("click", function (event) { event.preventDefault(); start(); });
  dialog.querySelector("[data-camera-close]").addEventListener("click", stop);
  dialog.addEventListener("close", stop);
})();
