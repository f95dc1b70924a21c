//! actix-web 4 (feature `actix-web`): the request middleware [`Metrics`], a `/metrics`
//! handler, and actix-web's response types as outcomes.
//!
//! # The middleware
//!
//! `App::new().wrap(Metrics::default())` records every request of the app into the HTTP
//! families the [tower layer](crate::http::layer()) records (see the table in
//! [`http`](crate::http)), with the same labels and the same meaning;
//! [`Metrics::new`] takes an [`HttpMetrics`](crate::http::HttpMetrics) for other buckets,
//! routes to skip and constant labels. Wrap it last (actix runs the last `.wrap` first), so
//! that it sees every request and the body that is sent: a middleware outside it that
//! replaces the response body drops the measured one, which then counts as `cancelled`.
//!
//! - **Route**: actix's match pattern (`/users/{id}`, with the prefixes of enclosing scopes)
//!   of the resource the router chose, read from the response's request: actix routes inside
//!   the app, after this middleware has handed the request on. A request no resource matched
//!   shares `http_route="_unmatched"`, and so does one that ended before the router could tell
//!   (see the table below); [`Metrics::route_with`] takes the route any other way, before the
//!   request goes on. Skipped routes are matched against the pattern, or the path when there
//!   is none: a skipped path is left alone from the start, a skipped template once it is
//!   known (until then it counts in `http_server_active_requests`).
//! - **Method**: the standard ones by name, anything else `_OTHER`.
//! - **Done** when the response body's last chunk is handed to actix ([`MeteredBody`]): its
//!   `poll_next` gave `None`, a body of known size gave all its bytes, or a middleware outside
//!   took the whole body at once (`Compress` does). Responses with nothing to send (to
//!   `HEAD`; 1xx, 204, 304; an empty body) are done at their head, with 0 bytes.
//! - **Bytes**: the chunks' lengths as this middleware sees them (wrapped outside `Compress`,
//!   it counts compressed bytes). The request's from its `Content-Length` (0 for an HTTP/1
//!   request with neither that nor `Transfer-Encoding`); a chunked request has no sample.
//!
//! How an exchange that did not complete is told apart, by `error_type`:
//!
//! | what happened | `error_type` | `http_response_status_code` | `http_route` |
//! |---|---|---|---|
//! | the client went away mid-body (actix dropped the body) | `cancelled` | the status sent | the route |
//! | the request was dropped before its response (see below) | `cancelled` | none | `_unmatched` |
//! | the handler panicked | `panic` | none | `_unmatched` |
//! | the body panicked | `panic` | the status sent | the route |
//! | a body chunk was an error | `body_error` | the status sent | the route |
//! | the inner service returned `Err` (an inner middleware refusing) | `service_error` | the error's response's; its body is not counted | `_unmatched` |
//!
//! `_unmatched` in that column: those endings never give the request back, so actix's
//! router never tells the route. `route_with(|req| req.match_pattern().map(Cow::Owned))`
//! attributes them too, at a price on every request: before routing, actix finds the
//! pattern by matching the path against each resource's in turn (a regex match for each
//! pattern with parameters), where the default reads it from the router's result by a walk
//! of a few ids. With the ten resources of `benches/actix_middleware.rs` that scan costs
//! over ten times what all the rest of the middleware does (about 3 µs against 0.2 µs).
//!
//! A client gone before the response: by default (`HttpServer::h1_allow_half_closed(true)`)
//! actix-web keeps running the handler and writes its response into the closed connection,
//! so the exchange is recorded as that response, complete, as actix itself sees it. With
//! `.h1_allow_half_closed(false)` actix drops the request at once, and so does a timeout
//! middleware outside this one: then it is `cancelled`, without a status.
//!
//! Cost per request: the clock read at both ends, a binary search over this worker's routes,
//! relaxed atomic adds, the measured body's wrapper, and the template from actix's
//! `match_pattern()`: one `String` allocated per request, the only way actix gives it. No
//! lock and no hashing once a (route, method, status) has been seen. In
//! `benches/actix_middleware.rs` (in process, ten resources) that is about 0.2 µs on top of
//! actix's own 4 µs a request, where a hand-written `prometheus` middleware recording less
//! (no body measured, its size from the response head) adds about 0.3 µs. For a request the
//! router matched to no resource, actix's `match_pattern()` falls back to the scan of every
//! pattern described above.
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use instrument_metrics::http::HttpMetrics;
//!
//! let metrics = HttpMetrics::builder().skip("/metrics").build()?;
//! let app = App::new()
//!     .route("/users/{id}", web::get().to(|| async { HttpResponse::Ok().body("a user") }))
//!     .route("/metrics", web::get().to(instrument_metrics::actix::metrics))
//!     .wrap(instrument_metrics::actix::Metrics::new(metrics));
//! // Then: HttpServer::new(move || App::new()...wrap(Metrics::new(metrics.clone())))...
//! # drop(app);
//! # Ok::<(), instrument_metrics::Error>(())
//! ```
//!
//! # The `/metrics` handler
//!
//! Mount [`metrics`] on a route of your own app; it serves everything in
//! [`registry()`](crate::registry()), the function metrics included, like
//! [`serve`](crate::serve()) does: OpenMetrics when the scraper's `Accept` asks for it (Prometheus
//! does), text 0.0.4 otherwise, gzip when `Accept-Encoding` allows it.
//!
//! # Outcomes
//!
//! actix-web 4 has its own `StatusCode` (from `http` 0.2), so its responses get their own
//! [`ClassifyOutcome`] impls here: `HttpResponse`, `actix_web::dev::Response`,
//! `actix_web::http::StatusCode`, `Either` of those, and `(body, StatusCode)` tuples for the
//! usual bodies (`String`, `&str`, `Vec<u8>`, `Bytes`, `Json<T>`, `Html`, `HttpResponse`). A
//! status of 500 or more is an `error`, anything else `ok`; a `Result` of these is also an
//! `error` on `Err`, and `-> impl Responder` handlers are classified by the concrete value.
//!
//! By default actix-web runs a handler to completion even when its client has gone away (see
//! above), so such a call counts as whatever the handler returned, not `cancelled` (axum, on
//! hyper, drops the handler's future and counts it `cancelled`).
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use instrument_metrics::instrument_metrics;
//!
//! #[instrument_metrics]
//! async fn hello() -> HttpResponse {
//!     HttpResponse::Ok().body("hello")
//! }
//!
//! let app = App::new()
//!     .route("/hello", web::get().to(hello))
//!     .route("/metrics", web::get().to(instrument_metrics::actix::metrics));
//! // Then: HttpServer::new(move || app...).bind(("0.0.0.0", 8080))?.run().await
//! # drop(app);
//! ```

