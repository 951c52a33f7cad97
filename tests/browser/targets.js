// Everything a finger can aim at, measured: what is under `minimum` px either way, and how
// much wider than the screen the page is. A checkbox inside its label is aimed at through
// the label.
(minimum) => {
  const doc = document.documentElement;
  const small = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary, label.check, label.btn';
  for (const el of document.querySelectorAll(targets)) {
    if (el.closest('dialog:not([open]), [hidden], details:not([open]) > :not(summary)')) continue;
    if (el.matches('.visually-hidden, input[type=checkbox], input[type=radio]') && el.closest('label')) continue;
    if (el.matches('input.visually-hidden')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.height < minimum - 0.5 || box.width < minimum - 0.5) {
      small.push(`${el.tagName.toLowerCase()}${el.className ? '.' + el.className.split(' ').join('.') : ''}`
        + ` "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return {overflow: doc.scrollWidth - doc.clientWidth, small: small};
}
