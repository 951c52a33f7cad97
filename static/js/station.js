// Returnyard station client: every scan and tap of a station goes through one queue, so no
// scan is lost, merged or done twice, and each answer sounds and looks like what it is.
//
// One job per function: queue a scan, send it, show its answer (htmx does the swap), play the
// outcome's tone, put the focus back. Nothing a scanner types can trigger another action:
// a scanner types into the scan field (any printable key goes there), Enter in a checkbox or
// on the page never submits a form, and grades come from the grade sheet's barcodes or a key
// mode a scanner cannot switch on.
(function () {
  "use strict";

  const form = document.querySelector("form[data-station-form]");
  if (!form) return;
  const field = form.querySelector("#scan-code");
  const queueList = document.getElementById("scan-queue");
  const status = document.getElementById("scan-status");
  const queue = [];
  let sending = false;
  let counter = 0;
  const tab = randomId(); // this page's prefix for its scan ids

  // --- scan ids ------------------------------------------------------------------------------

  function randomId() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function nextScanId() {
    counter += 1;
    return tab + "-" + counter;
  }

  // --- the form token: renewed while the tab stays open, and once more on a refusal -----------

  function token() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }

  function setToken(value) {
    document.querySelector('meta[name="csrf-token"]').content = value;
    document.querySelectorAll('input[name="csrf_token"]').forEach((input) => { input.value = value; });
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": value }));
  }

  async function renewToken() {
    const response = await fetch(form.dataset.tokenUrl, {
      credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store",
      redirect: "manual",
    });
    if (response.type === "opaqueredirect" || response.status === 401) {
      const ended = new Error("session ended");
      ended.login = true;
      throw ended;
    }
    if (!response.ok) throw new Error("token " + response.status);
    setToken((await response.json()).token);
  }

  setInterval(() => { renewToken().catch(() => {}); }, 10 * 60 * 1000);

  // --- outcome: colour, tone and data-outcome of the answer region -----------------------------

  let audio;
  const TONES = {
    ok: [[880, 0, 0.12, "sine"]],
    warn: [[660, 0, 0.11, "triangle"], [660, 0.17, 0.11, "triangle"]],
    error: [[196, 0, 0.4, "square"]],
  };

  const played = []; // the outcomes sounded, newest last (kiosk scripts and tests read it)

  function tone(kind) {
    played.push(kind);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      TONES[kind].forEach(function ([freq, start, length, type]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = type;
        osc.frequency.value = freq;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + start);
        osc.stop(audio.currentTime + start + length);
      });
    } catch (e) { /* no audio device: colour and text still tell */ }
  }

  function show(kind, region) {
    form.classList.remove("is-ok", "is-warn", "is-error");
    void form.offsetWidth; // restart the transition
    form.classList.add("is-" + kind);
    form.dataset.outcome = kind;
    if (region) region.dataset.outcome = kind;
    document.body.dataset.lastScan = kind;
    tone(kind);
  }

  function say(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = "scan-status" + (kind ? " " + kind : "");
  }

  // --- the queue -------------------------------------------------------------------------------

  function draw() {
    if (!queueList) return;
    queueList.replaceChildren(...queue.map(function (item, index) {
      const li = document.createElement("li");
      li.className = "scan-item is-" + item.state;
      li.dataset.scanId = item.id;
      const code = document.createElement("span");
      code.className = "mono";
      code.textContent = item.label;
      const state = document.createElement("span");
      state.className = "scan-state";
      state.textContent = { queued: index ? "waiting" : "next", sending: "sending…", failed: "not sent" }[item.state];
      li.append(code, state);
      if (item.state === "failed") {
        li.append(button(window.returnyardSay("Retry"), "retry", () => { item.state = "queued"; pump(); }),
                  button(window.returnyardSay("Discard"), "discard", () => { queue.splice(queue.indexOf(item), 1); draw(); pump(); }));
      }
      return li;
    }));
    form.classList.toggle("is-busy", sending || queue.length > 0);
    form.setAttribute("aria-busy", sending ? "true" : "false");
  }

  function button(text, action, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-" + action;
    b.dataset.queueAction = action;
    b.textContent = text;
    b.addEventListener("click", (event) => { event.preventDefault(); onClick(); refocus(); });
    return b;
  }

  function enqueue(item) {
    item.id = nextScanId();
    item.state = "queued";
    queue.push(item);
    draw();
    pump();
  }

  async function pump() {
    if (sending || !queue.length || queue[0].state !== "queued") { draw(); return; }
    const item = queue[0];
    sending = true;
    item.state = "sending";
    form.classList.remove("is-ok", "is-warn", "is-error");
    say(window.returnyardSay("Sending %(label)s…", { label: item.label }), "busy");
    draw();
    try {
      await send(item);
      queue.shift();
    } catch (error) {
      // Kept with its scan id: retried, it is answered once even if it did reach the server.
      item.state = "failed";
      show("error");
      say(error.station || window.returnyardSay("Network problem: %(label)s was not answered. "
          + "Retry or discard it; scans after it wait in order.", { label: item.label }), "error");
    } finally {
      sending = false;
      draw();
    }
    if (queue.length && queue[0].state === "queued") pump();
  }

  // The body of a request, read when it is sent: the scan form's context fields (the card's
  // hidden inputs belong to it) describe the card the previous answer drew.
  function body(item) {
    // A tapped form still on the page is read again: a box ticked while the tap waited counts.
    const again = item.form && item.form.isConnected
      && (!item.submitter || item.form.contains(item.submitter));
    const data = again ? new FormData(item.form, item.submitter)
      : item.data ? copy(item.data) : new FormData(form);
    if (!item.data) {
      data.set("code", item.code);
      (form.dataset.include || "").split(",").filter(Boolean).forEach(function (selector) {
        const extra = document.querySelector(selector.trim());
        if (extra) new FormData(extra).forEach((value, name) => { if (name !== "csrf_token") data.append(name, value); });
      });
    }
    data.set("scan_id", item.id);
    data.set("csrf_token", token());
    return data;
  }

  function copy(data) {
    const out = new FormData();
    data.forEach((value, name) => out.append(name, value));
    return out;
  }

  const ANSWER_WITHIN = 20000; // ms: a scan not answered by then is kept as failed, for a retry

  function failure(text) {
    const error = new Error(text);
    error.station = text;
    return error;
  }

  async function send(item) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ANSWER_WITHIN);
    let response;
    let html;
    try {
      response = await fetch(item.url, {
        method: "POST",
        body: body(item),
        credentials: "same-origin",
        redirect: "manual", // a login page drawn into the station is not an answer
        signal: abort.signal,
        headers: { "HX-Request": "true", "X-CSRFToken": token(), Accept: "text/html" },
      });
      html = await response.text();
    } finally {
      clearTimeout(timer);
    }
    const refusal = response.headers.get("X-Refusal");
    let ended = refusal === "login" || response.type === "opaqueredirect";
    if (refusal === "csrf" && !item.renewed) {
      item.renewed = true; // an idle tab's token ran out: renew it and send the same scan again
      try {
        await renewToken();
        return send(item);
      } catch (error) {
        if (!error.login) throw error;
        ended = true; // no token without a session
      }
    }
    if (ended) {
      item.renewed = false; // after logging in again, a retry may renew the token once more
      throw failure(window.returnyardSay("Your session has ended: %(label)s was not done. Log in "
          + "again in a new tab, then retry it here.", { label: item.label }));
    }
    const outcome = response.headers.get("X-Scan-Outcome");
    if (!outcome && response.status >= 500) {
      throw failure(window.returnyardSay("The server could not answer %(label)s (%(status)s). "
          + "Retry it, or discard it and scan again.", { label: item.label, status: response.status }));
    }
    const region = document.querySelector(item.target || form.dataset.target);
    htmx.swap(region, html, { swapStyle: "innerHTML" });
    say("", "");
    show(outcome || (response.ok ? "ok" : "error"), region);
    printLabel(response.headers.get("X-Print-Label"));
    refocus();
  }

  // --- scans and taps go through the queue ------------------------------------------------------

  document.addEventListener("submit", function (event) {
    const target = event.target;
    const submitter = event.submitter;
    if (target === form) {
      event.preventDefault();
      event.stopPropagation();
      const tapped = submitter && submitter.name === "code" ? submitter.value : "";
      const code = tapped || field.value.trim();
      if (!tapped) field.value = "";
      if (code) enqueue({ code: code, label: tapped ? submitter.textContent.trim() : code, url: form.action });
      refocus();
    } else if (target.matches("form[data-station-action]")) {
      event.preventDefault();
      event.stopPropagation();
      enqueue({
        data: new FormData(target, submitter),
        form: target,
        submitter: submitter,
        url: target.action,
        target: target.dataset.target,
        label: (submitter && submitter.textContent.trim()) || target.dataset.label || "action",
      });
      refocus();
    }
  }, true);

  // --- focus: the scan field has it, unless someone types elsewhere -----------------------------

  function isTextEntry(element) {
    return !!element && (element.isContentEditable || element.matches(
      "textarea, input:not([type=checkbox]):not([type=radio]):not([type=button])"
      + ":not([type=submit]):not([type=file]):not([type=hidden])"));
  }

  function refocus() {
    const active = document.activeElement;
    if (active === field || !isTextEntry(active) || !active.closest("body")) {
      if (!document.querySelector("dialog[open]")) field.focus({ preventScroll: true });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || keyMode.on) return;
    const active = document.activeElement;
    if (active === field || isTextEntry(active)) return;
    if (event.key === "Enter") {
      // Enter on a checkbox, a label or the page never submits: it belongs to the scan field.
      if (active && active.matches("button, a[href], summary")) return;
      event.preventDefault();
      field.focus();
      return;
    }
    if (event.key.length === 1 && event.key !== " ") field.focus(); // the key lands in the field
  }, true);

  // A scanner firing while a note is being written types its code and Enter into the note:
  // keys that come faster than a person types (BURST ms apart), ended by Enter, are a scan.
  const BURST = 35;
  const burst = { element: null, keys: "", last: 0 };

  document.addEventListener("keydown", function (event) {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || event.ctrlKey || event.metaKey || event.altKey) return;
    const now = performance.now();
    if (burst.element !== area || now - burst.last > BURST) burst.keys = "";
    burst.element = area;
    burst.last = now;
    if (event.key.length === 1) { burst.keys += event.key; return; }
    if (event.key !== "Enter" || burst.keys.length < 4) return;
    const code = burst.keys;
    burst.keys = "";
    const end = area.selectionEnd;
    if (area.value.slice(end - code.length, end) !== code) return;
    event.preventDefault();
    area.value = area.value.slice(0, end - code.length) + area.value.slice(end);
    enqueue({ code: code, label: code, url: form.action });
    refocus();
  }, true);

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox]") && event.target.dataset.pointer === "1") refocus();
  });
  document.addEventListener("pointerdown", function (event) {
    const box = event.target.closest("label, input[type=checkbox]");
    const input = box && (box.matches("input") ? box : box.querySelector("input[type=checkbox]"));
    if (input) input.dataset.pointer = "1";
  }, true);
  document.addEventListener("click", function (event) {
    if (!event.target.closest("input, textarea, select, dialog, summary, a[href]")) setTimeout(refocus, 0);
  });
  document.addEventListener("htmx:afterSettle", refocus);
  window.addEventListener("focus", refocus);
  refocus();

  // --- grading by keys: a mode switched on by a tap, never by a scanner -------------------------
  //
  // In key mode a single key 1-6 grades. A scanner types many keys within milliseconds: a key
  // followed by another within KEY_PAUSE ms is a scanner, and what it typed goes to the field.

  const KEY_PAUSE = 120;
  const keyMode = { on: false, typed: "", timer: null };

  function setKeyMode(on) {
    keyMode.on = on;
    keyMode.typed = "";
    clearTimeout(keyMode.timer);
    document.body.classList.toggle("key-mode", on);
    document.querySelectorAll("[data-key-mode]").forEach((b) => b.setAttribute("aria-pressed", on ? "true" : "false"));
    if (on) {
      field.blur();
      say(window.returnyardSay("Key mode: press 1–6 to grade, Esc to leave."), "warn");
    } else {
      say("", "");
      refocus();
    }
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-key-mode]");
    if (toggle) { event.preventDefault(); setKeyMode(!keyMode.on); }
  });

  document.addEventListener("keydown", function (event) {
    if (!keyMode.on) return;
    event.preventDefault();
    if (event.key === "Escape") { setKeyMode(false); return; }
    keyMode.typed += event.key.length === 1 ? event.key : "";
    clearTimeout(keyMode.timer);
    if (keyMode.typed.length > 1 || !/^[1-6]$/.test(keyMode.typed)) {
      const typed = keyMode.typed;
      setKeyMode(false); // a scanner (or a stray key): give the field what was typed
      field.value += typed;
      return;
    }
    keyMode.timer = setTimeout(function () {
      const grade = document.querySelector('#grade-form button[data-grade-key="' + keyMode.typed + '"]');
      setKeyMode(false);
      if (grade) grade.click();
    }, KEY_PAUSE);
  }, true);

  // --- labels printed by the browser when no label printer is set --------------------------------

  function printLabel(url) {
    if (!url) return;
    document.body.dataset.lastPrint = url;
    let frame = document.getElementById("print-frame");
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "print-frame";
      frame.className = "print-frame";
      frame.title = window.returnyardSay("Label to print");
      document.body.append(frame);
    }
    frame.onload = function () {
      // A browser driven by automation (a kiosk script, a test) has nobody to answer a print
      // dialog, and headless Chromium crashes on print() of a PDF: it only loads the label.
      if (navigator.webdriver) return;
      try { frame.contentWindow.print(); } catch (e) { /* a viewer that prints by itself */ }
    };
    frame.src = url;
  }

  window.returnyardStation = {
    enqueue: (code) => enqueue({ code: code, label: code, url: form.action }),
    played: played,
    pending: () => queue.length,
  };
})();
