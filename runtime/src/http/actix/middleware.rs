//! The actix-web middleware: [`Metrics`] measures every request of the app (or scope, or
//! resource) it wraps, into the same families as the tower layer.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::http::Version;

use super::body::MeteredBody;
use crate::http::metrics::HttpMetrics;
use crate::record::http::{method_index_str, poll_watching_panics, Ending, Exchange, Route};

/// How a route is taken from a request (see [`Metrics::route_with`]).
type RouteFn = dyn Fn(&ServiceRequest) -> Option<Cow<'_, str>> + Send + Sync;

/// The actix-web middleware recording the HTTP server metrics of every request it sees:
/// `http_server_request_duration_seconds`, `http_server_active_requests`,
/// `http_server_request_body_size_bytes`, `http_server_response_body_size_bytes`, labelled
/// by method, route template and status, as the [tower layer](crate::http::layer()) does.
///
/// The route is actix's match pattern (`/users/{id}`, scopes' prefixes included); requests no
/// resource matches share `http_route="_unmatched"`. See the [module docs](super) for when a
/// request counts as done and how each ending is told apart.
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
///
/// # actix_web::rt::System::new().block_on(async {
/// let app = test::init_service(
///     App::new()
///         .route("/users/{id}", web::get().to(|| async { HttpResponse::Ok().body("a user") }))
///         .route("/metrics", web::get().to(instrument_metrics::actix::metrics))
///         .wrap(instrument_metrics::actix::Metrics::default()),
/// )
/// .await;
/// let request = test::TestRequest::get().uri("/users/7").to_request();
/// let response = test::call_service(&app, request).await;
/// assert_eq!(test::read_body(response).await, "a user");
/// # });
/// let text = instrument_metrics::render();
/// let count = text
///     .lines()
///     .find(|l| {
///         l.starts_with("http_server_request_duration_seconds_count{")
///             && l.contains(r#"http_route="/users/{id}""#)
///     })
///     .unwrap();
/// assert!(count.contains(r#"http_request_method="GET""#), "{count}");
/// assert!(count.contains(r#"http_response_status_code="200""#), "{count}");
/// assert!(count.ends_with(" 1"), "{count}");
/// ```
#[derive(Clone, Default)]
pub struct Metrics {
    metrics: HttpMetrics,
    route: Option<Arc<RouteFn>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("metrics", &self.metrics)
            .field("custom_route", &self.route.is_some())
            .finish()
    }
}

impl Metrics {
    /// A middleware recording into `metrics`: other buckets, routes to skip, constant labels.
    ///
    /// ```
    /// use actix_web::App;
    /// use instrument_metrics::http::HttpMetrics;
    ///
    /// let metrics = HttpMetrics::builder().skip("/metrics").label("service", "api").build()?;
    /// let app = App::new().wrap(instrument_metrics::actix::Metrics::new(metrics));
    /// # drop(app);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn new(metrics: HttpMetrics) -> Self {
        Metrics {
            metrics,
            route: None,
        }
    }

    /// Takes the route from each request with `route` instead of actix's match pattern read
    /// from the response. It runs when the request reaches the middleware, before actix's
    /// router: what it returns is known even for requests that end without a response (see
    /// the [module docs](super)). `None` is the shared unmatched value. Return templates, not
    /// raw paths; distinct values past the route limit are recorded as `_OTHER` either way.
    ///
    /// Asking actix for the route here (`req.match_pattern()`, `req.match_name()`) makes
    /// actix match the path against each resource's pattern in turn, on every request.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use actix_web::{dev::ServiceRequest, web, App, HttpResponse};
    ///
    /// // Every path under /static/ as one route, the rest by their match pattern.
    /// let metrics = instrument_metrics::actix::Metrics::default().route_with(|req: &ServiceRequest| {
    ///     if req.path().starts_with("/static/") {
    ///         Some(Cow::Borrowed("/static/*"))
    ///     } else {
    ///         req.match_pattern().map(Cow::Owned)
    ///     }
    /// });
    /// let app = App::new()
    ///     .service(web::resource("/users/{id}").to(HttpResponse::Ok))
    ///     .wrap(metrics);
    /// # drop(app);
    /// ```
    #[must_use]
    pub fn route_with<F>(mut self, route: F) -> Self
    where
        F: Fn(&ServiceRequest) -> Option<Cow<'_, str>> + Send + Sync + 'static,
    {
        self.route = Some(Arc::new(route));
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Metrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<MeteredBody<B>>;
    type Error = actix_web::Error;
    type Transform = MetricsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(MetricsMiddleware {
            service,
            route: self.route.clone(),
            routes: Rc::new(Routes {
                unmatched: self.metrics.route(None, false),
                metrics: self.metrics.clone(),
                known: RefCell::new(Vec::new()),
            }),
        }))
    }
}

/// The service [`Metrics`] wraps around the app's (one per worker).
///
/// ```
/// use actix_web::dev::{fn_service, Service as _, ServiceRequest, Transform as _};
/// use actix_web::{test::TestRequest, HttpResponse};
///
/// # actix_web::rt::System::new().block_on(async {
/// // What `App::wrap` does with the middleware, around a service of its own.
/// let inner = fn_service(|req: ServiceRequest| async {
///     Ok(req.into_response(HttpResponse::Ok().body("hi")))
/// });
/// let service = instrument_metrics::actix::Metrics::default()
///     .new_transform(inner)
///     .await
///     .unwrap();
/// let response = service.call(TestRequest::get().uri("/hi").to_srv_request()).await.unwrap();
/// assert_eq!(response.status(), 200);
/// # });
/// ```
pub struct MetricsMiddleware<S> {
    service: S,
    route: Option<Arc<RouteFn>>,
    routes: Rc<Routes>,
}

