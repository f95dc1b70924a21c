//! Outbound HTTP: the metrics of the calls a service makes (the families, labels and
//! `error_type` values are described in [`crate::http`]).
//!
//! - `layer`: [`client_layer()`], [`ClientMetricsLayer`], its [`ClientMetrics`] service and
//!   [`ClientResponseFuture`];
//! - `body`: [`ClientBody`], the response body measured to its end;
//! - `middleware`: `ReqwestMetrics`, the same for reqwest-middleware (feature `reqwest`);
//! - `metrics`: [`HttpClientMetrics`], what both record into;
//! - `errors`: what a client's error says about how the call ended.

mod body;
mod errors;
mod layer;
mod metrics;
#[cfg(feature = "reqwest")]
mod middleware;

pub use body::ClientBody;
pub use layer::{client_layer, ClientMetrics, ClientMetricsLayer, ClientResponseFuture};
pub use metrics::{HttpClientMetrics, HttpClientMetricsBuilder, DEFAULT_ADDRESS_LIMIT};
#[cfg(feature = "reqwest")]
pub use middleware::ReqwestMetrics;
