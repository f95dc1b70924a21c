// The live page in a real browser: starts the `hello` example under known traffic, loads its
// page in Debian's headless Chromium, waits for an update after the traffic has ended, and
// checks that the numbers in the DOM are those derived from /metrics (parsed here): exact
// totals by result, failure ratios, and p50/p90/p99 as histogram_quantile computes them.
// Then the same for the gRPC methods table, with the `grpc` example's `--load` rounds: every
// (side, method) row against both /metrics and the per-round table of routeguide's `load`.
// Then the outbound calls table, with two `services` instances: A asks its peer B a known
// number of times (200, 404, 500), B asks a port nobody listens on (refused: error type
// connect); each row against the test's own count and against /metrics. And hello's async
// runtime panel (its main runtime, two workers): each number in the DOM is the JSON's the page
// rendered, and each worker's busy time no more than /metrics says afterwards.
// Screenshots go to $ARTIFACTS (target/live-page by default).
//
// Usage: node live_page.mjs HELLO_BINARY GRPC_BINARY SERVICES_BINARY   (./run builds them and installs what is missing)
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const HELLO = process.argv[2];
const GRPC = process.argv[3];
const SERVICES = process.argv[4];
const REQUESTS = 120;
const ROUNDS = 3;
// One round of routeguide's `load` (examples/routeguide/lib.rs), as both sides count it: the
// codes its calls end with, the messages to the server and to the client.
const ROUND = {
  GetFeature: { type: "unary", codes: { OK: 1, NotFound: 1, InvalidArgument: 1, Internal: 1, DeadlineExceeded: 1 }, toServer: 5, toClient: 1 },
  ListFeatures: { type: "server_stream", codes: { OK: 1, InvalidArgument: 1 }, toServer: 2, toClient: 5 },
  RecordRoute: { type: "client_stream", codes: { OK: 1, Internal: 1 }, toServer: 5, toClient: 1 },
  RouteChat: { type: "bidi_stream", codes: { OK: 2, Internal: 1 }, toServer: 5, toClient: 4 },
};
// The codes that say the server failed (DESIGN.md): the table's error ratio counts these.
const SERVER_FAILURES = ["Unknown", "DeadlineExceeded", "Unimplemented", "Internal", "Unavailable", "DataLoss"];
// The calls A makes to its peer B, by account id: B has account 1 (alice), not 2, and id 13 is
// its storage outage. Then B's calls to its peer, a closed port.
const PEER_CALLS = [[1, 4, 200], [2, 2, 404], [13, 1, 500]]; // [id, times, status relayed]
const REFUSED_CALLS = 3;
const ARTIFACTS = process.env.ARTIFACTS || "target/live-page";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const DEADLINE = Date.now() + 90_000;

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

