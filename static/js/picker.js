/* Autocomplete pickers (core/pickers.py): every `input[data-picker]` becomes an ARIA 1.2 combobox.

   The input keeps a name (username, group, "CI name (Class)", ticket number), so without this script it is
   an ordinary text field the server resolves. With it, typing asks `data-picker` (GET ?q=) and lists the
   matches under the input: ArrowDown/ArrowUp move, Enter or a click picks, Escape closes, Tab leaves.
   `data-picker-multiple`: comma-separated values; the picker completes the one after the last comma. */
(function () {
  "use strict";

  var DELAY_MS = 150;
  var counter = 0;

  function lastToken(input) {
    if (!input.dataset.pickerMultiple) {
      return input.value.trim();
    }
    var parts = input.value.split(",");
    return parts[parts.length - 1].trim();
  }

  function putValue(input, value) {
    if (!input.dataset.pickerMultiple) {
      input.value = value;
      return;
    }
    var parts = input.value.split(",");
    parts[parts.length - 1] = " " + value;
    input.value = parts.map(function (p) { return p.trim(); }).filter(Boolean).join(", ") + ", ";
  }

  function enhance(input) {
    if (input.dataset.pickerReady) {
      return;
    }
    input.dataset.pickerReady = "1";
    counter += 1;
    var listId = (input.id || "picker-" + counter) + "-listbox";
    var wrapper = document.createElement("div");
    wrapper.className = "picker";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "picker-list dropdown-menu";
    list.setAttribute("role", "listbox");
    if (input.labels && input.labels.length) {
      list.setAttribute("aria-label", input.labels[0].textContent.trim());
    }
    list.hidden = true;
    wrapper.appendChild(list);
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var active = -1;
    var asked = "";
    var request = null;

    function options() {
      return list.querySelectorAll("[role=option]");
    }

    function close() {
      list.hidden = true;
      list.classList.remove("show");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = options();
      if (!items.length) {
        return;
      }
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) {
        var on = i === active;
        items[i].setAttribute("aria-selected", on ? "true" : "false");
        items[i].classList.toggle("active", on);
      }
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var items = options();
      if (index < 0 || index >= items.length) {
        return false;
      }
      putValue(input, items[index].dataset.value);
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
      status.textContent = items[index].dataset.value + " picked";
      return true;
    }

    function show(results, text) {
      list.textContent = "";
      active = -1;
      results.forEach(function (result, i) {
        var item = document.createElement("li");
        item.id = listId + "-" + i;
        item.className = "dropdown-item picker-option";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = result.value;
        var label = document.createElement("span");
        label.textContent = result.label;
        item.appendChild(label);
        if (result.detail) {
          var detail = document.createElement("small");
          detail.className = "text-secondary ms-2";
          detail.textContent = result.detail;
          item.appendChild(detail);
        }
        // mousedown, not click: the input's blur would close the list first.
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(item);
      });
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "dropdown-item-text text-secondary picker-empty";
        none.textContent = "Nothing matches \u201c" + text + "\u201d";
        list.appendChild(none);
      }
      list.hidden = false;
      list.classList.add("show");
      input.setAttribute("aria-expanded", "true");
      status.textContent = results.length ? results.length + " suggestions, arrows to move, Enter to pick" : "No match";
    }

    function ask() {
      var text = lastToken(input);
      if (!text) {
        close();
        return;
      }
      if (text === asked && !list.hidden) {
        return;
      }
      asked = text;
      if (request) {
        request.abort();
      }
      request = new AbortController();
      var url = input.dataset.picker + "?q=" + encodeURIComponent(text);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: request.signal })
        .then(function (response) {
          if (response.status === 404) {
            // Not a list this user may search (a requester asking for users): a plain text field again.
            teardown();
            return null;
          }
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (data && lastToken(input) === text && document.activeElement === input) {
            show(data.results || [], text);
          }
        })
        .catch(function () {
          /* aborted by the next keystroke, or offline: the field still takes what is typed */
        });
    }

    function teardown() {
      close();
      input.dataset.pickerOff = "1";
      ["role", "aria-autocomplete", "aria-expanded", "aria-controls"].forEach(function (name) {
        input.removeAttribute(name);
      });
    }

    input.addEventListener("input", function () {
      if (input.dataset.pickerOff) {
        return;
      }
      clearTimeout(timer);
      asked = "";
      timer = setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (input.dataset.pickerOff) {
        return;
      }
      if (event.key === "ArrowDown") {
        if (!open) {
          ask();
        } else {
          highlight(active + 1);
        }
        event.preventDefault();
      } else if (event.key === "ArrowUp") {
        if (open) {
          highlight(active - 1);
          event.preventDefault();
        }
      } else if (event.key === "Enter") {
        // Enter picks the highlighted option instead of submitting the form.
        if (open && active >= 0) {
          choose(active);
          event.preventDefault();
        }
      } else if (event.key === "Escape") {
        if (open) {
          close();
          event.preventDefault();
          event.stopPropagation();
        }
      }
    });

    input.addEventListener("blur", function () {
      setTimeout(close, 100);
    });
  }

  function init(root) {
    var inputs = (root || document).querySelectorAll("input[data-picker]");
    for (var i = 0; i < inputs.length; i++) {
      enhance(inputs[i]);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  // Forms swapped in by htmx (a move's form, the bulk panel) get pickers too.
  document.addEventListener("htmx:afterSettle", function (event) {
    init(event.target);
  });
})();
