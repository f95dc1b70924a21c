//! The HTTP server families, read from the tower layer's and actix middleware's tables, named
//! as OpenTelemetry's Prometheus exporter names its HTTP server metrics so that dashboards
//! written for those fit. Each series is read once: its duration buckets, native buckets and
//! exemplars go out together.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::expose::families::{
    nanos_to_seconds, HTTP_ACTIVE, HTTP_BUSY, HTTP_DURATION, HTTP_REQUEST_SIZE, HTTP_RESPONSE_SIZE,
    HTTP_ROUTE_OVERFLOW, HTTP_SLOW_POLLS,
};
use crate::expose::snapshot::{Bounds, Extra, Family, Histogram, Labels, Number, Sample, Value};
use crate::record::http::{tables, Series, Table, METHODS};
use crate::record::native::NativeReading;

/// Label names no constant label of an HTTP table may take.
pub(crate) const RESERVED: [&str; 5] = [
    "http_request_method",
    "http_route",
    "http_response_status_code",
    "error_type",
    "le",
];

/// Appends the HTTP families (none before the first table exists).
pub(crate) fn families(out: &mut Vec<Family>) {
    let tables = tables();
    if tables.is_empty() {
        return;
    }
    let (mut duration, mut active, mut request, mut response, mut overflow) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut busy, mut slow) = (Vec::new(), Vec::new());
    for t in &tables {
        let kind = t.histograms();
        let duration_bounds = Arc::new(Bounds::new(t.duration_bounds_seconds.clone()));
        #[allow(clippy::cast_precision_loss)] // byte bounds are far below 2^53
        let size_bounds = Arc::new(Bounds::new(
            t.size_bounds.iter().map(|b| *b as f64).collect(),
        ));
        let buckets = t.duration_bounds_seconds.len() + 1;
        for route in t.routes() {
            for s in route.all_series() {
                let labels: Cow<'static, Labels> = Cow::Owned(series_labels(t, &route.name, s));
                let (b, sum) = s.duration_nanos.read();
                // Read after the classic buckets: see `Histogram::new`.
                let native = s.native.as_ref().filter(|_| kind.native()).map(|n| {
                    let mut r = NativeReading::default();
                    n.add_to(&mut r);
                    r
                });
                let h = Histogram::new(
                    Arc::clone(&duration_bounds),
                    b,
                    nanos_to_seconds(u128::from(sum)),
                    kind.classic(),
                    native,
                    s.exemplars(buckets),
                );
                duration.push(sample(labels.clone(), Value::Histogram(h)));
                let (b, sum) = s.request_bytes.read();
                if b.iter().any(|n| *n > 0) {
                    request.push(sample(labels.clone(), size(&size_bounds, b, sum)));
                }
                let (b, sum) = s.response_bytes.read();
                response.push(sample(labels, size(&size_bounds, b, sum)));
            }
            // With `polls`: busy time by (method, route), for the methods the route served.
            for (method, cells) in route.busy_by_method().into_iter().flatten().enumerate() {
                let reading = cells.read();
                if reading.count() == 0 {
                    continue;
                }
                let mut labels = Labels::new([
                    ("http_request_method", METHODS[method]),
                    ("http_route", &*route.name),
                ]);
                add_constant_labels(t, &mut labels);
                let labels: Cow<'static, Labels> = Cow::Owned(labels);
                let h = Histogram::new(
                    Arc::clone(&duration_bounds),
                    reading.buckets,
                    nanos_to_seconds(u128::from(reading.nanos)),
                    true,
                    None,
                    Vec::new(),
                );
                busy.push(sample(labels.clone(), Value::Histogram(h)));
                slow.push(sample(
                    labels,
                    Value::Counter {
                        value: Number::Int(reading.slow),
                        exemplar: None,
                        created: None,
                    },
                ));
            }
        }
        for (method, n) in t.active() {
            let mut labels = Labels::new([("http_request_method", METHODS[usize::from(method)])]);
            add_constant_labels(t, &mut labels);
            active.push(sample(
                Cow::Owned(labels),
                Value::Gauge(Number::Int(u64::try_from(n).unwrap_or(0))),
            ));
        }
        let mut labels = Labels::default();
        add_constant_labels(t, &mut labels);
        overflow.push(sample(
            Cow::Owned(labels),
            Value::Counter {
                value: Number::Int(t.route_overflows.load(Ordering::Relaxed)),
                exemplar: None,
                created: None,
            },
        ));
    }
    for (describe, samples) in [
        (HTTP_DURATION, duration),
        (HTTP_ACTIVE, active),
        (HTTP_REQUEST_SIZE, request),
        (HTTP_RESPONSE_SIZE, response),
        (HTTP_ROUTE_OVERFLOW, overflow),
        (HTTP_BUSY, busy),
        (HTTP_SLOW_POLLS, slow),
    ] {
        if !samples.is_empty() {
            out.push(Family::ours(describe, samples));
        }
    }
}

fn sample(labels: Cow<'static, Labels>, value: Value) -> Sample {
    Sample {
        labels,
        extra: Extra::NONE,
        value,
    }
}

fn size(bounds: &Arc<Bounds>, buckets: Vec<u64>, sum: u64) -> Value {
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 bytes
    let sum = sum as f64;
    Value::Histogram(Histogram::new(
        Arc::clone(bounds),
        buckets,
        sum,
        true,
        None,
        Vec::new(),
    ))
}

fn add_constant_labels(t: &Table, labels: &mut Labels) {
    for (k, v) in &t.labels {
        labels.push(k, v);
    }
}

/// Method, route, status (when one was sent), error type (when the exchange did not end
/// well), then the table's constant labels.
fn series_labels(t: &Table, route: &str, s: &Series) -> Labels {
    let (method, status, ending) = s.labels();
    let mut labels = Labels::new([
        ("http_request_method", METHODS[usize::from(method)]),
        ("http_route", route),
    ]);
    if status != 0 {
        let mut buf = itoa::Buffer::new();
        labels.push("http_response_status_code", buf.format(status));
    }
    if let Some(e) = ending.error_type() {
        labels.push("error_type", e);
    }
    add_constant_labels(t, &mut labels);
    labels
}
