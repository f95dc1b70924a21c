//! The client layer: [`client_layer()`] measures every call made through the tonic `Channel`
//! (or any tower service taking `http::Request<tonic::body::Body>`) it wraps, from the call to
//! the status received.

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;

use crate::grpc::body::{End, MessageCountingBody, ResponseBody};
use crate::grpc::future::ResponseFuture;
use crate::record::grpc::{find, parse_timeout, Call, Side};

/// The client layer: `grpc_client_*` families for every call made through the channel it wraps.
///
/// ```no_run
/// # async fn call() -> Result<(), Box<dyn std::error::Error>> {
/// let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50051")
///     .connect()
///     .await?;
/// let channel = tower::ServiceBuilder::new()
///     .layer(instrument_metrics::grpc::client_layer())
///     .service(channel);
/// // let mut client = RouteGuideClient::new(channel);
/// # let _ = channel;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub fn client_layer() -> ClientMetricsLayer {
    let _ = crate::expose::registry::register_group(crate::expose::catalog::Group::Grpc);
    ClientMetricsLayer { _private: () }
}

/// A `tower::Layer` recording the gRPC client metrics of every call; see [`client_layer()`].
///
/// ```
/// let layer: instrument_metrics::grpc::ClientMetricsLayer = instrument_metrics::grpc::client_layer();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ClientMetricsLayer {
    _private: (),
}

impl<S> tower_layer::Layer<S> for ClientMetricsLayer {
    type Service = ClientMetrics<S>;

    fn layer(&self, inner: S) -> ClientMetrics<S> {
        ClientMetrics { inner }
    }
}

/// The service [`ClientMetricsLayer`] wraps around a channel.
///
/// The request body is wrapped to count the messages sent and boxed again as a
/// `tonic::body::Body`, the only body a `Channel` takes: one small allocation per call, where
/// tonic's own encoder already makes several.
///
/// ```
/// use tower_layer::Layer as _;
///
/// let service = instrument_metrics::grpc::client_layer().layer(tower::service_fn(
///     |_: http::Request<tonic::body::Body>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
///     },
/// ));
/// # let _ = service;
/// ```
#[derive(Clone, Debug)]
pub struct ClientMetrics<S> {
    inner: S,
}

impl<S, ResB> tower_service::Service<Request<tonic::body::Body>> for ClientMetrics<S>
where
    S: tower_service::Service<Request<tonic::body::Body>, Response = Response<ResB>>,
    ResB: Body,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<tonic::body::Body>) -> Self::Future {
        let method = find(req.uri().path());
        let deadline = req
            .headers()
            .get(&crate::grpc::GRPC_TIMEOUT)
            .and_then(|v| parse_timeout(v.as_bytes()));
        let call = Call::begin(method, Side::Client, deadline);
        let counts = call.counts();
        let req =
            req.map(|body| tonic::body::Body::new(MessageCountingBody::new(body, &counts.sent)));
        ResponseFuture::new(self.inner.call(req), call, End::Client)
    }
}