use std::borrow::Cow;

// Paths from this file: it is declared at the crate root (its one public path,
// `instrument_metrics::actix`) but lives with the HTTP glue.
#[path = "actix/body.rs"]
mod body;
#[path = "actix/middleware.rs"]
mod middleware;

pub use body::MeteredBody;
pub use middleware::{Metrics, MetricsMiddleware, ResponseFuture};

use crate::expose::negotiate::join_header_values;

use actix_web::http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE,
    VARY,
};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Html, Json};
use actix_web::{Either, HttpRequest, HttpResponse};

use crate::expose::off_thread;
use crate::expose::scrape::scrape;
use crate::expose::self_metrics::{scrape_served, scrape_started};
use crate::http::outcome::status_outcome;
use crate::record::outcome::{ClassifyOutcome, Outcome};

/// Serves the registry in the format the scraper asked for: an actix-web handler for
/// `GET /metrics`.
///
/// Sets `Content-Type` to match the body, `Content-Encoding: gzip` when the body is compressed
/// (actix-web's `Compress` middleware then leaves it alone), and `Vary: Accept,
/// Accept-Encoding`. Each scrape is counted in `instrument_metrics_scrapes_total{code="200"}`.
/// `web::get()` matches only `GET`; add `web::head()` to the same resource for `HEAD`.
///
/// The registry is gathered and encoded on a thread of its own (started at the first scrape),
/// not on the worker's: a slow collector delays scrapes, never the other requests of that
/// worker. A collector that panics makes it a `500` (`code="500"`).
///
/// ```
/// use actix_web::{http::header, test::TestRequest, web, App};
///
/// let app = App::new().route("/metrics", web::get().to(instrument_metrics::actix::metrics));
/// # drop(app);
///
/// // What a Prometheus scrape gets:
/// let request = TestRequest::get()
///     .insert_header((header::ACCEPT, "application/openmetrics-text;version=1.0.0"))
///     .to_http_request();
/// let response = actix_web::rt::System::new()
///     .block_on(instrument_metrics::actix::metrics(request));
/// assert_eq!(response.status(), 200);
/// assert_eq!(
///     response.headers().get(header::CONTENT_TYPE).unwrap(),
///     "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
/// );
/// ```
pub async fn metrics(req: HttpRequest) -> HttpResponse {
    let _in_flight = scrape_started();
    let headers = req.headers();
    // Owned: they travel to the render thread.
    let accept = joined(headers, &ACCEPT).map(Cow::into_owned);
    let accept_encoding = joined(headers, &ACCEPT_ENCODING).map(Cow::into_owned);
    let rendered =
        off_thread::run(move || scrape(accept.as_deref(), accept_encoding.as_deref())).await;
    let Some(scrape) = rendered else {
        // A collector panicked.
        scrape_served(500);
        return HttpResponse::InternalServerError()
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .body("Gathering the metrics failed\n");
    };

    let mut response = HttpResponse::Ok();
    response.insert_header((
        CONTENT_TYPE,
        HeaderValue::from_static(scrape.content_type()),
    ));
    if scrape.gzip {
        response.insert_header((CONTENT_ENCODING, HeaderValue::from_static("gzip")));
    }
    response.insert_header((VARY, HeaderValue::from_static("Accept, Accept-Encoding")));
    scrape_served(200);
    response.body(scrape.body)
}

