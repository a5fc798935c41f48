// Background work's page (an annual report being drawn up): the element marked data-poll
// (milliseconds) is fetched again from this page's own URL and swapped in place, inside a
// polite live region, until the fresh copy no longer asks to be polled. No timed reload of
// the whole page (WCAG 2.2.1), and without JavaScript the page says to reload it.
(function () {
  var box = document.querySelector("[data-poll]");
  if (!box || !box.id || !window.fetch || !window.DOMParser) {
    return;
  }
  var delay = Number(box.dataset.poll) || 2000;
  function poll() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(box.id);
        if (!fresh) {
          return;
        }
        box.innerHTML = fresh.innerHTML;
        if (fresh.hasAttribute("data-poll")) {
          window.setTimeout(poll, delay);
        } else {
          box.removeAttribute("data-poll");
        }
      })
      .catch(function () {
        window.setTimeout(poll, delay * 5); // a hiccup: try again, less often
      });
  }
  window.setTimeout(poll, delay);
})();
