//! The gRPC families, read from every declared or seen method, named as go-grpc-middleware's
//! Prometheus provider names them. Each (method, side) is read once: its handled counters
//! before its buckets, so the histogram never counts fewer calls than `handled` says ended.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::expose::families::{
    nanos_to_seconds, Describe, GRPC_CLIENT_HANDLED, GRPC_CLIENT_HANDLING, GRPC_CLIENT_RECEIVED,
    GRPC_CLIENT_SENT, GRPC_CLIENT_STARTED, GRPC_METHOD_OVERFLOW, GRPC_SERVER_HANDLED,
    GRPC_SERVER_HANDLING, GRPC_SERVER_RECEIVED, GRPC_SERVER_SENT, GRPC_SERVER_STARTED,
    GRPC_TRANSPORT_ERRORS,
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
    for method in methods() {
        for side in [Side::Server, Side::Client] {
            let counts = method.counts(side);
            let exposed = counts.seen.load(Ordering::Relaxed)
                || (side == Side::Server && method.declared && serving);
            if !exposed {
                continue;
            }
            let labels = Cow::Owned(Labels::new([
                ("grpc_type", method.kind.label()),
                ("grpc_service", method.service),
                ("grpc_method", method.name),
            ]));
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
    push(
        out,
        GRPC_METHOD_OVERFLOW,
        vec![counter(
            Cow::Owned(Labels::default()),
            OVERFLOWS.load(Ordering::Relaxed),
        )],
    );
}

fn read_side(
    into: &mut SideFamilies,
    counts: &Counts,
    labels: &Cow<'static, Labels>,
    bounds: &Arc<Bounds>,
    classic: bool,
    native: bool,
) {
    for (code, name) in CODES.iter().enumerate() {
        let mut with_code = labels.clone().into_owned();
        with_code.push("grpc_code", name);
        into.handled.push(counter(
            Cow::Owned(with_code),
            counts.handled[code].load(Ordering::Acquire),
        ));
    }
    // Started after handled: a call is started before it is handled, so started >= handled.
    into.started.push(counter(
        labels.clone(),
        counts.started.load(Ordering::Relaxed),
    ));
    into.received.push(counter(
        labels.clone(),
        counts.received.load(Ordering::Relaxed),
    ));
    into.sent
        .push(counter(labels.clone(), counts.sent.load(Ordering::Relaxed)));
    let (buckets, sum) = counts.read_durations();
    let native = counts.native.get().filter(|_| native).map(|n| {
        let mut r = NativeReading::default();
        n.add_to(&mut r);
        r
    });
    into.handling.push(Sample {
        labels: labels.clone(),
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
        (
            "grpc_side",
            match side {
                Side::Server => "server",
                Side::Client => "client",
            },
        ),
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
