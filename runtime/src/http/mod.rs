//! HTTP: request metrics for whole services, status codes as outcomes, framework glue.
//!
//! - [`HttpMetrics`]: what requests are recorded into (buckets, skipped routes, constant
//!   labels, a bound on route values);
//! - [`layer()`] / [`MetricsLayer`] (feature `tower`, on with `axum`): the tower middleware, its
//!   [`Metrics`] service and [`MeteredBody`];
//! - `outcome`: 5xx is `error`, anything else `ok`, for handlers returning `http` types;
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

#[cfg(feature = "tower")]
mod body;
#[cfg(feature = "tower")]
mod layer;
pub(crate) mod metrics;
pub(crate) mod outcome;

#[cfg(feature = "tower")]
pub use body::MeteredBody;
#[cfg(feature = "tower")]
pub use layer::{layer, Metrics, MetricsLayer, ResponseFuture};
pub use metrics::{
    HttpMetrics, HttpMetricsBuilder, DEFAULT_DURATION_BUCKETS, DEFAULT_ROUTE_LIMIT,
    DEFAULT_SIZE_BUCKETS,
};
