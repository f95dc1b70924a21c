#!/usr/bin/env python3
"""End-to-end: the examples against a real Prometheus and a real Pushgateway, on loopback.

1. Three instances of the `services` example: the first asks the second (as 127.0.0.1), the
   second asks the third (as localhost), the third a port nobody listens on; Prometheus (the
   shipped examples/prometheus config, scrape interval lowered to 1 s) finds them through
   file_sd.
2. Known traffic; Prometheus' HTTP API must report exactly the calls and errors sent, and,
   from the HTTP layer, exactly the requests per (route, method, status), the response bytes
   the client received and the request bytes it sent; unmatched paths share `_unmatched`,
   `/metrics` is not counted; from the client middleware, exactly the calls each instance made
   to its peer, by server address, port, status and error type (refused: `connect`), and the
   bytes they received.
3. histogram_quantile answers a number; the rules load (promtool) and every rule evaluates;
   every query of the Grafana dashboard runs; each exposition passes `promtool check metrics`.
   Every query of the dashboard's Dependencies row and every outbound rule answers one series
   per server address (and status) the calls imply, and, without its rate(), the exact counts,
   error ratios, quantiles and bytes per call of those calls; the alert's condition holds for
   both addresses on those exact numbers.
4. VictoriaMetrics scrapes the same three instances through the same file_sd targets from the
   start: the counters (calls, results, error kinds, tiers, requests per exchange, bytes)
   answer the same numbers there as in Prometheus, and every dashboard query evaluates.
5. The `batch` example pushes to a Pushgateway; Prometheus reads the values back.
6. The `hello` example drives itself: the layer's counts by status code, the attribute's by
   result and what its load generator got agree.
7. The `background` example (seed scenario 000: a plain CLI serving /metrics from a background
   thread) works through a folder of feeds made here for a known number of rounds, found by
   Prometheus through a file_sd job of its own: the exact calls of its functions by result, and
   its process metrics with values checked against /proc/<pid> of the process the test started.
8. The `grpc` example (RouteGuide, server and client layers) drives N rounds of its `load`,
   found by Prometheus through a file_sd job of its own: the exact calls per (service, method,
   type, code) and the messages sent and received, server and client, are the per-round table of
   routeguide's `load` x N; the reflection method's series are there at 0. Then grpcio (Python's
   gRPC, stubs generated here from the .proto by grpcio-tools) makes a unary call, a server
   stream, a client stream, a bidi stream, an error and a call to a method the server does not
   have: the exposition's exact deltas, and Prometheus' rates through every gRPC panel of the
   dashboard and every gRPC rule of rules.yml.
9. The tokio runtime each of them registers as `main`: exact worker counts (2), a busy time and
   a park count per worker, what Prometheus scraped never above what /metrics says afterwards,
   every query of the dashboard's runtime row, the busy ratio rule and the saturation alert.

Everything binds 127.0.0.1, every wait is a bounded poll, and every process is stopped at
the end. Exit status 0 means every check held. Run: python3 tests/e2e/e2e.py
(E2E_NO_BUILD=1 uses the binaries already built, for reruns while iterating.)
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Where cargo builds (CARGO_TARGET_DIR or the workspace's target/), as cargo itself says.
TARGET = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                   cwd=ROOT, check=True, capture_output=True).stdout)["target_directory"]
EXAMPLES = os.path.join(TARGET, "debug", "examples")
PROM_DIR = os.path.join(ROOT, "examples", "prometheus")
PROCESSES = []
# Sockets held open for the whole run (a port that refuses connections).
CLOSED = []
CHECKS = {"passed": 0, "failed": 0}


def log(msg):
    print(f"[e2e] {msg}", flush=True)


def check(condition, what):
    if condition:
        CHECKS["passed"] += 1
        log(f"ok: {what}")
    else:
        CHECKS["failed"] += 1
        log(f"FAILED: {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name, args, log_dir):
    out = open(os.path.join(log_dir, f"{name}.log"), "w")
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=log_dir, start_new_session=True)
    PROCESSES.append((name, p))
    return p


def stop_all():
    """Stops what start() started, and nothing else: each by its own process group id."""
    for name, p in reversed(PROCESSES):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                pass


def wait_for(what, fn, timeout=60.0, interval=0.2):
    """Polls fn() until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(interval)
    raise SystemExit(f"[e2e] timed out waiting for {what} (last: {last!r})")


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), r.headers  # case-insensitive
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def query(prom, expr):
    url = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body, _ = http("GET", url)
    data = json.loads(body)
    if status != 200 or data.get("status") != "success":
        raise RuntimeError(f"query {expr!r} failed: {status} {body[:300]!r}")
    return data["data"]["result"]


def by_label(result, label):
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in result}


def main():
    for tool in ("prometheus", "promtool", "prometheus-pushgateway", "victoria-metrics"):
        if shutil.which(tool) is None:
            raise SystemExit(f"[e2e] {tool} is not installed (Debian packages prometheus, prometheus-pushgateway, victoria-metrics)")
    log(f"grpcio and grpcio-tools import under {grpc_python()}")
    if os.environ.get("E2E_NO_BUILD") != "1":
        log("building the examples")
        # --workspace: the features `cargo test --workspace` resolved, so its build is reused as is.
        subprocess.run(["cargo", "build", "-q", "--workspace", "--examples"], cwd=ROOT, check=True)

    release_build_exports_uncalled_functions()

    work = tempfile.mkdtemp(prefix="im-e2e-")
    try:
        run(work)
        hello_is_measured_twice(work)
    finally:
        stop_all()
        if CHECKS["failed"] == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"logs kept in {work}")
    print(f"e2e: {CHECKS['passed']} passed, {CHECKS['failed']} failed")
    return 0 if CHECKS["failed"] == 0 else 1


def release_build_exports_uncalled_functions():
    """The linker-collected call sites survive an optimised build: a never-called function is
    still in the exposition, every result at 0."""
    if os.environ.get("E2E_NO_BUILD") != "1":
        log("building the quickstart example in release mode")
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "instrument-metrics-examples", "--example", "quickstart"],
                       cwd=ROOT, check=True)
    out = subprocess.run([os.path.join(TARGET, "release", "examples", "quickstart")],
                         capture_output=True, text=True, check=True).stdout
    samples = {}
    for line in out.splitlines():
        m = re.fullmatch(r'(\w+)\{function="never_called",module="quickstart"(?:,(\w+)="([^"]*)")?\} (\S+)', line)
        if m:
            samples[(m.group(1), m.group(3))] = float(m.group(4))
    want = {("function_calls_total", r): 0.0 for r in ("ok", "error", "panic", "cancelled")}
    check(all(samples.get(k) == v for k, v in want.items()), f"release build: never_called at 0 for every result: {samples}")
    check(samples.get(("function_calls_duration_seconds_count", None)) == 0.0, "release build: never_called histogram present, count 0")
    check(samples.get(("function_calls_in_flight", None)) == 0.0, "release build: never_called in-flight gauge present at 0")


BACKGROUND_ROUNDS = 3


def start_background(work):
    """Starts the `background` example on a folder of feeds whose outcome is known, each round:
    fetch() reads 3 files and fails on a folder named like a feed; parse() reads items from 2 of
    the 3 and fails on the one without items; render() renders those 2. `--linger` keeps it
    serving after its last round, so Prometheus scrapes the final counts and nothing races."""
    feeds = os.path.join(work, "feeds")
    os.makedirs(os.path.join(feeds, "d-a-folder.xml"))  # read_to_string fails on a directory
    item = "<item><title>{0}</title><link>https://example.invalid/{0}</link></item>"
    for name, items in (("a-two.xml", ["one", "two"]), ("b-one.xml", ["three"]), ("c-none.xml", [])):
        with open(os.path.join(feeds, name), "w") as f:
            f.write(f"<rss><channel><title>{name}</title>{''.join(item.format(i) for i in items)}</channel></rss>\n")
    port = free_port()
    started_after = time.time()
    p = start("background", [os.path.join(EXAMPLES, "background"), "--addr", f"127.0.0.1:{port}",
                             "--rounds", str(BACKGROUND_ROUNDS), "--feeds", feeds, "--linger"], work)
    started_before = time.time()
    # /metrics: scrapes are not calls of its functions.
    wait_for("background's /metrics", lambda: http("GET", f"http://127.0.0.1:{port}/metrics")[0] == 200)
    n = BACKGROUND_ROUNDS
    calls = {("fetch", "ok"): 3 * n, ("fetch", "error"): n, ("parse", "ok"): 2 * n, ("parse", "error"): n,
             ("render", "ok"): 2 * n, ("render", "error"): 0}
    for f in ("fetch", "parse", "render"):
        calls.update({(f, "panic"): 0, (f, "cancelled"): 0})
    return {"port": port, "process": p, "log": os.path.join(work, "background.log"),
            "window": (started_after, started_before), "calls": calls}


def proc_status(pid):
    """What the kernel says about process `pid` right now, read the way client_golang reads it."""
    stat = open(f"/proc/{pid}/stat").read()
    fields = stat[stat.rindex(")") + 2:].split()  # field n of proc(5) is fields[n - 3]
    hz = os.sysconf("SC_CLK_TCK")
    btime = next(int(l.split()[1]) for l in open("/proc/stat") if l.startswith("btime "))
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
    limit = next(l for l in open(f"/proc/{pid}/limits") if l.startswith("Max open files"))
    return {
        "cpu": (int(fields[14 - 3]) + int(fields[15 - 3])) / hz,
        "start": btime + int(fields[22 - 3]) / hz,
        "peak_resident": int(status["VmHWM"].split()[0]) * 1024,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "max_fds": float(limit[len("Max open files"):].split()[0]),
    }


