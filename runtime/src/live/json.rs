//! The `/api/functions` document: see the schema in the [module docs](super).
//!
//! Written by hand, not with `serde_json`: the live page is always compiled in, and
//! `serde_json` in a user's dependency tree changes how their code type-checks (its
//! `impl PartialEq<Value> for i32`, `for str`… make `n == s.parse().unwrap()` ambiguous,
//! E0283), which DESIGN.md rules out for every dependency. What it writes is read back by
//! `serde_json` in the tests below (strings and numbers, hostile ones included) and in
//! tests/tests/live_json_hostile.rs (the whole document, with hostile names and labels).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::snapshot::{
    table_meta, Counts, GrpcCounts, GrpcKey, OutboundCounts, OutboundKey, RuntimeBusy, Snapshot,
    GRPC_VOCABULARY,
};
use super::stats::{GrpcWindow, OutboundWindow, Window};
use crate::expose::catalog::catalog;
use crate::record::outcome::Outcome;

/// The windows, by name and length in seconds.
pub(crate) const WINDOWS: [(&str, f64); 3] = [("1m", 60.0), ("5m", 300.0), ("15m", 900.0)];

/// The version of the document's schema; bumped when a field changes meaning or goes away.
pub(crate) const SCHEMA: u32 = 1;

/// Writes the document for `snapshots` (oldest first), sampled every `interval_seconds`.
pub(crate) fn document(snapshots: &[Arc<Snapshot>], interval_seconds: f64) -> String {
    let mut out = String::with_capacity(4096);
    out.push('{');
    field(&mut out, "schema");
    out.push_str(itoa::Buffer::new().format(SCHEMA));
    let Some(newest) = snapshots.last() else {
        out.push_str(",\"now_seconds\":null,\"interval_seconds\":");
        number(&mut out, Some(interval_seconds));
        out.push_str(",\"history_seconds\":0,\"snapshots\":0,\"process\":null,\"runtimes\":[],\"functions\":[],\"routes\":[],\"grpc\":[],\"outbound\":[],\"objectives\":");
        objectives(&mut out);
        out.push('}');
        return out;
    };
    out.push(',');
    field(&mut out, "now_seconds");
    number(&mut out, Some(newest.at));
    out.push(',');
    field(&mut out, "interval_seconds");
    number(&mut out, Some(interval_seconds));
    out.push(',');
    field(&mut out, "history_seconds");
    number(&mut out, Some(newest.at - snapshots[0].at));
    out.push(',');
    field(&mut out, "snapshots");
    out.push_str(itoa::Buffer::new().format(snapshots.len()));
    out.push(',');
    field(&mut out, "process");
    process(&mut out, snapshots);
    out.push(',');
    field(&mut out, "runtimes");
    runtimes(&mut out, snapshots);
    out.push(',');

    field(&mut out, "functions");
    out.push('[');
    for (i, series) in catalog().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        field(&mut out, "function");
        string(&mut out, &series.function);
        out.push(',');
        field(&mut out, "module");
        string(&mut out, series.module);
        out.push(',');
        field(&mut out, "labels");
        labels(&mut out, series.labels.iter().map(|(k, v)| (*k, *v)));
        out.push(',');
        entry(&mut out, snapshots, series.bounds_seconds, |s| {
            s.functions.get(i)
        });
        out.push('}');
    }
    out.push_str("],");

    field(&mut out, "routes");
    out.push('[');
    let mut table = None;
    let mut first = true;
    for key in newest.routes.keys() {
        if table.as_ref().is_none_or(|(index, _)| *index != key.table) {
            table = table_meta(key.table).map(|meta| (key.table, meta));
        }
        let Some((_, meta)) = &table else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        out.push('{');
        field(&mut out, "route");
        string(&mut out, &key.route);
        out.push(',');
        field(&mut out, "method");
        string(&mut out, key.method);
        out.push(',');
        field(&mut out, "labels");
        labels(
            &mut out,
            meta.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        out.push(',');
        entry(&mut out, snapshots, &meta.bounds, |s| s.routes.get(key));
        out.push('}');
    }
    out.push_str("],");

    field(&mut out, "grpc");
    out.push('[');
    for (n, key) in newest.grpc.keys().enumerate() {
        if n > 0 {
            out.push(',');
        }
        grpc_entry(&mut out, snapshots, key);
    }
    out.push_str("],");

    field(&mut out, "outbound");
    out.push('[');
    for (n, key) in newest.outbound.keys().enumerate() {
        if n > 0 {
            out.push(',');
        }
        outbound_entry(&mut out, snapshots, key);
    }
    out.push_str("],");

    // One object per declared objective, counted since the process started.
    field(&mut out, "objectives");
    objectives(&mut out);
    out.push('}');
    out
}

