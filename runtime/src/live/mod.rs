//! The live page: what every instrumented function, HTTP route and gRPC method does right now,
//! and how the HTTP calls the process makes fare, without Prometheus or Grafana, served by the exporter (and by the [axum](crate::axum) and
//! [actix](crate::actix) handlers) beside `/metrics`.
//!
//! - `snapshot`: one reading of every series, route, gRPC method and outbound call (the last
//!   two through the catalog's reading of the gRPC and HTTP client families) and the process's
//!   CPU and memory;
//! - `ring`: the bounded ring of snapshots (15 minutes) and the background thread filling it;
//! - `stats`: rates, failure ratios and quantiles between two snapshots;
//! - `json`: the `/api/functions` document;
//! - `assets`: the page (HTML, CSS, JS) embedded in the binary.
//!
//! A background thread takes a snapshot every 5 seconds (see [`start_every`]); it is started
//! by the exporter when its page is on, by the first request to a live handler, or by
//! [`start`]. It reads the counters the way a scrape does, so instrumented calls never wait
//! for it. The page polls the JSON and needs no network beyond it: no CDN, no framework.
//!
//! ```
//! use instrument_metrics::instrument_metrics;
//!
//! #[instrument_metrics]
//! fn resize(side: u32) -> Result<u32, String> {
//!     if side == 0 { Err("empty".into()) } else { Ok(side * 2) }
//! }
//!
//! instrument_metrics::live::start();
//! resize(3).unwrap();
//! resize(0).unwrap_err();
//! let json = instrument_metrics::live::functions_json();
//! assert!(json.starts_with(r#"{"schema":1,"#));
//! assert!(json.contains(r#""function":"resize","module":"rust_out""#));
//! assert!(instrument_metrics::live::page().contains("<table"));
//! ```
//!
//! # `/api/functions`
//!
//! One JSON object (`application/json`). Times are in seconds; a ratio, rate or quantile
//! that cannot be computed (no calls in the window, a window of no time) is `null`.
//!
//! | field | meaning |
//! |---|---|
//! | `schema` | `1`; bumped when a field changes meaning or goes away (new fields may appear) |
//! | `now_seconds` | when the newest snapshot was taken, in seconds since the sampler started |
//! | `interval_seconds` | the time between snapshots |
//! | `history_seconds`, `snapshots` | how far back the ring reaches (at most 900 s), and its snapshots |
//! | `process` | `null` where unknown (not Linux, no `process` feature), else `{cpu_seconds_total, resident_memory_bytes, windows: {"1m"\|"5m"\|"15m": {seconds, cpu_cores}}, history: {at_seconds, cpu_cores, resident_memory_bytes}}` |
//! | `runtimes` | one entry per tokio runtime registered with [`runtime::register_tokio`](crate::runtime::register_tokio) (feature `tokio`), in registration order: `{runtime, workers, busy_seconds_total: [per worker], windows: {"1m"\|"5m"\|"15m": {seconds, busy_ratio, workers: [per worker]}}, history: {at_seconds, busy_ratio}}`; a busy ratio is the share of the window a worker spent running tasks (capped at 1: tokio adds a batch's busy time when it ends), the runtime's the mean of its workers'; `[]` without a registered runtime |
//! | `functions` | one entry per function series (as in `function_calls_total`, dynamic labels summed), in exposition order |
//! | `routes` | one entry per HTTP route and method (the tower layer's and actix middleware's) |
//! | `grpc` | one entry per side of each gRPC method the exposition shows (feature `tonic`; see below), sorted by service, method, then side; `[]` without gRPC |
//! | `outbound` | one entry per server address, port and method the process called through the HTTP client layer or the reqwest middleware (feature `tower`; see below), sorted by address, port, method; `[]` before the first call |
//! | `objectives` | one object per objective declared with [`slo::declare`](crate::slo::declare), counted since the process started: `name`, `success_target`, `calls`, `failed`, `error_budget_remaining` (the fraction of its availability budget left: `1` untouched, `0` spent, negative overspent), `latency_threshold_seconds`, `latency_target`, `timed`, `slow`, `latency_budget_remaining`; `null` for a target not set; `[]` without objectives |
//!
//! Each entry of `functions` has `function`, `module` and `labels` (the constant ones, an
//! object); each entry of `routes` has `route`, `method` and `labels` (the layer's constant
//! labels). Both then have:
//!
//! | field | meaning |
//! |---|---|
//! | `total` | calls (requests) since the process started, at the newest snapshot |
//! | `results` | `{ok, error, panic, cancelled}`: `total` by result. For routes: `error` is a 5xx sent to its end, a body error or a service error; `panic` and `cancelled` are the `error_type`s |
//! | `in_flight` | calls running at the newest snapshot, for functions with `in_flight`; else `null` |
//! | `windows` | `{"1m", "5m", "15m"}`, each `{seconds, calls, results, calls_per_second, failure_ratio, failure_ratio_by_result: {error, panic, cancelled}, p50_seconds, p90_seconds, p99_seconds}` |
//! | `history` | `{at_seconds, calls_per_second, failure_ratio, p99_seconds}`: parallel arrays, one point per interval between snapshots, for the sparklines |
//!
//! Each entry of `grpc` is one side of one method, as the `grpc_server_*` (`side` is
//! `server`) or `grpc_client_*` (`client`) families show it:
//!
//! | field | meaning |
//! |---|---|
//! | `side`, `service`, `method`, `type` | `server` or `client`; `grpc_service`, `grpc_method`, `grpc_type` |
//! | `total`, `started` | calls ended (`grpc_*_handled_total`, all codes) and started since the process started |
//! | `codes` | `{code: calls}` since start, for the codes seen (no zeros), by their Go names (`OK`, `NotFound`, …) |
//! | `windows` | `{"1m", "5m", "15m"}`, each `{seconds, calls, started, codes, calls_per_second, error_ratio, p50_seconds, p90_seconds, p99_seconds, messages_received_per_call, messages_sent_per_call}` |
//! | `history` | `{at_seconds, calls_per_second, error_ratio, p99_seconds}`, as for functions |
//!
//! `error_ratio` is the share of the calls ended in the window whose code says the server
//! failed (`Unknown`, `DeadlineExceeded`, `Unimplemented`, `Internal`, `Unavailable`,
//! `DataLoss`: what `tonic::Code` classifies as `error`); the quantiles come from
//! `grpc_*_handling_seconds`; messages per call are the messages received (sent) in the window
//! over the calls started in it, as `rate(grpc_server_msg_received_total)` over
//! `rate(grpc_server_started_total)` gives them.
//!
//! Each entry of `outbound` is the calls of one method to one server address and port, as the
//! `http_client_*` families show them (summed over statuses and error types); two
//! [`HttpClientMetrics`](crate::http::HttpClientMetrics) with different constant labels calling
//! the same server are two entries:
//!
//! | field | meaning |
//! |---|---|
//! | `server_address`, `server_port`, `method` | `server_address`, `server_port` (`null` when the family has no such label), `http_request_method` |
//! | `labels` | the constant labels of the [`HttpClientMetrics`](crate::http::HttpClientMetrics) that measured the calls |
//! | `total`, `failed` | calls ended since the process started, and those that failed |
//! | `statuses`, `error_types` | `{status: calls}` by the status received (a call with no response head is in none), `{error_type: calls}` by how a call that did not complete ended (`connect`, `timeout`, …); since start, no zeros |
//! | `windows` | `{"1m", "5m", "15m"}`, each `{seconds, calls, statuses, error_types, calls_per_second, error_ratio, p50_seconds, p90_seconds, p99_seconds, bytes_received_per_call}` |
//! | `history` | `{at_seconds, calls_per_second, error_ratio, p99_seconds}`, as for functions |
//!
//! A call failed when it received a 5xx or did not complete (any `error_type`, `cancelled`
//! included): `error_ratio` is those over all the calls ended in the window, as the outbound
//! rules of `examples/prometheus/rules.yml` count them. The quantiles come from
//! `http_client_request_duration_seconds`; `bytes_received_per_call` is the response body bytes
//! over the calls that received a response head (`http_client_response_body_size_bytes`' sum
//! over its count).
//!
//! A window goes from the oldest snapshot at most its length before the newest one, so
//! `seconds` is less than its length while the history is shorter (and `0`, with `null`
//! rates, right after start). Quantiles are interpolated within the histogram's buckets from
//! the increase of each bucket over the window, as PromQL's `histogram_quantile` does over
//! `increase(…_bucket[window])`: the same numbers Prometheus would show.
//!
//! # Serving it
//!
//! The exporter serves the page at `/` and the JSON at `/api/functions` by default (same
//! credentials, methods and concurrency limit as `/metrics`);
//! [`live_page`](crate::serve::ExporterBuilder::live_page) moves them and
//! [`without_live_page`](crate::serve::ExporterBuilder::without_live_page) turns them off. The
//! page fetches `api/functions` relative to its own address, so the JSON is served beside it:
//! a page at `/` or `/live` reads `/api/functions`, a page at `/debug/` reads
//! `/debug/api/functions`.