// ---- the exposition, parsed (text format 0.0.4) ----
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed exposition line: ${line}`);
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let l;
    while ((l = re.exec(m[3] || "")) !== null) {
      labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

function select(samples, name, labels) {
  return samples.filter((s) => s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function sum(samples) {
  return samples.reduce((a, s) => a + s.value, 0);
}

// histogram_quantile over cumulative buckets [{le, count}] (sorted, +Inf last).
function histogramQuantile(q, buckets) {
  const total = buckets[buckets.length - 1].count;
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length - 1; i++) {
    if (buckets[i].count >= rank) {
      const lower = i === 0 ? 0 : buckets[i - 1].le;
      const here = buckets[i].count - below;
      return lower + (buckets[i].le - lower) * ((rank - below) / here);
    }
    below = buckets[i].count;
  }
  return buckets[buckets.length - 2].le;
}

function buckets(samples, name, labels) {
  // Summed over the other labels (status codes), by le.
  const byLe = new Map();
  for (const s of select(samples, name, labels)) {
    byLe.set(s.labels.le, (byLe.get(s.labels.le) || 0) + s.value);
  }
  return [...byLe.entries()]
    .map(([le, count]) => ({ le: le === "+Inf" ? Infinity : Number(le), count }))
    .sort((a, b) => a.le - b.le);
}

async function get(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

async function until(what, f, interval = 200) {
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > DEADLINE) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---- the run ----
mkdirSync(ARTIFACTS, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "live-page-chromium-"));
const hello = spawn(HELLO, ["--addr", "127.0.0.1:0", "--load", String(REQUESTS), "--live-interval", "1"],
  { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
hello.stdout.on("data", (d) => { out += d; process.stdout.write(`hello: ${d}`); });
let context = null;
let grpc = null;
const peers = [];
try {
  const origin = (await until("hello's address", () => /hello listening on (http:\/\/\S+)/.exec(out)))[1];
  check(out.includes(`live page: ${origin}/`), `hello prints the page's address ${origin}/`);

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 560 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] || await context.newPage();
  const requested = [];
  page.on("request", (r) => requested.push(r.url()));
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // Every document the page fetched, by its `now_seconds`: what the DOM was rendered from.
  const fetched = new Map();
  page.on("response", async (r) => {
    if (r.url().endsWith("/api/functions") && r.ok()) {
      try { const doc = await r.json(); fetched.set(String(doc.now_seconds), doc); } catch { /* page gone */ }
    }
  });

  // While the traffic runs: the page shows it.
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, null, { timeout: 20_000 });
  await page.screenshot({ path: join(ARTIFACTS, "during-load.png") });

  const load = await until("the end of hello's load", () =>
    /load: sent (\d+) requests, got([^;]*);/.exec(out), 250);
  check(Number(load[1]) === REQUESTS, `hello sent ${REQUESTS} requests`);
  // The counters are final now; the next snapshot after this one has them all.
  const metrics = parseMetrics(await get(`${origin}/metrics`));
  const after = JSON.parse(await get(`${origin}/api/functions`)).now_seconds;
  await page.waitForFunction((t) => Number(document.body.dataset.now) > t, after, { timeout: 20_000 });
  // 15 minutes: everything since the sampler started, before the first request.
  await page.check("input[name=window][value='15m']");

  const fn = { function: "hello", module: "hello" };
  const byResult = {};
  for (const r of ["ok", "error", "panic", "cancelled"]) {
    byResult[r] = sum(select(metrics, "function_calls_total", { ...fn, result: r }));
  }
  const total = Object.values(byResult).reduce((a, b) => a + b, 0);
  const row = page.locator("#functions tbody tr[data-function='hello'][data-module='hello']");
  const cellText = (r, key) => r.locator(`[data-key='${key}']`).textContent();
  const cellValue = async (r, key) => {
    const v = await r.locator(`[data-key='${key}']`).getAttribute("data-value");
    return v === "" ? null : Number(v);
  };
  check(total === REQUESTS, `function_calls_total{function="hello"} sums to ${total}`);
  check(await cellText(row, "total") === String(total), `hello: DOM total ${await cellText(row, "total")} = ${total} from /metrics`);
  check(await cellValue(row, "failed") === (total - byResult.ok) / total,
    `hello: failed ratio ${await cellValue(row, "failed")} = ${(total - byResult.ok)}/${total}`);
  for (const r of ["error", "panic", "cancelled"]) {
    check(await cellValue(row, r) === byResult[r] / total, `hello: ${r} ratio ${await cellValue(row, r)} = ${byResult[r]}/${total}`);
  }
  check(await cellValue(row, "in_flight") === 0, "hello: nothing in flight");
  const fnBuckets = buckets(metrics, "function_calls_duration_seconds_bucket", fn);
  for (const [q, key] of [[0.5, "p50"], [0.9, "p90"], [0.99, "p99"]]) {
    const expected = histogramQuantile(q, fnBuckets);
    check(await cellValue(row, key) === expected, `hello: ${key} ${await cellValue(row, key)} = histogram_quantile(${q}) ${expected}`);
  }

  // The route, from the layer's histogram: a 5xx is an error.
  const rt = { http_route: "/hello", http_request_method: "GET" };
  const counts = select(metrics, "http_server_request_duration_seconds_count", rt);
  const requests = sum(counts);
  const errors = sum(counts.filter((s) => Number(s.labels.http_response_status_code) >= 500 || s.labels.error_type));
  const route = page.locator("#routes tbody tr[data-route='/hello'][data-method='GET']");
  check(requests === REQUESTS, `http_server_request_duration_seconds_count{http_route="/hello"} sums to ${requests}`);
  check(await cellText(route, "total") === String(requests), `/hello: DOM total ${await cellText(route, "total")} = ${requests}`);
  check(await cellValue(route, "error") === errors / requests, `/hello: error ratio ${await cellValue(route, "error")} = ${errors}/${requests}`);
  const routeBuckets = buckets(metrics, "http_server_request_duration_seconds_bucket", rt);
  for (const [q, key] of [[0.5, "p50"], [0.99, "p99"]]) {
    const expected = histogramQuantile(q, routeBuckets);
    check(await cellValue(route, key) === expected, `/hello: ${key} ${await cellValue(route, key)} = histogram_quantile(${q}) ${expected}`);
  }
  check(await page.locator("#routes tbody tr").count() === 1, "one route: /, /api/functions and /metrics are skipped");
  check(await page.locator("#cpu").getAttribute("data-value") !== "", "process CPU shown");

  // The async runtime panel: hello's main runtime, as the document the page rendered says.
  // Busy ratios change at every snapshot, so the DOM is read in one go, between two renders.
  const shownRuntimes = await page.evaluate(() => {
    const value = (el) => (el.dataset.value === "" ? null : Number(el.dataset.value));
    return {
      now: document.body.dataset.now,
      visible: !document.querySelector("#runtimes-section").hidden,
      rows: Array.from(document.querySelectorAll("#runtimes tbody tr")).map((tr) => ({
        runtime: tr.dataset.runtime,
        workers: value(tr.querySelector("[data-key='workers']")),
        busy: value(tr.querySelector("[data-key='busy']")),
        busySeconds: value(tr.querySelector("[data-key='busy_seconds']")),
        perWorker: Array.from(tr.querySelectorAll(".worker")).map((s) => [s.dataset.worker, value(s)]),
        sparklines: tr.querySelectorAll("td.trend svg polyline.calls").length,
      })),
    };
  });
  const doc = await until(`the document of snapshot ${shownRuntimes.now}`, () => fetched.get(shownRuntimes.now));
  const main = doc.runtimes.find((r) => r.runtime === "main");
  check(doc.runtimes.length === 1 && main && main.workers === 2, `hello: one runtime, main, with 2 workers: ${JSON.stringify(doc.runtimes.map((r) => [r.runtime, r.workers]))}`);
  check(shownRuntimes.visible, "hello: the async runtimes panel is shown");
  check(shownRuntimes.rows.length === 1 && shownRuntimes.rows[0].runtime === "main", `runtimes: one row, main: ${JSON.stringify(shownRuntimes.rows)}`);
  const shownMain = shownRuntimes.rows[0];
  const w = main.windows["15m"];
  check(w.busy_ratio !== null && w.busy_ratio >= 0 && w.busy_ratio <= 1, `main: busy ratio over 15 min in [0, 1]: ${w.busy_ratio}`);
  check(shownMain.workers === 2, "main: DOM workers 2");
  check(shownMain.busy === w.busy_ratio, `main: DOM busy ${shownMain.busy} = the JSON's ${w.busy_ratio}`);
  check(JSON.stringify(shownMain.perWorker) === JSON.stringify(w.workers.map((v, i) => [String(i), v])),
    `main: DOM busy by worker ${JSON.stringify(shownMain.perWorker)} = the JSON's ${JSON.stringify(w.workers)}`);
  check(Math.abs(w.busy_ratio - (w.workers[0] + w.workers[1]) / 2) < 1e-12, `main: the runtime's busy ratio is its workers' mean (${w.workers})`);
  check(shownMain.busySeconds === main.busy_seconds_total[0] + main.busy_seconds_total[1], "main: DOM busy time = the workers' sum");
  check(shownMain.sparklines === 1, "main: the busy ratio's sparkline is drawn");
  const busyNow = parseMetrics(await get(`${origin}/metrics`));
  for (const [i, seconds] of main.busy_seconds_total.entries()) {
    const scraped = sum(select(busyNow, "tokio_runtime_worker_busy_seconds_total", { runtime: "main", worker: String(i) }));
    check(seconds > 0 && seconds <= scraped, `main worker ${i}: busy ${seconds} s at the snapshot, > 0 and <= ${scraped} s in /metrics afterwards`);
  }
  await page.screenshot({ path: join(ARTIFACTS, "page.png"), fullPage: true });

  // Accessible: real table headers, a caption.
  check(await page.locator("#functions thead th[scope=col]").count() === 13, "functions table: 13 column headers");
  check(await row.locator("th[scope=row]").textContent() === "hello", "functions table: the function is the row header");

  // Sorting by a header, then the other way.
  const p99 = page.locator("#functions thead th[data-key='p99']");
  await p99.locator("button").click();
  check(await p99.getAttribute("aria-sort") === "descending", "p99 sorted, largest first");
  await p99.locator("button").click();
  check(await p99.getAttribute("aria-sort") === "ascending", "p99 sorted again, smallest first");
  const shown = async () => page.locator("#functions tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.module));

  // Filtering by module.
  await page.selectOption("#module", "hello");
  const modules = await shown();
  check(modules.length >= 1 && modules.every((m) => m === "hello"), `filtered to module hello: ${modules}`);
  await page.screenshot({ path: join(ARTIFACTS, "filtered.png"), fullPage: true });

  const foreign = requested.filter((u) => !u.startsWith(origin));
  check(foreign.length === 0, `no request beyond the page's origin (${requested.length} requests)${foreign.length ? ": " + foreign : ""}`);
  check(await page.locator("#grpc-section").isHidden(), "hello serves no gRPC: the gRPC table is hidden");
  check(await page.locator("#outbound-section").isHidden(), "hello calls no other server: the outbound table is hidden");
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ": " + consoleErrors : ""}`);

  // ---- the gRPC methods table, from the grpc example's known rounds ----
  grpc = spawn(GRPC, ["--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--load", String(ROUNDS), "--live-interval", "1"],
    { stdio: ["ignore", "pipe", "inherit"] });
  let gout = "";
  grpc.stdout.on("data", (d) => { gout += d; process.stdout.write(`grpc: ${d}`); });
  const gorigin = (await until("grpc's live page address", () => /live page: (http:\/\/\S+)\//.exec(gout)))[1];
  const gpage = await context.newPage();
  gpage.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  gpage.on("pageerror", (e) => consoleErrors.push(String(e)));
  await gpage.goto(`${gorigin}/`);
  await until("the end of grpc's load", () => gout.includes(`load done: ${ROUNDS} rounds`), 250);
  const gmetrics = parseMetrics(await get(`${gorigin}/metrics`));
  const gafter = JSON.parse(await get(`${gorigin}/api/functions`)).now_seconds;
  await gpage.waitForFunction((t) => Number(document.body.dataset.now) > t, gafter, { timeout: 20_000 });
  await gpage.check("input[name=window][value='15m']");
  check(await gpage.locator("#grpc-section").isVisible(), "grpc: the gRPC methods table is shown");
  check(await gpage.locator("#grpc thead th[scope=col]").count() === 14, "grpc table: 14 column headers");
  const service = "routeguide.RouteGuide";
  for (const side of ["server", "client"]) {
    for (const [method, round] of Object.entries(ROUND)) {
      const what = `${side} ${method}`;
      const labels = { grpc_service: service, grpc_method: method, grpc_type: round.type };
      const codes = {};
      for (const s of select(gmetrics, `grpc_${side}_handled_total`, labels)) {
        if (s.value) codes[s.labels.grpc_code] = s.value;
      }
      const calls = sum(Object.values(codes).map((value) => ({ value })));
      const want = Object.fromEntries(Object.entries(round.codes).map(([c, n]) => [c, n * ROUNDS]));
      check(JSON.stringify(Object.entries(codes).sort()) === JSON.stringify(Object.entries(want).sort()),
        `${what}: grpc_${side}_handled_total by code ${JSON.stringify(codes)} = load's table x ${ROUNDS}`);
      const started = sum(select(gmetrics, `grpc_${side}_started_total`, labels));
      const received = sum(select(gmetrics, `grpc_${side}_msg_received_total`, labels));
      const sent = sum(select(gmetrics, `grpc_${side}_msg_sent_total`, labels));
      const [toSide, fromSide] = side === "server" ? [round.toServer, round.toClient] : [round.toClient, round.toServer];
      check(started === calls && received === toSide * ROUNDS && sent === fromSide * ROUNDS,
        `${what}: started ${started}, received ${received}, sent ${sent} = load's table x ${ROUNDS}`);
      const row = gpage.locator(`#grpc tbody tr[data-side='${side}'][data-service='${service}'][data-method='${method}']`);
      check(await row.count() === 1 && await row.getAttribute("data-type") === round.type, `${what}: one row, type ${round.type}`);
      check(await cellText(row, "total") === String(calls), `${what}: DOM total ${await cellText(row, "total")} = ${calls}`);
      const failed = SERVER_FAILURES.reduce((a, c) => a + (codes[c] || 0), 0);
      check(await cellValue(row, "failed") === failed / calls, `${what}: error ratio ${await cellValue(row, "failed")} = ${failed}/${calls}`);
      const shown = JSON.parse(await row.locator("[data-key='codes']").getAttribute("data-value"));
      check(JSON.stringify(Object.entries(shown).sort()) === JSON.stringify(Object.entries(codes).sort()),
        `${what}: codes seen ${await cellText(row, "codes")}`);
      const gb = buckets(gmetrics, `grpc_${side}_handling_seconds_bucket`, labels);
      for (const [q, key] of [[0.5, "p50"], [0.9, "p90"], [0.99, "p99"]]) {
        const expected = histogramQuantile(q, gb);
        check(await cellValue(row, key) === expected, `${what}: ${key} ${await cellValue(row, key)} = histogram_quantile(${q}) ${expected}`);
      }
      check(await cellValue(row, "received") === received / started && await cellValue(row, "sent") === sent / started,
        `${what}: messages per call received ${await cellValue(row, "received")} = ${received}/${started}, sent ${await cellValue(row, "sent")} = ${sent}/${started}`);
    }
  }
  const reflection = gpage.locator("#grpc tbody tr[data-side='server'][data-service='grpc.reflection.v1.ServerReflection'][data-method='ServerReflectionInfo']");
  check(await reflection.count() === 1 && await cellText(reflection, "total") === "0" && await cellValue(reflection, "failed") === null,
    "grpc: the reflection method is listed at 0 (declared, never called), no error ratio");
  check(await gpage.locator("#grpc tbody tr.failing").count() === 6, "grpc: the 6 rows with server failures are marked failing");
  await gpage.screenshot({ path: join(ARTIFACTS, "grpc.png"), fullPage: true });
  check(consoleErrors.length === 0, `grpc: no console errors${consoleErrors.length ? ": " + consoleErrors : ""}`);

  // ---- the outbound calls table: services A -> B -> a closed port ----
  // A port nobody listens on: taken from the system, then closed again.
  const closed = await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
  async function startServices(name, peer) {
    const child = spawn(SERVICES, ["--addr", "127.0.0.1:0", "--peer", peer, "--live-interval", "1"],
      { stdio: ["ignore", "pipe", "inherit"] });
    peers.push(child);
    let text = "";
    child.stdout.on("data", (d) => { text += d; process.stdout.write(`${name}: ${d}`); });
    const at = (await until(`${name}'s address`, () => /services listening on (http:\/\/\S+)/.exec(text)))[1];
    check(await until(`${name}'s live page line`, () => text.includes(`live page: ${at}/`)), `${name} prints its live page's address ${at}/`);
    return at;
  }
  const b = await startServices("services-b", `127.0.0.1:${closed}`);
  const bport = new URL(b).port;
  const a = await startServices("services-a", `127.0.0.1:${bport}`);
  const apage = await context.newPage();
  apage.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  apage.on("pageerror", (e) => consoleErrors.push(String(e)));
  await apage.goto(`${a}/`);
  await apage.waitForFunction(() => Number(document.body.dataset.updates) >= 1, null, { timeout: 20_000 });
  check(await apage.locator("#outbound-section").isHidden(), "services A before its first peer call: the outbound table is hidden");
  const created = await fetch(`${b}/accounts`, { method: "POST", body: "alice" });
  check(created.status === 201 && await created.text() === "1", "B has account 1, alice");
  let relayedBytes = 0;
  for (const [id, times, status] of PEER_CALLS) {
    for (let i = 0; i < times; i++) {
      const r = await fetch(`${a}/peer/accounts/${id}`);
      const body = await r.arrayBuffer();
      relayedBytes += body.byteLength;
      if (r.status !== status) check(false, `A /peer/accounts/${id} relayed ${r.status}, expected ${status}`);
    }
  }
  for (let i = 0; i < REFUSED_CALLS; i++) {
    const r = await fetch(`${b}/peer/accounts/1`);
    await r.arrayBuffer();
    if (r.status !== 502) check(false, `B /peer/accounts/1 answered ${r.status}, expected 502 (its peer refuses)`);
  }
  const calls = PEER_CALLS.reduce((n, [, times]) => n + times, 0);
  const wantStatuses = {};
  for (const [, times, status] of PEER_CALLS) wantStatuses[status] = (wantStatuses[status] || 0) + times;
  const wantFailed = PEER_CALLS.reduce((n, [, times, status]) => n + (status >= 500 ? times : 0), 0);

  const rows = [
    { name: "A -> B", origin: a, page: apage, port: bport, calls, statuses: wantStatuses, errorTypes: {},
      failed: wantFailed, bytes: relayedBytes },
    { name: "B -> closed port", origin: b, page: null, port: String(closed), calls: REFUSED_CALLS, statuses: {},
      errorTypes: { connect: REFUSED_CALLS }, failed: REFUSED_CALLS, bytes: null },
  ];
  for (const want of rows) {
    const what = `outbound ${want.name}`;
    let p = want.page;
    if (!p) {
      p = await context.newPage();
      p.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
      p.on("pageerror", (e) => consoleErrors.push(String(e)));
      await p.goto(`${want.origin}/`);
    }
    const m = parseMetrics(await get(`${want.origin}/metrics`));
    const after = JSON.parse(await get(`${want.origin}/api/functions`)).now_seconds;
    await p.waitForFunction((t) => Number(document.body.dataset.now) > t, after, { timeout: 20_000 });
    await p.check("input[name=window][value='15m']");
    check(await p.locator("#outbound-section").isVisible(), `${what}: the outbound table is shown`);
    check(await p.locator("#outbound thead th[scope=col]").count() === 12, `${what}: 12 column headers`);
    check(await p.locator("#outbound tbody tr").count() === 1, `${what}: one row (one address, port and method)`);
    const labels = { server_address: "127.0.0.1", server_port: want.port, http_request_method: "GET" };
    const series = select(m, "http_client_request_duration_seconds_count", labels);
    const statuses = {}, errorTypes = {};
    let failed = 0;
    for (const s of series) {
      const st = s.labels.http_response_status_code, et = s.labels.error_type;
      if (st) statuses[st] = (statuses[st] || 0) + s.value;
      if (et) errorTypes[et] = (errorTypes[et] || 0) + s.value;
      if (Number(st) >= 500 || et) failed += s.value;
    }
    const total = sum(series);
    const sorted = (o) => JSON.stringify(Object.entries(o).map(([k, v]) => [String(k), v]).sort());
    check(total === want.calls && sorted(statuses) === sorted(want.statuses) && sorted(errorTypes) === sorted(want.errorTypes)
      && failed === want.failed,
      `${what}: /metrics has the ${want.calls} calls made, statuses ${JSON.stringify(statuses)}, error types ${JSON.stringify(errorTypes)}`);
    const row = p.locator(`#outbound tbody tr[data-address='127.0.0.1'][data-port='${want.port}'][data-method='GET']`);
    check(await row.count() === 1, `${what}: the row of 127.0.0.1:${want.port} GET`);
    check(await cellText(row, "total") === String(want.calls), `${what}: DOM total ${await cellText(row, "total")} = ${want.calls}`);
    check(await cellValue(row, "failed") === want.failed / want.calls,
      `${what}: error ratio ${await cellValue(row, "failed")} = ${want.failed}/${want.calls} (5xx and error types)`);
    // Calls/s over the 15-minute window: every call since the first snapshot, taken as the
    // sampler started (a few microseconds after 0 s), until the snapshot the page shows.
    const [rate, now] = await row.evaluate((r) => [Number(r.querySelector("[data-key='rate']").dataset.value), Number(document.body.dataset.now)]);
    check(Math.abs(rate * now - want.calls) < 1e-3 * want.calls, `${what}: calls/s ${rate} = ${want.calls} calls over the ${now} s since the first snapshot`);
    const shown = JSON.parse(await row.locator("[data-key='endings']").getAttribute("data-value"));
    check(sorted(shown.statuses) === sorted(want.statuses) && sorted(shown.error_types) === sorted(want.errorTypes),
      `${what}: statuses and errors seen: ${await cellText(row, "endings")}`);
    const ob = buckets(m, "http_client_request_duration_seconds_bucket", labels);
    for (const [q, key] of [[0.5, "p50"], [0.9, "p90"], [0.99, "p99"]]) {
      const expected = histogramQuantile(q, ob);
      check(await cellValue(row, key) === expected, `${what}: ${key} ${await cellValue(row, key)} = histogram_quantile(${q}) ${expected}`);
    }
    const bytes = sum(select(m, "http_client_response_body_size_bytes_sum", labels));
    const responses = sum(select(m, "http_client_response_body_size_bytes_count", labels));
    const perCall = want.bytes === null ? null : want.bytes / want.calls;
    check(await cellValue(row, "received") === perCall && (perCall === null ? responses === 0 : bytes / responses === perCall),
      `${what}: received per call ${await cellValue(row, "received")} = ${want.bytes === null ? "none (no response)" : `${want.bytes} bytes / ${want.calls}`}, /metrics ${bytes}/${responses}`);
    check(await row.evaluate((r) => r.classList.contains("failing")), `${what}: the row is marked failing`);
    await p.screenshot({ path: join(ARTIFACTS, `outbound-${want.port === bport ? "a" : "b"}.png`), fullPage: true });
  }
  check(consoleErrors.length === 0, `outbound: no console errors${consoleErrors.length ? ": " + consoleErrors : ""}`);
} catch (e) {
  check(false, String(e && e.stack || e));
} finally {
  if (context) await context.close();
  if (grpc) grpc.kill("SIGTERM"); // the processes this script started, by their handles
  for (const child of peers) child.kill("SIGTERM");
  hello.kill("SIGTERM"); // only the process this script started, by its handle
  rmSync(profile, { recursive: true, force: true });
}
console.log(failures ? `live page: ${failures} check(s) failed` : "live page: all checks passed");
process.exit(failures ? 1 : 0);
