// Grading station: keys 1–6 press the grade buttons (when the scan field is empty or focus is
// on the checklist), so a unit can be graded by keyboard alone.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[1-6]$/.test(event.key)) return;
    const target = event.target;
    const isScan = target.matches && target.matches("input[data-scan]");
    const isText = target.matches && target.matches("textarea, select, input:not([type=checkbox])");
    if (isText && !(isScan && target.value === "")) return;
    const button = document.querySelector('#grade-form button[data-grade-key="' + event.key + '"]');
    if (!button) return;
    event.preventDefault();
    button.click();
  });
})();
