//! HTTP: request metrics for whole services, status codes as outcomes, framework glue.
//!
//! - [`HttpMetrics`]: what requests are recorded into (buckets, skipped routes, constant
//!   labels, a bound on route values);
//! - [`layer()`] / [`MetricsLayer`] (feature `tower`, on with `axum`): the tower middleware, its
//!   [`Metrics`] service and [`MeteredBody`];
//! - `outcome`: 5xx is `error`, anything else `ok`, for handlers returning `http` types;
//! - the calls a service makes ([`client_layer()`], feature `tower`; [`ReqwestMetrics`],
//!   feature `reqwest`): `http_client_*` families, described below;
//! - [`axum`](mod@crate::axum): a `/metrics` handler for axum (feature `axum`);
//! - [`actix`](mod@crate::actix): a `/metrics` handler and the request middleware for
//!   actix-web (feature `actix-web`).
//!
//! | family | type | labels |
//! |---|---|---|
//! | `http_server_request_duration_seconds` | histogram | `http_request_method`, `http_route`, `http_response_status_code`, `error_type` (only when the exchange did not complete) |
//! | `http_server_active_requests` | gauge | `http_request_method` |
//! | `http_server_request_body_size_bytes` | histogram | as the duration; requests whose body length was known |
//! | `http_server_response_body_size_bytes` | histogram | as the duration; bytes sent |
//! | `instrument_metrics_http_route_overflow_total` | counter | (constant labels only) |
//!
//! # Outbound calls
//!
//! [`client_layer()`] wraps any tower HTTP client (hyper-util's `Client`…), [`ReqwestMetrics`]
//! is a `reqwest-middleware` middleware; both record into [`HttpClientMetrics`]:
//!
//! | family | type | labels |
//! |---|---|---|
//! | `http_client_request_duration_seconds` | histogram | `http_request_method`, `server_address`, `server_port`, `http_response_status_code` (when a response head arrived), `error_type` (only when the call did not complete) |
//! | `http_client_active_requests` | gauge | `http_request_method`, `server_address`, `server_port` |
//! | `http_client_request_body_size_bytes` | histogram | as the duration; requests whose body length was known |
//! | `http_client_response_body_size_bytes` | histogram | as the duration; bytes received, for calls that got a response head |
//! | `instrument_metrics_http_client_address_overflow_total` | counter | (constant labels only) |
//!
//! A call is timed from the moment it reaches the layer (or middleware) until the last frame
//! of its response body is read, or the caller drops the body. `error_type`, when present, is
//! one of: `connect` (the client could not connect: refused, unreachable), `timeout` (the
//! client's own timeout, connect, request or read, told apart by the error it returned),
//! `service_error` (any other error the client returned), `body_error` (the response body
//! failed part way), `cancelled` (the caller dropped the call's future, or the response body
//! before its end) and `panic` (the client panicked while polled). A 4xx or 5xx that arrived
//! whole has no `error_type`: its status says it.
//!
//! `server_address` is bounded: past [`DEFAULT_ADDRESS_LIMIT`] distinct (address, port) pairs
//! (see [`HttpClientMetricsBuilder::address_limit`]), calls to new ones are recorded as
//! `server_address="_OTHER"`, `server_port="_OTHER"`, and counted in
//! `instrument_metrics_http_client_address_overflow_total`. `server_port` is the URI's, or its
//! scheme's default (80, 443).

#[cfg(feature = "tower")]
mod body;
#[cfg(feature = "tower")]
mod client;
#[cfg(feature = "tower")]
mod layer;
pub(crate) mod metrics;
pub(crate) mod outcome;

#[cfg(feature = "tower")]
pub use body::MeteredBody;
#[cfg(feature = "reqwest")]
pub use client::ReqwestMetrics;
#[cfg(feature = "tower")]
pub use client::{
    client_layer, ClientBody, ClientMetrics, ClientMetricsLayer, ClientResponseFuture,
    HttpClientMetrics, HttpClientMetricsBuilder, DEFAULT_ADDRESS_LIMIT,
};
#[cfg(feature = "tower")]
pub use layer::{layer, Metrics, MetricsLayer, ResponseFuture};
pub use metrics::{
    HttpMetrics, HttpMetricsBuilder, DEFAULT_DURATION_BUCKETS, DEFAULT_ROUTE_LIMIT,
    DEFAULT_SIZE_BUCKETS,
};