/// `[{name, success_target, calls, failed, error_budget_remaining, latency_threshold_seconds,
/// latency_target, timed, slow, latency_budget_remaining}, …]`; `null` where a target is not set.
fn objectives(out: &mut String) {
    out.push('[');
    for (i, d) in crate::slo::objectives().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let o = d.objective();
        let c = d.counts();
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        let count = |n: u64| Some(n as f64);
        out.push('{');
        field(out, "name");
        string(out, o.name());
        out.push(',');
        field(out, "success_target");
        number(out, o.success_target());
        out.push(',');
        field(out, "calls");
        number(out, count(c.calls));
        out.push(',');
        field(out, "failed");
        number(out, count(c.failed));
        out.push(',');
        field(out, "error_budget_remaining");
        number(out, o.availability_budget_left(c.calls, c.failed));
        out.push(',');
        field(out, "latency_threshold_seconds");
        number(out, o.latency_target().map(|(t, _)| t.as_secs_f64()));
        out.push(',');
        field(out, "latency_target");
        number(out, o.latency_target().map(|(_, r)| r));
        out.push(',');
        field(out, "timed");
        number(out, count(c.timed));
        out.push(',');
        field(out, "slow");
        number(out, count(c.slow));
        out.push(',');
        field(out, "latency_budget_remaining");
        number(out, o.latency_budget_left(c.timed, c.slow));
        out.push('}');
    }
    out.push(']');
}

/// The fields every function and route has: totals, windows and history.
fn entry<'s>(
    out: &mut String,
    snapshots: &'s [Arc<Snapshot>],
    bounds: &[f64],
    counts_of: impl Fn(&'s Snapshot) -> Option<&'s Counts>,
) {
    let empty = Counts::default();
    let Some(newest_snapshot) = snapshots.last() else {
        return;
    };
    let newest = counts_of(newest_snapshot).unwrap_or(&empty);
    count(out, "total", newest.total());
    field(out, "results");
    results(out, &newest.results);
    out.push(',');
    field(out, "in_flight");
    match newest.in_flight {
        Some(n) => out.push_str(itoa::Buffer::new().format(n)),
        None => out.push_str("null"),
    }
    out.push(',');
    field(out, "windows");
    out.push('{');
    for (w, (name, length)) in WINDOWS.iter().enumerate() {
        if w > 0 {
            out.push(',');
        }
        field(out, name);
        // The oldest snapshot inside the window: the window never claims more than it saw.
        let base = window_base(snapshots, newest_snapshot, *length);
        let window = Window::between(
            Some(counts_of(base).unwrap_or(&empty)),
            newest,
            newest_snapshot.at - base.at,
            bounds,
        );
        window_object(out, &window);
    }
    out.push_str("},");
    field(out, "history");
    history(out, snapshots, bounds, &counts_of);
}

fn window_object(out: &mut String, w: &Window) {
    out.push('{');
    field(out, "seconds");
    number(out, Some(w.seconds));
    out.push(',');
    count(out, "calls", w.calls());
    field(out, "results");
    results(out, &w.results);
    out.push(',');
    field(out, "calls_per_second");
    number(out, w.rate());
    out.push(',');
    field(out, "failure_ratio");
    number(out, w.ratio(None));
    out.push(',');
    field(out, "failure_ratio_by_result");
    out.push('{');
    for (n, outcome) in [Outcome::Error, Outcome::Panic, Outcome::Cancelled]
        .into_iter()
        .enumerate()
    {
        if n > 0 {
            out.push(',');
        }
        field(out, outcome.as_str());
        number(out, w.ratio(Some(outcome.index())));
    }
    out.push('}');
    for (name, q) in ["p50_seconds", "p90_seconds", "p99_seconds"]
        .iter()
        .zip(w.quantiles)
    {
        out.push(',');
        field(out, name);
        number(out, q);
    }
    out.push('}');
}

