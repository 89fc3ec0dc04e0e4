// ITSM Doctor web app: the one script, shipped in the package (no CDN, works offline).
// A page holding <div data-job-poll="URL"> polls URL (JSON: status, progress, message) every
// two seconds and reloads itself when the job is done or failed.
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-job-poll");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-job-message]");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          if (bar) { bar.value = job.progress; }
          if (text) { text.textContent = job.message; }
          if (job.status === "done" || job.status === "failed") { window.location.reload(); }
          else { window.setTimeout(tick, 2000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-poll]").forEach(poll);
  });
})();
