// The import page's progress bar: polls the job's status (counts only) until it is finished,
// then reloads the page once to show the first rows of each outcome.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  function show(status) {
    box.querySelector("progress").value = status.percent;
    Object.keys(status).forEach(function (key) {
      var el = box.querySelector('[data-field="' + key + '"]');
      if (el && status[key] !== null) { el.textContent = status[key]; }
    });
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        show(status);
        if (status.finished) {
          if (box.getAttribute("data-finished") !== "1") { window.location.reload(); }
        } else {
          window.setTimeout(poll, 1000);
        }
      });
  }
  if (box.getAttribute("data-finished") !== "1") { window.setTimeout(poll, 500); }
})();
