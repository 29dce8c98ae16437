// The run status page follows a commit in progress: it asks the server for the run record's
// counters every few seconds (no meta refresh) and updates the text in an aria-live region.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("run-status");
    if (!box || !window.fetch) { return; }
    var url = box.getAttribute("data-url");
    var bar = document.getElementById("run-progress");
    var text = document.getElementById("run-text");
    var state = document.getElementById("run-state");
    var timer = null;
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          bar.value = data.percent;
          bar.textContent = data.percent + "%";
          if (text.textContent !== data.text) { text.textContent = data.text; }
          state.textContent = data.state_label;
          if (data.state !== "committing" || data.stalled) {
            window.clearInterval(timer);
            if (data.state === "committed" && !document.getElementById("run-done")) {
              var link = document.createElement("a");
              link.id = "run-done";
              link.className = "button primary";
              link.href = box.getAttribute("data-done-url");
              link.textContent = box.getAttribute("data-done-text");
              text.parentNode.insertBefore(link, text.nextSibling);
            }
          }
        })
        .catch(function () { /* the Reload button still works */ });
    }
    timer = window.setInterval(poll, 3000);
  });
})();
