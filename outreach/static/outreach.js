// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Postal code → prefecture, city and town (offline data on the server).
  function setupPostalLookup() {
    var postal = document.getElementById("postal_code");
    var pref = document.getElementById("prefecture");
    var city = document.getElementById("city");
    var town = document.getElementById("town");
    var status = document.getElementById("postal-status");
    if (!postal || !pref || !city || !status) { return; }
    var base = status.getAttribute("data-url") || "/patrons/postal-code/";
    var last = "";
    function lookup() {
      var digits = postal.value.normalize("NFKC").replace(/[^0-9]/g, "");
      if (digits.length !== 7 || digits === last) { return; }
      last = digits;
      fetch(base + digits, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (!res.ok) {
            status.textContent = res.body.error || "";
            status.className = "hint error";
            return;
          }
          postal.value = res.body.postal_code;
          pref.value = res.body.prefecture;
          city.value = res.body.city;
          if (town) { town.value = res.body.town; }
          status.textContent = status.getAttribute("data-filled") || (res.body.prefecture + res.body.city + res.body.town);
          status.className = "hint";
        })
        .catch(function () { last = ""; });
    }
    postal.addEventListener("change", lookup);
    postal.addEventListener("blur", lookup);
    postal.addEventListener("input", function () {
      if (postal.value.normalize("NFKC").replace(/[^0-9]/g, "").length === 7) { lookup(); }
    });
  }

  // Ask before destructive actions (forms marked data-confirm).
  function setupConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  // Move focus to the error summary so keyboard and screen-reader users hear it first.
  function focusErrors() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupPostalLookup();
    setupConfirm();
    focusErrors();
  });
})();
