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

  async function start() {
    dialog.showModal();
    message.textContent = "Hold the barcode inside the frame.";
    const reader = new window.ZXingBrowser.BrowserMultiFormatOneDReader();
    try {
      controls = await reader.decodeFromVideoDevice(undefined, video, function (result) {
        if (!result || !controls) return;
        const code = result.getText();
        stop();
        const field = document.getElementById("scan-code");
        field.value = code;
        document.body.dataset.lastCamera = code;
        field.form.requestSubmit();
      });
    } catch (error) {
      message.textContent = "The camera is not available (" + error.name + "). Use the scanner or type the code.";
    }
  }

  function stop() {
    if (controls) { controls.stop(); controls = null; }
    if (dialog.open) dialog.close();
  }

  button.addEventListener("click", function (event) { event.preventDefault(); start(); });
  dialog.querySelector("[data-camera-close]").addEventListener("click", stop);
  dialog.addEventListener("close", stop);
})();