/// One worker's way from a template to its route, shared with its responses' futures.
struct Routes {
    metrics: HttpMetrics,
    unmatched: &'static Route,
    /// The routes seen so far, sorted by name: found by a binary search, without the table's
    /// lock (shared by every worker) or a hash of the template.
    known: RefCell<Vec<&'static Route>>,
}

impl Routes {
    fn route(&self, template: Option<&str>) -> &'static Route {
        let Some(name) = template else {
            return self.unmatched;
        };
        let mut known = self.known.borrow_mut();
        match known.binary_search_by(|r| (*r.name).cmp(name)) {
            Ok(i) => known[i],
            Err(i) => {
                let route = self.metrics.route(Some(name), false);
                // Values past the route limit share the overflow route: not kept by name, so
                // this list stays as bounded as the table.
                if *route.name == *name {
                    known.insert(i, route);
                }
                route
            }
        }
    }
}

impl<S> std::fmt::Debug for MetricsMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsMiddleware")
            .field("metrics", &self.routes.metrics)
            .field("custom_route", &self.route.is_some())
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for MetricsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<MeteredBody<B>>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let method = method_index_str(req.method().as_str());
        let routes = &self.routes;
        let (exchange, resolve) = match &self.route {
            Some(route_with) => {
                let template = route_with(&req);
                let template = template.as_deref();
                if routes.metrics.skips(template.unwrap_or(req.path())) {
                    (None, None)
                } else {
                    let route = routes.route(template);
                    let x = routes
                        .metrics
                        .table()
                        .begin(method, route, request_length(&req));
                    (Some(x), None)
                }
            }
            // actix's router runs inside the app, after this: the match pattern is read from
            // the response's request, where it is a walk of the resource map by the ids the
            // router left (before, it would match the path against every pattern in turn). A
            // skipped path is left alone now; a skipped template once known.
            None if routes.metrics.skips(req.path()) => (None, None),
            None => {
                let x =
                    routes
                        .metrics
                        .table()
                        .begin(method, routes.unmatched, request_length(&req));
                (Some(x), Some(Rc::clone(routes)))
            }
        };
        ResponseFuture {
            inner: self.service.call(req),
            exchange,
            resolve,
            head: method == 1,
        }
    }
}

/// The request body's length when known before the handler runs: its `Content-Length`, or 0
/// for an HTTP/1 request with neither that nor `Transfer-Encoding` (it has no body).
fn request_length(req: &ServiceRequest) -> Option<u64> {
    let headers = req.headers();
    if let Some(length) = headers.get(CONTENT_LENGTH) {
        return length.to_str().ok()?.trim().parse().ok();
    }
    (!headers.contains_key(TRANSFER_ENCODING) && req.version() < Version::HTTP_2).then_some(0)
}

pin_project_lite::pin_project! {
    /// The future of a [`MetricsMiddleware`]'s response.
    ///
    /// ```
    /// use actix_web::{dev::ServiceRequest, dev::ServiceResponse};
    /// use instrument_metrics::actix::{MeteredBody, ResponseFuture};
    ///
    /// // What the middleware's `call` returns around the inner service's future.
    /// type Inner = std::future::Ready<Result<ServiceResponse, actix_web::Error>>;
    /// fn is_future<F: std::future::Future<Output = Result<ServiceResponse<MeteredBody<actix_web::body::BoxBody>>, actix_web::Error>>>() {}
    /// is_future::<ResponseFuture<Inner>>();
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        exchange: Option<Exchange>,
        // Where the route is found once the router ran; `None` when it was known at the start.
        resolve: Option<Rc<Routes>>,
        head: bool,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("measuring", &self.exchange.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<MeteredBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = poll_watching_panics(this.exchange, || inner.poll(cx));
        Poll::Ready(match ready!(polled) {
            Ok(response) => {
                if let (Some(x), Some(routes)) = (this.exchange.as_mut(), this.resolve.take()) {
                    // actix gives the template as a new `String`, the only way it offers.
                    let template = response.request().match_pattern();
                    if template.as_deref().is_some_and(|t| routes.metrics.skips(t)) {
                        if let Some(x) = this.exchange.take() {
                            x.abandon();
                        }
                    } else {
                        x.reroute(routes.route(template.as_deref()));
                    }
                }
                let exchange = this.exchange.take().and_then(|mut x| {
                    let status = response.status().as_u16();
                    x.responded(status);
                    // Nothing will be sent (HEAD, 1xx, 204, 304) or there is nothing to send
                    // (actix then never polls the body): the exchange ends here.
                    let bodyless = *this.head || status < 200 || status == 204 || status == 304;
                    let empty = matches!(
                        response.response().body().size(),
                        BodySize::None | BodySize::Sized(0)
                    );
                    if bodyless || empty {
                        x.finish(Ending::Complete);
                        None
                    } else {
                        Some(x)
                    }
                });
                Ok(response.map_body(|_, body| MeteredBody::new(body, exchange)))
            }
            Err(e) => {
                // actix answers with the error's own response, which this middleware never
                // sees: its status is known, its body is not counted.
                if let Some(mut x) = this.exchange.take() {
                    x.responded(e.as_response_error().status_code().as_u16());
                    x.finish(Ending::ServiceError);
                }
                Err(e)
            }
        })
    }
}