/// One point per interval between consecutive snapshots: its end time, calls per second,
/// failure ratio and p99.
fn history<'s>(
    out: &mut String,
    snapshots: &'s [Arc<Snapshot>],
    bounds: &[f64],
    counts_of: &impl Fn(&'s Snapshot) -> Option<&'s Counts>,
) {
    let empty = Counts::default();
    let windows: Vec<(f64, Window)> = snapshots
        .windows(2)
        .map(|pair| {
            let (a, b) = (&pair[0], &pair[1]);
            let w = Window::between(
                Some(counts_of(a).unwrap_or(&empty)),
                counts_of(b).unwrap_or(&empty),
                b.at - a.at,
                bounds,
            );
            (b.at, w)
        })
        .collect();
    out.push('{');
    field(out, "at_seconds");
    list(out, windows.iter().map(|(at, _)| Some(*at)));
    out.push(',');
    field(out, "calls_per_second");
    list(out, windows.iter().map(|(_, w)| w.rate()));
    out.push(',');
    field(out, "failure_ratio");
    list(out, windows.iter().map(|(_, w)| w.ratio(None)));
    out.push(',');
    field(out, "p99_seconds");
    list(out, windows.iter().map(|(_, w)| w.quantiles[2]));
    out.push('}');
}

/// One side of one gRPC method: `{side, service, method, type, total, started, codes,
/// windows, history}`; `codes` has the codes seen (non-zero counts) only.
fn grpc_entry(out: &mut String, snapshots: &[Arc<Snapshot>], key: &GrpcKey) {
    let (names, failures, bounds) = GRPC_VOCABULARY;
    let empty = GrpcCounts::default();
    let Some(newest_snapshot) = snapshots.last() else {
        return;
    };
    let counts_of = |s: &Arc<Snapshot>| s.grpc.get(key).cloned().unwrap_or_default();
    let newest = newest_snapshot.grpc.get(key).unwrap_or(&empty);
    out.push('{');
    for (name, value) in [
        ("side", key.side),
        ("service", key.service),
        ("method", key.method),
        ("type", key.kind),
    ] {
        field(out, name);
        string(out, value);
        out.push(',');
    }
    count(out, "total", newest.total());
    count(out, "started", newest.started);
    field(out, "codes");
    codes(out, names, &newest.handled);
    out.push(',');
    field(out, "windows");
    out.push('{');
    for (w, (name, length)) in WINDOWS.iter().enumerate() {
        if w > 0 {
            out.push(',');
        }
        field(out, name);
        let base = window_base(snapshots, newest_snapshot, *length);
        let window = GrpcWindow::between(
            Some(&counts_of(base)),
            newest,
            newest_snapshot.at - base.at,
            bounds,
        );
        out.push('{');
        field(out, "seconds");
        number(out, Some(window.seconds));
        out.push(',');
        count(out, "calls", window.calls());
        count(out, "started", window.started);
        field(out, "codes");
        codes(out, names, &window.handled);
        out.push(',');
        field(out, "calls_per_second");
        number(out, window.rate());
        out.push(',');
        field(out, "error_ratio");
        number(out, window.error_ratio(failures));
        for (name, q) in ["p50_seconds", "p90_seconds", "p99_seconds"]
            .iter()
            .zip(window.quantiles)
        {
            out.push(',');
            field(out, name);
            number(out, q);
        }
        let (received, sent) = window.messages_per_call();
        out.push(',');
        field(out, "messages_received_per_call");
        number(out, received);
        out.push(',');
        field(out, "messages_sent_per_call");
        number(out, sent);
        out.push('}');
    }
    out.push_str("},");
    let windows: Vec<(f64, GrpcWindow)> = snapshots
        .windows(2)
        .map(|pair| {
            let (a, b) = (&pair[0], &pair[1]);
            let w = GrpcWindow::between(Some(&counts_of(a)), &counts_of(b), b.at - a.at, bounds);
            (b.at, w)
        })
        .collect();
    field(out, "history");
    out.push('{');
    field(out, "at_seconds");
    list(out, windows.iter().map(|(at, _)| Some(*at)));
    out.push(',');
    field(out, "calls_per_second");
    list(out, windows.iter().map(|(_, w)| w.rate()));
    out.push(',');
    field(out, "error_ratio");
    list(out, windows.iter().map(|(_, w)| w.error_ratio(failures)));
    out.push(',');
    field(out, "p99_seconds");
    list(out, windows.iter().map(|(_, w)| w.quantiles[2]));
    out.push_str("}}");
}

