// Keyboard shortcuts of the review pages (listed on each page by
// templates/reviews/includes/shortcuts.html, which stays hidden without this script).
//
// - Any element with data-shortcut="<key>" answers that key: a field (or a form: its first
//   field) is focused, anything else is clicked. The item page's "审核通过并打开下一条"
//   button is one (a), the queue's "批量审核通过" another (a: it opens the confirm page).
// - The queue's table (data-review-rows): j/n and k/p move the focus to the next / previous
//   row's link (Enter or o opens it), x ticks the row, * ticks every row; the header box
//   (data-select-all) ticks or clears them all and shows when some are ticked.
// Keys are ignored while the focus is in a text field (Esc leaves it) and with Ctrl, Alt or
// Meta held, so typing a comment or a browser shortcut never triggers anything.
(function () {
  "use strict";

  var TYPING = /^(text|search|email|number|password|tel|url|date|datetime-local|month|time|week)$/;

  function typingIn(element) {
    if (!element) return false;
    if (element.isContentEditable) return true;
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    return tag === "INPUT" && TYPING.test(element.type || "text");
  }

  var table = document.querySelector("table[data-review-rows]");
  var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  var boxes = rows.map(function (row) {
    return row.querySelector("input[type=checkbox][name=task]");
  });
  var all = table ? table.querySelector("[data-select-all]") : null;
  var count = document.querySelector("[data-selected-count]");
  var current = -1;

  function refreshSelection() {
    var ticked = boxes.filter(function (box) { return box && box.checked; }).length;
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    if (count) {
      count.textContent = (count.dataset.template || "%s").replace("%s", ticked);
      count.hidden = ticked === 0;
    }
  }

  function focusRow(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) rows[current].classList.remove("table-active");
    current = index;
    rows[current].classList.add("table-active");
    var link = rows[current].querySelector("[data-row-link]");
    (link || rows[current]).focus();
  }

  if (table) {
    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { if (box) box.checked = all.checked; });
        refreshSelection();
      });
    }
    table.addEventListener("change", function (event) {
      if (event.target !== all) refreshSelection();
    });
    // A click or Tab into a row makes it the current one, so j/k continue from there.
    table.addEventListener("focusin", function (event) {
      var index = rows.indexOf(event.target.closest("tr"));
      if (index >= 0 && index !== current) {
        if (current >= 0) rows[current].classList.remove("table-active");
        current = index;
        rows[current].classList.add("table-active");
      }
    });
    refreshSelection();
  }

  function runShortcut(key) {
    if (!/^[a-z\/]$/.test(key)) return false;
    var target = document.querySelector('[data-shortcut="' + key + '"]');
    if (!target || target.disabled) return false;
    if (target.tagName === "FORM") {
      target = target.querySelector("textarea, input:not([type=hidden]), select") || target;
    }
    if (typingIn(target)) {
      target.focus();
    } else {
      target.click();
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (typingIn(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key;
    var handled = true;
    if (rows.length && (key === "j" || key === "n")) {
      focusRow(current + 1);
    } else if (rows.length && (key === "k" || key === "p")) {
      focusRow(current - 1);
    } else if (rows.length && key === "x") {
      if (current < 0) focusRow(0);
      var box = boxes[current];
      if (box) box.checked = !box.checked;
      refreshSelection();
    } else if (rows.length && key === "*") {
      var tick = !boxes.every(function (b) { return !b || b.checked; });
      boxes.forEach(function (b) { if (b) b.checked = tick; });
      refreshSelection();
    } else if (rows.length && key === "o") {
      if (current < 0) focusRow(0);
      var link = rows[current].querySelector("[data-row-link]");
      if (link) link.click();
    } else if (key.length === 1) {
      handled = runShortcut(key);
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.querySelectorAll("[data-shortcuts-help]").forEach(function (help) {
    help.hidden = false;
  });
})();
