//! Reading the HTTP client families back: one test's series (constant label `test`), keyed by
//! their other labels, so a test asserts the exact set of series its calls made.

use std::collections::BTreeMap;

/// The `_count` of the client duration histogram.
pub const COUNT: &str = "http_client_request_duration_seconds_count";
/// The response body size histogram's `_sum` and `_count`.
pub const RESPONSE_SUM: &str = "http_client_response_body_size_bytes_sum";
pub const RESPONSE_COUNT: &str = "http_client_response_body_size_bytes_count";
/// The request body size histogram's `_sum` and `_count`.
pub const REQUEST_SUM: &str = "http_client_request_body_size_bytes_sum";
pub const REQUEST_COUNT: &str = "http_client_request_body_size_bytes_count";
/// Calls in flight.
pub const ACTIVE: &str = "http_client_active_requests";
/// Calls past the address limit.
pub const OVERFLOW: &str = "instrument_metrics_http_client_address_overflow_total";

/// Every sample of `name` whose constant label `test` is `test`, keyed by its other labels
/// written `k=v` in name order, comma separated (see [`key`]).
#[must_use]
pub fn series(test: &str, name: &str) -> BTreeMap<String, f64> {
    crate::parse(&instrument_metrics::render())
        .into_iter()
        .filter(|s| s.name == name && s.labels.get("test").map(String::as_str) == Some(test))
        .map(|s| {
            let labels: Vec<(&str, &str)> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "test")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            (key(&labels), s.value)
        })
        .collect()
}

/// The key [`series`] gives a sample with these labels (in any order).
#[must_use]
pub fn key(labels: &[(&str, &str)]) -> String {
    let sorted: BTreeMap<&str, &str> = labels.iter().copied().collect();
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The labels of one call's series: method, address, port, then the status (if a response
/// head arrived) and the error type (if the call did not complete), `""` for none.
#[must_use]
pub fn call(method: &str, address: &str, port: &str, status: &str, error: &str) -> String {
    let mut labels = vec![
        ("http_request_method", method),
        ("server_address", address),
        ("server_port", port),
    ];
    if !status.is_empty() {
        labels.push(("http_response_status_code", status));
    }
    if !error.is_empty() {
        labels.push(("error_type", error));
    }
    key(&labels)
}

/// The map a test expects from [`series`].
#[must_use]
pub fn expect(entries: &[(String, f64)]) -> BTreeMap<String, f64> {
    entries.iter().cloned().collect()
}
