//! The server layer: [`layer()`] measures every call of the tonic server (or any tower service
//! speaking gRPC over `http`) it wraps, from the request's arrival to its status.

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;

use crate::grpc::body::{End, MessageCountingBody, ResponseBody};
use crate::grpc::future::ResponseFuture;
use crate::record::grpc::{find, parse_timeout, serving, Call, Side};

/// The server layer: `grpc_server_*` families for every call of the service it wraps.
///
/// Register the service descriptors first ([`register_descriptors`](crate::grpc::register_descriptors))
/// so that each method has its exact `grpc_type` and its series exist at 0 from the start.
///
/// ```
/// # async fn serve(routes: tonic::service::Routes) -> Result<(), tonic::transport::Error> {
/// tonic::transport::Server::builder()
///     .layer(instrument_metrics::grpc::layer())
///     .add_routes(routes)
///     .serve("127.0.0.1:50051".parse().unwrap())
///     .await
/// # }
/// ```
#[must_use]
pub fn layer() -> MetricsLayer {
    serving();
    // A registry that already has these names still gets the calls recorded (the families
    // stay out of the exposition), as the HTTP layer's default does.
    let _ = crate::expose::registry::register_group(crate::expose::catalog::Group::Grpc);
    MetricsLayer {
        slow_poll_micros: 0,
    }
}

/// A `tower::Layer` recording the gRPC server metrics of every call; see [`layer()`].
///
/// ```
/// let layer: instrument_metrics::grpc::MetricsLayer = instrument_metrics::grpc::layer();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MetricsLayer {
    /// With `polls`: the slow-poll threshold in microseconds; 0 without.
    slow_poll_micros: u32,
}

impl MetricsLayer {
    /// Keeps each call's busy time: the time spent inside `poll` of its handler's future and
    /// of its response stream, summed, beside its handling time, as
    /// `grpc_server_handling_busy_seconds{grpc_type,grpc_service,grpc_method}` (a histogram in
    /// the handling time's buckets); and its polls longer than 10 ms (a worker blocked that
    /// long delays every task queued behind it) as `grpc_server_slow_polls_total`. Costs two
    /// clock reads per poll; off by default.
    ///
    /// ```
    /// let layer = instrument_metrics::grpc::layer().polls();
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn polls(self) -> Self {
        self.slow_poll(std::time::Duration::from_nanos(
            crate::record::polls::DEFAULT_SLOW_POLL_NANOS,
        ))
    }

    /// [`polls`](Self::polls) with another threshold for a slow poll (at least a microsecond;
    /// in whole microseconds, up to about 71 minutes).
    ///
    /// ```
    /// let layer = instrument_metrics::grpc::layer().slow_poll(std::time::Duration::from_millis(1));
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn slow_poll(mut self, threshold: std::time::Duration) -> Self {
        self.slow_poll_micros = u32::try_from(threshold.as_micros())
            .unwrap_or(u32::MAX)
            .max(1);
        self
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics {
            inner,
            slow_poll_micros: self.slow_poll_micros,
        }
    }
}

/// The service [`MetricsLayer`] wraps around another: the request body it hands on counts the
/// messages received, the response body the messages sent.
///
/// ```
/// use tower_layer::Layer as _;
///
/// let service = instrument_metrics::grpc::layer().layer(tower::service_fn(
///     |_: http::Request<instrument_metrics::grpc::MessageCountingBody<String>>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     },
/// ));
/// # let _ = service;
/// ```
#[derive(Clone, Debug)]
pub struct Metrics<S> {
    inner: S,
    slow_poll_micros: u32,
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for Metrics<S>
where
    S: tower_service::Service<Request<MessageCountingBody<ReqB>>, Response = Response<ResB>>,
    ReqB: Body,
    ResB: Body,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let method = find(req.uri().path());
        let deadline = req
            .headers()
            .get(&crate::grpc::GRPC_TIMEOUT)
            .and_then(|v| parse_timeout(v.as_bytes()));
        let mut call = Call::begin(method, Side::Server, deadline);
        if self.slow_poll_micros != 0 {
            call.keep_busy(self.slow_poll_micros);
        }
        let counts = call.counts();
        let req = req.map(|body| MessageCountingBody::new(body, &counts.received));
        ResponseFuture::new(self.inner.call(req), call, End::Server)
    }
}