def background_is_scraped(prom, bg):
    """Seed scenario 000 through the real Prometheus (see start_background)."""
    log_file = bg["log"]
    wait_for("background's last round", lambda: f"{BACKGROUND_ROUNDS} rounds done" in open(log_file).read(),
             timeout=BACKGROUND_ROUNDS * 2 + 60, interval=0.5)
    out = open(log_file).read()
    check(out.count("d-a-folder.xml: unreadable") == BACKGROUND_ROUNDS and out.count("c-none.xml: no items") == BACKGROUND_ROUNDS,
          f"background: {BACKGROUND_ROUNDS} rounds over the feeds, each with one unreadable feed and one without items")
    up = query(prom, 'up{job="background"}')
    check(len(up) == 1 and up[0]["metric"].get("instance") == f"127.0.0.1:{bg['port']}" and float(up[0]["value"][1]) == 1,
          f"background: found through its file_sd job and up: {up}")

    expr = 'sum by (function, result) (function_calls_total{job="background"})'
    want = {k: float(v) for k, v in bg["calls"].items()}

    def calls():
        got = {(r["metric"]["function"], r["metric"]["result"]): float(r["value"][1]) for r in query(prom, expr)}
        return got == want or log(f"waiting: {got}")

    wait_for("prometheus to scrape background's last round", calls, timeout=30, interval=1.0)
    got = {(r["metric"]["function"], r["metric"]["result"]): float(r["value"][1]) for r in query(prom, expr)}
    check(got == want, f"background: calls after {BACKGROUND_ROUNDS} rounds by function and result = {got} (expected {want})")
    counts = by_label(query(prom, 'sum by (function) (function_calls_duration_seconds_count{job="background"})'), "function")
    per_function = {f: float(sum(v for (g, _), v in bg["calls"].items() if g == f)) for f in ("fetch", "parse", "render")}
    check(counts == per_function, f"background: one duration per call: {counts}")
    modules = {r["metric"].get("module") for r in query(prom, 'function_calls_total{job="background"}')}
    check(modules == {"background"}, f"background: module label {modules}")

    # Process metrics, against what /proc says of the process this test started, read after
    # Prometheus' scrape (so a counter can only have grown since, a peak only have risen).
    def process_value(name):
        r = query(prom, f'{name}{{job="background"}}')
        return float(r[0]["value"][1]) if len(r) == 1 else None

    names = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
             "process_max_fds", "process_start_time_seconds")
    seen = wait_for("background's process metrics", lambda: (lambda v: v if None not in v.values() else None)(
        {n: process_value(n) for n in names}), timeout=30)
    now = proc_status(bg["process"].pid)
    log(f"background: process metrics {seen}; /proc says {now}")
    cpu = seen["process_cpu_seconds_total"]
    check(0 <= cpu <= now["cpu"], f"background: process_cpu_seconds_total {cpu} s, at most the {now['cpu']} s /proc shows since")
    rss = seen["process_resident_memory_bytes"]
    # Bytes, not pages: a Rust program with an exporter thread holds more than 1 MiB.
    check(1 << 20 < rss <= now["peak_resident"], f"background: process_resident_memory_bytes {rss:.0f}, above 1 MiB and at most the peak {now['peak_resident']}")
    # Its own count opens one more descriptor (the /proc/self/fd listing), and the scrape has a connection.
    fds = seen["process_open_fds"]
    check(3 <= fds <= seen["process_max_fds"] and abs(fds - now["fds"]) <= 3,
          f"background: process_open_fds {fds:.0f}, /proc/<pid>/fd has {now['fds']} now")
    check(seen["process_max_fds"] == now["max_fds"], f"background: process_max_fds {seen['process_max_fds']:.0f} = the soft limit {now['max_fds']:.0f}")
    start_time = seen["process_start_time_seconds"]
    low, high = bg["window"]
    # /proc/stat's btime is whole seconds: the start time may read up to 1 s early.
    check(abs(start_time - now["start"]) < 1e-3 and low - 1.5 <= start_time <= high + 0.5,
          f"background: process_start_time_seconds {start_time:.3f} = /proc's {now['start']:.3f}, when the test started it [{low:.3f}, {high:.3f}]")


GRPC_ROUNDS = 3
GRPC_SERVICE = "routeguide.RouteGuide"
# Declared by the reflection service's descriptors, never called: its server series at 0.
REFLECTION = ("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo", "bidi_stream")
GRPC_CODES = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
              "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
              "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"]
# The codes that say the server failed (DESIGN.md): what the error ratios count.
GRPC_FAILURES = {"Unknown", "DeadlineExceeded", "Unimplemented", "Internal", "Unavailable", "DataLoss"}
# One round of routeguide's `load` (the table in its docs, examples/routeguide/lib.rs), as both
# sides count it: (method, type) -> (calls by code, messages to the server, messages to the client).
GRPC_ROUND = {
    ("GetFeature", "unary"): ({"OK": 1, "NotFound": 1, "InvalidArgument": 1, "Internal": 1, "DeadlineExceeded": 1}, 5, 1),
    ("ListFeatures", "server_stream"): ({"OK": 1, "InvalidArgument": 1}, 2, 5),
    ("RecordRoute", "client_stream"): ({"OK": 1, "Internal": 1}, 5, 1),
    ("RouteChat", "bidi_stream"): ({"OK": 2, "Internal": 1}, 5, 4),
}
# The families whose every change grpcio's calls must explain, read from the exposition.
GRPC_COUNTED = {f"grpc_{side}_{f}" for side in ("server", "client")
                for f in ("started_total", "handled_total", "msg_received_total", "msg_sent_total", "handling_seconds_count")}
GRPC_COUNTED |= {"instrument_metrics_grpc_transport_errors_total", "function_calls_total"}


def grpc_python():
    """A Python that imports grpcio and grpcio-tools: this one, python3 on PATH, or Debian's
    /usr/bin/python3, where the packages python3-grpcio and python3-grpc-tools put them
    (scripts/test installs them)."""
    for py in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if py and subprocess.run([py, "-c", "import grpc, grpc_tools.protoc"], capture_output=True).returncode == 0:
            return py
    raise SystemExit("[e2e] no python3 imports grpc and grpc_tools (Debian packages python3-grpcio, python3-grpc-tools; scripts/test installs them)")


def start_grpc(work):
    """Starts the `grpc` example (RouteGuide and its reflection, the server and client layers),
    driving GRPC_ROUNDS rounds of its `load` through its own client, then serving on."""
    port, metrics_port = free_port(), free_port()
    p = start("grpc", [os.path.join(EXAMPLES, "grpc"), "--addr", f"127.0.0.1:{port}",
                       "--metrics-addr", f"127.0.0.1:{metrics_port}", "--load", str(GRPC_ROUNDS)], work)
    return {"port": port, "metrics_port": metrics_port, "process": p, "log": os.path.join(work, "grpc.log")}


