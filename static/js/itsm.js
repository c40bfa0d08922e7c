/*
 * ITSM front-end behaviour. Loaded by every layout; no inline script exists anywhere (the CSP forbids it),
 * so every interactive behaviour is declared with data- attributes and wired here:
 *   - htmx requests carry the CSRF token from <meta name="csrf-token">
 *   - <span class="sla-countdown" data-due data-state data-percent> ticks every second
 *   - [data-bulk-select-all] checks or clears every input[name=selected] in its table/form
 *   - <form data-autosubmit> submits itself when a field changes (text fields after a short pause)
 *   - [data-confirm="Question?"] asks before a click or submit goes through
 *   - htmx answers of 400 (a form with its errors) are swapped in place
 *   - keyboard shortcuts: / search, j/k rows, Enter open, a assign to me, c comment, ? help
 */
(function () {
  "use strict";

  /* ---------------------------------------------------------------- CSRF for htmx */

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  /* ---------------------------------------------------------------- SLA countdowns */

  var SLA_LEVELS = ["sla-ok", "sla-warning", "sla-breached", "sla-paused", "sla-met", "sla-canceled"];

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function formatDuration(totalSeconds) {
    var s = Math.floor(Math.abs(totalSeconds));
    var days = Math.floor(s / 86400);
    var hours = Math.floor((s % 86400) / 3600);
    var minutes = Math.floor((s % 3600) / 60);
    var seconds = s % 60;
    if (days > 0) {
      return days + "d " + hours + "h " + pad(minutes) + "m";
    }
    if (hours > 0) {
      return hours + "h " + pad(minutes) + "m " + pad(seconds) + "s";
    }
    return minutes + "m " + pad(seconds) + "s";
  }

  function slaLevel(state, percent, remaining) {
    if (state === "paused" || state === "met" || state === "canceled") {
      return "sla-" + state;
    }
    if (state === "breached" || remaining < 0 || (percent !== null && percent >= 100)) {
      return "sla-breached";
    }
    if (percent !== null && percent >= 75) {
      return "sla-warning";
    }
    return "sla-ok";
  }

  function updateCountdown(el, now) {
    var state = el.getAttribute("data-state") || "running";
    var dueAttr = el.getAttribute("data-due");
    var due = dueAttr ? Date.parse(dueAttr) : NaN;
    var percentAttr = el.getAttribute("data-percent");
    var percent = percentAttr === null || percentAttr === "" ? null : parseFloat(percentAttr);
    if (percent !== null && isNaN(percent)) {
      percent = null;
    }
    var remaining = isNaN(due) ? 0 : Math.round((due - now) / 1000);
    var text;

    if (state === "paused") {
      text = "Paused";
    } else if (state === "met") {
      text = "Met";
    } else if (state === "canceled") {
      text = "Canceled";
    } else if (isNaN(due)) {
      text = state === "breached" ? "Breached" : "—";
    } else if (remaining < 0) {
      text = "Overdue " + formatDuration(remaining);
    } else if (state === "breached") {
      text = "Breached";
    } else {
      text = formatDuration(remaining) + " left";
    }

    if (el.textContent !== text) {
      el.textContent = text;
    }
    var level = slaLevel(state, percent, isNaN(due) || state !== "running" ? 1 : remaining);
    if (!el.classList.contains(level)) {
      SLA_LEVELS.forEach(function (cls) {
        el.classList.remove(cls);
      });
      el.classList.add(level);
    }
    if (!el.hasAttribute("data-title-set") && !isNaN(due)) {
      var label = el.getAttribute("data-label");
      el.setAttribute("title", (label ? label + " — " : "") + "Due " + new Date(due).toLocaleString());
      el.setAttribute("data-title-set", "");
    }
  }

  function tickCountdowns() {
    var now = Date.now();
    var nodes = document.querySelectorAll(".sla-countdown[data-due]");
    for (var i = 0; i < nodes.length; i++) {
      updateCountdown(nodes[i], now);
    }
  }

  /* ---------------------------------------------------------------- bulk selection */

  function bulkScope(el) {
    var target = el.getAttribute("data-bulk-select-all");
    if (target) {
      var scoped = document.querySelector(target);
      if (scoped) {
        return scoped;
      }
    }
    return el.closest("form") || el.closest("table") || document;
  }

  function bulkBoxes(scope) {
    return scope.querySelectorAll('input[type="checkbox"][name="selected"]');
  }

  function syncBulkMaster(scope) {
    var master = scope.querySelector("[data-bulk-select-all]");
    if (!master) {
      return;
    }
    var boxes = bulkBoxes(scope);
    var checked = 0;
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) {
        checked++;
      }
    }
    master.checked = boxes.length > 0 && checked === boxes.length;
    master.indeterminate = checked > 0 && checked < boxes.length;
    var counters = scope.querySelectorAll("[data-bulk-count]");
    for (var j = 0; j < counters.length; j++) {
      counters[j].textContent = String(checked);
    }
    var actions = scope.querySelectorAll("[data-bulk-action]");
    for (var k = 0; k < actions.length; k++) {
      actions[k].disabled = checked === 0;
    }
    // The bulk panel stays folded until something is selected.
    var panels = scope.querySelectorAll("[data-bulk-panel]");
    for (var m = 0; m < panels.length; m++) {
      if (checked > 0) {
        panels[m].open = true;
      }
    }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLInputElement)) {
      return;
    }
    if (el.hasAttribute("data-bulk-select-all")) {
      var scope = bulkScope(el);
      var boxes = bulkBoxes(scope);
      for (var i = 0; i < boxes.length; i++) {
        if (!boxes[i].disabled) {
          boxes[i].checked = el.checked;
        }
      }
      syncBulkMaster(scope);
    } else if (el.name === "selected" && el.type === "checkbox") {
      syncBulkMaster(el.closest("form") || el.closest("table") || document);
    }
  });

  /* ---------------------------------------------------------------- auto-submitting filter forms */

  var autosubmitTimers = new WeakMap();

  function submitForm(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function isTextual(el) {
    return el.tagName === "TEXTAREA" ||
      (el.tagName === "INPUT" && /^(text|search|email|number|tel|url)$/.test(el.type));
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit") && !isTextual(event.target)) {
      submitForm(form);
    }
  });

  document.addEventListener("input", function (event) {
    var el = event.target;
    var form = el.form;
    if (!form || !form.hasAttribute("data-autosubmit") || !isTextual(el)) {
      return;
    }
    var delay = parseInt(form.getAttribute("data-autosubmit"), 10);
    if (isNaN(delay)) {
      delay = 400;
    }
    clearTimeout(autosubmitTimers.get(form));
    autosubmitTimers.set(form, setTimeout(function () {
      submitForm(form);
    }, delay));
  });

  /* ---------------------------------------------------------------- confirmations */

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (!el || el.tagName === "FORM") {
      return;
    }
    if (!window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // htmx elements with data-confirm are already guarded by the click handler above; hx-confirm stays available.

  /* ---------------------------------------------------------------- htmx forms that answer 400 */

  // A move or comment form answered with 400 carries its errors next to its fields: show it in place
  // (htmx 2 does not swap 4xx answers by default), so the ticket stays on screen.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status === 400 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  /* ---------------------------------------------------------------- keyboard shortcuts */

  // Documented in the overlay `?` opens (built below from this list, so the help cannot drift).
  var SHORTCUTS = [
    ["/", "Focus the search box"],
    ["j", "Next row in a list"],
    ["k", "Previous row in a list"],
    ["Enter", "Open the selected row"],
    ["a", "Assign the selected row (or this record) to me"],
    ["c", "Write a comment on this record"],
    ["?", "Show or hide these shortcuts"],
    ["Esc", "Close this help"],
  ];

  function typingIn(el) {
    if (!el) {
      return false;
    }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function listRows() {
    return Array.prototype.slice.call(document.querySelectorAll(".itsm-ticket-table tbody tr[data-number]"));
  }

  function focusedRow() {
    return document.querySelector(".itsm-ticket-table tbody tr.row-focused");
  }

  function moveRow(step) {
    var rows = listRows();
    if (!rows.length) {
      return false;
    }
    var current = focusedRow();
    var index = current ? rows.indexOf(current) + step : step > 0 ? 0 : rows.length - 1;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current) {
      current.classList.remove("row-focused");
      current.removeAttribute("aria-current");
    }
    rows[index].classList.add("row-focused");
    rows[index].setAttribute("aria-current", "true");
    rows[index].scrollIntoView({ block: "nearest" });
    return true;
  }

  function helpOverlay() {
    var dialog = document.getElementById("shortcut-help");
    if (dialog) {
      return dialog;
    }
    dialog = document.createElement("dialog");
    dialog.id = "shortcut-help";
    dialog.className = "itsm-shortcut-help";
    dialog.setAttribute("aria-labelledby", "shortcut-help-title");
    var title = document.createElement("h2");
    title.id = "shortcut-help-title";
    title.className = "h3";
    title.textContent = "Keyboard shortcuts";
    dialog.appendChild(title);
    var list = document.createElement("dl");
    list.className = "row mb-3";
    SHORTCUTS.forEach(function (pair) {
      var dt = document.createElement("dt");
      dt.className = "col-3";
      var kbd = document.createElement("kbd");
      kbd.textContent = pair[0];
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.className = "col-9";
      dd.textContent = pair[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    dialog.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn";
    close.textContent = "Close";
    close.addEventListener("click", function () {
      dialog.close();
    });
    dialog.appendChild(close);
    document.body.appendChild(dialog);
    return dialog;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typingIn(event.target)) {
      return;
    }
    var key = event.key;
    var handled = false;
    if (key === "?") {
      var dialog = helpOverlay();
      if (dialog.open) {
        dialog.close();
      } else {
        dialog.showModal();
      }
      handled = true;
    } else if (document.querySelector("dialog[open]")) {
      return; // the overlay has the keyboard until it closes (Esc closes a modal dialog natively)
    } else if (key === "/") {
      var search = document.querySelector('form[role=search] input[name=q], input[type=search]');
      if (search) {
        search.focus();
        search.select();
        handled = true;
      }
    } else if (key === "j" || key === "k") {
      handled = moveRow(key === "j" ? 1 : -1);
    } else if (key === "Enter") {
      var row = focusedRow();
      var link = row && row.querySelector("a[href]");
      if (link) {
        window.location.href = link.href;
        handled = true;
      }
    } else if (key === "a") {
      var scope = focusedRow() || (listRows().length ? null : document);
      var button = scope && scope.querySelector("[data-assign-to-me]");
      if (button) {
        button.click();
        handled = true;
      }
    } else if (key === "c") {
      var box = document.querySelector("#comment-form textarea");
      if (box) {
        box.focus();
        box.scrollIntoView({ block: "center" });
        handled = true;
      }
    }
    if (handled) {
      event.preventDefault();
    }
  });

  /* ---------------------------------------------------------------- start-up */

  function init(root) {
    tickCountdowns();
    var scopes = (root || document).querySelectorAll("[data-bulk-select-all]");
    for (var i = 0; i < scopes.length; i++) {
      syncBulkMaster(bulkScope(scopes[i]));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    setInterval(tickCountdowns, 1000);
  });

  // Content swapped in by htmx gets the same treatment at once, not a second later.
  document.addEventListener("htmx:afterSettle", function (event) {
    init(event.target);
  });
})();
