// Returnyard pages: an htmx refusal (4xx) still carries its message fragment, so swap it in.
// Stations load static/js/station.js on top of this for scanning.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
