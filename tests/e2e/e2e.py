#!/usr/bin/env python3
"""End-to-end: the examples against a real Prometheus and a real Pushgateway, on loopback.

1. Three instances of the `services` example; Prometheus (the shipped examples/prometheus
   config, scrape interval lowered to 1 s) finds them through file_sd.
2. Known traffic; Prometheus' HTTP API must report exactly the calls and errors sent.
3. histogram_quantile answers a number; the rules load (promtool) and every rule evaluates;
   every query of the Grafana dashboard runs; the exposition passes `promtool check metrics`.
4. The `batch` example pushes to a Pushgateway; Prometheus reads the values back.

Everything binds 127.0.0.1, every wait is a bounded poll, and every process is stopped at
the end. Exit status 0 means every check held. Run: python3 tests/e2e/e2e.py
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
    for tool in ("prometheus", "promtool", "prometheus-pushgateway"):
        if shutil.which(tool) is None:
            raise SystemExit(f"[e2e] {tool} is not installed (Debian packages prometheus, prometheus-pushgateway)")
    log("building the examples")
    # --workspace: the features `cargo test --workspace` resolved, so its build is reused as is.
    subprocess.run(["cargo", "build", "-q", "--workspace", "--examples"], cwd=ROOT, check=True)

    release_build_exports_uncalled_functions()

    work = tempfile.mkdtemp(prefix="im-e2e-")
    try:
        run(work)
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


def run(work):
    # --- three services instances -------------------------------------------------------
    ports = [free_port() for _ in range(3)]
    for i, port in enumerate(ports):
        start(f"services-{i}", [os.path.join(EXAMPLES, "services"), "--addr", f"127.0.0.1:{port}"], work)
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
        ],
        work,
    )
    wait_for("prometheus ready", lambda: http("GET", f"http://{prom}/-/ready")[0] == 200)

    def targets_up():
        data = json.loads(http("GET", f"http://{prom}/api/v1/targets")[1])["data"]["activeTargets"]
        up = [t for t in data if t["health"] == "up"]
        return len(up) == 4 and all(t["lastError"] == "" for t in up) and data

    active = wait_for("all 4 targets up", targets_up)
    check(len([t for t in active if t["labels"]["job"] == "services"]) == 3, "three services targets found through file_sd, all up")
    check(all(t["labels"].get("env") == "dev" for t in active if t["labels"]["job"] == "services"), "file_sd labels applied")

    # --- known traffic --------------------------------------------------------------------
    expected_calls = {"get_account": 0, "create_account": 0, "health": 0, "Accounts::load": 0, "Accounts::insert": 0}
    expected_errors = dict.fromkeys(expected_calls, 0)
    for i, port in enumerate(ports):
        base = f"http://127.0.0.1:{port}"
        for name, want in (("alice", 201), ("bob", 201), ("fail", 500), ("", 400)):
            status, _, _ = http("POST", f"{base}/accounts", body=name.encode())
            check(status == want, f"instance {i}: POST /accounts {name!r} -> {status}")
            expected_calls["create_account"] += 1
            expected_errors["create_account"] += want >= 500
            if name:
                expected_calls["Accounts::insert"] += 1
                expected_errors["Accounts::insert"] += name == "fail"
        for account in range(1, 27):
            status, _, _ = http("GET", f"{base}/accounts/{account}")
            want = 500 if account % 13 == 0 else 200 if account <= 2 else 404
            if status != want:
                check(False, f"instance {i}: GET /accounts/{account} -> {status}, expected {want}")
            expected_calls["get_account"] += 1
            expected_calls["Accounts::load"] += 1
            expected_errors["get_account"] += want == 500
            expected_errors["Accounts::load"] += want == 500
        for _ in range(i + 1):
            http("GET", f"{base}/health")
            expected_calls["health"] += 1
    log(f"sent {expected_calls} (errors {expected_errors})")

    # The exposition of one instance, in both formats, straight from the source.
    status, text, headers = http("GET", f"http://127.0.0.1:{ports[0]}/metrics")
    check(status == 200 and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"), "text 0.0.4 with its Content-Type")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    check(lint.returncode == 0 and lint.stdout.strip() == b"" and lint.stderr.strip() == b"",
          f"promtool check metrics finds nothing to say: {lint.stdout.decode()}{lint.stderr.decode()}")
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

    # --- rules ------------------------------------------------------------------------------
    rc = subprocess.run(["promtool", "check", "rules", os.path.join(PROM_DIR, "rules.yml")], capture_output=True)
    check(rc.returncode == 0, "promtool check rules examples/prometheus/rules.yml")

    def rules_evaluated():
        groups = json.loads(http("GET", f"http://{prom}/api/v1/rules")[1])["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        done = all(r.get("health") == "ok" and not r.get("lastEvaluation", "0001").startswith("0001") for r in rules)
        return rules if rules and done else None

    rules = wait_for("every rule evaluated with health ok", rules_evaluated, timeout=30)
    check(len(rules) == 7, f"7 rules loaded by Prometheus ({len(rules)})")
    for r in rules:
        if r["type"] == "alerting":
            result = query(prom, r["query"])  # raises unless Prometheus evaluates it
            check(r["health"] == "ok" and isinstance(result, list),
                  f"alert {r['name']} evaluates (health {r['health']}, {len(result)} firing series)")
    # The recording rule needs two scrapes after the traffic before it has a value.
    ratio = wait_for("the recorded failure ratio",
                     lambda: by_label(query(prom, 'function:failure_ratio:rate5m{function="create_account"}'), "job"),
                     timeout=30)
    check(len(ratio) == 1 and abs(list(ratio.values())[0] - 0.25) < 1e-9, f"recorded failure ratio of create_account = 1/4: {ratio}")

    # --- the Grafana dashboard's queries -------------------------------------------------------
    dashboard = json.load(open(os.path.join(PROM_DIR, "grafana-dashboard.json")))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for e in exprs:
        e = e.replace("$__rate_interval", "1m")
        for var in ("$job", "$module", "$function"):
            e = e.replace(var, ".*")
        query(prom, e)
    check(len(exprs) >= 6, f"all {len(exprs)} dashboard queries run")
    rate_expr = dashboard["panels"][1]["targets"][0]["expr"].replace("$__rate_interval", "1m")
    for var in ("$job", "$module", "$function"):
        rate_expr = rate_expr.replace(var, ".*")
    check(len(query(prom, rate_expr)) >= 5, "the rate panel shows every handler")

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


if __name__ == "__main__":
    # A SIGTERM (a CI timeout) unwinds like an error, so the finally in main() stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
