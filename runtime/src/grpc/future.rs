//! [`ResponseFuture`]: the response of either layer's service, which ends the call at a
//! trailers-only status or hands it to the response body.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use http_body::Body;

use crate::grpc::body::{watch_panics, End, ResponseBody};
use crate::record::grpc::{parse_code, Call, UNAVAILABLE, UNKNOWN};

pin_project_lite::pin_project! {
    /// The future of a [`Metrics`](crate::grpc::Metrics) or
    /// [`ClientMetrics`](crate::grpc::ClientMetrics) service's response.
    ///
    /// ```
    /// // What the layers' services return; built by them, never by hand.
    /// fn is_future<F: std::future::Future>() {}
    /// is_future::<instrument_metrics::grpc::ResponseFuture<std::future::Ready<Result<http::Response<String>, ()>>>>();
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
        end: End,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, call: Call, end: End) -> Self {
        ResponseFuture {
            inner,
            call: Some(call),
            end,
        }
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let result = ready!(watch_panics(this.call, || inner.poll(cx)));
        let Some(call) = this.call.take() else {
            // Polled again after the end: nothing left to measure.
            return Poll::Ready(result.map(|r| r.map(|b| ResponseBody::unmeasured(b))));
        };
        Poll::Ready(match result {
            Ok(response) => Ok(respond(call, response, *this.end)),
            Err(e) => {
                match this.end {
                    // No response at all: the server's recovery (tonic's) answers `Unknown`.
                    End::Server => call.end(UNKNOWN),
                    // The channel failed (connection refused, reset, its own timeout): tonic
                    // hands the caller `Unavailable`, and the transport-error counter tells it
                    // apart.
                    End::Client => call.fail(UNAVAILABLE),
                }
                Err(e)
            }
        })
    }
}

/// Wraps a response: a trailers-only one (its status in the headers) ends the call now, any
/// other at its trailers.
pub(crate) fn respond<B>(call: Call, response: Response<B>, end: End) -> Response<ResponseBody<B>> {
    let messages = match end {
        End::Server => &call.counts().sent,
        End::Client => &call.counts().received,
    };
    let status = response
        .headers()
        .get(&crate::grpc::GRPC_STATUS)
        .map(|v| parse_code(v.as_bytes()));
    let call = match status {
        Some(code) => {
            call.end(code);
            None
        }
        None if response.status() != http::StatusCode::OK => {
            // Not gRPC's answer (a proxy's, a plain HTTP server's): the code gRPC's spec
            // reads from the HTTP status.
            call.end(crate::grpc::code_of_http_status(response.status().as_u16()));
            None
        }
        None => Some(call),
    };
    response.map(|body| ResponseBody::new(body, messages, call, end))
}
