// The live page: polls api/functions (relative to this page) and renders its tables
// (async runtimes, functions, HTTP routes, gRPC methods, outbound calls, objectives).
// Plain DOM and inline SVG; no framework, no network but the JSON.
"use strict";
(function () {
  var API = "api/functions";
  var state = { data: null, window: "1m", module: "", updates: 0,
    sort: { functions: null, routes: null, grpc: null, outbound: null } };

  function $(sel) { return document.querySelector(sel); }

  // ---- formatting (the raw value stays in data-value) ----
  function fmtCount(n) { return String(n); }
  function fmtRate(v) {
    if (v === null) return "–";
    if (v === 0) return "0";
    if (v >= 100) return v.toFixed(0);
    if (v >= 10) return v.toFixed(1);
    return v.toPrecision(2);
  }
  function fmtRatio(v) {
    if (v === null) return "–";
    if (v === 0) return "0 %";
    var p = v * 100;
    return (p >= 10 ? p.toFixed(1) : p.toPrecision(2)) + " %";
  }
  function fmtSeconds(v) {
    if (v === null) return "–";
    if (v < 1e-3) return (v * 1e6).toPrecision(3) + " µs";
    if (v < 1) return (v * 1e3).toPrecision(3) + " ms";
    return v.toPrecision(3) + " s";
  }
  function fmtBytes(v) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
  }
  function fmtSpan(s) {
    if (s < 60) return Math.round(s) + " s";
    return (s / 60).toFixed(1) + " min";
  }

  // ---- one row's values for the chosen window ----
  function values(entry) {
    var w = entry.windows[state.window];
    var by = w.failure_ratio_by_result;
    return {
      total: entry.total, rate: w.calls_per_second, failed: w.failure_ratio,
      error: by.error, panic: by.panic, cancelled: by.cancelled,
      p50: w.p50_seconds, p90: w.p90_seconds, p99: w.p99_seconds,
      in_flight: entry.in_flight, calls: w.calls, seconds: w.seconds
    };
  }

  // One gRPC row's values for the chosen window: `failed` is its error ratio.
  function grpcValues(entry) {
    var w = entry.windows[state.window];
    return {
      total: entry.total, rate: w.calls_per_second, failed: w.error_ratio,
      p50: w.p50_seconds, p90: w.p90_seconds, p99: w.p99_seconds,
      received: w.messages_received_per_call, sent: w.messages_sent_per_call,
      calls: w.calls, seconds: w.seconds
    };
  }

  // "OK 3 · NotFound 1": the codes seen in the window, most frequent first.
  function fmtCodes(codes) {
    var names = Object.keys(codes);
    if (!names.length) return "–";
    names.sort(function (a, b) { return codes[b] - codes[a] || (a < b ? -1 : 1); });
    return names.map(function (n) { return n + "\u00a0" + codes[n]; }).join(" · ");
  }
  function fmtPerCall(v) { return v === null ? "–" : fmtRate(v); }

  // One outbound row's values for the chosen window: `failed` is its error ratio.
  function outboundValues(entry) {
    var w = entry.windows[state.window];
    return {
      total: entry.total, rate: w.calls_per_second, failed: w.error_ratio,
      p50: w.p50_seconds, p90: w.p90_seconds, p99: w.p99_seconds,
      received: w.bytes_received_per_call, calls: w.calls, seconds: w.seconds
    };
  }
  function fmtBytesPerCall(v) {
    if (v === null) return "–";
    return v < 1024 && v !== Math.round(v) ? v.toFixed(1) + " B" : fmtBytes(v);
  }

  // Failing first, then slowest, then by name.
  function defaultOrder(a, b) {
    var fa = a.v.failed === null ? -1 : a.v.failed, fb = b.v.failed === null ? -1 : b.v.failed;
    if (fa !== fb) return fb - fa;
    var pa = a.v.p99 === null ? -1 : a.v.p99, pb = b.v.p99 === null ? -1 : b.v.p99;
    if (pa !== pb) return pb - pa;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  function sorter(sort) {
    if (!sort) return defaultOrder;
    return function (a, b) {
      var x = sort.key in a.v ? a.v[sort.key] : a.text[sort.key];
      var y = sort.key in b.v ? b.v[sort.key] : b.text[sort.key];
      var c;
      if (x === null || x === undefined) c = (y === null || y === undefined) ? 0 : -1;
      else if (y === null || y === undefined) c = 1;
      else if (typeof x === "string") c = x.localeCompare(y);
      else c = x - y;
      if (c === 0) return defaultOrder(a, b);
      return sort.dir === "ascending" ? c : -c;
    };
  }

  function cell(tr, key, raw, text, cls) {
    var td = document.createElement("td");
    td.dataset.key = key;
    if (raw !== undefined) td.dataset.value = raw === null ? "" : String(raw);
    td.textContent = text;
    if (cls) td.className = cls;
    if (raw === null) td.classList.add("none");
    tr.appendChild(td);
    return td;
  }

  // Calls/s (blue) and failures/s (red) over the window, on one scale.
  // `top`, if given, is the scale's top (a ratio's 1) instead of the window's largest value.
  function sparkline(history, now, length, top) {
    var ns = "http://www.w3.org/2000/svg";
    var W = 120, H = 24;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("aria-hidden", "true");
    var pts = [];
    for (var i = 0; i < history.at_seconds.length; i++) {
      var t = history.at_seconds[i];
      if (t < now - length) continue;
      var r = history.calls_per_second[i] || 0, f = history.failure_ratio[i] || 0;
      pts.push([t, r, r * f]);
    }
    if (pts.length < 2) return svg;
    var max = 0;
    pts.forEach(function (p) { if (p[1] > max) max = p[1]; });
    if (max === 0 || top) max = top || 1;
    // From the window's start, or from the first point while the history is shorter.
    var t0 = Math.max(now - length, pts[0][0]);
    length = now - t0 || 1;
    function line(index, cls) {
      var pl = document.createElementNS(ns, "polyline");
      pl.setAttribute("class", cls);
      pl.setAttribute("points", pts.map(function (p) {
        var x = (p[0] - t0) / length * W, y = H - 1 - p[index] / max * (H - 2);
        return x.toFixed(1) + "," + y.toFixed(1);
      }).join(" "));
      svg.appendChild(pl);
    }
    line(1, "calls");
    // A busy ratio has no failures to draw.
    if (history.failure_ratio.length) line(2, "failures");
    return svg;
  }

  var LENGTH = { "1m": 60, "5m": 300, "15m": 900 };

  function renderTable(id, entries, kind) {
    var table = document.getElementById(id);
    var rows = entries.map(function (e) {
      var name = kind === "functions" ? e.function : e.route;
      return { e: e, v: values(e), name: name + " " + (e.module || e.method || ""),
        text: kind === "functions" ? { function: e.function, module: e.module } : { route: e.route, method: e.method } };
    });
    rows.sort(sorter(state.sort[kind]));
    var tbody = document.createElement("tbody");
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var v = r.v;
      if (kind === "functions") {
        tr.dataset.function = r.e.function;
        tr.dataset.module = r.e.module;
        var th = document.createElement("th");
        th.scope = "row";
        th.className = "text";
        th.dataset.key = "function";
        th.textContent = r.e.function;
        tr.appendChild(th);
        cell(tr, "module", undefined, r.e.module, "text");
      } else {
        tr.dataset.route = r.e.route;
        tr.dataset.method = r.e.method;
        var rh = document.createElement("th");
        rh.scope = "row";
        rh.className = "text";
        rh.dataset.key = "route";
        rh.textContent = r.e.route;
        tr.appendChild(rh);
        cell(tr, "method", undefined, r.e.method, "text");
      }
      var labels = Object.keys(r.e.labels);
      if (labels.length) tr.title = labels.map(function (k) { return k + "=" + r.e.labels[k]; }).join(", ");
      cell(tr, "total", v.total, fmtCount(v.total));
      cell(tr, "rate", v.rate, fmtRate(v.rate));
      cell(tr, "failed", v.failed, fmtRatio(v.failed), "failed");
      cell(tr, "error", v.error, fmtRatio(v.error));
      cell(tr, "panic", v.panic, fmtRatio(v.panic));
      cell(tr, "cancelled", v.cancelled, fmtRatio(v.cancelled));
      cell(tr, "p50", v.p50, fmtSeconds(v.p50));
      cell(tr, "p90", v.p90, fmtSeconds(v.p90));
      cell(tr, "p99", v.p99, fmtSeconds(v.p99));
      if (kind === "functions") cell(tr, "in_flight", v.in_flight, v.in_flight === null ? "–" : String(v.in_flight));
      if (v.failed) tr.classList.add("failing");
      var td = document.createElement("td");
      td.className = "trend";
      td.appendChild(sparkline(r.e.history, state.data.now_seconds, LENGTH[state.window]));
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    table.replaceChild(tbody, table.tBodies[0]);
    var sort = state.sort[kind];
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (sort && th.dataset.key === sort.key) th.setAttribute("aria-sort", sort.dir);
      else th.removeAttribute("aria-sort");
    });
  }

  function renderGrpc(entries) {
    $("#grpc-section").hidden = !entries.length;
    var table = document.getElementById("grpc");
    var rows = entries.map(function (e) {
      return { e: e, v: grpcValues(e), name: e.service + "/" + e.method + " " + e.side,
        text: { side: e.side, service: e.service, method: e.method, type: e.type } };
    });
    rows.sort(sorter(state.sort.grpc));
    var tbody = document.createElement("tbody");
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var v = r.v, e = r.e;
      tr.dataset.side = e.side;
      tr.dataset.service = e.service;
      tr.dataset.method = e.method;
      tr.dataset.type = e.type;
      cell(tr, "side", undefined, e.side, "text");
      cell(tr, "service", undefined, e.service, "text");
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "text";
      th.dataset.key = "method";
      th.textContent = e.method;
      tr.appendChild(th);
      cell(tr, "type", undefined, e.type, "text");
      cell(tr, "total", v.total, fmtCount(v.total));
      cell(tr, "rate", v.rate, fmtRate(v.rate));
      cell(tr, "failed", v.failed, fmtRatio(v.failed), "failed");
      var codes = e.windows[state.window].codes;
      var td = cell(tr, "codes", undefined, fmtCodes(codes), "text");
      td.dataset.value = JSON.stringify(codes);
      cell(tr, "p50", v.p50, fmtSeconds(v.p50));
      cell(tr, "p90", v.p90, fmtSeconds(v.p90));
      cell(tr, "p99", v.p99, fmtSeconds(v.p99));
      cell(tr, "received", v.received, fmtPerCall(v.received));
      cell(tr, "sent", v.sent, fmtPerCall(v.sent));
      if (v.failed) tr.classList.add("failing");
      var trend = document.createElement("td");
      trend.className = "trend";
      trend.appendChild(sparkline({ at_seconds: e.history.at_seconds, calls_per_second: e.history.calls_per_second,
        failure_ratio: e.history.error_ratio }, state.data.now_seconds, LENGTH[state.window]));
      tr.appendChild(trend);
      tbody.appendChild(tr);
    });
    table.replaceChild(tbody, table.tBodies[0]);
    var sort = state.sort.grpc;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      if (sort && h.dataset.key === sort.key) h.setAttribute("aria-sort", sort.dir);
      else h.removeAttribute("aria-sort");
    });
  }

  function renderOutbound(entries) {
    $("#outbound-section").hidden = !entries.length;
    var table = document.getElementById("outbound");
    var rows = entries.map(function (e) {
      var port = e.server_port === null ? "" : e.server_port;
      return { e: e, v: outboundValues(e), name: e.server_address + ":" + port + " " + e.method,
        text: { address: e.server_address, port: port, method: e.method } };
    });
    rows.sort(sorter(state.sort.outbound));
    var tbody = document.createElement("tbody");
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var v = r.v, e = r.e;
      tr.dataset.address = e.server_address;
      tr.dataset.port = r.text.port;
      tr.dataset.method = e.method;
      var labels = Object.keys(e.labels);
      if (labels.length) tr.title = labels.map(function (k) { return k + "=" + e.labels[k]; }).join(", ");
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "text";
      th.dataset.key = "address";
      th.textContent = e.server_address;
      tr.appendChild(th);
      cell(tr, "port", undefined, r.text.port || "–", "text");
      cell(tr, "method", undefined, e.method, "text");
      cell(tr, "total", v.total, fmtCount(v.total));
      cell(tr, "rate", v.rate, fmtRate(v.rate));
      cell(tr, "failed", v.failed, fmtRatio(v.failed), "failed");
      // "200 4 · 404 2 · connect 1": statuses received, then error types, each most frequent first.
      var w = e.windows[state.window];
      var shown = [fmtCodes(w.statuses), fmtCodes(w.error_types)].filter(function (t) { return t !== "–"; });
      var td = cell(tr, "endings", undefined, shown.length ? shown.join(" · ") : "–", "text");
      td.dataset.value = JSON.stringify({ statuses: w.statuses, error_types: w.error_types });
      cell(tr, "p50", v.p50, fmtSeconds(v.p50));
      cell(tr, "p90", v.p90, fmtSeconds(v.p90));
      cell(tr, "p99", v.p99, fmtSeconds(v.p99));
      cell(tr, "received", v.received, fmtBytesPerCall(v.received));
      if (v.failed) tr.classList.add("failing");
      var trend = document.createElement("td");
      trend.className = "trend";
      trend.appendChild(sparkline({ at_seconds: e.history.at_seconds, calls_per_second: e.history.calls_per_second,
        failure_ratio: e.history.error_ratio }, state.data.now_seconds, LENGTH[state.window]));
      tr.appendChild(trend);
      tbody.appendChild(tr);
    });
    table.replaceChild(tbody, table.tBodies[0]);
    var sort = state.sort.outbound;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      if (sort && h.dataset.key === sort.key) h.setAttribute("aria-sort", sort.dir);
      else h.removeAttribute("aria-sort");
    });
  }

  function renderModules(functions) {
    var select = $("#module");
    var seen = {};
    functions.forEach(function (f) { seen[f.module] = true; });
    var modules = Object.keys(seen).sort();
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; }).slice(1);
    if (have.join("\n") === modules.join("\n")) return;
    while (select.options.length > 1) select.remove(1);
    modules.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m;
      o.textContent = m;
      select.appendChild(o);
    });
    select.value = modules.indexOf(state.module) >= 0 ? state.module : "";
  }

  function renderProcess(p, data) {
    var cpu = $("#cpu"), mem = $("#memory");
    if (!p) { cpu.textContent = "–"; mem.textContent = "–"; }
    else {
      var cores = p.windows[state.window].cpu_cores;
      cpu.dataset.value = cores === null ? "" : String(cores);
      cpu.textContent = cores === null ? "–" : (cores * 100).toFixed(1) + " % of a core (" + p.cpu_seconds_total.toFixed(2) + " s total)";
      mem.dataset.value = String(p.resident_memory_bytes);
      mem.textContent = fmtBytes(p.resident_memory_bytes) + " resident";
    }
    $("#history").textContent = fmtSpan(data.history_seconds) + " in " + data.snapshots + " snapshots";
  }

  // One row per tokio runtime: its busy ratio over the window, in total and worker by worker.
  function renderRuntimes(runtimes) {
    $("#runtimes-section").hidden = !runtimes.length;
    var tbody = document.createElement("tbody");
    runtimes.forEach(function (r) {
      var w = r.windows[state.window];
      var tr = document.createElement("tr");
      tr.dataset.runtime = r.runtime;
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "text";
      th.textContent = r.runtime;
      tr.appendChild(th);
      cell(tr, "workers", r.workers, String(r.workers));
      var busy = cell(tr, "busy", w.busy_ratio, fmtRatio(w.busy_ratio));
      if (w.busy_ratio !== null && w.busy_ratio >= 0.9) {
        tr.classList.add("failing");
        busy.classList.add("failed");
      }
      var td = cell(tr, "workers_busy", undefined, "", "text");
      w.workers.forEach(function (ratio, i) {
        var span = document.createElement("span");
        span.className = "worker";
        span.dataset.worker = String(i);
        span.dataset.value = ratio === null ? "" : String(ratio);
        span.title = "worker " + i + ": " + fmtRatio(ratio) + " busy";
        var meter = document.createElement("span");
        meter.className = "meter";
        meter.style.width = ratio === null ? "0" : (ratio * 100).toFixed(1) + "%";
        span.appendChild(meter);
        var label = document.createElement("span");
        label.className = "label";
        label.textContent = i + ": " + fmtRatio(ratio);
        span.appendChild(label);
        td.appendChild(span);
      });
      var total = r.busy_seconds_total.reduce(function (a, b) { return a + b; }, 0);
      cell(tr, "busy_seconds", total, fmtSeconds(total));
      var trend = document.createElement("td");
      trend.className = "trend";
      trend.appendChild(sparkline({ at_seconds: r.history.at_seconds, calls_per_second: r.history.busy_ratio,
        failure_ratio: [] }, state.data.now_seconds, LENGTH[state.window], 1));
      tr.appendChild(trend);
      tbody.appendChild(tr);
    });
    var table = $("#runtimes");
    table.replaceChild(tbody, table.tBodies[0]);
  }

  function renderObjectives(objectives) {
    var section = $("#objectives-section");
    section.hidden = !objectives.length;
    var tbody = document.createElement("tbody");
    objectives.forEach(function (o) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "text";
      th.textContent = o.name;
      tr.appendChild(th);
      var b = o.error_budget_remaining;
      cell(tr, "error_budget_remaining", b === undefined ? null : b, b === undefined || b === null ? "–" : fmtRatio(b));
      var l = o.latency_budget_remaining;
      cell(tr, "latency_budget_remaining", l === undefined ? null : l, l === undefined || l === null ? "–" : fmtRatio(l));
      tbody.appendChild(tr);
    });
    var table = $("#objectives");
    table.replaceChild(tbody, table.tBodies[0]);
  }

  function render() {
    var data = state.data;
    if (!data) return;
    renderModules(data.functions);
    var functions = data.functions.filter(function (f) { return !state.module || f.module === state.module; });
    renderTable("functions", functions, "functions");
    renderTable("routes", data.routes, "routes");
    renderGrpc(data.grpc || []);
    renderOutbound(data.outbound || []);
    renderProcess(data.process, data);
    renderRuntimes(data.runtimes || []);
    renderObjectives(data.objectives || []);
  }

  function poll() {
    var delay = 5000;
    fetch(API, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        state.data = data;
        state.updates++;
        delay = Math.max(1000, (data.interval_seconds || 5) * 1000);
        render();
        document.body.dataset.now = String(data.now_seconds);
        document.body.dataset.updates = String(state.updates);
        $("#status").textContent = "Updated " + new Date().toLocaleTimeString() +
          "; a snapshot every " + data.interval_seconds + " s";
      })
      .catch(function (e) { $("#status").textContent = "Cannot read " + API + ": " + e.message; })
      .then(function () { setTimeout(poll, delay); });
  }

  document.querySelectorAll("input[name=window]").forEach(function (input) {
    input.addEventListener("change", function () { state.window = input.value; render(); });
  });
  $("#module").addEventListener("change", function (e) { state.module = e.target.value; render(); });
  ["functions", "routes", "grpc", "outbound"].forEach(function (kind) {
    document.querySelectorAll("#" + kind + " thead th[data-key] button").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.parentNode.dataset.key;
        var text = button.parentNode.dataset.type === "text";
        var sort = state.sort[kind];
        // First click: largest first for numbers, A to Z for names; a second one turns it.
        var dir = text ? "ascending" : "descending";
        if (sort && sort.key === key) dir = sort.dir === "ascending" ? "descending" : "ascending";
        state.sort[kind] = { key: key, dir: dir };
        render();
      });
    });
  });
  poll();
})();
