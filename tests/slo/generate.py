#!/usr/bin/env python3
"""Writes the `promtool test rules` files of this folder (run it after changing the rules'
wording or thresholds; tests/tests/slo_rules.rs runs the files against the rules it generates).

Synthetic traffic, one sample a minute for three days, at a constant burn rate per test: just
above (x 1.005) and just below (x 0.995) each alert's rate, so each alert is seen firing at its
rate and silent below it, the other alerts' states asserted beside it; and a burst that stopped
10 minutes before the end, which the short windows must notice (the 1h/5m page stops).

Two functions carry the objective `checkout` (99.9% succeed; 99% within 250 ms) in the test
binary: `pay` takes 70% of the bad calls and `Refunds::issue` 30% (as panics, for availability),
so a rule that looked at one function, counted `cancelled` calls, or read the wrong `le` bucket
would be off by far more than the 0.5% margins.

grpc_availability.yml and grpc_latency.yml do the same for the objective `features` on the gRPC
method routeguide.RouteGuide/GetFeature (tests/tests/slo_grpc_rules.rs): the bad calls end
`Internal` (70%) and `Unavailable` (30%); a quarter of the calls end `NotFound` and a quarter
`Canceled`, which fail no budget but count among the calls (a rule that counted them as failures,
or left them out of the calls, would be off by far more than the margins); and another method and
another service with the same method name fail and are slow all along, which a rule that
selected by method or service alone would count.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = "slo_rules"
FUNCTIONS = ("pay", "Refunds::issue")
SHARE = (0.7, 0.3)
CALLS = 1_000_000  # per function and minute
MINUTES = 3 * 24 * 60

ALERTS = [  # severity, long, short, burn rate, how long a 30-day budget lasts
    ("page", "1h", "5m", "14.4", "50 hours"),
    ("page", "6h", "30m", "6", "5 days"),
    ("ticket", "1d", "2h", "3", "10 days"),
    ("ticket", "3d", "6h", "1", "30 days"),
]


def steady(per_minute):
    return f"0+{per_minute}x{MINUTES}"


def stopped(per_minute, quiet):
    """`per_minute` until `quiet` minutes before the end, then nothing."""
    busy = MINUTES - quiet
    return f"0+{per_minute}x{busy} {per_minute * busy}+0x{quiet - 1}"


def stopped_calls(per_minute, quiet):
    busy = MINUTES - quiet
    return f"0+{per_minute}x{busy} {per_minute * (busy + 1)}+{per_minute}x{quiet - 1}"


def labels(function, **more):
    extra = "".join(f',{k}="{v}"' for k, v in more.items())
    return f'{{function="{function}",module="{MODULE}"{extra}}}'


def split(total):
    first = round(total * SHARE[0])
    return (first, total - first)


def alert_block(kind, fired):
    name, budget, budget_percent, target_text = kind
    out = []
    for severity, long, short, rate, lasts in ALERTS:
        if (long, short) not in fired:
            continue
        if name == "ObjectiveErrorBudgetBurn":
            summary = f"Objective checkout: failures burn its error budget ({budget_percent}% of calls) at {rate} times the sustainable rate"
            description = f"More than {rate} x {budget_percent}% of the calls of objective checkout failed (result error or panic) over the last {long} and the last {short}; at this rate a 30-day error budget lasts {lasts}. Objective: {target_text}."
        else:
            summary = f"Objective checkout: slow calls burn its latency budget ({budget_percent}% of calls over 0.25s) at {rate} times the sustainable rate"
            description = f"More than {rate} x {budget_percent}% of the calls of objective checkout took longer than 0.25s over the last {long} and the last {short}; at this rate a 30-day latency budget lasts {lasts}. Objective: {target_text}."
        out.append(
            "          - exp_labels:\n"
            "              objective: checkout\n"
            f"              severity: {severity}\n"
            f"              long_window: {long}\n"
            f"              short_window: {short}\n"
            "            exp_annotations:\n"
            f'              summary: "{summary}"\n'
            f'              description: "{description}"\n'
        )
    if not out:
        return "        exp_alerts: []\n"
    return "        exp_alerts:\n" + "".join(out)


def write(path, kind, budget, series_for):
    name = kind[0]
    text = [
        "# Written by generate.py: `promtool test rules` against the rules tests/tests/slo_rules.rs\n",
        "# generates from its own objectives (copied beside this file as rules.yml).\n",
        "rule_files:\n  - rules.yml\n\nevaluation_interval: 1h\n\ntests:\n",
    ]
    cases = []
    for _, long, short, rate, _ in ALERTS:
        r = float(rate)
        for factor, word in ((1.005, "just above"), (0.995, "just below")):
            burn = r * factor
            fired = {(l, s) for _, l, s, rr, _ in ALERTS if burn > float(rr)}
            cases.append((f"{name}: a steady burn of {burn:g}x, {word} {rate}x ({long}/{short})", burn, None, fired))
    cases.append((f"{name}: a 20x burn that stopped 10 minutes ago no longer pages on 1h/5m", 20.0, 10,
                  {(l, s) for _, l, s, _, _ in ALERTS if (l, s) != ("1h", "5m")}))
    for title, burn, quiet, fired in cases:
        bad_total = round(burn * budget * CALLS * len(FUNCTIONS))
        text.append(f"  - name: \"{title}\"\n    interval: 1m\n    input_series:\n")
        for function, bad in zip(FUNCTIONS, split(bad_total)):
            for series, values in series_for(function, bad, quiet):
                text.append(f"      - series: '{series}'\n        values: '{values}'\n")
        text.append(f"    alert_rule_test:\n      - eval_time: 3d\n        alertname: {name}\n")
        text.append(alert_block(kind, fired))
    open(os.path.join(HERE, path), "w").write("".join(text))


def availability(function, bad, quiet):
    result = "error" if function == "pay" else "panic"
    ok = CALLS - bad
    if quiet is None:
        return [
            (f"function_calls_total{labels(function, result='ok')}", steady(ok)),
            (f"function_calls_total{labels(function, result=result)}", steady(bad)),
            # Cancelled calls are neither good nor bad: these would halve the ratio if counted.
            (f"function_calls_total{labels(function, result='cancelled')}", steady(CALLS)),
        ]
    busy = MINUTES - quiet
    return [
        (f"function_calls_total{labels(function, result='ok')}",
         f"0+{ok}x{busy} {ok * busy + CALLS}+{CALLS}x{quiet - 1}"),
        (f"function_calls_total{labels(function, result=result)}", stopped(bad, quiet)),
        (f"function_calls_total{labels(function, result='cancelled')}", steady(CALLS)),
    ]


def latency(function, slow, quiet):
    fast = CALLS - slow
    faster = fast // 2
    if quiet is None:
        bucket = lambda n: steady(n)
    else:
        busy = MINUTES - quiet
        # After the burst every call is fast.
        bucket = lambda n: f"0+{n}x{busy} {n * busy + CALLS}+{CALLS}x{quiet - 1}"
    return [
        (f"function_calls_duration_seconds_bucket{labels(function, le='0.1')}", bucket(faster) if quiet is None else steady(faster)),
        (f"function_calls_duration_seconds_bucket{labels(function, le='0.25')}", bucket(fast)),
        (f"function_calls_duration_seconds_bucket{labels(function, le='+Inf')}", steady(CALLS)),
        (f"function_calls_duration_seconds_count{labels(function)}", steady(CALLS)),
    ]


write("availability.yml", ("ObjectiveErrorBudgetBurn", "0.001", "0.1", "99.9% of calls succeed"), 0.001, availability)
write("latency.yml", ("ObjectiveLatencyBudgetBurn", "0.01", "1", "99% of calls within 0.25s"), 0.01, latency)


# --- gRPC: the objective `features` on routeguide.RouteGuide/GetFeature -----------------------
GRPC_SERVICE, GRPC_METHOD = "routeguide.RouteGuide", "GetFeature"
GRPC_FAILURES = "Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss"


def grpc_labels(service=GRPC_SERVICE, method=GRPC_METHOD, **more):
    extra = "".join(f',{k}="{v}"' for k, v in more.items())
    return f'{{grpc_type="unary",grpc_service="{service}",grpc_method="{method}"{extra}}}'


def grpc_alert_block(name, budget_percent, target_text, fired):
    what = f"{GRPC_SERVICE}/{GRPC_METHOD}"
    out = []
    for severity, long, short, rate, lasts in ALERTS:
        if (long, short) not in fired:
            continue
        if name == "ObjectiveErrorBudgetBurn":
            summary = f"Objective features: failures of {what} burn its error budget ({budget_percent}% of calls) at {rate} times the sustainable rate"
            description = f"More than {rate} x {budget_percent}% of the calls the server answered on {what} (objective features) failed (code {GRPC_FAILURES}) over the last {long} and the last {short}; at this rate a 30-day error budget lasts {lasts}. Objective: {target_text}."
        else:
            summary = f"Objective features: slow calls of {what} burn its latency budget ({budget_percent}% of calls over 0.25s) at {rate} times the sustainable rate"
            description = f"More than {rate} x {budget_percent}% of the calls the server answered on {what} (objective features) took longer than 0.25s over the last {long} and the last {short}; at this rate a 30-day latency budget lasts {lasts}. Objective: {target_text}."
        out.append(
            "          - exp_labels:\n"
            "              objective: features\n"
            f"              severity: {severity}\n"
            f"              long_window: {long}\n"
            f"              short_window: {short}\n"
            "            exp_annotations:\n"
            f'              summary: "{summary}"\n'
            f'              description: "{description}"\n'
        )
    if not out:
        return "        exp_alerts: []\n"
    return "        exp_alerts:\n" + "".join(out)


def grpc_write(path, name, budget, budget_percent, target_text, series_for):
    text = [
        "# Written by generate.py: `promtool test rules` against the rules tests/tests/slo_grpc_rules.rs\n",
        "# generates from its objective on a gRPC method (copied beside this file as rules.yml).\n",
        "rule_files:\n  - rules.yml\n\nevaluation_interval: 1h\n\ntests:\n",
    ]
    cases = []
    for _, long, short, rate, _ in ALERTS:
        r = float(rate)
        for factor, word in ((1.005, "just above"), (0.995, "just below")):
            burn = r * factor
            fired = {(l, s) for _, l, s, rr, _ in ALERTS if burn > float(rr)}
            cases.append((f"{name} (gRPC): a steady burn of {burn:g}x, {word} {rate}x ({long}/{short})", burn, None, fired))
    cases.append((f"{name} (gRPC): a 20x burn that stopped 10 minutes ago no longer pages on 1h/5m", 20.0, 10,
                  {(l, s) for _, l, s, _, _ in ALERTS if (l, s) != ("1h", "5m")}))
    for title, burn, quiet, fired in cases:
        bad = round(burn * budget * CALLS)
        text.append(f"  - name: \"{title}\"\n    interval: 1m\n    input_series:\n")
        for series, values in series_for(bad, quiet):
            text.append(f"      - series: '{series}'\n        values: '{values}'\n")
        text.append(f"    alert_rule_test:\n      - eval_time: 3d\n        alertname: {name}\n")
        text.append(grpc_alert_block(name, budget_percent, target_text, fired))
    open(os.path.join(HERE, path), "w").write("".join(text))


def grpc_availability(bad, quiet):
    internal = round(bad * 0.7)
    unavailable = bad - internal
    not_found = canceled = CALLS // 4
    ok = CALLS - bad - not_found - canceled
    handled = "grpc_server_handled_total"
    if quiet is None:
        ok_values = steady(ok)
    else:
        busy = MINUTES - quiet
        # After the burst, the calls that failed succeed.
        ok_values = f"0+{ok}x{busy} {ok * busy + ok + bad}+{ok + bad}x{quiet - 1}"
    return [
        (f"{handled}{grpc_labels(grpc_code='OK')}", ok_values),
        (f"{handled}{grpc_labels(grpc_code='Internal')}", steady(internal) if quiet is None else stopped(internal, quiet)),
        (f"{handled}{grpc_labels(grpc_code='Unavailable')}", steady(unavailable) if quiet is None else stopped(unavailable, quiet)),
        # A caller's mistake and a caller's cancellation: calls, never failures.
        (f"{handled}{grpc_labels(grpc_code='NotFound')}", steady(not_found)),
        (f"{handled}{grpc_labels(grpc_code='Canceled')}", steady(canceled)),
        (f"{handled}{grpc_labels(grpc_code='DataLoss')}", steady(0)),
        # Another method, and the same method of another service, failing all along.
        (f"{handled}{grpc_labels(method='ListFeatures', grpc_code='Internal')}", steady(CALLS)),
        (f"{handled}{grpc_labels(service='other.RouteGuide', grpc_code='Internal')}", steady(CALLS)),
    ]


def grpc_latency(slow, quiet):
    fast = CALLS - slow
    faster = fast // 2
    bucket = "grpc_server_handling_seconds_bucket"
    if quiet is None:
        fast_values = steady(fast)
    else:
        busy = MINUTES - quiet
        fast_values = f"0+{fast}x{busy} {fast * busy + CALLS}+{CALLS}x{quiet - 1}"
    return [
        (f"{bucket}{grpc_labels(le='0.1')}", steady(faster)),
        (f"{bucket}{grpc_labels(le='0.25')}", fast_values),
        (f"{bucket}{grpc_labels(le='+Inf')}", steady(CALLS)),
        (f"grpc_server_handling_seconds_count{grpc_labels()}", steady(CALLS)),
        # Another method and another service, slow all along.
        (f"{bucket}{grpc_labels(method='ListFeatures', le='0.25')}", steady(0)),
        (f"grpc_server_handling_seconds_count{grpc_labels(method='ListFeatures')}", steady(CALLS)),
        (f"{bucket}{grpc_labels(service='other.RouteGuide', le='0.25')}", steady(0)),
        (f"grpc_server_handling_seconds_count{grpc_labels(service='other.RouteGuide')}", steady(CALLS)),
    ]


grpc_write("grpc_availability.yml", "ObjectiveErrorBudgetBurn", 0.001, "0.1", "99.9% of calls succeed", grpc_availability)
grpc_write("grpc_latency.yml", "ObjectiveLatencyBudgetBurn", 0.01, "1", "99% of calls within 0.25s", grpc_latency)