def settle(what, fn, want, timeout=30.0):
    """Polls fn() until it equals `want` (a bounded wait for the next scrapes); returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got == want or time.monotonic() > deadline:
            if got != want:
                log(f"{what}: still {got}, expected {want}")
            return got
        time.sleep(0.5)


def differences(got, want):
    keys = sorted(set(got) | set(want), key=str)
    return {k: (got.get(k), want.get(k)) for k in keys if got.get(k) != want.get(k)}


def grpc_is_measured(prom, g, dashboard, rules, work):
    t0 = time.monotonic()
    n = GRPC_ROUNDS
    line = wait_for("grpc's load to finish", lambda: re.search(r"load done: (\d+) rounds", open(g["log"]).read()),
                    timeout=60, interval=0.5)
    check(int(line.group(1)) == n, f"grpc: its load drove {n} rounds, every call ending with the code ROUND says")

    def series(expr, keys):
        return {tuple(r["metric"].get(k, "") for k in keys): float(r["value"][1]) for r in query(prom, expr)}

    # --- what Prometheus scraped of the load: the table x N, both sides, every code ---------------
    code_keys = ("grpc_service", "grpc_method", "grpc_type", "grpc_code")
    method_keys = code_keys[:3]
    for side in ("server", "client"):
        want = {(GRPC_SERVICE, m, t, c): float(codes.get(c, 0) * n)
                for (m, t), (codes, _, _) in GRPC_ROUND.items() for c in GRPC_CODES}
        if side == "server":
            want.update({(*REFLECTION, c): 0.0 for c in GRPC_CODES})
        expr = f'sum by (grpc_service, grpc_method, grpc_type, grpc_code) (grpc_{side}_handled_total{{job="grpc"}})'
        got = settle(f"grpc_{side}_handled_total", lambda: series(expr, code_keys), want)
        check(got == want, f"grpc: grpc_{side}_handled_total per (service, method, type, code) = load's table x {n}, "
                           f"every code present ({len(got)} series){'' if got == want else ': ' + str(differences(got, want))}")
        calls = {(GRPC_SERVICE, m, t): float(sum(codes.values()) * n) for (m, t), (codes, _, _) in GRPC_ROUND.items()}
        to_server = {(GRPC_SERVICE, m, t): float(ts * n) for (m, t), (_, ts, _) in GRPC_ROUND.items()}
        to_client = {(GRPC_SERVICE, m, t): float(tc * n) for (m, t), (_, _, tc) in GRPC_ROUND.items()}
        received, sent = (to_server, to_client) if side == "server" else (to_client, to_server)
        for family, want in (("started_total", calls), ("msg_received_total", received), ("msg_sent_total", sent),
                             ("handling_seconds_count", calls)):
            want = dict(want)
            if side == "server":
                want[REFLECTION] = 0.0
            name = f"grpc_{side}_{family}"
            got = series(f'sum by (grpc_service, grpc_method, grpc_type) ({name}{{job="grpc"}})', method_keys)
            check(got == want, f"grpc: {name} per (service, method, type) = load's table x {n}: {sorted(got.items())}")
    reflection = query(prom, f'grpc_server_handled_total{{job="grpc",grpc_service="{REFLECTION[0]}"}}')
    check(len(reflection) == 17 and all(float(r["value"][1]) == 0 and r["metric"]["grpc_method"] == REFLECTION[1]
                                        and r["metric"]["grpc_type"] == REFLECTION[2] for r in reflection),
          f"grpc: the reflection method's handled series exist, all 17 codes at 0 ({len(reflection)} series)")
    check(query(prom, f'grpc_client_started_total{{job="grpc",grpc_service="{REFLECTION[0]}"}}') == [],
          "grpc: no client series for the reflection method (the client never called it)")
    check(query(prom, 'grpc_server_started_total{job="grpc",grpc_service="_unmatched"}') == [],
          "grpc: no _unmatched series before a call to an unknown method")
    text = http("GET", f"http://127.0.0.1:{g['metrics_port']}/metrics")[1]
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    check(lint.returncode == 0 and lint.stdout.strip() == b"" and lint.stderr.strip() == b"",
          f"grpc: promtool check metrics finds nothing to say: {lint.stdout.decode()}{lint.stderr.decode()}")
    log(f"grpc: the load's counts through Prometheus checked in {time.monotonic() - t0:.1f} s")

    # --- grpcio, a client nobody here wrote ---------------------------------------------------
    t1 = time.monotonic()

    def counted():
        text = http("GET", f"http://127.0.0.1:{g['metrics_port']}/metrics")[1].decode()
        return {(name, tuple(sorted(labels.items()))): v for name, labels, v in samples(text) if name in GRPC_COUNTED}

    before = counted()
    py = grpc_python()
    proto_dir = os.path.join(ROOT, "examples", "routeguide", "proto")
    out = subprocess.run([py, os.path.join(ROOT, "tests", "e2e", "grpc_client.py"), f"127.0.0.1:{g['port']}", proto_dir],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, f"grpcio client ran under {py} (exit {out.returncode}) {out.stderr.strip()[-2000:]}")
    got = json.loads(out.stdout) if out.returncode == 0 else {}
    log(f"grpcio {got.get('grpcio')} got {got}")
    check(got.get("unary") == {"code": "OK", "name": "f10,10"}, "grpcio: unary GetFeature answered f10,10")
    check(got.get("server_stream") == {"code": "OK", "messages": ["f1,7", "f2,7", "f3,7"]}, "grpcio: ListFeatures streamed 3 features")
    check(got.get("client_stream") == {"code": "OK", "point_count": 4}, "grpcio: RecordRoute counted the 4 points streamed")
    check(got.get("bidi_stream") == {"code": "OK", "messages": ["hello", "again"]}, "grpcio: RouteChat echoed both notes")
    check(got.get("error") == {"code": "NOT_FOUND"}, "grpcio: GetFeature (0,0) ended NOT_FOUND")
    check(got.get("unknown_method") == {"code": "UNIMPLEMENTED"}, "grpcio: an unknown method ended UNIMPLEMENTED")

    def key(name, **labels):
        return (name, tuple(sorted(labels.items())))

    def method(m, t, **more):
        return {"grpc_service": GRPC_SERVICE, "grpc_method": m, "grpc_type": t, **more}

    unmatched = {"grpc_service": "_unmatched", "grpc_method": "_unmatched", "grpc_type": "unknown"}
    # Every change the calls must make, and no other (the client layer saw none of them).
    want = {}
    for (m, t), (started, codes, received, sent) in {
        ("GetFeature", "unary"): (2, {"OK": 1, "NotFound": 1}, 2, 1),
        ("ListFeatures", "server_stream"): (1, {"OK": 1}, 1, 3),
        ("RecordRoute", "client_stream"): (1, {"OK": 1}, 4, 1),
        ("RouteChat", "bidi_stream"): (1, {"OK": 1}, 2, 2),
    }.items():
        want[key("grpc_server_started_total", **method(m, t))] = started
        want[key("grpc_server_handling_seconds_count", **method(m, t))] = started
        for c, k in codes.items():
            want[key("grpc_server_handled_total", **method(m, t, grpc_code=c))] = k
        want[key("grpc_server_msg_received_total", **method(m, t))] = received
        want[key("grpc_server_msg_sent_total", **method(m, t))] = sent
    # The unknown method: one call of type unknown, no message read, Unimplemented.
    want[key("grpc_server_started_total", **unmatched)] = 1
    want[key("grpc_server_handling_seconds_count", **unmatched)] = 1
    want[key("grpc_server_handled_total", **unmatched, grpc_code="Unimplemented")] = 1
    # The handlers' own attribute: NotFound is the caller's mistake, an `ok` call.
    for f, k in (("Guide::get_feature", 2), ("Guide::list_features", 1), ("Guide::record_route", 1), ("Guide::route_chat", 1)):
        want[key("function_calls_total", function=f, module="routeguide", result="ok")] = k
    want = {k: float(v) for k, v in want.items()}

    def deltas():
        after = counted()
        return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}, after

    # The server records a call as its response ends: a bounded wait for the last one.
    got_deltas = settle("the exposition's deltas", lambda: deltas()[0], want, timeout=10)
    check(got_deltas == want, f"grpcio: the exposition's deltas are exactly the 6 calls' ({len(want)} series changed)"
                              f"{'' if got_deltas == want else ': ' + str(differences(got_deltas, want))}")
    after = deltas()[1]
    new = {k for k in after if k not in before}
    want_new = {key(f"grpc_server_{f}", **unmatched) for f in ("started_total", "msg_received_total", "msg_sent_total", "handling_seconds_count")}
    want_new |= {key("grpc_server_handled_total", **unmatched, grpc_code=c) for c in GRPC_CODES}
    want_new |= {key("instrument_metrics_grpc_transport_errors_total", grpc_side="server", **unmatched)}
    check(new == want_new, f"grpcio: the unknown method is counted as _unmatched (type unknown), all 17 codes, and nothing else new: "
                           f"{sorted(new - want_new)} {sorted(want_new - new)}")
    log(f"grpc: grpcio's calls checked in the exposition in {time.monotonic() - t1:.1f} s")

    # --- through Prometheus: the dashboard's gRPC panels and the gRPC rules ---------------------
    t2 = time.monotonic()
    last = 'grpc_server_handled_total{job="grpc",grpc_service="_unmatched",grpc_code="Unimplemented"}'
    wait_for("prometheus to scrape grpcio's calls", lambda: [r for r in query(prom, last) if float(r["value"][1]) == 1],
             timeout=30, interval=0.5)

    def dashboard_query(e):
        e = e.replace("$__rate_interval", "1m")
        for var in ("$job", "$module", "$function", "$route", "$grpc_service", "$grpc_method", "$server_address"):
            e = e.replace(var, ".*")
        return query(prom, e)

    grpc_panels = {p["title"]: p for p in dashboard["panels"] if p["type"] != "row" and p["title"].startswith("gRPC ")}
    exprs = [t["expr"] for p in grpc_panels.values() for t in p["targets"]]
    check(len(grpc_panels) == 8 and len(exprs) == 14, f"the dashboard's gRPC row: {len(grpc_panels)} panels, {len(exprs)} queries")
    results = {e: dashboard_query(e) for e in exprs}  # raises unless Prometheus evaluates it
    empty = [e for e, r in results.items() if not r]
    check(not empty, f"every gRPC query of the dashboard evaluates and shows the grpc job's methods{': empty ' + str(empty) if empty else ''}")
    routeguide = {m for (m, _) in GRPC_ROUND}

    def panel(title, target=0):
        return {(r["metric"].get("grpc_method"), r["metric"].get("grpc_code")): float(r["value"][1])
                for r in results[grpc_panels[title]["targets"][target]["expr"]] if r["metric"].get("grpc_service") == GRPC_SERVICE}

    # Rates need the sample before grpcio's calls and the one after: poll for the second.
    rate_expr = grpc_panels["gRPC server: calls per second by method"]["targets"][0]["expr"]
    rates = wait_for("the server's rates to show grpcio's calls", lambda: (lambda r: r if routeguide <= set(r) else None)(
        {r["metric"]["grpc_method"] for r in dashboard_query(rate_expr)
         if r["metric"].get("grpc_service") == GRPC_SERVICE and float(r["value"][1]) > 0}), timeout=30, interval=0.5)
    check(routeguide <= rates, f"the server's calls per second panel shows every RouteGuide method above 0: {sorted(rates)}")
    results = {e: dashboard_query(e) for e in exprs}
    per_call = panel("gRPC server: messages per call by method (received, sent)")
    check(all(abs(per_call.get((m, None), 0) - 1) < 1e-9 for m in ("GetFeature", "ListFeatures")),
          f"the messages per call panel: one request per GetFeature and ListFeatures call: {per_call}")
    quantiles = panel("gRPC server: handling time p50 / p90 / p99 by method", 2)
    check(all(0 < quantiles.get((m, None), -1) <= 10 for m in routeguide),
          f"the server's p99 panel has a number of seconds for every RouteGuide method: {quantiles}")
    ratios = panel("gRPC server: error ratio by method and code (server failures / all calls)")
    check({c for (_, c) in ratios} == GRPC_FAILURES and all(0 <= v <= 1 for v in ratios.values()),
          f"the server's error ratio panel has every failure code, each a ratio: {len(ratios)} series")

    # The rules: every gRPC rule evaluated by Prometheus (health ok), each query runs, the
    # recorded rates have grpcio's calls, and the error-ratio rule's selectors on the raw counts
    # give exactly the load's table x N plus grpcio's calls.
    def grpc_rules():
        groups = json.loads(http("GET", f"http://{prom}/api/v1/rules")[1])["data"]["groups"]
        mine = [r for gr in groups if gr["name"].startswith("grpc_") for r in gr["rules"]]
        done = all(r.get("health") == "ok" and not r.get("lastError") for r in mine)
        return mine if mine and done else None

    mine = wait_for("every gRPC rule evaluated with health ok", grpc_rules, timeout=30)
    shipped = [r for r in rules if r["name"].startswith(("grpc_", "Grpc"))]
    check(len(mine) == len(shipped) == 11, f"the 11 gRPC rules of rules.yml loaded and healthy ({len(mine)})")
    for r in mine:
        result = query(prom, r["query"])  # raises unless Prometheus evaluates it
        if r["type"] == "recording":
            check(any(x["metric"].get("job") == "grpc" for x in result), f"recording rule {r['name']} has the grpc job's series ({len(result)})")
        else:
            check(isinstance(result, list), f"alert {r['name']} evaluates ({len(result)} series)")
    recorded = wait_for("grpc_server_method:calls:rate5m to have grpcio's calls", lambda: (lambda v: v if routeguide <= v else None)(
        {r["metric"]["grpc_method"] for r in query(prom, 'grpc_server_method:calls:rate5m{job="grpc"}') if float(r["value"][1]) > 0}),
        timeout=30, interval=0.5)
    check(routeguide <= recorded, f"grpc_server_method:calls:rate5m above 0 for every RouteGuide method: {sorted(recorded)}")
    rule_expr = {r["name"]: r["query"] for r in mine if r["type"] == "recording"}
    unrated = lambda e: re.sub(r"rate\(([^\[]+)\[5m\]\)", r"\1", e)
    grpcio = {"GetFeature": {"OK": 1, "NotFound": 1}, "ListFeatures": {"OK": 1}, "RecordRoute": {"OK": 1}, "RouteChat": {"OK": 1}}
    for side in ("server", "client"):
        expr = f'({unrated(rule_expr[f"grpc_{side}_method:errors:rate5m"])}) / ({unrated(rule_expr[f"grpc_{side}_method:calls:rate5m"])})'
        got = {m: v for (m, v) in ((r["metric"]["grpc_method"], float(r["value"][1])) for r in query(prom, expr)
                                  if r["metric"].get("grpc_service") == GRPC_SERVICE)}
        want = {}
        for (m, _), (codes, _, _) in GRPC_ROUND.items():
            codes = {c: k * n + (grpcio[m].get(c, 0) if side == "server" else 0) for c, k in codes.items()}
            if side == "server":
                for c, k in grpcio[m].items():
                    codes.setdefault(c, k)
            want[m] = sum(k for c, k in codes.items() if c in GRPC_FAILURES) / sum(codes.values())
        check(got.keys() == want.keys() and all(abs(got[m] - want[m]) < 1e-12 for m in got),
              f"the {side} error-ratio rule's selectors on the raw counts: {got} (expected {want})")
    unmatched_ratio = query(prom, f'({unrated(rule_expr["grpc_server_method:errors:rate5m"])}) / ({unrated(rule_expr["grpc_server_method:calls:rate5m"])})')
    unmatched_ratio = [float(r["value"][1]) for r in unmatched_ratio if r["metric"].get("grpc_service") == "_unmatched"]
    check(unmatched_ratio == [1.0], f"the unknown method's call is a server failure (Unimplemented): {unmatched_ratio}")
    log(f"grpc: the dashboard's gRPC panels and the gRPC rules checked through Prometheus in {time.monotonic() - t2:.1f} s")
    log(f"grpc: the whole gRPC part took {time.monotonic() - t0:.1f} s after the load")


def quantile(q, buckets):
    """histogram_quantile(q) over cumulative [(le, count)] sorted by le, +Inf last, as
    Prometheus computes it."""
    total = buckets[-1][1]
    if total == 0:
        return None
    rank = q * total
    for i, (le, count) in enumerate(buckets[:-1]):
        if count >= rank:
            lower, below = (buckets[i - 1][0], buckets[i - 1][1]) if i else (0.0, 0.0)
            return lower + (le - lower) * ((rank - below) / (count - below))
    return buckets[-2][0]


def row_panels(dashboard, title_start):
    """The panels of the dashboard's row whose title starts with `title_start`, by title: those
    below the row and above the next one."""
    rows = sorted((p["gridPos"]["y"], p["title"]) for p in dashboard["panels"] if p["type"] == "row")
    top = next(y for y, t in rows if t.startswith(title_start))
    bottom = min([y for y, _ in rows if y > top], default=float("inf"))
    return {p["title"]: p for p in dashboard["panels"] if p["type"] != "row" and top < p["gridPos"]["y"] < bottom}


def runtime_is_measured(prom, dashboard, rules, ports):
    """The tokio runtime families of the examples that register their main runtime (`services`
    x3 and `grpc`, two workers each), through Prometheus: exact worker counts, a busy time and a
    park count per worker that Prometheus read no higher than /metrics says afterwards, every
    query of the dashboard's runtime row, the busy ratio rule and the saturation alert."""
    t0 = time.monotonic()
    runtimes = len(ports) + 1  # the services instances and the grpc example

    def by_instance(result, extra=()):
        return {(r["metric"]["job"], r["metric"]["instance"]) + tuple(r["metric"].get(k) for k in extra): float(r["value"][1])
                for r in result}

    workers = wait_for("every main runtime scraped", lambda: (lambda r: r if len(r) == runtimes else None)(
        by_instance(query(prom, 'tokio_runtime_workers{runtime="main"}'))), timeout=30)
    check({j for j, _ in workers} == {"services", "grpc"} and len(workers) == 4 and set(workers.values()) == {2.0},
          f"tokio_runtime_workers{{runtime=\"main\"}}: 2 for each of the 3 services and the grpc example {workers}")
    for family in ("tokio_runtime_worker_busy_seconds_total", "tokio_runtime_worker_parks_total"):
        got = by_instance(query(prom, f'{family}{{runtime="main"}}'), ("worker",))
        per = {}
        for (job, instance, worker) in got:
            per.setdefault((job, instance), set()).add(worker)
        check(set(per) == set(workers) and all(w == {"0", "1"} for w in per.values()),
              f"{family}: workers 0 and 1 of every main runtime ({len(got)} series)")
        check(all(v > 0 for v in got.values()), f"{family}: above 0 on every worker that served traffic {sorted(got.values())[:4]}")
    for family in ("tokio_runtime_alive_tasks", "tokio_runtime_global_queue_depth"):
        got = by_instance(query(prom, f'{family}{{runtime="main"}}'))
        check(len(got) == 4 and all(v >= 0 and v == int(v) for v in got.values()), f"{family}: a whole count per runtime {got}")
    # Counters: what Prometheus scraped is never above what the instance says afterwards.
    for port in ports:
        instance = f"127.0.0.1:{port}"
        scraped = by_instance(query(prom, f'tokio_runtime_worker_busy_seconds_total{{instance="{instance}",runtime="main"}}'), ("worker",))
        text = http("GET", f"http://{instance}/metrics")[1].decode()
        now = {("services", instance, l["worker"]): v for n, l, v in samples(text)
               if n == "tokio_runtime_worker_busy_seconds_total" and l.get("runtime") == "main"}
        check(set(now) == set(scraped) and all(scraped[k] <= now[k] for k in now),
              f"{instance}: busy seconds scraped {sorted(scraped.values())} <= read after {sorted(now.values())}")

    panels = row_panels(dashboard, "Async runtime")
    exprs = [t["expr"] for p in panels.values() for t in p["targets"]]
    check(len(panels) == 6 and len(exprs) == 6, f"the dashboard's runtime row: {len(panels)} panels, {len(exprs)} queries")

    def panel(title):
        e = panels[title]["targets"][0]["expr"].replace("$__rate_interval", "1m").replace("$job", ".*")
        return query(prom, e)

    ratio = by_instance(panel("Runtime busy ratio (busy worker time / workers)"), ("runtime",))
    check(len(ratio) == 4 and all(0 <= v <= 1 for v in ratio.values()), f"busy ratio by runtime: 4 runtimes, each in [0, 1] {ratio}")
    each = panel("Worker busy ratio by worker")
    check(len(each) == 8 and all(0 <= float(r["value"][1]) <= 1 for r in each), f"busy ratio by worker: 8 workers in [0, 1] ({len(each)})")
    shown = {r["metric"]["instance"]: float(r["value"][1]) for r in panel("Workers by runtime")}
    check(len(shown) == 4 and set(shown.values()) == {2.0}, f"workers panel: 2 per runtime {shown}")
    for title in ("Alive tasks by runtime", "Global queue depth by runtime", "Worker parks per second by runtime"):
        got = panel(title)
        check(len(got) == 4, f"{title}: one series per runtime ({len(got)})")

    mine = [r for r in rules if r["name"].startswith(("tokio_runtime", "TokioRuntime"))]
    check(len(mine) == 2 and all(r["health"] == "ok" for r in mine), f"the 2 runtime rules of rules.yml loaded and healthy ({len(mine)})")
    recorded = wait_for("the busy ratio recorded for every runtime", lambda: (lambda r: r if len(r) == 4 else None)(
        by_instance(query(prom, "tokio_runtime:busy_ratio:rate5m"), ("runtime",))), timeout=30)
    check(all(0 <= v <= 1 for v in recorded.values()), f"tokio_runtime:busy_ratio:rate5m in [0, 1] for the 4 runtimes {recorded}")
    alert = next(r for r in mine if r["type"] == "alerting")
    check(alert["name"] == "TokioRuntimeSaturated" and query(prom, alert["query"]) == [],
          f"{alert['name']} evaluates, and no idle example's runtime is saturated")
    log(f"runtime: the runtime families, row and rules checked through Prometheus in {time.monotonic() - t0:.1f} s")