/// The [live page](crate::live): an actix-web handler for `GET /` (or any path), with
/// [`live_api`] mounted at `api/functions` beside it, where the page looks for its data.
/// Starts the snapshot sampler at its first request (call [`live::start`](crate::live::start)
/// earlier for windows that cover the first requests too). Guard both as `/metrics` is
/// guarded: they show the same numbers.
///
/// ```
/// use actix_web::{web, App};
///
/// let app = App::new()
///     .route("/", web::get().to(instrument_metrics::actix::live_page))
///     .route("/api/functions", web::get().to(instrument_metrics::actix::live_api))
///     .route("/metrics", web::get().to(instrument_metrics::actix::metrics));
/// # drop(app);
/// let response = actix_web::rt::System::new().block_on(instrument_metrics::actix::live_page());
/// assert_eq!(response.headers().get("content-type").unwrap(), "text/html; charset=utf-8");
/// ```
pub async fn live_page() -> HttpResponse {
    crate::live::start();
    live_response(crate::live::HTML_CONTENT_TYPE).body(crate::live::page())
}

/// The live page's JSON (see [`live`](crate::live) for the schema): an actix-web handler for
/// `GET /api/functions`. Built on a thread of its own, not on the worker's.
///
/// ```
/// let response = actix_web::rt::System::new().block_on(instrument_metrics::actix::live_api());
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
/// ```
pub async fn live_api() -> HttpResponse {
    let Some(json) = off_thread::run(crate::live::functions_json).await else {
        return HttpResponse::InternalServerError()
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .body("Reading the snapshots failed\n");
    };
    live_response(crate::live::JSON_CONTENT_TYPE).body(json)
}