mod assets;
mod json;
mod ring;
mod snapshot;
mod stats;

use std::time::Duration;

/// `Content-Type` of the page.
pub const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";
/// `Content-Type` of `/api/functions`.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Headers the page and the JSON are served with: a `Content-Security-Policy` that lets the
/// page reach nothing but its own origin (its inline script and styles, and the JSON), and
/// `X-Content-Type-Options: nosniff`.
///
/// ```
/// let (name, csp) = instrument_metrics::live::SECURITY_HEADERS[0];
/// assert_eq!(name, "content-security-policy");
/// assert!(csp.contains("connect-src 'self'"));
/// ```
pub const SECURITY_HEADERS: [(&str, &str); 2] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
         connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
];

/// Starts the background sampler, every 5 seconds, if it is not running yet. The exporter
/// and the live handlers start it themselves; call this early for windows that cover the
/// first requests too.
///
/// ```
/// instrument_metrics::live::start();
/// instrument_metrics::live::start(); // already running: nothing more
/// ```
pub fn start() {
    ring::start(ring::DEFAULT_INTERVAL);
}

/// Starts the background sampler with this interval (clamped to 100 ms ..= 60 s) if it is
/// not running yet, and returns the interval it runs at: one sampler per process, and the
/// first start decides. The ring keeps 15 minutes of snapshots, at most 1000 of them (so
/// below 0.9 s it covers less).
///
/// ```
/// use std::time::Duration;
///
/// let interval = instrument_metrics::live::start_every(Duration::from_secs(1));
/// assert_eq!(instrument_metrics::live::start_every(Duration::from_secs(7)), interval);
/// ```
pub fn start_every(interval: Duration) -> Duration {
    ring::start(interval)
}