def outbound_is_measured(prom, dashboard, rules, outbound, ports):
    """The Dependencies row of the dashboard and the outbound rules, through Prometheus, on the
    calls made to peers (`outbound`: (instance, address, port, status, error_type) -> counts).
    Each query must answer one series per server address (and status) those calls imply. A rate
    over series created by the burst of calls is not exact (the first scrape of a series already
    counts its calls, and a rate extrapolates), so each query is also run without its rate():
    then it answers the exact counts, error ratios, quantiles and bytes of those calls."""
    t0 = time.monotonic()
    unrated = lambda e: re.sub(r"rate\(([^\[]+)\[[^\]]+\]\)", r"\1", e)
    # What the calls imply, by server address.
    calls, errors, responses, received, by_status = {}, {}, {}, {}, {}
    for (_, address, _, status, error_type), n in outbound.items():
        calls[address] = calls.get(address, 0) + n["calls"]
        failed = (status != "" and int(status) >= 500) or error_type != ""
        errors[address] = errors.get(address, 0) + n["calls"] * failed
        responses[address] = responses.get(address, 0) + n["responses"]
        received[address] = received.get(address, 0) + n["bytes"]
        by_status[(address, status, error_type)] = by_status.get((address, status, error_type), 0) + n["calls"]
    addresses = set(calls)
    check(addresses == {"127.0.0.1", "localhost"} and all(errors.values()),
          f"outbound: calls to two addresses, each with failures: {calls} (errors {errors})")
    # Every duration bucket of every instance, straight from /metrics, summed by (address, le).
    cumulative = {}
    for port in ports:
        text = http("GET", f"http://127.0.0.1:{port}/metrics")[1].decode()
        for name, labels, v in samples(text):
            if name == "http_client_request_duration_seconds_bucket":
                key = (labels["server_address"], float(labels["le"]))
                cumulative[key] = cumulative.get(key, 0.0) + v
    quantiles = {}
    for address in addresses:
        b = sorted((le, n) for (a, le), n in cumulative.items() if a == address)
        quantiles[address] = {q: quantile(q, b) for q in (0.5, 0.9, 0.99)}

    def close(a, b):
        return a is not None and b is not None and abs(a - b) <= 1e-12 * max(1.0, abs(b))

    def dashboard_query(e):
        e = e.replace("$__rate_interval", "1m")
        for var in ("$job", "$module", "$function", "$route", "$grpc_service", "$grpc_method", "$server_address"):
            e = e.replace(var, ".*")
        return query(prom, e)

    def keyed(result, keys):
        return {tuple(r["metric"].get(k, "") for k in keys) if len(keys) > 1 else r["metric"].get(keys[0], ""):
                float(r["value"][1]) for r in result}

    panels = row_panels(dashboard, "Dependencies")
    exprs = [t["expr"] for p in panels.values() for t in p["targets"]]
    check(len(panels) == 6 and len(exprs) == 8 and all(t.startswith("Outbound ") for t in panels),
          f"the dashboard's Dependencies row: {len(panels)} panels, {len(exprs)} queries")

    def panel(title, target=0):
        e = panels[title]["targets"][target]["expr"]
        return dashboard_query(e), dashboard_query(unrated(e))

    rated, exact = panel("Outbound calls per second by server address and status")
    keys = ("server_address", "http_response_status_code", "error_type")
    want = {k: float(n) for k, n in by_status.items()}
    check(set(keyed(rated, keys)) == set(want), f"calls per second: one series per (address, status, error type) called: {sorted(keyed(rated, keys))}")
    check(keyed(exact, keys) == want, f"calls per second without rate(): the calls made {sorted(keyed(exact, keys).items())}")

    rated, exact = panel("Outbound error ratio by server address (5xx and calls that did not complete / all calls)")
    want = {a: errors[a] / calls[a] for a in addresses}
    got = keyed(exact, ("server_address",))
    check(set(keyed(rated, ("server_address",))) == addresses, f"error ratio: one series per address: {sorted(keyed(rated, ('server_address',)))}")
    check(got.keys() == want.keys() and all(close(got[a], want[a]) for a in got),
          f"error ratio without rate(): 5xx and error types over all calls {got} (made {want})")

    title = "Outbound latency p50 / p90 / p99 by server address"
    for target, q in enumerate((0.5, 0.9, 0.99)):
        rated, exact = panel(title, target)
        got = keyed(exact, ("server_address",))
        check(set(keyed(rated, ("server_address",))) == addresses and got.keys() == addresses
              and all(close(got[a], quantiles[a][q]) for a in addresses),
              f"p{round(q * 100)} without rate(): {got} = histogram_quantile over the instances' buckets {({a: quantiles[a][q] for a in addresses})}")

    rated, exact = panel("Outbound response body bytes per call by server address")
    want = {a: received[a] / responses[a] for a in addresses}
    got = keyed(exact, ("server_address",))
    check(set(keyed(rated, ("server_address",))) == addresses and got.keys() == want.keys()
          and all(close(got[a], want[a]) for a in got),
          f"response bytes per call without rate(): {got} (bodies relayed {received} over responses {responses})")

    rated, _ = panel("Outbound calls in flight by server address")
    check(keyed(rated, ("server_address",)) == {a: 0.0 for a in addresses}, f"in flight: 0 for every address called: {keyed(rated, ('server_address',))}")
    rated, exact = panel("Outbound calls past the address limit per second")
    check(keyed(rated, ("job",)) == {"services": 0.0} and keyed(exact, ("job",)) == {"services": 0.0},
          f"past the address limit: 0 for the services job: {keyed(rated, ('job',))}")

    # The rules: loaded, healthy, each recorded series per address, and exact without rate().
    mine = [r for r in rules if r["name"].startswith(("http_client_", "HttpClient"))]
    check(len(mine) == 5 and all(r["health"] == "ok" for r in mine), f"the 5 outbound rules of rules.yml loaded and healthy ({len(mine)})")
    rule_expr = {r["name"]: r["query"] for r in mine}
    for name in ("http_client_address:calls:rate5m", "http_client_address:errors:rate5m",
                 "http_client_address:error_ratio:rate5m", "http_client_address:duration_seconds:p99_5m"):
        got = wait_for(f"{name} for both addresses", lambda: (lambda r: r if set(r) == addresses else None)(
            keyed(query(prom, f'{name}{{job="services"}}'), ("server_address",))), timeout=30)
        check(set(got) == addresses, f"recording rule {name}: one series per address called {sorted(got)}")
    exact_calls = unrated(rule_expr["http_client_address:calls:rate5m"])
    exact_errors = unrated(rule_expr["http_client_address:errors:rate5m"])
    for what, e, want in (
        ("calls", exact_calls, {a: float(n) for a, n in calls.items()}),
        ("errors", exact_errors, {a: float(n) for a, n in errors.items()}),
        ("error ratio", f"({exact_errors}) / ({exact_calls})", {a: errors[a] / calls[a] for a in addresses}),
        ("p99", unrated(rule_expr["http_client_address:duration_seconds:p99_5m"]), {a: quantiles[a][0.99] for a in addresses}),
    ):
        got = keyed([r for r in query(prom, e) if r["metric"].get("job") == "services"], ("server_address",))
        check(got.keys() == want.keys() and all(close(got[a], want[a]) for a in got),
              f"the {what} rule's expression without rate(): {got} (the calls made: {want})")
    alert = next(r for r in mine if r["type"] == "alerting")
    check(alert["name"] == "HttpClientErrorRatioHigh" and isinstance(query(prom, alert["query"]), list),
          f"alert {alert['name']} evaluates")
    # The alert's condition on the exact numbers: both addresses fail more than 5% of calls.
    condition = re.sub(r"http_client_address:(error_ratio|calls):rate5m", lambda m: {
        "error_ratio": f"(({exact_errors}) / ({exact_calls}))", "calls": f"({exact_calls})"}[m.group(1)], alert["query"])
    got = keyed([r for r in query(prom, condition) if r["metric"].get("job") == "services"], ("server_address",))
    want = {a: errors[a] / calls[a] for a in addresses}
    check(got.keys() == want.keys() and all(close(got[a], want[a]) for a in got),
          f"{alert['name']}'s condition on the exact counts holds for both addresses: {got}")
    log(f"outbound: the Dependencies row and the outbound rules checked through Prometheus in {time.monotonic() - t0:.1f} s")