fn live_response(content_type: &'static str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, HeaderValue::from_static(content_type)));
    response.insert_header((
        actix_web::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    for (name, value) in crate::live::SECURITY_HEADERS {
        response.insert_header((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    response
}

/// All values of a header, comma-joined (see [`join_header_values`]).
fn joined<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Cow<'a, str>> {
    join_header_values(headers.get_all(name).filter_map(|v| v.to_str().ok()))
}

/// `error` for 5xx, `ok` otherwise (4xx included).
///
/// ```
/// use actix_web::http::StatusCode;
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(StatusCode::SERVICE_UNAVAILABLE.outcome(), Outcome::Error);
/// assert_eq!(StatusCode::NOT_FOUND.outcome(), Outcome::Ok);
/// ```
impl ClassifyOutcome for StatusCode {
    fn outcome(&self) -> Outcome {
        status_outcome(self.as_u16())
    }
}

/// By the response's status.
///
/// ```
/// use actix_web::HttpResponse;
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(HttpResponse::InternalServerError().finish().outcome(), Outcome::Error);
/// assert_eq!(HttpResponse::Ok().finish().outcome(), Outcome::Ok);
/// ```
impl<B> ClassifyOutcome for HttpResponse<B> {
    fn outcome(&self) -> Outcome {
        self.status().outcome()
    }
}

/// By the response's status.
///
/// ```
/// use actix_web::{dev::Response, http::StatusCode};
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(Response::new(StatusCode::BAD_GATEWAY).outcome(), Outcome::Error);
/// ```
impl<B> ClassifyOutcome for actix_web::dev::Response<B> {
    fn outcome(&self) -> Outcome {
        self.status().outcome()
    }
}

/// Whichever side it holds decides.
///
/// ```
/// use actix_web::{http::StatusCode, Either, HttpResponse};
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// let e: Either<HttpResponse, StatusCode> = Either::Right(StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(e.outcome(), Outcome::Error);
/// ```
impl<L: ClassifyOutcome, R: ClassifyOutcome> ClassifyOutcome for Either<L, R> {
    fn outcome(&self) -> Outcome {
        match self {
            Either::Left(l) => l.outcome(),
            Either::Right(r) => r.outcome(),
        }
    }
}

/// actix-web's `(responder, StatusCode)` tuples: the status decides. Listed body by body, as a
/// blanket impl over every `Responder` would overlap with the `http` 1 `(StatusCode, _)` impl.
macro_rules! status_tuples {
    ($([$($generics:tt)*] $body:ty;)+) => {
        $(
            /// By the status, the second element.
            impl<$($generics)*> ClassifyOutcome for ($body, StatusCode) {
                fn outcome(&self) -> Outcome {
                    self.1.outcome()
                }
            }
        )+
    };
}

status_tuples! {
    [] String;
    ['a] &'a str;
    ['a] Cow<'a, str>;
    ['a] &'a [u8];
    [] Vec<u8>;
    [] Bytes;
    [] Html;
    [T] Json<T>;
    [B] HttpResponse<B>;
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::web::Json;
    use actix_web::HttpResponse;

    use crate::record::outcome::{ClassifyOutcome, Outcome};

    #[test]
    fn actix_statuses_and_tuples() {
        assert_eq!(StatusCode::from_u16(599).unwrap().outcome(), Outcome::Error);
        assert_eq!(StatusCode::from_u16(499).unwrap().outcome(), Outcome::Ok);
        assert_eq!(
            ("x", StatusCode::INTERNAL_SERVER_ERROR).outcome(),
            Outcome::Error
        );
        assert_eq!((Json(1), StatusCode::CREATED).outcome(), Outcome::Ok);
        let r: Result<HttpResponse, actix_web::Error> =
            Ok(HttpResponse::ServiceUnavailable().finish());
        assert_eq!(r.outcome(), Outcome::Error);
        let r: Result<HttpResponse, actix_web::Error> =
            Err(actix_web::error::ErrorBadRequest("no"));
        assert_eq!(r.outcome(), Outcome::Error);
    }
}
