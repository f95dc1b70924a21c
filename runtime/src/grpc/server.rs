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
    MetricsLayer { _private: () }
}

/// A `tower::Layer` recording the gRPC server metrics of every call; see [`layer()`].
///
/// ```
/// let layer: instrument_metrics::grpc::MetricsLayer = instrument_metrics::grpc::layer();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MetricsLayer {
    _private: (),
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics { inner }
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
        let call = Call::begin(method, Side::Server, deadline);
        let counts = call.counts();
        let req = req.map(|body| MessageCountingBody::new(body, &counts.received));
        ResponseFuture::new(self.inner.call(req), call, End::Server)
    }
}
