//! The gRPC families, read from every declared or seen method, named as go-grpc-middleware's
//! Prometheus provider names them. Each (method, side) is read once: its handled counters
//! before its buckets, so the histogram never counts fewer calls than `handled` says ended.
//!
//! [`readings`] reads the same counters, in the same order, of the same (method, side) pairs,
//! as plain numbers: what the live page's snapshots and the objectives' counts are made of.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::expose::families::{
    nanos_to_seconds, Describe, GRPC_CLIENT_HANDLED, GRPC_CLIENT_HANDLING, GRPC_CLIENT_RECEIVED,
    GRPC_CLIENT_SENT, GRPC_CLIENT_STARTED, GRPC_METHOD_OVERFLOW, GRPC_SERVER_BUSY,
    GRPC_SERVER_HANDLED, GRPC_SERVER_HANDLING, GRPC_SERVER_RECEIVED, GRPC_SERVER_SENT,
    GRPC_SERVER_SLOW_POLLS, GRPC_SERVER_STARTED, GRPC_TRANSPORT_ERRORS,
};
use crate::expose::snapshot::{Bounds, Extra, Family, Histogram, Labels, Number, Sample, Value};
use crate::record::grpc::{
    is_serving, methods, Counts, Method, Side, CODES, DURATION_BOUNDS_SECONDS, OVERFLOWS,
};
use crate::record::native::{self, NativeReading};

/// One side's families, filled together.
#[derive(Default)]
struct SideFamilies {
    started: Vec<Sample>,
    handled: Vec<Sample>,
    received: Vec<Sample>,
    sent: Vec<Sample>,
    handling: Vec<Sample>,
}

/// Appends the gRPC families.
pub(crate) fn families(out: &mut Vec<Family>) {
    let kind = native::default_histograms();
    let bounds = Arc::new(Bounds::new(DURATION_BOUNDS_SECONDS.to_vec()));
    let serving = is_serving();
    let mut sides = [SideFamilies::default(), SideFamilies::default()];
    let mut transport = Vec::new();
    let (mut busy, mut slow) = (Vec::new(), Vec::new());
    for method in methods() {
        for side in [Side::Server, Side::Client] {
            if !exposed(method, side, serving) {
                continue;
            }
            let counts = method.counts(side);
            let labels = Labels::new([
                ("grpc_type", method.kind.label()),
                ("grpc_service", method.service),
                ("grpc_method", method.name),
            ]);
            read_side(
                &mut sides[side as usize],
                counts,
                &labels,
                &bounds,
                kind.classic(),
                kind.native(),
            );
            transport.push(counter(
                Cow::Owned(side_labels(side, method)),
                counts.transport_errors.load(Ordering::Relaxed),
            ));
            // With the server layer's `polls`: busy time, once a call kept it.
            if let Some(cells) = counts.busy.get() {
                let reading = cells.read();
                let labels: Cow<'static, Labels> = Cow::Owned(labels);
                let h = Histogram::new(
                    Arc::clone(&bounds),
                    reading.buckets,
                    nanos_to_seconds(u128::from(reading.nanos)),
                    true,
                    None,
                    Vec::new(),
                );
                busy.push(Sample {
                    labels: labels.clone(),
                    extra: Extra::NONE,
                    value: Value::Histogram(h),
                });
                slow.push(counter(labels, reading.slow));
            }
        }
    }
    let [server, client] = sides;
    push(out, GRPC_SERVER_STARTED, server.started);
    push(out, GRPC_SERVER_HANDLED, server.handled);
    push(out, GRPC_SERVER_RECEIVED, server.received);
    push(out, GRPC_SERVER_SENT, server.sent);
    push(out, GRPC_SERVER_HANDLING, server.handling);
    push(out, GRPC_CLIENT_STARTED, client.started);
    push(out, GRPC_CLIENT_HANDLED, client.handled);
    push(out, GRPC_CLIENT_RECEIVED, client.received);
    push(out, GRPC_CLIENT_SENT, client.sent);
    push(out, GRPC_CLIENT_HANDLING, client.handling);
    push(out, GRPC_TRANSPORT_ERRORS, transport);
    push(out, GRPC_SERVER_BUSY, busy);
    push(out, GRPC_SERVER_SLOW_POLLS, slow);
    push(
        out,
        GRPC_METHOD_OVERFLOW,
        vec![counter(
            Cow::Owned(Labels::default()),
            OVERFLOWS.load(Ordering::Relaxed),
        )],
    );
}

/// Whether a side of a method is in the exposition: once called there, and on the server from
/// the start when declared (and a server layer exists).
fn exposed(method: &Method, side: Side, serving: bool) -> bool {
    method.counts(side).seen.load(Ordering::Relaxed)
        || (side == Side::Server && method.declared && serving)
}

/// The codes that say the server failed, by number (`Unknown`, `DeadlineExceeded`,
/// `Unimplemented`, `Internal`, `Unavailable`, `DataLoss`): those `tonic::Code` classifies as
/// `error`, and the error ratios of the live page and the objectives count.
pub(crate) const SERVER_FAILURE_CODES: [usize; 6] = [2, 4, 12, 13, 14, 15];