/// `{code name: count}` for the codes with a count.
fn codes(out: &mut String, names: &[&str], handled: &[u64]) {
    out.push('{');
    let mut first = true;
    for (name, n) in names.iter().zip(handled) {
        if *n == 0 {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        field(out, name);
        out.push_str(itoa::Buffer::new().format(*n));
    }
    out.push('}');
}

/// The calls of one method to one server address and port: `{server_address, server_port,
/// method, labels, total, failed, statuses, error_types, windows, history}`.
fn outbound_entry(out: &mut String, snapshots: &[Arc<Snapshot>], key: &OutboundKey) {
    let empty = OutboundCounts::default();
    let Some(newest_snapshot) = snapshots.last() else {
        return;
    };
    let counts_of = |s: &Arc<Snapshot>| s.outbound.get(key).cloned().unwrap_or_default();
    let newest = newest_snapshot.outbound.get(key).unwrap_or(&empty);
    let bounds = newest.bounds;
    out.push('{');
    field(out, "server_address");
    string(out, key.server_address);
    out.push(',');
    field(out, "server_port");
    match key.server_port {
        Some(port) => string(out, port),
        None => out.push_str("null"),
    }
    out.push(',');
    field(out, "method");
    string(out, key.method);
    out.push(',');
    field(out, "labels");
    labels(
        out,
        newest.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    out.push(',');
    count(out, "total", newest.total());
    count(out, "failed", newest.failed);
    endings(out, &newest.endings);
    out.push(',');
    field(out, "windows");
    out.push('{');
    for (w, (name, length)) in WINDOWS.iter().enumerate() {
        if w > 0 {
            out.push(',');
        }
        field(out, name);
        let base = window_base(snapshots, newest_snapshot, *length);
        let window = OutboundWindow::between(
            Some(&counts_of(base)),
            newest,
            newest_snapshot.at - base.at,
            bounds,
        );
        out.push('{');
        field(out, "seconds");
        number(out, Some(window.seconds));
        out.push(',');
        count(out, "calls", window.calls());
        endings(out, &window.endings);
        out.push(',');
        field(out, "calls_per_second");
        number(out, window.rate());
        out.push(',');
        field(out, "error_ratio");
        number(out, window.error_ratio());
        for (name, q) in ["p50_seconds", "p90_seconds", "p99_seconds"]
            .iter()
            .zip(window.quantiles)
        {
            out.push(',');
            field(out, name);
            number(out, q);
        }
        out.push(',');
        field(out, "bytes_received_per_call");
        number(out, window.bytes_received_per_call());
        out.push('}');
    }
    out.push_str("},");
    let windows: Vec<(f64, OutboundWindow)> = snapshots
        .windows(2)
        .map(|pair| {
            let (a, b) = (&pair[0], &pair[1]);
            let w =
                OutboundWindow::between(Some(&counts_of(a)), &counts_of(b), b.at - a.at, bounds);
            (b.at, w)
        })
        .collect();
    field(out, "history");
    out.push('{');
    field(out, "at_seconds");
    list(out, windows.iter().map(|(at, _)| Some(*at)));
    out.push(',');
    field(out, "calls_per_second");
    list(out, windows.iter().map(|(_, w)| w.rate()));
    out.push(',');
    field(out, "error_ratio");
    list(out, windows.iter().map(|(_, w)| w.error_ratio()));
    out.push(',');
    field(out, "p99_seconds");
    list(out, windows.iter().map(|(_, w)| w.quantiles[2]));
    out.push_str("}}");
}

/// `"statuses":{status: calls},"error_types":{error_type: calls}` for the calls counted in
/// `by`: each call under the status it received (if any) and under its error type (if any).
fn endings(out: &mut String, by: &BTreeMap<(u16, Option<&'static str>), u64>) {
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
    for ((status, error_type), n) in by {
        if *n == 0 {
            continue;
        }
        if *status != 0 {
            let c = statuses.entry(*status).or_default();
            *c = c.wrapping_add(*n);
        }
        if let Some(e) = error_type {
            let c = errors.entry(e).or_default();
            *c = c.wrapping_add(*n);
        }
    }
    field(out, "statuses");
    out.push('{');
    for (i, (status, n)) in statuses.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, itoa::Buffer::new().format(*status));
        out.push_str(itoa::Buffer::new().format(*n));
    }
    out.push_str("},");
    field(out, "error_types");
    out.push('{');
    for (i, (error_type, n)) in errors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, error_type);
        out.push_str(itoa::Buffer::new().format(*n));
    }
    out.push('}');
}