def run(work):
    # --- three services instances -------------------------------------------------------
    ports = [free_port() for _ in range(3)]
    # A port bound and never listened on, for as long as the test runs: connecting is refused.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    CLOSED.append(closed)
    # Each asks its peer on GET /peer/accounts/{id} (through reqwest and the client middleware):
    # the next instance, as 127.0.0.1 and as localhost, and the last one the closed port.
    peers = [("127.0.0.1", ports[1]), ("localhost", ports[2]), ("127.0.0.1", closed.getsockname()[1])]
    for i, port in enumerate(ports):
        start(f"services-{i}", [os.path.join(EXAMPLES, "services"), "--addr", f"127.0.0.1:{port}",
                                "--peer", f"{peers[i][0]}:{peers[i][1]}"], work)
    # --- and the background CLI (seed scenario 000), at work while the services are tested ---
    bg = start_background(work)
    # --- and the gRPC example, driving its own load ---
    g = start_grpc(work)
    for port in ports:
        # /metrics, not /health: the readiness probe must not add to the counts under test.
        wait_for(f"services on {port}", lambda: http("GET", f"http://127.0.0.1:{port}/metrics")[0] == 200)

    # --- pushgateway and prometheus, from the shipped config -------------------------------
    gw_port, prom_port = free_port(), free_port()
    # An empty persistence file: Debian's default would bring back an earlier run's metrics.
    start("pushgateway", ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{gw_port}", "--persistence.file="], work)
    wait_for("pushgateway", lambda: http("GET", f"http://127.0.0.1:{gw_port}/-/ready")[0] == 200)

    config = open(os.path.join(PROM_DIR, "prometheus.yml")).read()
    config = config.replace("scrape_interval: 15s", "scrape_interval: 1s")
    config = config.replace("evaluation_interval: 15s", "evaluation_interval: 1s")
    config = config.replace("refresh_interval: 30s", "refresh_interval: 1s")
    config = config.replace("127.0.0.1:9091", f"127.0.0.1:{gw_port}")
    assert "scrape_interval: 1s" in config and f":{gw_port}" in config, "shipped config changed shape"
    # The rules the services' objectives generate (cargo run --example rules), loaded beside the
    # hand-written ones.
    objectives = subprocess.run([os.path.join(EXAMPLES, "rules")], capture_output=True, text=True)
    check(objectives.returncode == 0 and "groups:" in objectives.stdout, f"the rules example printed the objectives' rules {objectives.stderr}")
    open(os.path.join(work, "objectives.yml"), "w").write(objectives.stdout)
    lint = subprocess.run(["promtool", "check", "rules", os.path.join(work, "objectives.yml")], capture_output=True, text=True)
    check(lint.returncode == 0 and "SUCCESS: 33 rules found" in lint.stdout, f"promtool check rules on the generated objectives.yml: {lint.stdout.strip()}")
    config = config.replace("rule_files:\n  - rules.yml\n", "rule_files:\n  - rules.yml\n  - objectives.yml\n")
    assert "objectives.yml" in config, "shipped config changed shape"
    # The background example: a job of its own, found through a file_sd folder of its own.
    config += ("\n  # Added by tests/e2e/e2e.py: the background example (seed scenario 000).\n"
               "  - job_name: background\n"
               "    file_sd_configs:\n"
               "      - files: [\"background/*.json\"]\n"
               "        refresh_interval: 1s\n")
    os.makedirs(os.path.join(work, "background"))
    # The grpc example: a job of its own, found the same way.
    config += ("\n  # Added by tests/e2e/e2e.py: the grpc example (RouteGuide).\n"
               "  - job_name: grpc\n"
               "    file_sd_configs:\n"
               "      - files: [\"grpc/*.json\"]\n"
               "        refresh_interval: 1s\n")
    os.makedirs(os.path.join(work, "grpc"))
    json.dump([{"targets": [f"127.0.0.1:{g['metrics_port']}"]}], open(os.path.join(work, "grpc", "grpc.json"), "w"))
    json.dump([{"targets": [f"127.0.0.1:{bg['port']}"], "labels": {"scenario": "000"}}],
              open(os.path.join(work, "background", "background.json"), "w"))
    open(os.path.join(work, "prometheus.yml"), "w").write(config)
    shutil.copy(os.path.join(PROM_DIR, "rules.yml"), work)
    os.makedirs(os.path.join(work, "targets"))
    shipped_targets = json.load(open(os.path.join(PROM_DIR, "targets", "services.json")))
    shipped_targets[0]["targets"] = [f"127.0.0.1:{p}" for p in ports]
    json.dump(shipped_targets, open(os.path.join(work, "targets", "services.json"), "w"))

    prom = f"127.0.0.1:{prom_port}"
    start(
        "prometheus",
        [
            "prometheus",
            f"--config.file={work}/prometheus.yml",
            f"--storage.tsdb.path={work}/data",
            f"--web.listen-address={prom}",
            # Exemplars from the OpenMetrics scrapes (/api/v1/query_exemplars).
            "--enable-feature=exemplar-storage",
        ],
        work,
    )
    wait_for("prometheus ready", lambda: http("GET", f"http://{prom}/-/ready")[0] == 200)
    # VictoriaMetrics beside it, from the start, on the same targets (compared further down).
    vm_port = free_port()
    vm = f"127.0.0.1:{vm_port}"
    # The services job of the shipped config (file_sd, the same targets file); the
    # Prometheus-only sections (rules, the Pushgateway job) are left out.
    services_job = config[config.index("  - job_name: services"):config.index("  # Batch jobs push here")]
    # VictoriaMetrics re-reads file_sd files at -promscrape.fileSDCheckInterval instead.
    services_job = "".join(l for l in services_job.splitlines(True) if "refresh_interval" not in l)
    open(os.path.join(work, "vm-scrape.yml"), "w").write("global:\n  scrape_interval: 1s\n\nscrape_configs:\n" + services_job)
    start("victoria-metrics", [
        "victoria-metrics",
        f"-httpListenAddr={vm}",
        f"-storageDataPath={work}/vm-data",
        f"-promscrape.config={work}/vm-scrape.yml",
        "-promscrape.fileSDCheckInterval=1s",
        "-search.latencyOffset=0s",
        "-retentionPeriod=1d",
    ], work)
    wait_for("victoria-metrics ready", lambda: http("GET", f"http://{vm}/health")[0] == 200)
    # A second Prometheus with native histograms on: it asks for protobuf first, so it stores
    # the native histograms (and the exemplars the protobuf carries) of the same targets.
    native_port = free_port()
    native = f"127.0.0.1:{native_port}"
    open(os.path.join(work, "native.yml"), "w").write(
        "global:\n  scrape_interval: 1s\n\nscrape_configs:\n" + config[config.index("  - job_name: services"):config.index("  # Batch jobs push here")])
    start("prometheus-native", [
        "prometheus",
        f"--config.file={work}/native.yml",
        f"--storage.tsdb.path={work}/native-data",
        f"--web.listen-address={native}",
        "--enable-feature=native-histograms,exemplar-storage",
    ], work)
    wait_for("native-histogram prometheus ready", lambda: http("GET", f"http://{native}/-/ready")[0] == 200)


    def targets_up():
        data = json.loads(http("GET", f"http://{prom}/api/v1/targets")[1])["data"]["activeTargets"]
        up = [t for t in data if t["health"] == "up"]
        return len(up) == 6 and all(t["lastError"] == "" for t in up) and data

    active = wait_for("all 6 targets up", targets_up)
    check(len([t for t in active if t["labels"]["job"] == "services"]) == 3, "three services targets found through file_sd, all up")
    check(all(t["labels"].get("env") == "dev" for t in active if t["labels"]["job"] == "services"), "file_sd labels applied")

    # --- known traffic --------------------------------------------------------------------
    expected_calls = {"get_account": 0, "create_account": 0, "export": 0, "health": 0,
                      "Accounts::load": 0, "Accounts::insert": 0, "Accounts::list": 0}
    expected_errors = dict.fromkeys(expected_calls, 0)
    # The store's errors by error_kind (every kind of StoreError, each at 0 unless sent), and
    # Accounts::load's calls by the tier label (even ids pro, odd ones free).
    expected_kinds = {(f, k): 0 for f in ("Accounts::load", "Accounts::insert", "Accounts::list")
                      for k in ("Outage", "Rejected", "_NONE")}
    expected_tiers = {"free": 0, "pro": 0}
    # What the HTTP layer must have seen, summed over the instances, by (route, method, status):
    # requests, response body bytes the client received, request body bytes it sent.
    sent = {}

    def send(i, method, path, route, want, body=None, headers=None):
        status, received, headers = http(method, f"http://127.0.0.1:{ports[i]}{path}", body=body, headers=headers)
        if status != want:
            check(False, f"instance {i}: {method} {path} -> {status}, expected {want}")
        n = sent.setdefault((route, method, str(status)), {"requests": 0, "response": 0, "request": 0})
        n["requests"] += 1
        n["response"] += len(received)
        n["request"] += len(body or b"")
        return status, received, headers

    for i in range(len(ports)):
        for name, want in (("alice", 201), ("bob", 201), ("fail", 500), ("", 400), ("x" * 40, 400)):
            status, _, _ = send(i, "POST", "/accounts", "/accounts", want, body=name.encode())
            check(status == want, f"instance {i}: POST /accounts {name!r} -> {status}")
            expected_calls["create_account"] += 1
            expected_errors["create_account"] += want >= 500
            if name:
                expected_calls["Accounts::insert"] += 1
                expected_errors["Accounts::insert"] += name == "fail" or len(name) > 32
                kind = "Outage" if name == "fail" else "Rejected" if len(name) > 32 else None
                if kind:
                    expected_kinds[("Accounts::insert", kind)] += 1
        for account in range(1, 27):
            want = 500 if account % 13 == 0 else 200 if account <= 2 else 404
            send(i, "GET", f"/accounts/{account}", "/accounts/{id}", want)
            expected_calls["get_account"] += 1
            expected_calls["Accounts::load"] += 1
            expected_errors["get_account"] += want == 500
            expected_errors["Accounts::load"] += want == 500
            expected_kinds[("Accounts::load", "Outage")] += want == 500
            expected_tiers["pro" if account % 2 == 0 else "free"] += 1
        for _ in range(i + 1):
            send(i, "GET", "/health", "/health", 200)
            expected_calls["health"] += 1
        # A streamed body: no Content-Length, one chunk a line.
        _, csv, headers = send(i, "GET", "/export", "/export", 200)
        check(csv == b"id,name\n1,alice\n2,bob\n" and headers.get("Content-Length") is None
              and headers.get("Transfer-Encoding") == "chunked", f"instance {i}: /export streamed {csv!r}")
        expected_calls["export"] += 1
        expected_calls["Accounts::list"] += 1
        # HEAD runs the GET handler; the body it built is not sent, so not counted.
        send(i, "HEAD", "/accounts/1", "/accounts/{id}", 200)
        expected_calls["get_account"] += 1
        expected_calls["Accounts::load"] += 1
        expected_tiers["free"] += 1
        # Matched routes that never reach a handler: a rejected path parameter, wrong methods,
        # a method outside the standard set (`_OTHER`).
        send(i, "GET", "/accounts/abc", "/accounts/{id}", 400)
        send(i, "DELETE", "/accounts/1", "/accounts/{id}", 405)
        send(i, "GET", "/accounts", "/accounts", 405)
        send(i, "BREW", "/health", "/health", 405)
        # A scanner's paths: one route value for all of them, never the raw path.
        for path in ("/nope", "/wp-login.php", "/accounts/1/extra", f"/random/{i}"):
            send(i, "GET", path, "_unmatched", 404)
    # Outbound calls: an instance asks its peer for an account through the client middleware and
    # relays the answer; a peer that is an instance serves it as one more GET /accounts/{id}.
    # What the middleware must have recorded, by (instance, server_address, server_port, status,
    # error_type): calls, calls that got a response, the response body bytes received.
    outbound = {}

    def ask_peer(i, account):
        address, port = peers[i]
        live = port in ports
        want = (500 if account % 13 == 0 else 200 if account <= 2 else 404) if live else 502
        _, relayed, _ = send(i, "GET", f"/peer/accounts/{account}", "/peer/accounts/{id}", want)
        if live:
            at_peer = sent.setdefault(("/accounts/{id}", "GET", str(want)), {"requests": 0, "response": 0, "request": 0})
            at_peer["requests"] += 1
            at_peer["response"] += len(relayed)
            expected_calls["get_account"] += 1
            expected_calls["Accounts::load"] += 1
            expected_errors["get_account"] += want == 500
            expected_errors["Accounts::load"] += want == 500
            expected_kinds[("Accounts::load", "Outage")] += want == 500
            expected_tiers["pro" if account % 2 == 0 else "free"] += 1
        key = (f"127.0.0.1:{ports[i]}", address, str(port), str(want) if live else "", "" if live else "connect")
        n = outbound.setdefault(key, {"calls": 0, "responses": 0, "bytes": 0})
        n["calls"] += 1
        n["responses"] += live
        n["bytes"] += len(relayed) if live else 0
        return relayed

    for i, accounts in enumerate(([1, 1, 1, 3, 3, 13], [2, 2, 26, 26], [1, 2])):
        for account in accounts:
            ask_peer(i, account)
    check(ask_peer(0, 1) == b"alice", "instance 0 relays its peer's account 1: alice")
    # A report of a known latency, 20 times: the native histogram's quantile must find it.
    report_ms, report_times = 40, []
    for _ in range(20):
        t0 = time.monotonic()
        send(0, "GET", f"/reports/{report_ms}", "/reports/{ms}", 200)
        report_times.append(time.monotonic() - t0)
        expected_calls["report"] = expected_calls.get("report", 0) + 1
    # Last on its series, so its exemplars stay until scraped: a request continuing a trace
    # the test made up (W3C traceparent), whose id the exemplars must carry.
    trace_id = "%032x" % (int(time.time() * 1e6) << 40 | os.getpid())
    status, _, _ = send(0, "GET", "/accounts/1", "/accounts/{id}", 200, headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    check(status == 200, "a request with a traceparent header")
    expected_calls["get_account"] += 1
    expected_calls["Accounts::load"] += 1
    expected_tiers["free"] += 1
    traced_at = time.time()
    # BREW is no standard method: the layer records it as _OTHER.
    sent = {(r, "_OTHER" if m == "BREW" else m, s): n for (r, m, s), n in sent.items()}
    log(f"sent {expected_calls} (errors {expected_errors})")
    log(f"sent {sum(n['requests'] for n in sent.values())} HTTP requests: {sent}")

    # Each instance's exposition, straight from the source (one in both formats).
    for i, port in enumerate(ports):
        status, text, headers = http("GET", f"http://127.0.0.1:{port}/metrics")
        check(status == 200 and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              f"instance {i}: text 0.0.4 with its Content-Type")
        check(b"\nhttp_server_request_duration_seconds_bucket{" in text, f"instance {i}: the HTTP families are exposed")
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
        check(lint.returncode == 0 and lint.stdout.strip() == b"" and lint.stderr.strip() == b"",
              f"instance {i}: promtool check metrics finds nothing to say: {lint.stdout.decode()}{lint.stderr.decode()}")
    p2_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    status, om, headers = http("GET", f"http://127.0.0.1:{ports[0]}/metrics", headers={"Accept": p2_accept})
    check(headers.get("Content-Type", "").startswith("application/openmetrics-text; version=1.0.0"), "OpenMetrics for Prometheus' Accept header")
    check(om.decode().endswith("# EOF\n"), "OpenMetrics body ends with # EOF")

    # --- what Prometheus saw ------------------------------------------------------------------
    calls_expr = 'sum by (function) (function_calls_total{job="services"})'
    want = {k: float(v) for k, v in expected_calls.items()}
    wait_for("prometheus to scrape the traffic",
             lambda: (lambda got: got == want or log(f"waiting: {got}"))(by_label(query(prom, calls_expr), "function")),
             timeout=30, interval=1.0)
    seen = by_label(query(prom, calls_expr), "function")
    for f, n in expected_calls.items():
        check(seen.get(f) == n, f"sum by (function) (function_calls_total): {f} = {seen.get(f)} (sent {n})")
    errors = by_label(query(prom, 'sum by (function) (function_calls_total{job="services",result="error"})'), "function")
    for f, n in expected_errors.items():
        check(errors.get(f) == n, f"errors of {f} = {errors.get(f)} (sent {n})")
    kinds = {(r["metric"]["function"], r["metric"]["error_kind"]): float(r["value"][1]) for r in query(
        prom, 'sum by (function, error_kind) (function_calls_total{job="services",result="error",error_kind!=""})')}
    check(kinds == {k: float(v) for k, v in expected_kinds.items()},
          f"errors by error_kind, every kind present from the start: {kinds} (sent {expected_kinds})")
    plain = query(prom, 'function_calls_total{job="services",function=~"get_account|create_account",error_kind!=""}')
    check(plain == [], "functions without error_kind carry no error_kind label")
    tiers = by_label(query(prom, 'sum by (tier) (function_calls_total{job="services",function="Accounts::load"})'), "tier")
    check(tiers == {k: float(v) for k, v in expected_tiers.items()}, f"Accounts::load by its tier label: {tiers} (sent {expected_tiers})")
    tier_hist = by_label(query(prom, 'sum by (tier) (function_calls_duration_seconds_count{job="services",function="Accounts::load"})'), "tier")
    check(tier_hist == tiers, f"one duration histogram per tier, counting the same calls: {tier_hist}")
    others = by_label(query(prom, 'sum by (result) (function_calls_total{job="services",result=~"panic|cancelled"})'), "result")
    check(others == {"panic": 0.0, "cancelled": 0.0}, f"no panics nor cancellations: {others}")
    counts = by_label(query(prom, 'sum by (function) (function_calls_duration_seconds_count{job="services"})'), "function")
    check(counts == seen, "histogram _count equals the calls per function")
    p99 = wait_for("p99 to be a number", lambda: [
        v for v in by_label(query(prom, 'histogram_quantile(0.99, sum by (le, function) (rate(function_calls_duration_seconds_bucket{job="services",function="get_account"}[1m])))'), "function").values()
        if v == v], timeout=20)
    check(len(p99) == 1 and 0 <= p99[0] <= 10, f"histogram_quantile(0.99, …) for get_account answers a number: {p99}")
    build = query(prom, 'app_build_info{job="services"}')
    check(len(build) == 3 and all(r["metric"].get("name") == "instrument-metrics-examples" for r in build),
          "app_build_info carries the application's crate name")
    proc_mem = query(prom, 'process_resident_memory_bytes{job="services"}')
    check(len(proc_mem) == 3 and all(float(r["value"][1]) > 0 for r in proc_mem), "process metrics from every instance")

    # --- what Prometheus saw of the HTTP layer ------------------------------------------------
    def by_exchange(expr):
        keys = ("http_route", "http_request_method", "http_response_status_code")
        return {tuple(r["metric"].get(k, "") for k in keys): float(r["value"][1]) for r in query(prom, expr)}

    def per_exchange(metric, extra=""):
        return f'sum by (http_route, http_request_method, http_response_status_code) ({metric}{{job="services"{extra}}})'

    want_requests = {k: float(n["requests"]) for k, n in sent.items()}
    requests_expr = per_exchange("http_server_request_duration_seconds_count")
    wait_for("prometheus to scrape the HTTP requests",
             lambda: (lambda got: got == want_requests or log(f"waiting: {got}"))(by_exchange(requests_expr)),
             timeout=30, interval=1.0)
    got = by_exchange(requests_expr)
    for k, n in sorted(want_requests.items()):
        check(got.get(k) == n, f"requests {k} = {got.get(k)} (sent {n:g})")
    check(set(got) == set(want_requests), f"no other (route, method, status) series: {sorted(set(got) - set(want_requests))}")
    buckets_inf = by_exchange(per_exchange("http_server_request_duration_seconds_bucket", ', le="+Inf"'))
    check(buckets_inf == want_requests, "duration histogram: the +Inf bucket equals _count for every series")
    got = by_exchange(per_exchange("http_server_response_body_size_bytes_sum"))
    for k, n in sorted(sent.items()):
        check(got.get(k) == n["response"], f"response body bytes {k} = {got.get(k)} (client received {n['response']})")
    got = by_exchange(per_exchange("http_server_response_body_size_bytes_count"))
    check(got == want_requests, "one response size observation per request")
    got = by_exchange(per_exchange("http_server_request_body_size_bytes_sum"))
    for k, n in sorted(sent.items()):
        if n["request"]:
            check(got.get(k) == n["request"], f"request body bytes {k} = {got.get(k)} (client sent {n['request']})")
    check(by_exchange(per_exchange("http_server_request_body_size_bytes_count")) == want_requests,
          "every request's body length was known (Content-Length or none), one observation each")
    routes = by_label(query(prom, 'count by (http_route) (http_server_request_duration_seconds_count{job="services"})'), "http_route")
    check(set(routes) == {"/accounts", "/accounts/{id}", "/export", "/reports/{ms}", "/peer/accounts/{id}", "/health", "_unmatched"},
          f"route values are the templates and _unmatched, never a raw path, never /metrics: {sorted(routes)}")
    unmatched = by_exchange(per_exchange("http_server_request_duration_seconds_count", ', http_route="_unmatched"'))
    check(unmatched == {("_unmatched", "GET", "404"): 12.0}, f"4 unmatched paths × 3 instances share one series: {unmatched}")
    check(query(prom, 'http_server_request_duration_seconds_count{job="services", http_route="/metrics"}') == [],
          "/metrics (skipped by the layer) is absent, though Prometheus scraped it")
    unfinished = query(prom, 'http_server_request_duration_seconds_count{job="services", error_type!=""}')
    check(unfinished == [], f"every exchange completed: no error_type series ({len(unfinished)})")
    active = by_label(query(prom, 'sum by (http_request_method) (http_server_active_requests{job="services"})'), "http_request_method")
    check(set(active) == {m for (_, m, _) in sent} and all(v == 0 for v in active.values()),
          f"active requests back to 0 for every method seen: {active}")
    overflow = query(prom, 'sum(instrument_metrics_http_route_overflow_total{job="services"})')
    check(len(overflow) == 1 and float(overflow[0]["value"][1]) == 0, "no route past the route limit")

    # --- what Prometheus saw of the client middleware: every call to a peer ---------------------
    outbound_keys = ("instance", "server_address", "server_port", "http_response_status_code", "error_type")

    def by_call(expr):
        return {tuple(r["metric"].get(k, "") for k in outbound_keys): float(r["value"][1]) for r in query(prom, expr)}

    def per_call(metric):
        return f'sum by ({", ".join(outbound_keys)}) ({metric}{{job="services"}})'

    want_calls = {k: float(n["calls"]) for k, n in outbound.items()}
    got = settle("the client calls scraped", lambda: by_call(per_call("http_client_request_duration_seconds_count")), want_calls)
    check(got == want_calls, f"client calls per (instance, address, port, status, error_type) = the calls made: {sorted(got.items())}"
                             f"{'' if got == want_calls else ': ' + str(differences(got, want_calls))}")
    got = by_call(f'sum by ({", ".join(outbound_keys)}) (http_client_request_duration_seconds_bucket{{job="services",le="+Inf"}})')
    check(got == want_calls, "client duration histogram: the +Inf bucket equals _count for every series")
    got = by_call(per_call("http_client_response_body_size_bytes_sum"))
    want_bytes = {k: float(n["bytes"]) for k, n in outbound.items() if n["responses"]}
    check(got == want_bytes, f"response body bytes received per call series = the bodies relayed: {sorted(got.items())}")
    got = by_call(per_call("http_client_response_body_size_bytes_count"))
    check(got == {k: float(n["responses"]) for k, n in outbound.items() if n["responses"]},
          f"one response size per call that got a response, none for the refused ones: {sorted(got.items())}")
    in_flight = by_label(query(prom, 'sum by (instance) (http_client_active_requests{job="services"})'), "instance")
    check(in_flight == {f"127.0.0.1:{p}": 0.0 for p in ports}, f"no client call left in flight: {in_flight}")
    overflow = by_label(query(prom, 'instrument_metrics_http_client_address_overflow_total{job="services"}'), "instance")
    check(overflow == {f"127.0.0.1:{p}": 0.0 for p in ports}, f"no server address past the address limit: {overflow}")

    # --- exemplars: the trace id the test sent, in Prometheus' exemplar storage ----------------
    def exemplars_of(server, selector):
        url = f"http://{server}/api/v1/query_exemplars?" + urllib.parse.urlencode(
            {"query": selector, "start": traced_at - 600, "end": time.time() + 60})
        status, body, _ = http("GET", url)
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise RuntimeError(f"query_exemplars {selector!r}: {status} {body[:300]!r}")
        return [(r["seriesLabels"], e) for r in data["data"] for e in r["exemplars"]]

    def with_trace(server, selector):
        return [(s, e) for s, e in exemplars_of(server, selector) if e["labels"].get("trace_id") == trace_id]

    for selector, what in (
        ('function_calls_total{job="services",function="get_account",result="ok"}', "the handler's calls counter"),
        ('function_calls_duration_seconds_bucket{job="services",function="get_account"}', "the handler's duration bucket"),
        ('http_server_request_duration_seconds_bucket{job="services",http_route="/accounts/{id}",http_response_status_code="200"}',
         "the HTTP duration bucket"),
    ):
        found = wait_for(f"the exemplar on {what}", lambda: with_trace(prom, selector), timeout=30, interval=1.0)
        series, e = found[0]
        check(len(e["labels"]) == 2 and re.fullmatch(r"[0-9a-f]{16}", e["labels"].get("span_id", "")),
              f"exemplar on {what} ({series['__name__']}): trace_id {trace_id}, span_id {e['labels'].get('span_id')}")
        check(abs(float(e["timestamp"]) - traced_at) < 5, f"the exemplar's timestamp is the call's: {e['timestamp']} vs {traced_at:.3f}")
        if "_bucket" in selector:
            check(0 < float(e["value"]) <= float(series["le"]), f"the exemplar's value {e['value']} s is within its bucket le={series['le']}")

    # --- native histograms, scraped over protobuf by the second Prometheus ----------------------
    def native_query(expr):
        return query(native, expr)

    def scalar(result):
        return float(result[0]["value"][1]) if len(result) == 1 else None

    count_expr = 'histogram_count(sum(function_calls_duration_seconds{job="services",function="get_account"}))'
    got = wait_for("native get_account count", lambda: (lambda v: v if v == expected_calls["get_account"] else log(f"waiting: {v}"))(
        scalar(native_query(count_expr))), timeout=30, interval=1.0)
    check(got == expected_calls["get_account"], f"{count_expr} = {got} (sent {expected_calls['get_account']})")
    http_total = sum(n["requests"] for n in sent.values())
    http_count_expr = 'histogram_count(sum(http_server_request_duration_seconds{job="services"}))'
    got = wait_for("native HTTP count", lambda: (lambda v: v if v == http_total else None)(scalar(native_query(http_count_expr))), timeout=30)
    check(got == http_total, f"{http_count_expr} = {got} (sent {http_total} requests)")
    per_fn = {r["metric"]["function"]: float(r["value"][1]) for r in native_query(
        'sum by (function) (histogram_count(function_calls_duration_seconds{job="services"}))')}
    check(per_fn == {f: float(n) for f, n in expected_calls.items()}, f"native counts of every function = calls sent: {per_fn}")
    check(native_query('function_calls_duration_seconds_bucket{job="services"}') == [],
          "the native-histogram Prometheus stores no classic bucket series (it negotiated protobuf)")
    q_expr = 'histogram_quantile(0.99, sum(rate(function_calls_duration_seconds{job="services",function="report"}[1m])))'
    q = wait_for("the native p99 of report", lambda: (lambda v: v if v is not None and v == v else None)(scalar(native_query(q_expr))),
                 timeout=30, interval=1.0)
    # Schema 3: a bucket spans a factor 2^(1/8); the answer lies in the bucket of the durations,
    # which are at least the sleep and at most what the client waited.
    low, high = report_ms / 1000 / 2 ** (1 / 8), max(report_times) * 2 ** (1 / 8)
    check(low <= q <= high, f"{q_expr} = {q:.5f} s, within schema 3's bound of the {report_ms} ms sleeps [{low:.5f}, {high:.5f}]")
    median = scalar(native_query(q_expr.replace("0.99", "0.5")))
    check(median is not None and low <= median <= high, f"and the median {median} too")
    found = wait_for("an exemplar over protobuf", lambda: with_trace(native, 'function_calls_total{job="services",function="get_account",result="ok"}'),
                     timeout=30, interval=1.0)
    check(len(found) >= 1, f"protobuf carries the counter's exemplar with the test's trace id ({len(found)})")

    # --- rules ------------------------------------------------------------------------------
    rc = subprocess.run(["promtool", "check", "rules", os.path.join(PROM_DIR, "rules.yml")], capture_output=True)
    check(rc.returncode == 0, "promtool check rules examples/prometheus/rules.yml")

    def rules_evaluated():
        groups = json.loads(http("GET", f"http://{prom}/api/v1/rules")[1])["data"]["groups"]
        rules = [r for g in groups for r in g["rules"] if g["file"].endswith("/rules.yml")]
        done = all(r.get("health") == "ok" and not r.get("lastEvaluation", "0001").startswith("0001") for r in rules)
        return rules if rules and done else None

    rules = wait_for("every rule evaluated with health ok", rules_evaluated, timeout=30)
    shipped = len(re.findall(r"^\s*- (?:record|alert):", open(os.path.join(PROM_DIR, "rules.yml")).read(), re.M))
    check(len(rules) == shipped, f"all {shipped} rules of rules.yml loaded by Prometheus ({len(rules)})")
    for r in rules:
        result = query(prom, r["query"])  # raises unless Prometheus evaluates it
        if r["type"] == "alerting":
            check(r["health"] == "ok" and isinstance(result, list),
                  f"alert {r['name']} evaluates (health {r['health']}, {len(result)} firing series)")
        else:
            check(r["health"] == "ok", f"recording rule {r['name']} evaluates ({len(result)} series)")
    # The objectives' generated rules: every one evaluates, the error ratios are the traffic's,
    # and the availability alerts fire (ids divisible by 13 burn the budget far past 14.4x).
    def objective_rules():
        groups = json.loads(http("GET", f"http://{prom}/api/v1/rules")[1])["data"]["groups"]
        mine = {g["name"]: g["rules"] for g in groups if g["file"].endswith("/objectives.yml")}
        done = all(r.get("health") == "ok" and not r.get("lastError") and not r.get("lastEvaluation", "0001").startswith("0001")
                   for rs in mine.values() for r in rs)
        return mine if mine and done else None

    groups = wait_for("every generated objective rule evaluated", objective_rules, timeout=30)
    check({g: len(r) for g, r in groups.items()} == {"objective-accounts": 22, "objective-store": 11},
          f"generated groups loaded: {({g: len(r) for g, r in groups.items()})}")
    accounts_failed = expected_errors["get_account"] + expected_errors["create_account"]
    accounts_calls = expected_calls["get_account"] + expected_calls["create_account"]
    ratio = wait_for("objective error ratio", lambda: by_label(query(prom, 'objective:function_calls_errors:ratio_rate5m{objective="accounts"}'), "objective"), timeout=30)
    # A rate over instances scraped at different offsets extrapolates: a ratio, not to the digit.
    want_ratio_accounts = accounts_failed / accounts_calls
    check(abs(ratio.get("accounts", -1) - want_ratio_accounts) < 0.05,
          f"accounts error ratio (5m) {ratio.get('accounts')} ~ {accounts_failed}/{accounts_calls} = {want_ratio_accounts:.4f}")

    def firing():
        alerts = json.loads(http("GET", f"http://{prom}/api/v1/alerts")[1])["data"]["alerts"]
        got = {(a["labels"]["alertname"], a["labels"]["objective"], a["labels"]["long_window"], a["labels"]["short_window"])
               for a in alerts if a["labels"].get("objective") and a["state"] == "firing"}
        want = {("ObjectiveErrorBudgetBurn", o, l, sh) for o in ("accounts", "store")
                for l, sh in (("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h"))}
        return got if want <= got else None

    got = wait_for("the availability burn-rate alerts to fire", firing, timeout=30)
    check(not any(a == "ObjectiveLatencyBudgetBurn" for a, _, _, _ in got),
          f"all 8 availability burn-rate alerts fire, no latency one: {sorted(got)}")

    # The recording rule needs two scrapes after the traffic before it has a value.
    ratio = wait_for("the recorded failure ratio",
                     lambda: by_label(query(prom, 'function:failure_ratio:rate5m{function="create_account"}'), "job"),
                     timeout=30)
    check(len(ratio) == 1 and abs(list(ratio.values())[0] - 0.2) < 1e-9, f"recorded failure ratio of create_account = 1/5: {ratio}")

    # HTTP series appear at their first request, so a rate over them misses what they counted
    # before their first scrape (as for any labelled counter created on first use): the rules
    # must have a value for every route, and their own selectors are checked exactly on the
    # raw counters.
    http_routes = {r for (r, _, _) in sent}
    for name in ("http_route:requests:rate5m", "http_route:duration_seconds:p99_5m", "http_route:response_bytes:rate5m"):
        got = wait_for(f"{name} for every route", lambda: (lambda r: r if set(r) == http_routes else None)(
            by_label(query(prom, f'{name}{{job="services"}}'), "http_route")), timeout=30)
        check(set(got) == http_routes, f"{name} has every route: {sorted(got)}")
    rule_expr = {r["name"]: r["query"] for r in rules if r["type"] == "recording"}
    unrated = lambda e: re.sub(r"rate\(([^\[]+)\[5m\]\)", r"\1", e)
    ratio_expr = f'({unrated(rule_expr["http_route:errors:rate5m"])}) / ({unrated(rule_expr["http_route:requests:rate5m"])})'
    want_ratio = {}
    for route in http_routes:
        total = sum(n["requests"] for (r, _, _), n in sent.items() if r == route)
        failed = sum(n["requests"] for (r, _, st), n in sent.items() if r == route and int(st) >= 500)
        if failed:
            want_ratio[route] = failed / total
    got = by_label(query(prom, ratio_expr.replace("http_server_request_duration_seconds_count{",
                                                  'http_server_request_duration_seconds_count{job="services",')), "http_route")
    check(got.keys() == want_ratio.keys() and all(abs(got[r] - want_ratio[r]) < 1e-12 for r in got),
          f"the error-ratio rule's selectors on the raw counts: {got} (sent {want_ratio})")
    recorded = wait_for("http_route:error_ratio:rate5m for the routes that failed", lambda: (
        lambda r: r if set(r) == set(want_ratio) else None)(
        by_label(query(prom, 'http_route:error_ratio:rate5m{job="services"}'), "http_route")), timeout=30)
    # NaN (0/0) when the traffic all came before the series' first scrape: the first-use gap.
    check(recorded and set(recorded) == set(want_ratio) and all(v != v or 0 <= v <= 1 for v in recorded.values()),
          f"the recorded error ratio has a series for every route that failed: {recorded}")

    # --- the Grafana dashboard's queries -------------------------------------------------------
    dashboard = json.load(open(os.path.join(PROM_DIR, "grafana-dashboard.json")))

    def dashboard_query(e, job=".*"):
        e = e.replace("$__rate_interval", "1m").replace("$job", job)
        for var in ("$job", "$module", "$function", "$route", "$grpc_service", "$grpc_method", "$server_address"):
            e = e.replace(var, ".*")
        return query(prom, e)

    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for e in exprs:
        dashboard_query(e)
    check(len(exprs) >= 6, f"all {len(exprs)} dashboard queries run")
    check(len(dashboard_query(dashboard["panels"][1]["targets"][0]["expr"])) >= 5, "the rate panel shows every handler")
    panels = {p["title"]: p for p in dashboard["panels"]}
    http_exprs = [e for e in exprs if "http_server_" in e]
    check(len(http_exprs) >= 10, f"{len(http_exprs)} of them are the HTTP row's, all run")

    def panel_shows(title, label):
        return set(by_label(dashboard_query(panels[title]["targets"][0]["expr"]), label))

    check(panel_shows("Requests per second by route", "http_route") == http_routes, "the HTTP rate panel shows every route")
    check(panel_shows("Latency p50 / p90 / p99 by route", "http_route") == http_routes, "the HTTP latency panel shows every route")
    statuses = {st for (_, _, st) in sent}
    check(panel_shows("Responses per second by status code", "http_response_status_code") == statuses,
          f"the status code panel shows every status sent: {sorted(statuses)}")
    check(panel_shows("In flight by method", "http_request_method") == {m for (_, m, _) in sent}, "the in-flight panel shows every method seen")
    check(panel_shows("Error ratio by route (5xx and failed exchanges / all)", "http_route") == set(want_ratio),
          "the error ratio panel shows the routes that failed")
    # The services' kinds (the grpc example's handlers have error kinds of their own).
    kinds_shown = {(r["metric"]["function"], r["metric"]["error_kind"])
                   for r in dashboard_query(panels["Errors per second by kind (error_kind)"]["targets"][0]["expr"], job="services")}
    check(kinds_shown == set(expected_kinds), f"the error kind panel has every (function, kind): {sorted(kinds_shown)}")
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            label = re.fullmatch(r"label_values\((.*), (\w+)\)", v["query"]["query"])
            values = {r["metric"].get(label.group(2)) for r in dashboard_query(label.group(1))} if label else set()
            check(values and None not in values, f"dashboard variable ${v['name']} has values: {sorted(values)[:8]}")
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "server_address")
    addresses = {r["metric"]["server_address"] for r in dashboard_query(variable["query"]["query"][len("label_values("):-len(", server_address)")])}
    check(addresses == {a for (_, a, _, _, _) in outbound}, f"$server_address lists the addresses called: {sorted(addresses)}")
    outbound_is_measured(prom, dashboard, rules, outbound, ports)

    # --- beyond one Prometheus: VictoriaMetrics has scraped the same targets all along -------
    def vm_query(expr):
        status, body, _ = http("GET", f"http://{vm}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if status != 200:
            raise RuntimeError(f"victoria-metrics query {expr!r} failed: {status} {body[:300]!r}")
        return json.loads(body)["data"]["result"]

    def as_map(result):
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in result}

    # Counters: the same exact numbers in both stores.
    exact = [
        'sum by (function) (function_calls_total{job="services"})',
        'sum by (function, result) (function_calls_total{job="services"})',
        'sum by (function, error_kind) (function_calls_total{job="services",result="error",error_kind!=""})',
        'sum by (tier) (function_calls_total{job="services",function="Accounts::load"})',
        'sum by (http_route, http_request_method, http_response_status_code) (http_server_request_duration_seconds_count{job="services"})',
        'sum by (http_route) (http_server_response_body_size_bytes_sum{job="services"})',
        # Not by `le`: Prometheus scrapes OpenMetrics (le="1.0"), VictoriaMetrics text (le="1").
        'sum by (http_route) (http_server_request_duration_seconds_bucket{job="services",le="+Inf"})',
        'sum by (server_address, http_response_status_code, error_type) (http_client_request_duration_seconds_count{job="services"})',
        'sum by (server_address) (http_client_response_body_size_bytes_sum{job="services"})',
    ]
    for e in exact:
        want_map = as_map(query(prom, e))
        got_map = wait_for(f"victoria-metrics to answer {e}", lambda: (
            lambda m: m if m == want_map else None)(as_map(vm_query(e))), timeout=30)
        check(got_map == want_map and len(want_map) > 0, f"VictoriaMetrics = Prometheus for {e} ({len(want_map)} series)")
    # Every dashboard query runs there too. Their rates are not compared: two stores scraping
    # on their own clocks see a burst of traffic in different windows, so only the counters
    # above can be equal to the digit.
    ran = 0
    for e in exprs:
        q = e.replace("$__rate_interval", "1m")
        for var in ("$job", "$module", "$function", "$route", "$grpc_service", "$grpc_method", "$server_address"):
            q = q.replace(var, ".*")
        vm_query(q)  # raises unless VictoriaMetrics evaluates it
        ran += 1
    check(ran == len(exprs), f"every dashboard query evaluates in VictoriaMetrics ({ran}/{len(exprs)})")

    # --- batch job through the Pushgateway ----------------------------------------------------
    batch = subprocess.run(
        [os.path.join(EXAMPLES, "batch"), "--gateway", f"http://127.0.0.1:{gw_port}", "--jobs", "40", "--seed", "7"],
        capture_output=True, text=True, timeout=120,
    )
    log(batch.stdout.strip())
    check(batch.returncode == 0, f"batch pushed (exit {batch.returncode}) {batch.stderr.strip()}")
    m = re.search(r"(\d+) ok, (\d+) failed", batch.stdout)
    check(m is not None, "batch printed its ok/failed counts")
    if m:
        ok, failed = int(m.group(1)), int(m.group(2))
        check(ok + failed == 40 and failed > 0 and ok > 0, f"deterministic mix of outcomes: {ok} ok, {failed} failed")
        expr = 'sum by (result) (function_calls_total{job="mapping_engine",function="map_site"})'
        got = wait_for("prometheus to scrape the pushgateway",
                       lambda: (lambda r: r if r.get("ok") == ok else None)(by_label(query(prom, expr), "result")), timeout=30)
        check(got.get("ok") == ok and got.get("error") == failed, f"pushed map_site counts read back through Prometheus: {got}")

    # --- the background CLI (seed scenario 000), scraped all along ------------------------------
    background_is_scraped(prom, bg)

    # --- the grpc example, scraped all along; then grpcio's calls -------------------------------
    grpc_is_measured(prom, g, dashboard, rules, work)

    # --- the main runtimes of the services and the grpc example ---------------------------------
    runtime_is_measured(prom, dashboard, rules, ports)


def samples(text):
    """(name, {label: value}, value) for each sample line of a text exposition."""
    out = []
    for line in text.splitlines():
        m = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def hello_is_measured_twice(work):
    """The Go tutorial's server: what its load generator got, what the layer counted by status
    code and what the attribute counted by result agree."""
    requests = 24
    port = free_port()
    hello = start("hello", [os.path.join(EXAMPLES, "hello"), "--addr", f"127.0.0.1:{port}", "--load", str(requests)], work)
    log_file = os.path.join(work, "hello.log")
    line = wait_for("hello's load to finish", lambda: re.search(r"load: sent (\d+) requests, got(.*);", open(log_file).read()),
                    timeout=60, interval=0.5)
    got = {int(k): int(v) for k, v in re.findall(r"(\d+)=(\d+)", line.group(2))}
    check(int(line.group(1)) == requests and sum(got.values()) == requests and set(got) <= {200, 500},
          f"hello: {requests} requests answered 200 or 500: {got}")

    http("GET", f"http://127.0.0.1:{port}/metrics")  # a scrape the layer must not count

    def measured():
        text = http("GET", f"http://127.0.0.1:{port}/metrics")[1].decode()
        layer = {l["http_response_status_code"]: v for n, l, v in samples(text)
                 if n == "http_server_request_duration_seconds_count" and l.get("http_route") == "/hello"}
        return (sum(layer.values()) == requests) and (text, layer)

    text, layer = wait_for("hello's layer counts", measured, timeout=10)
    check(layer == {str(k): float(v) for k, v in got.items()}, f"hello: the layer's /hello requests by status code {layer} = what the client got")
    attribute = {l["result"]: v for n, l, v in samples(text) if n == "function_calls_total" and l.get("function") == "hello"}
    check(attribute == {"ok": float(got.get(200, 0)), "error": float(got.get(500, 0)), "panic": 0.0, "cancelled": 0.0},
          f"hello: the attribute's calls by result {attribute} match (500 is error)")
    routes = {l.get("http_route") for n, l, _ in samples(text) if n.startswith("http_server_request_duration_seconds")}
    check(routes == {"/hello"}, f"hello: /metrics is not counted by the layer: routes {routes}")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    check(lint.returncode == 0 and lint.stdout.strip() == b"" and lint.stderr.strip() == b"",
          f"hello: promtool check metrics finds nothing to say: {lint.stdout.decode()}{lint.stderr.decode()}")
    # Out of the box: exemplars with trace ids in OpenMetrics, native histograms in protobuf.
    _, om, _ = http("GET", f"http://127.0.0.1:{port}/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0"})
    traced = [l for l in om.decode().splitlines() if l.startswith(("function_calls_total{function=\"hello\"", "http_server_request_duration_seconds_bucket{"))
              and re.search(r' # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} \S+ \d+\.\d+$', l)]
    check(len(traced) >= 2, f"hello: OpenMetrics has exemplars with trace ids on the calls and the HTTP buckets ({len(traced)} lines)")
    native_accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,text/plain;version=0.0.4;q=0.3"
    _, pb, headers = http("GET", f"http://127.0.0.1:{port}/metrics", headers={"Accept": native_accept})
    check(headers.get("Content-Type", "").startswith("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"),
          f"hello: protobuf for a native-histogram scraper ({headers.get('Content-Type')}, {len(pb)} bytes)")
    check(hello.poll() is None, "hello still serving after its load")


if __name__ == "__main__":
    # A SIGTERM (a CI timeout) unwinds like an error, so the finally in main() stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