/// The `grpc_code` values, by code number.
pub(crate) const CODE_NAMES: &[&str] = &CODES;

/// The `grpc_*_handling_seconds` bucket bounds, in seconds.
pub(crate) const BOUNDS_SECONDS: &[f64] = &DURATION_BOUNDS_SECONDS;

/// One side of one method, as its families would show it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MethodReading {
    /// `server` or `client`.
    pub side: &'static str,
    pub service: &'static str,
    pub method: &'static str,
    /// The `grpc_type` value.
    pub kind: &'static str,
    pub started: u64,
    pub received: u64,
    pub sent: u64,
    /// Calls ended, by code number (the index into [`CODES`]).
    pub handled: [u64; CODES.len()],
    /// Durations per bucket, not cumulative, `+Inf` last.
    pub buckets: Vec<u64>,
}

/// Every (method, side) the gRPC families expose, in their order, read as the families read
/// them (handled, then started and messages, then buckets).
pub(crate) fn readings() -> Vec<MethodReading> {
    let serving = is_serving();
    let mut out = Vec::new();
    for method in methods() {
        for side in [Side::Server, Side::Client] {
            if !exposed(method, side, serving) {
                continue;
            }
            let counts = method.counts(side);
            let handled = std::array::from_fn(|code| counts.handled[code].load(Ordering::Acquire));
            let started = counts.started.load(Ordering::Relaxed);
            let received = counts.received.load(Ordering::Relaxed);
            let sent = counts.sent.load(Ordering::Relaxed);
            let (buckets, _sum) = counts.read_durations();
            out.push(MethodReading {
                side: side_name(side),
                service: method.service,
                method: method.name,
                kind: method.kind.label(),
                started,
                received,
                sent,
                handled,
                buckets,
            });
        }
    }
    out
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Server => "server",
        Side::Client => "client",
    }
}

fn read_side(
    into: &mut SideFamilies,
    counts: &Counts,
    labels: &Labels,
    bounds: &Arc<Bounds>,
    classic: bool,
    native: bool,
) {
    for (code, name) in CODES.iter().enumerate() {
        let mut with_code = labels.clone();
        with_code.push("grpc_code", name);
        into.handled.push(counter(
            Cow::Owned(with_code),
            counts.handled[code].load(Ordering::Acquire),
        ));
    }
    // Started after handled: a call is started before it is handled, so started >= handled.
    into.started.push(counter(
        Cow::Owned(labels.clone()),
        counts.started.load(Ordering::Relaxed),
    ));
    into.received.push(counter(
        Cow::Owned(labels.clone()),
        counts.received.load(Ordering::Relaxed),
    ));
    into.sent.push(counter(
        Cow::Owned(labels.clone()),
        counts.sent.load(Ordering::Relaxed),
    ));
    let (buckets, sum) = counts.read_durations();
    let native = counts.native.get().filter(|_| native).map(|n| {
        let mut r = NativeReading::default();
        n.add_to(&mut r);
        r
    });
    into.handling.push(Sample {
        labels: Cow::Owned(labels.clone()),
        extra: Extra::NONE,
        value: Value::Histogram(Histogram::new(
            Arc::clone(bounds),
            buckets,
            nanos_to_seconds(u128::from(sum)),
            classic,
            native,
            counts.exemplars(),
        )),
    });
}

fn side_labels(side: Side, method: &Method) -> Labels {
    Labels::new([
        ("grpc_side", side_name(side)),
        ("grpc_type", method.kind.label()),
        ("grpc_service", method.service),
        ("grpc_method", method.name),
    ])
}

fn counter(labels: Cow<'static, Labels>, n: u64) -> Sample {
    Sample {
        labels,
        extra: Extra::NONE,
        value: Value::Counter {
            value: Number::Int(n),
            exemplar: None,
            created: None,
        },
    }
}

fn push(out: &mut Vec<Family>, describe: Describe, samples: Vec<Sample>) {
    if !samples.is_empty() {
        out.push(Family::ours(describe, samples));
    }
}

#[cfg(test)]
mod tests {
    use super::{CODES, SERVER_FAILURE_CODES};
    use crate::record::outcome::{ClassifyOutcome, Outcome};

    #[test]
    fn the_server_failure_codes_are_those_tonic_codes_classify_as_errors() {
        let names: Vec<&str> = SERVER_FAILURE_CODES.iter().map(|c| CODES[*c]).collect();
        assert_eq!(
            names,
            [
                "Unknown",
                "DeadlineExceeded",
                "Unimplemented",
                "Internal",
                "Unavailable",
                "DataLoss"
            ]
        );
        for (number, name) in CODES.iter().enumerate() {
            let code = tonic::Code::from_i32(i32::try_from(number).unwrap());
            assert_eq!(
                code.outcome() == Outcome::Error,
                SERVER_FAILURE_CODES.contains(&number),
                "{name}"
            );
        }
    }
}