fn process(out: &mut String, snapshots: &[Arc<Snapshot>]) {
    let Some((cpu, resident)) = snapshots.last().and_then(|s| s.process) else {
        out.push_str("null");
        return;
    };
    let Some(newest) = snapshots.last() else {
        out.push_str("null");
        return;
    };
    out.push('{');
    field(out, "cpu_seconds_total");
    number(out, Some(cpu));
    out.push(',');
    field(out, "resident_memory_bytes");
    number(out, Some(resident));
    out.push(',');
    field(out, "windows");
    out.push('{');
    for (w, (name, length)) in WINDOWS.iter().enumerate() {
        if w > 0 {
            out.push(',');
        }
        field(out, name);
        let base = snapshots
            .iter()
            .find(|s| s.process.is_some() && s.at >= newest.at - length)
            .unwrap_or(newest);
        let seconds = newest.at - base.at;
        let cores = base
            .process
            .filter(|_| seconds > 0.0)
            .map(|(c, _)| (cpu - c) / seconds);
        out.push('{');
        field(out, "seconds");
        number(out, Some(seconds));
        out.push(',');
        field(out, "cpu_cores");
        number(out, cores);
        out.push('}');
    }
    out.push_str("},");
    field(out, "history");
    out.push('{');
    let pairs: Vec<(f64, Option<f64>, Option<f64>)> = snapshots
        .windows(2)
        .map(|p| {
            let cores = match (p[0].process, p[1].process) {
                (Some((a, _)), Some((b, _))) if p[1].at > p[0].at => {
                    Some((b - a) / (p[1].at - p[0].at))
                }
                _ => None,
            };
            (p[1].at, cores, p[1].process.map(|(_, r)| r))
        })
        .collect();
    field(out, "at_seconds");
    list(out, pairs.iter().map(|p| Some(p.0)));
    out.push(',');
    field(out, "cpu_cores");
    list(out, pairs.iter().map(|p| p.1));
    out.push(',');
    field(out, "resident_memory_bytes");
    list(out, pairs.iter().map(|p| p.2));
    out.push_str("}}");
}

/// `[{runtime, workers, busy_seconds_total: [per worker], windows: {"1m": {seconds, busy_ratio,
/// workers: [per worker]}, …}, history: {at_seconds, busy_ratio}}, …]`: how busy each tokio
/// runtime's workers were. tokio adds a worker's busy time after each batch of tasks, so a
/// short window can see more than its length: ratios are capped at 1.
fn runtimes(out: &mut String, snapshots: &[Arc<Snapshot>]) {
    out.push('[');
    let Some(newest) = snapshots.last() else {
        out.push(']');
        return;
    };
    for (n, runtime) in newest.runtimes.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        // The same runtime, with as many workers, in an older snapshot.
        fn busy_of<'s>(s: &'s Snapshot, runtime: &RuntimeBusy) -> Option<&'s [f64]> {
            s.runtimes
                .iter()
                .find(|r| {
                    r.name == runtime.name && r.busy_seconds.len() == runtime.busy_seconds.len()
                })
                .map(|r| r.busy_seconds.as_slice())
        }
        let busy_in = |s| busy_of(s, runtime);
        let ratios = |from: &[f64], to: &[f64], seconds: f64| -> Option<(f64, Vec<f64>)> {
            if seconds <= 0.0 || to.is_empty() {
                return None;
            }
            let each: Vec<f64> = from
                .iter()
                .zip(to)
                .map(|(a, b)| ((b - a) / seconds).clamp(0.0, 1.0))
                .collect();
            #[allow(clippy::cast_precision_loss)] // a worker count
            let total = each.iter().sum::<f64>() / each.len() as f64;
            Some((total, each))
        };
        out.push('{');
        field(out, "runtime");
        string(out, &runtime.name);
        out.push(',');
        count(out, "workers", runtime.busy_seconds.len() as u64);
        field(out, "busy_seconds_total");
        list(out, runtime.busy_seconds.iter().map(|b| Some(*b)));
        out.push(',');
        field(out, "windows");
        out.push('{');
        for (w, (name, length)) in WINDOWS.iter().enumerate() {
            if w > 0 {
                out.push(',');
            }
            field(out, name);
            let base = snapshots
                .iter()
                .find(|s| s.at >= newest.at - length && busy_in(s).is_some())
                .unwrap_or(newest);
            let seconds = newest.at - base.at;
            let window =
                busy_in(base).and_then(|from| ratios(from, &runtime.busy_seconds, seconds));
            out.push('{');
            field(out, "seconds");
            number(out, Some(seconds));
            out.push(',');
            field(out, "busy_ratio");
            number(out, window.as_ref().map(|w| w.0));
            out.push(',');
            field(out, "workers");
            match &window {
                Some((_, each)) => list(out, each.iter().map(|r| Some(*r))),
                None => list(out, runtime.busy_seconds.iter().map(|_| None)),
            }
            out.push('}');
        }
        out.push_str("},");
        field(out, "history");
        out.push('{');
        let pairs: Vec<(f64, Option<f64>)> = snapshots
            .windows(2)
            .map(|p| {
                let ratio = match (busy_in(&p[0]), busy_in(&p[1])) {
                    (Some(a), Some(b)) => ratios(a, b, p[1].at - p[0].at).map(|r| r.0),
                    _ => None,
                };
                (p[1].at, ratio)
            })
            .collect();
        field(out, "at_seconds");
        list(out, pairs.iter().map(|p| Some(p.0)));
        out.push(',');
        field(out, "busy_ratio");
        list(out, pairs.iter().map(|p| p.1));
        out.push_str("}}");
    }
    out.push(']');
}

