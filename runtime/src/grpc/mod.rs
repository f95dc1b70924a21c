//! gRPC (feature `tonic`): server and client metrics named as go-grpc-middleware's Prometheus
//! provider names them, so the dashboards and alerts written for those fit; `tonic::Status`
//! and `tonic::Code` as outcomes and label values.
//!
//! - [`layer()`] / [`MetricsLayer`]: on `tonic::transport::Server::builder()`;
//! - [`client_layer()`] / [`ClientMetricsLayer`]: around a `Channel`;
//! - [`register_descriptors`]: the services' encoded `FileDescriptorSet` (what `tonic-build`
//!   writes and `tonic-reflection` serves), for each method's exact `grpc_type` and its
//!   series at 0 from the start;
//! - the bodies the layers hand on, [`MessageCountingBody`] and [`ResponseBody`]: messages are
//!   counted by reading gRPC's length-prefixed framing as the bytes stream through.
//!
//! | family | type | labels |
//! |---|---|---|
//! | `grpc_server_started_total` | counter | `grpc_type`, `grpc_service`, `grpc_method` |
//! | `grpc_server_handled_total` | counter | `grpc_type`, `grpc_service`, `grpc_method`, `grpc_code` |
//! | `grpc_server_msg_received_total` | counter | `grpc_type`, `grpc_service`, `grpc_method` |
//! | `grpc_server_msg_sent_total` | counter | `grpc_type`, `grpc_service`, `grpc_method` |
//! | `grpc_server_handling_seconds` | histogram | `grpc_type`, `grpc_service`, `grpc_method` |
//! | `grpc_client_…` | the same five | the same |
//! | `instrument_metrics_grpc_transport_errors_total` | counter | `grpc_side`, `grpc_type`, `grpc_service`, `grpc_method` |
//! | `instrument_metrics_grpc_method_overflow_total` | counter | (none) |
//!
//! - `grpc_code` is the status the peer received, by its Go name (`OK`, `NotFound`, …): the
//!   `grpc-status` of the trailers, or of the headers for a trailers-only response. A call
//!   dropped before its status (the client cancelled, or the server dropped it) is
//!   `Canceled`; one whose `grpc-timeout` had passed is `DeadlineExceeded` (tonic's server
//!   answers an expired deadline with `Cancelled`; gRPC's spec calls it this). A response
//!   without `grpc-status` and an HTTP status other than 200 (a proxy's) gets the code gRPC's
//!   spec reads from the HTTP status (503: `Unavailable`).
//! - **Transport failures.** On the client, a channel that fails (connection refused or reset,
//!   a stream broken mid-response) is recorded with the code tonic hands the caller,
//!   `Unavailable` (`DeadlineExceeded` past the deadline), and counted in
//!   `instrument_metrics_grpc_transport_errors_total{grpc_side="client"}`; on the server, a
//!   response stream that fails is `Unknown` and counted there with `grpc_side="server"`.
//!   `Unavailable` answered by a server is a status, not a transport failure: the counter
//!   tells the two apart.
//! - A handler that panics ends its call as `Internal`.
//! - **`grpc_type`** is exact for every method of the registered descriptors. Without
//!   descriptors, a method's type cannot be known from its calls (a unary call and a stream
//!   of one message look alike), so it is `unknown`: each `/service/method` path seen is its
//!   own method, up to 200 of them (more are `_OTHER`, counted by the overflow counter).
//!   With descriptors, a path they do not declare (a scanner's, a typo's, a service you did
//!   not register) is `grpc_service="_unmatched", grpc_method="_unmatched"`.
//! - With descriptors and a server layer, every declared method's server series exist from
//!   the start: `handled` at 0 for all 17 codes (as go-grpc-middleware's `InitializeMetrics`
//!   does); the client side shows a method from its first call.
//! - `handling_seconds` is timed from the request's arrival to the end of the response
//!   stream (a streaming RPC is one call), native buckets and exemplars as for functions.
//! - Cost: no allocation per call on the server; the client boxes the request body once (a
//!   `Channel` takes only `tonic::body::Body`).

mod body;
mod client;
mod future;
mod outcome;
mod server;

use crate::error::Error;
use crate::record::grpc::{declare, declared_methods};

pub use body::{MessageCountingBody, ResponseBody};
pub use client::{client_layer, ClientMetrics, ClientMetricsLayer};
pub use future::ResponseFuture;
pub use server::{layer, Metrics, MetricsLayer};

/// Declares the services of an encoded `FileDescriptorSet`: what `tonic-build` writes with
/// `file_descriptor_set_path` (and `tonic-reflection` serves). Each method then has its exact
/// `grpc_type`, paths they do not declare are `_unmatched`, and, with a server layer, every
/// method's server series exist at 0 from the start. Call it before serving; calling it again
/// adds services.
///
/// `Err` ([`Error::InvalidConfig`]) when the bytes are not a descriptor set, declare no
/// service, or declare a method already declared with another type.
///
/// ```
/// let err = instrument_metrics::grpc::register_descriptors(b"not a descriptor set").unwrap_err();
/// assert!(matches!(err, instrument_metrics::Error::InvalidConfig(_)));
/// // With tonic-build's output:
/// // instrument_metrics::grpc::register_descriptors(routeguide::FILE_DESCRIPTOR_SET)?;
/// ```
pub fn register_descriptors(encoded: &[u8]) -> Result<(), Error> {
    let methods = declared_methods(encoded).map_err(Error::InvalidConfig)?;
    declare(&methods).map_err(Error::InvalidConfig)?;
    crate::expose::registry::register_group(crate::expose::catalog::Group::Grpc)
        .map_err(Error::Prometheus)
}

/// `grpc-status`, made once: looking a header up by `&str` parses the name on every call.
pub(crate) static GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");

/// `grpc-timeout`, made once.
pub(crate) static GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");

/// The code gRPC's spec reads from a response's HTTP status when it carries no `grpc-status`.
pub(crate) fn code_of_http_status(status: u16) -> u8 {
    match status {
        400 => 13,             // Internal
        401 => 16,             // Unauthenticated
        403 => 7,              // PermissionDenied
        404 => 12,             // Unimplemented
        429 | 502..=504 => 14, // Unavailable
        _ => 2,                // Unknown
    }
}
