#!/usr/bin/env python3
"""Helpers for tests/real-crates/run.

  results.py parse LOG OUT.json      per-test results of a `cargo test` log: {binary: {test: result}}
  results.py compare BASE.json ANNOTATED.json
                                     same test names and results, else a diff and exit 1
  results.py metrics DUMP_DIR        sums function_calls_total over the *.prom dumps;
                                     exit 1 unless the total and the functions counted are > 0
  results.py errors LOG              the compiler's errors in a cargo log, each with its context
"""

import json
import os
import re
import sys

# cargo (stderr) names the binary it is about to run; libtest (stdout) prints one line per test.
RUNNING = re.compile(r"^\s+Running (unittests )?(\S+) \(")
DOCTESTS = re.compile(r"^\s+Doc-tests (\S+)")
TEST = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored(?:, .*)?)$")
# Merged doctests (edition 2024) print a header line per binary; nothing else matters here.


def parse(log_path):
    binaries = {}
    current = None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = RUNNING.match(line)
            if m:
                current = ("unittests " if m.group(1) else "") + m.group(2)
                binaries.setdefault(current, {})
                continue
            m = DOCTESTS.match(line)
            if m:
                current = "doctests " + m.group(1)
                binaries.setdefault(current, {})
                continue
            m = TEST.match(line)
            if m and current is not None:
                result = m.group(2)
                if result.startswith("ignored"):
                    result = "ignored"
                name = m.group(1)
                if name in binaries[current]:
                    raise SystemExit(f"{log_path}: test {name!r} reported twice in {current}")
                binaries[current][name] = result
    return binaries


def summary(binaries):
    counts = {}
    for tests in binaries.values():
        for r in tests.values():
            counts[r] = counts.get(r, 0) + 1
    total = sum(counts.values())
    parts = ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
    return f"{total} tests in {len(binaries)} binaries ({parts})"


def compare(base_path, ann_path):
    with open(base_path) as f:
        base = json.load(f)
    with open(ann_path) as f:
        ann = json.load(f)
    diff = []
    for binary in sorted(set(base) | set(ann)):
        b, a = base.get(binary), ann.get(binary)
        if b is None:
            diff.append(f"+ binary {binary} (only when annotated, {len(a)} tests)")
            continue
        if a is None:
            diff.append(f"- binary {binary} (missing when annotated: {len(b)} tests not run)")
            continue
        for name in sorted(set(b) | set(a)):
            if name not in a:
                diff.append(f"- {binary}: {name} ({b[name]}; not run when annotated)")
            elif name not in b:
                diff.append(f"+ {binary}: {name} ({a[name]}; only when annotated)")
            elif a[name] != b[name]:
                diff.append(f"! {binary}: {name}: {b[name]} -> {a[name]}")
    if diff:
        print(f"  results differ (baseline: {summary(base)}; annotated: {summary(ann)}):")
        for d in diff:
            print("    " + d)
        return 1
    if not base:
        print("  no test ran in the baseline: nothing to compare")
        return 1
    print(f"  same results: {summary(base)}")
    return 0


# Text exposition format 0.0.4: name{label="value",...} value [timestamp]
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1), "\\" + m.group(1)), v)


def labels(text):
    out = {}
    body = text[1:-1]
    pos = 0
    while pos < len(body):
        m = LABEL.match(body, pos)
        if not m:
            raise ValueError(f"bad label set {text!r}")
        out[m.group(1)] = unescape(m.group(2))
        pos = m.end()
    return out


def metrics(dump_dir):
    dumps = sorted(p for p in os.listdir(dump_dir) if p.endswith(".prom"))
    per_fn = {}
    results = {}
    for d in dumps:
        with open(os.path.join(dump_dir, d), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = SAMPLE.match(line)
                if not m:
                    raise SystemExit(f"{d}: not a sample line: {line!r}")
                if m.group(1) != "function_calls_total":
                    continue
                ls = labels(m.group(2) or "{}")
                value = float(m.group(3))
                key = (ls.get("module", ""), ls.get("function", ""))
                per_fn[key] = per_fn.get(key, 0.0) + value
                r = ls.get("result", "?")
                results[r] = results.get(r, 0.0) + value
    total = sum(per_fn.values())
    counted = {k: v for k, v in per_fn.items() if v > 0}
    by_result = ", ".join(f"{r}={int(v)}" for r, v in sorted(results.items()))
    print(
        f"  metrics: {len(dumps)} process dumps; function_calls_total = {int(total)} ({by_result}); "
        f"{len(counted)} of {len(per_fn)} instrumented functions called"
    )
    top = sorted(counted.items(), key=lambda kv: -kv[1])[:5]
    if top:
        print("  most called: " + ", ".join(f"{fn_} ({m})={int(v)}" for (m, fn_), v in top))
    if not dumps:
        print("  no dump written: the exit hook did not run")
        return 1
    if total <= 0 or not counted:
        print("  nothing was counted: the tests called no instrumented function?")
        return 1
    return 0


# cargo's own lines about failed test binaries, not compiler errors.
NOT_COMPILE = re.compile(r"^error: (test failed|\d+ targets? failed|doctest failed)")


def errors(log_path):
    """Prints each `error…` block of a cargo log (up to the next blank line), at most 40 of them."""
    shown = 0
    block = None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if block is None:
                if line.startswith("error") and not NOT_COMPILE.match(line):
                    block = [line]
            elif line.strip() == "" or line.startswith("error") or line.startswith("warning"):
                print("    " + "\n    ".join(block))
                shown += 1
                block = [line] if line.startswith("error") and not NOT_COMPILE.match(line) else None
                if shown >= 40:
                    print("    … (more in the log)")
                    return 0
            else:
                block.append(line)
    if block:
        print("    " + "\n    ".join(block))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "parse":
        res = parse(argv[2])
        with open(argv[3], "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        print(f"  {summary(res)}")
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        return compare(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "metrics":
        return metrics(argv[2])
    if len(argv) == 3 and argv[1] == "errors":
        return errors(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