fn results(out: &mut String, results: &[u64; 4]) {
    out.push('{');
    for (n, outcome) in Outcome::ALL.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        field(out, outcome.as_str());
        out.push_str(itoa::Buffer::new().format(results[outcome.index()]));
    }
    out.push('}');
}

fn labels<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    out.push('{');
    for (n, (k, v)) in pairs.enumerate() {
        if n > 0 {
            out.push(',');
        }
        field(out, k);
        string(out, v);
    }
    out.push('}');
}

fn list(out: &mut String, values: impl Iterator<Item = Option<f64>>) {
    out.push('[');
    for (n, v) in values.enumerate() {
        if n > 0 {
            out.push(',');
        }
        number(out, v);
    }
    out.push(']');
}

/// The oldest snapshot inside a window of `length` seconds ending at `newest`: a window never
/// claims more than it saw.
fn window_base<'s>(
    snapshots: &'s [Arc<Snapshot>],
    newest: &'s Arc<Snapshot>,
    length: f64,
) -> &'s Arc<Snapshot> {
    snapshots
        .iter()
        .find(|s| s.at >= newest.at - length)
        .unwrap_or(newest)
}

/// `"name":n,`: a counted field and the comma after it.
fn count(out: &mut String, name: &str, n: u64) {
    field(out, name);
    out.push_str(itoa::Buffer::new().format(n));
    out.push(',');
}

fn field(out: &mut String, name: &str) {
    string(out, name);
    out.push(':');
}

