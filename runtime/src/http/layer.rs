//! The tower middleware: [`layer()`] measures every request of the service it wraps (an axum
//! `Router`, a hyper service, anything speaking `http::Request`/`http::Response`).
//!
//! The request is timed from the moment it reaches the layer until the last frame of its
//! response body is handed to the server ([`MeteredBody`]); the route is the template, never
//! the raw path.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use http_body::Body;

use crate::http::body::MeteredBody;
use crate::http::metrics::HttpMetrics;
use crate::record::http::{method_index, poll_watching_panics, Ending, Exchange};

/// How a route template is taken from a request (see [`MetricsLayer::route_with`]).
type RouteFn = dyn Fn(&http::request::Parts) -> Option<&str> + Send + Sync;

/// A [`MetricsLayer`] with the default [`HttpMetrics`]: OpenTelemetry-named request metrics,
/// routes from axum's matched path.
///
/// ```
/// use axum::{routing::get, Router};
///
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "a user" }))
///     .route("/metrics", get(instrument_metrics::axum::metrics))
///     .layer(instrument_metrics::http::layer());
/// # drop(app);
/// ```
#[must_use]
pub fn layer() -> MetricsLayer {
    MetricsLayer::new(HttpMetrics::default())
}

/// A `tower::Layer` recording the HTTP server metrics of every request; see [`layer()`].
///
/// ```
/// use instrument_metrics::http::{HttpMetrics, MetricsLayer};
///
/// let metrics = HttpMetrics::builder().skip("/metrics").label("service", "api").build()?;
/// let layer = MetricsLayer::new(metrics);
/// # let _ = layer;
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[derive(Clone)]
pub struct MetricsLayer {
    metrics: HttpMetrics,
    route: Option<Arc<RouteFn>>,
}

impl std::fmt::Debug for MetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsLayer")
            .field("metrics", &self.metrics)
            .field("custom_route", &self.route.is_some())
            .finish()
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        layer()
    }
}

impl MetricsLayer {
    /// A layer recording into `metrics`.
    ///
    /// ```
    /// let layer = instrument_metrics::http::MetricsLayer::new(Default::default());
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn new(metrics: HttpMetrics) -> Self {
        MetricsLayer {
            metrics,
            route: None,
        }
    }

    /// Takes the route from each request with `route` instead of axum's matched path: for
    /// services without a router (a gRPC service's path is its method), or routers of your
    /// own. `None` is the shared unmatched value. Return templates, not raw paths; distinct
    /// values past the route limit are recorded as `_OTHER` either way.
    ///
    /// ```
    /// let layer = instrument_metrics::http::layer().route_with(|parts| {
    ///     parts.uri.path().strip_prefix("/api").map(|_| "/api/*")
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn route_with<F>(mut self, route: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Option<&str> + Send + Sync + 'static,
    {
        self.route = Some(Arc::new(route));
        self
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics {
            inner,
            metrics: self.metrics.clone(),
            route: self.route.clone(),
        }
    }
}

/// The service [`MetricsLayer`] wraps around another.
///
/// ```
/// use axum::{routing::get, Router};
/// use tower_layer::Layer as _;
///
/// // Around a whole router (then requests carry no matched path: give `route_with`), or
/// // around any other tower service.
/// let router: Router = Router::new().route("/", get(|| async { "hi" }));
/// let service = instrument_metrics::http::layer().layer(router);
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct Metrics<S> {
    inner: S,
    metrics: HttpMetrics,
    route: Option<Arc<RouteFn>>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Metrics<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("inner", &self.inner)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for Metrics<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Body,
    ResB: Body,
{
    type Response = Response<MeteredBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let method = method_index(req.method());
        let request_bytes = req.body().size_hint().exact();
        let exchange = match &self.route {
            // The request stays where it is on the common path: the tuple round trip moves
            // its 240 bytes twice.
            Some(route_with) => {
                let (parts, body) = req.into_parts();
                let exchange = self.begin_with(&**route_with, &parts, method, request_bytes);
                req = Request::from_parts(parts, body);
                exchange
            }
            None => self.begin_default(&req, method, request_bytes),
        };
        ResponseFuture {
            inner: self.inner.call(req),
            exchange,
        }
    }
}

impl<S> Metrics<S> {
    /// With axum's matched path, the route is remembered by the template's address (its
    /// storage is an `Arc<str>` living as long as the router; a clone kept with the entry
    /// makes the address its own). Without one, the raw path is read only for the skip list.
    #[inline]
    fn begin_default<B>(
        &self,
        req: &Request<B>,
        method: u8,
        request_bytes: Option<u64>,
    ) -> Option<Exchange> {
        #[cfg(feature = "axum")]
        if let Some(matched) = req.extensions().get::<axum::extract::MatchedPath>() {
            let template = matched.as_str();
            if self.metrics.skips(template) {
                return None;
            }
            let table = self.metrics.table();
            let route = table.route_kept(template, || Box::new(matched.clone()));
            return Some(table.begin(method, route, request_bytes));
        }
        self.begin(method, None, req.uri().path(), request_bytes)
    }

    /// The route from [`MetricsLayer::route_with`]'s function.
    #[inline(never)]
    fn begin_with(
        &self,
        route_with: &RouteFn,
        parts: &http::request::Parts,
        method: u8,
        request_bytes: Option<u64>,
    ) -> Option<Exchange> {
        let template = route_with(parts);
        let skip_key = template.unwrap_or_else(|| parts.uri.path());
        self.begin(method, template, skip_key, request_bytes)
    }

    /// `skip_key` is the template, or the raw path when there is none.
    fn begin(
        &self,
        method: u8,
        template: Option<&str>,
        skip_key: &str,
        request_bytes: Option<u64>,
    ) -> Option<Exchange> {
        if self.metrics.skips(skip_key) {
            return None;
        }
        let route = self.metrics.route(template, false);
        Some(self.metrics.table().begin(method, route, request_bytes))
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`Metrics`] service's response.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        exchange: Option<Exchange>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<MeteredBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = poll_watching_panics(this.exchange, || inner.poll(cx));
        let result = ready!(polled);
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(x) = this.exchange.as_mut() {
                    let status = response.status().as_u16();
                    x.responded(status);
                    // Nothing will be sent (HEAD, 1xx, 204, 304) or nothing is left to send:
                    // the server may never poll the body, so the exchange ends here.
                    let bodyless = x.is_head() || status < 200 || status == 204 || status == 304;
                    if bodyless || response.body().is_end_stream() {
                        Exchange::finish_in(this.exchange, Ending::Complete);
                    }
                }
                Ok(response.map(|body| MeteredBody::new(body, this.exchange.take())))
            }
            Err(e) => {
                Exchange::finish_in(this.exchange, Ending::ServiceError);
                Err(e)
            }
        })
    }
}
