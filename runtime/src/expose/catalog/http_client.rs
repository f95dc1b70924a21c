//! The HTTP client families, read from the client layer's and reqwest middleware's tables,
//! named as OpenTelemetry's Prometheus exporter names its HTTP client metrics. Each series is
//! read once: its duration buckets, native buckets and exemplars go out together.
//!
//! [`readings`] reads the same series as plain numbers, per table, endpoint and method: what
//! the live page's outbound table is made of. [`is_failure`] says which calls it counts as
//! failed.

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

/// Whether a call failed: a 5xx status received, or any `error_type` (the call did not
/// complete: `connect`, `timeout`, `service_error`, `body_error`, `cancelled`, `panic`). What
/// the live page's error ratio and the outbound rules of `examples/prometheus/rules.yml` count.
pub(crate) fn is_failure(status: u16, error_type: Option<&str>) -> bool {
    status >= 500 || error_type.is_some()
}

/// The calls of one method to one endpoint of one table, as the HTTP client families show
/// them, summed over their statuses and endings.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CallsReading {
    /// The table's index, in the order tables were created (they are never removed).
    pub table: usize,
    /// The table's constant labels.
    pub labels: &'static [(String, String)],
    /// The table's duration bounds, in seconds.
    pub bounds_seconds: &'static [f64],
    pub server_address: &'static str,
    /// `None` when the call's URI had neither a port nor a known scheme (no label).
    pub server_port: Option<&'static str>,
    /// The `http_request_method` value.
    pub method: &'static str,
    /// Calls by (status received, 0 for none; `error_type`, `None` for a complete call),
    /// sorted, no zeros.
    pub endings: Vec<((u16, Option<&'static str>), u64)>,
    /// Durations per bucket, not cumulative, `+Inf` last.
    pub buckets: Vec<u64>,
    /// Calls that received a response head (the observations of
    /// `http_client_response_body_size_bytes`), and the body bytes they received (its sum).
    pub responses: u64,
    pub response_bytes: u64,
}

/// Every (table, endpoint, method) with a call, in the families' order (tables as created,
/// endpoints as first seen, methods in the server's order). Each series' response sizes are
/// read before its durations, so `responses` never counts a call `buckets` has not.
pub(crate) fn readings() -> Vec<CallsReading> {
    let mut out = Vec::new();
    for (table, t) in client_tables().into_iter().enumerate() {
        let buckets = t.duration_bounds_seconds.len() + 1;
        for endpoint in t.all_endpoints() {
            let first = out.len();
            for s in endpoint.all_series() {
                let (method, status, end) = s.labels();
                let (sizes, response_bytes) = s.response_bytes.read();
                let (durations, _sum) = s.duration_nanos.read();
                let calls = durations.iter().fold(0u64, |a, n| a.wrapping_add(*n));
                if calls == 0 {
                    continue;
                }
                let method = METHODS[usize::from(method)];
                let at = match out[first..]
                    .iter()
                    .position(|r: &CallsReading| r.method == method)
                {
                    Some(i) => first + i,
                    None => {
                        out.push(CallsReading {
                            table,
                            labels: &t.labels,
                            bounds_seconds: &t.duration_bounds_seconds,
                            server_address: &endpoint.address,
                            server_port: endpoint.port_label.as_deref(),
                            method,
                            endings: Vec::new(),
                            buckets: vec![0; buckets],
                            responses: 0,
                            response_bytes: 0,
                        });
                        out.len() - 1
                    }
                };
                let r = &mut out[at];
                let ending = (status, end.error_type());
                match r.endings.iter_mut().find(|(k, _)| *k == ending) {
                    Some((_, n)) => *n = n.wrapping_add(calls),
                    None => r.endings.push((ending, calls)),
                }
                for (a, b) in r.buckets.iter_mut().zip(&durations) {
                    *a = a.wrapping_add(*b);
                }
                r.responses = r
                    .responses
                    .wrapping_add(sizes.iter().fold(0u64, |a, n| a.wrapping_add(*n)));
                r.response_bytes = r.response_bytes.wrapping_add(response_bytes);
            }
            out[first..].sort_by_key(|r| {
                METHODS
                    .iter()
                    .position(|m| *m == r.method)
                    .unwrap_or(METHODS.len())
            });
            for r in &mut out[first..] {
                r.endings.sort_unstable_by_key(|(k, _)| *k);
            }
        }
    }
    out
}