/// A finite number in its shortest round-trip form, or `null` (none, NaN, infinite).
fn number(out: &mut String, value: Option<f64>) {
    match value {
        Some(v) if v.is_finite() => {
            if v == v.trunc() && v.abs() < 1e15 {
                // Integral values without a fraction: `60`, not `60.0`.
                let _ = write!(out, "{v:.0}");
            } else {
                out.push_str(ryu::Buffer::new().format_finite(v));
            }
        }
        _ => out.push_str("null"),
    }
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{document, number, string};
    use crate::live::snapshot::{OutboundCounts, OutboundKey, Snapshot};

    #[test]
    fn runtimes_have_busy_ratios_per_window_and_worker() {
        use super::super::snapshot::RuntimeBusy;
        let snapshot = |at: f64, busy: Option<Vec<f64>>| {
            Arc::new(Snapshot {
                at,
                runtimes: busy
                    .into_iter()
                    .map(|busy_seconds| RuntimeBusy {
                        name: Arc::from("main"),
                        busy_seconds,
                    })
                    .collect(),
                ..Snapshot::default()
            })
        };
        // Registered at 10 s; by 20 s worker 0 ran tasks for 5 s and worker 1 for 1 s; by
        // 30 s worker 0 saw a 12 s batch (capped at the window's 10 s).
        let snapshots = [
            snapshot(0.0, None),
            snapshot(10.0, Some(vec![1.0, 2.0])),
            snapshot(20.0, Some(vec![6.0, 3.0])),
            snapshot(30.0, Some(vec![18.0, 3.0])),
        ];
        let doc: serde_json::Value =
            serde_json::from_str(&document(&snapshots, 10.0)).expect("JSON");
        let r = &doc["runtimes"][0];
        assert_eq!(r["runtime"], "main");
        assert_eq!(r["workers"], 2);
        assert_eq!(r["busy_seconds_total"], serde_json::json!([18, 3]));
        // 1 min: from 10 s (the first snapshot that knew the runtime) to 30 s.
        let w = &r["windows"]["1m"];
        assert_eq!(w["seconds"], 20.0);
        assert_eq!(w["workers"], serde_json::json!([0.85, 0.05]));
        assert_eq!(w["busy_ratio"], 0.45);
        assert_eq!(r["history"]["at_seconds"], serde_json::json!([10, 20, 30]));
        assert_eq!(
            r["history"]["busy_ratio"],
            serde_json::json!([null, 0.3, 0.5])
        );

        // Only the newest snapshot: no window yet.
        let doc: serde_json::Value =
            serde_json::from_str(&document(&snapshots[3..], 10.0)).expect("JSON");
        let w = &doc["runtimes"][0]["windows"]["5m"];
        assert_eq!(w["busy_ratio"], serde_json::Value::Null);
        assert_eq!(w["workers"], serde_json::json!([null, null]));
        // No runtime registered: an empty list.
        let doc: serde_json::Value =
            serde_json::from_str(&document(&snapshots[..1], 10.0)).expect("JSON");
        assert_eq!(doc["runtimes"], serde_json::json!([]));
        let doc: serde_json::Value = serde_json::from_str(&document(&[], 10.0)).expect("JSON");
        assert_eq!(doc["runtimes"], serde_json::json!([]));
    }

    #[test]
    fn outbound_entries_have_their_windows_statuses_and_error_types() {
        static LABELS: [(String, String); 0] = [];
        let key = OutboundKey {
            server_address: "peer.internal",
            server_port: Some("8081"),
            method: "GET",
            table: 0,
        };
        let counts = |ok: u64, refused: u64, bytes: u64| OutboundCounts {
            labels: &LABELS,
            bounds: &[0.1, 1.0],
            endings: [
                ((200, None), ok),
                ((500, None), 1),
                ((0, Some("connect")), refused),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect(),
            failed: 1 + refused,
            buckets: vec![ok + refused, 1, 0],
            responses: ok + 1,
            response_bytes: bytes,
        };
        let snapshot = |at: f64, c: Option<OutboundCounts>| {
            Arc::new(Snapshot {
                at,
                outbound: c.into_iter().map(|c| (key.clone(), c)).collect(),
                ..Snapshot::default()
            })
        };
        // Nothing called at 0 s; 3 OK and a 500 by 10 s; 3 more OK and 2 refused by 20 s.
        let snapshots = [
            snapshot(0.0, None),
            snapshot(10.0, Some(counts(3, 0, 40))),
            snapshot(20.0, Some(counts(6, 2, 70))),
        ];
        let doc: serde_json::Value =
            serde_json::from_str(&document(&snapshots, 10.0)).expect("JSON");
        let entries = doc["outbound"].as_array().expect("outbound");
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(
            (&e["server_address"], &e["server_port"], &e["method"]),
            (
                &serde_json::json!("peer.internal"),
                &serde_json::json!("8081"),
                &serde_json::json!("GET")
            )
        );
        assert_eq!(e["labels"], serde_json::json!({}));
        assert_eq!(
            (&e["total"], &e["failed"]),
            (&serde_json::json!(9), &serde_json::json!(3))
        );
        assert_eq!(e["statuses"], serde_json::json!({"200": 6, "500": 1}));
        assert_eq!(e["error_types"], serde_json::json!({"connect": 2}));
        let w = &e["windows"]["1m"];
        assert_eq!(w["seconds"], 20);
        assert_eq!(w["calls"], 9);
        assert_eq!(w["calls_per_second"], 0.45);
        assert_eq!(w["error_ratio"], 3.0 / 9.0);
        assert_eq!(w["bytes_received_per_call"], 10);
        assert!(w["p50_seconds"]
            .as_f64()
            .is_some_and(|p| p > 0.0 && p <= 0.1));
        assert_eq!(e["history"]["at_seconds"], serde_json::json!([10, 20]));
        assert_eq!(
            e["history"]["calls_per_second"],
            serde_json::json!([0.4, 0.5])
        );
        assert_eq!(e["history"]["error_ratio"], serde_json::json!([0.25, 0.4]));
        // The last interval alone: 3 OK and 2 refused, 30 bytes over 3 responses.
        let last: serde_json::Value =
            serde_json::from_str(&document(&snapshots[1..], 10.0)).expect("JSON");
        let w = &last["outbound"][0]["windows"]["5m"];
        assert_eq!(w["statuses"], serde_json::json!({"200": 3}));
        assert_eq!(w["error_types"], serde_json::json!({"connect": 2}));
        assert_eq!(w["bytes_received_per_call"], 10);
        // No snapshot at all: an empty list.
        let none: serde_json::Value = serde_json::from_str(&document(&[], 5.0)).expect("JSON");
        assert_eq!(none["outbound"], serde_json::json!([]));
    }

    #[test]
    fn numbers_and_strings_are_json() {
        let mut out = String::new();
        for v in [
            Some(60.0),
            Some(0.25),
            Some(-0.0),
            Some(1e-7),
            Some(f64::NAN),
            None,
            Some(f64::INFINITY),
        ] {
            number(&mut out, v);
            out.push(' ');
        }
        assert_eq!(out, "60 0.25 -0 1e-7 null null null ");
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }

    /// xorshift64*: the same "random" inputs on every run, so a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A string from what breaks hand-written JSON: quotes, backslashes, every control
    /// character, DEL, the separators JavaScript once refused (U+2028, U+2029), a BOM,
    /// non-ASCII of every UTF-8 length, and any other scalar value.
    fn hostile(rng: &mut Rng) -> String {
        const PICKS: &[char] = &[
            '"',
            '\\',
            '/',
            '\n',
            '\r',
            '\t',
            '\u{0}',
            '\u{8}',
            '\u{c}',
            '\u{1f}',
            '\u{7f}',
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            'é',
            '日',
            '🦀',
            '\u{10ffff}',
            'a',
            ' ',
            '{',
            '}',
        ];
        let len = rng.below(24);
        (0..len)
            .map(|_| match rng.below(3) {
                0 => char::from_u32(u32::try_from(rng.below(0x20)).unwrap()).unwrap(),
                1 => PICKS[usize::try_from(rng.below(PICKS.len() as u64)).unwrap()],
                // Any scalar value; surrogates are not chars, so they come out as U+FFFD.
                _ => char::from_u32(u32::try_from(rng.below(0x11_0000)).unwrap())
                    .unwrap_or('\u{fffd}'),
            })
            .collect()
    }

    #[test]
    fn hostile_strings_read_back_unchanged() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let s = hostile(&mut rng);
            let mut out = String::new();
            string(&mut out, &s);
            let back: String = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{s:?} was written as {out}, which is not JSON: {e}"));
            assert_eq!(back, s, "written as {out}");
        }
    }

    #[test]
    fn any_f64_reads_back_unchanged_or_null() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let edges = [
            0.0,
            -0.0,
            1e15,
            -1e15,
            1e15 - 1.0,
            1e16,
            5e-324,
            f64::MAX,
            f64::MIN,
        ];
        let random = (0..20_000).map(|i| {
            let bits = rng.next();
            // Half raw bit patterns (NaN and infinities included), half ordinary magnitudes.
            if i % 2 == 0 {
                f64::from_bits(bits)
            } else {
                #[allow(clippy::cast_precision_loss)] // any f64 will do
                let v = (bits >> 11) as f64 / 1e6;
                v
            }
        });
        for v in edges.into_iter().chain(random) {
            let mut out = String::new();
            number(&mut out, Some(v));
            let back: serde_json::Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{v:e} was written as {out}, which is not JSON: {e}"));
            if v.is_finite() {
                assert_eq!(back.as_f64(), Some(v), "{v:e} was written as {out}");
            } else {
                assert!(back.is_null(), "{v} was written as {out}");
            }
        }
    }
}
