//! The HTTP client families, read from the client layer's and reqwest middleware's tables,
//! named as OpenTelemetry's Prometheus exporter names its HTTP client metrics. Each series is
//! read once: its duration buckets, native buckets and exemplars go out together.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::expose::families::{
    nanos_to_seconds, HTTP_CLIENT_ACTIVE, HTTP_CLIENT_ADDRESS_OVERFLOW, HTTP_CLIENT_DURATION,
    HTTP_CLIENT_REQUEST_SIZE, HTTP_CLIENT_RESPONSE_SIZE,
};
use crate::expose::snapshot::{Bounds, Extra, Family, Histogram, Labels, Number, Sample, Value};
use crate::record::http::METHODS;
use crate::record::native::NativeReading;
use crate::record::outbound::{client_tables, ClientTable, Endpoint, Series};

/// Label names no constant label of an HTTP client table may take.
pub(crate) const RESERVED: [&str; 6] = [
    "http_request_method",
    "server_address",
    "server_port",
    "http_response_status_code",
    "error_type",
    "le",
];

/// Appends the HTTP client families (none before the first table exists).
pub(crate) fn families(out: &mut Vec<Family>) {
    let tables = client_tables();
    if tables.is_empty() {
        return;
    }
    let (mut duration, mut active, mut request, mut response, mut overflow) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in &tables {
        let kind = t.histograms();
        let duration_bounds = Arc::new(Bounds::new(t.duration_bounds_seconds.clone()));
        #[allow(clippy::cast_precision_loss)] // byte bounds are far below 2^53
        let size_bounds = Arc::new(Bounds::new(
            t.size_bounds.iter().map(|b| *b as f64).collect(),
        ));
        let buckets = t.duration_bounds_seconds.len() + 1;
        for endpoint in t.all_endpoints() {
            for s in endpoint.all_series() {
                let labels: Cow<'static, Labels> = Cow::Owned(series_labels(t, endpoint, s));
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
                if b.iter().any(|n| *n > 0) {
                    response.push(sample(labels, size(&size_bounds, b, sum)));
                }
            }
            for (method, n) in endpoint.active() {
                let mut labels =
                    Labels::new([("http_request_method", METHODS[usize::from(method)])]);
                add_endpoint(endpoint, &mut labels);
                add_constant_labels(t, &mut labels);
                active.push(sample(
                    Cow::Owned(labels),
                    Value::Gauge(Number::Int(u64::try_from(n).unwrap_or(0))),
                ));
            }
        }
        let mut labels = Labels::default();
        add_constant_labels(t, &mut labels);
        overflow.push(sample(
            Cow::Owned(labels),
            Value::Counter {
                value: Number::Int(t.address_overflows.load(Ordering::Relaxed)),
                exemplar: None,
                created: None,
            },
        ));
    }
    for (describe, samples) in [
        (HTTP_CLIENT_DURATION, duration),
        (HTTP_CLIENT_ACTIVE, active),
        (HTTP_CLIENT_REQUEST_SIZE, request),
        (HTTP_CLIENT_RESPONSE_SIZE, response),
        (HTTP_CLIENT_ADDRESS_OVERFLOW, overflow),
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

fn add_endpoint(e: &Endpoint, labels: &mut Labels) {
    labels.push("server_address", &e.address);
    if let Some(port) = &e.port_label {
        labels.push("server_port", port);
    }
}

fn add_constant_labels(t: &ClientTable, labels: &mut Labels) {
    for (k, v) in &t.labels {
        labels.push(k, v);
    }
}

/// Method, address, port, status (when a response head arrived), error type (when the call did
/// not complete), then the table's constant labels.
fn series_labels(t: &ClientTable, e: &Endpoint, s: &Series) -> Labels {
    let (method, status, end) = s.labels();
    let mut labels = Labels::new([("http_request_method", METHODS[usize::from(method)])]);
    add_endpoint(e, &mut labels);
    if status != 0 {
        let mut buf = itoa::Buffer::new();
        labels.push("http_response_status_code", buf.format(status));
    }
    if let Some(error) = end.error_type() {
        labels.push("error_type", error);
    }
    add_constant_labels(t, &mut labels);
    labels
}
