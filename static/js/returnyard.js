// Returnyard pages: an htmx refusal (4xx) still carries its message fragment, so swap it in.
// Stations load static/js/station.js on top of this for scanning.
(function () {
  "use strict";
  // The page's words for scripts (#ui-words, from the server in the reader's language):
  // returnyardSay("Sending %(label)s…", {label: code}); unknown words are shown as written.
  const block = document.getElementById("ui-words");
  const words = block ? JSON.parse(block.textContent) : {};
  window.returnyardSay = function (text, values) {
    const said = words[text] || text;
    return said.replace(/%\((\w+)\)s/g, (whole, name) => (values && name in values ? values[name] : whole))
      .replace(/%%/g, "%");
  };
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