/// The `/api/functions` document (see the [module docs](self) for its fields), from the
/// snapshots taken so far; starts the sampler if needed.
///
/// ```
/// let json = instrument_metrics::live::functions_json();
/// assert!(json.ends_with(r#""objectives":[]}"#));
/// ```
#[must_use]
pub fn functions_json() -> String {
    let (snapshots, interval) = ring::snapshots();
    json::document(&snapshots, interval.as_secs_f64())
}

/// The page: one self-contained HTML document (styles and script inline, no external
/// resource), about 32 KiB. Serve it with [`HTML_CONTENT_TYPE`], with the JSON at
/// `api/functions` beside it.
///
/// ```
/// let page = instrument_metrics::live::page();
/// assert!(page.starts_with("<!doctype html>"));
/// // Nothing to fetch but the JSON: no stylesheet, script or image from elsewhere (the
/// // icon is an empty `data:` URL, so browsers do not ask for /favicon.ico).
/// assert!(!page.contains(" src=") && !page.contains("@import") && !page.contains("url("));
/// assert!(page.contains(r#"<link rel="icon" href="data:,">"#));
/// ```
#[must_use]
pub fn page() -> &'static str {
    assets::page()
}

/// Stops the background snapshots for good and takes one now, stamped `at_seconds` (later
/// calls must not go back in time), so that windows and rates come out exact in tests.
/// Reached through the hidden `__private` module only.
pub(crate) fn sample_at(at_seconds: f64) {
    ring::sample_at(at_seconds);
}
