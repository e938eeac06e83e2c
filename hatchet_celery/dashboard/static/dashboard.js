// hatchet-celery dashboard: follow a run live (server-sent events), no framework.
// The server sends the run's snapshot each time it changes ("run") and "end" once the
// run is finished. Statuses are applied at once to the graph and the task table; the
// rest of the page (outputs, errors, logs, actions) is fetched again as a fragment.
(function () {
  "use strict";
  // The runs list's first page: fetch the table again every few seconds (new runs,
  // statuses), unless the tab is hidden.
  var live = document.getElementById("runs-live");
  if (live && live.getAttribute("data-live") === "true") {
    var sep = location.search ? "&" : "?";
    var busy = false;
    window.setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(location.pathname + location.search + sep + "fragment=1", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) live.innerHTML = html; })
        .catch(function () {})
        .then(function () { busy = false; });
    }, 3000);
  }
})();

(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root) return;
  var runId = root.getAttribute("data-run-id");
  var base = "/runs/" + encodeURIComponent(runId);
  var fetching = false;
  var pending = false;

  function setStatusClass(el, status) {
    var kept = (el.getAttribute("class") || "").split(/\s+/).filter(function (c) {
      return c && c.indexOf("st-") !== 0;
    });
    kept.push("st-" + status);
    el.setAttribute("class", kept.join(" "));
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function byTask(selector, name) {
    var found = [];
    each(selector, function (el) {
      if (el.getAttribute("data-task") === name) found.push(el);
    });
    return found;
  }

  var activity = null; // stream chunks + log lines the page last showed

  // Apply a snapshot; true when it differs from what the page shows.
  function apply(snap) {
    var changed = activity !== null && activity !== snap.activity;
    activity = snap.activity;
    var badge = document.getElementById("run-status");
    if (badge && badge.textContent !== snap.status) {
      badge.textContent = snap.status;
      setStatusClass(badge, snap.status);
      changed = true;
    }
    Object.keys(snap.tasks).forEach(function (name) {
      var t = snap.tasks[name];
      byTask("svg.dag g.node", name).forEach(function (node) {
        var label = node.querySelector("text.status");
        if (label && label.textContent !== t.status) {
          label.textContent = t.status;
          changed = true;
        }
        setStatusClass(node, t.status);
      });
      byTask("table.tasks tr", name).forEach(function (row) {
        var cell = row.querySelector(".status");
        if (cell && cell.textContent !== t.status) {
          cell.textContent = t.status;
          setStatusClass(cell, t.status);
          changed = true;
        }
        var started = row.querySelector(".started");
        if (started) started.textContent = t.started_at;
        var finished = row.querySelector(".finished");
        if (finished) finished.textContent = t.finished_at;
      });
    });
    return changed;
  }

  function refresh() {
    if (fetching) {
      pending = true;
      return;
    }
    fetching = true;
    fetch(base + "?fragment=1", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) document.getElementById("run-main").innerHTML = html;
      })
      .catch(function () {})
      .then(function () {
        fetching = false;
        if (pending) {
          pending = false;
          refresh();
        }
      });
  }

  if (root.getAttribute("data-done") === "true" || !window.EventSource) return;
  var source = new EventSource(base + "/events");
  source.addEventListener("run", function (e) {
    var snap = JSON.parse(e.data);
    if (snap && apply(snap)) refresh();
  });
  source.addEventListener("end", function () {
    source.close();
    root.setAttribute("data-done", "true");
    refresh();
  });
})();
