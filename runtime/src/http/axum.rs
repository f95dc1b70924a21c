//! A `/metrics` handler for axum 0.8 (feature `axum`).
//!
//! Mount [`metrics`] on a route of your own router; it serves everything in
//! [`registry()`](crate::registry()), the function metrics included, exactly like
//! [`serve`](crate::serve()) does: OpenMetrics when the scraper's `Accept` asks for it (Prometheus
//! does), text 0.0.4 otherwise, gzip when `Accept-Encoding` allows it.
//!
//! Handlers that return `StatusCode`, `Response`, `(StatusCode, …)` tuples, a `Result` of those
//! or `impl IntoResponse` are classified by their status: 5xx is `error`, anything else `ok`.
//!
//! ```
//! use axum::{http::StatusCode, routing::get, Router};
//! use instrument_metrics::instrument_metrics;
//!
//! #[instrument_metrics]
//! async fn hello() -> (StatusCode, &'static str) {
//!     (StatusCode::OK, "hello")
//! }
//!
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .route("/metrics", get(instrument_metrics::axum::metrics));
//! // Then, with axum's `tokio` and `http1` features:
//! // axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await?, app).await?;
//! # drop(app);
//! ```

use std::borrow::Cow;

use crate::expose::negotiate::join_header_values;

use axum::body::Body;
use axum::http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use crate::expose::off_thread;
use crate::expose::scrape::scrape;
use crate::expose::self_metrics::{scrape_served, scrape_started};

/// Serves the registry in the format the scraper asked for: an axum handler for `GET /metrics`.
///
/// Sets `Content-Type` to match the body, `Content-Encoding: gzip` when the body is compressed,
/// and `Vary: Accept, Accept-Encoding`. Each scrape is counted in
/// `instrument_metrics_scrapes_total{code="200"}`. It works in a router with any state, and
/// axum answers `HEAD` on a `get` route with it too.
///
/// The registry is gathered and encoded on a thread of its own (started at the first scrape),
/// not on the executor's: a slow collector delays scrapes, never the other tasks of the
/// runtime. A collector that panics makes it a `500` (`code="500"`).
///
/// ```
/// use axum::http::{header, HeaderMap, HeaderValue};
/// use axum::{routing::get, Router};
///
/// let app: Router = Router::new().route("/metrics", get(instrument_metrics::axum::metrics));
/// # drop(app);
///
/// // What a Prometheus scrape gets:
/// let mut headers = HeaderMap::new();
/// headers.insert(header::ACCEPT, HeaderValue::from_static("application/openmetrics-text;version=1.0.0"));
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let response = instrument_metrics::axum::metrics(headers).await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(
///     response.headers()[header::CONTENT_TYPE],
///     "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
/// );
/// # });
/// ```
pub async fn metrics(headers: HeaderMap) -> Response {
    let _in_flight = scrape_started();
    // Owned: they travel to the render thread.
    let accept = joined(&headers, &ACCEPT).map(Cow::into_owned);
    let accept_encoding = joined(&headers, &ACCEPT_ENCODING).map(Cow::into_owned);
    let rendered =
        off_thread::run(move || scrape(accept.as_deref(), accept_encoding.as_deref())).await;
    let Some(scrape) = rendered else {
        // A collector panicked.
        let mut response = Response::new(Body::from("Gathering the metrics failed\n"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        scrape_served(500);
        return response;
    };

    let content_type = scrape.content_type();
    let mut response = Response::new(Body::from(scrape.body));
    let response_headers = response.headers_mut();
    response_headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if scrape.gzip {
        response_headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response_headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    *response.status_mut() = StatusCode::OK;
    scrape_served(200);
    response
}

/// All values of a header, comma-joined (see [`join_header_values`]).
fn joined<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Cow<'a, str>> {
    join_header_values(headers.get_all(name).iter().filter_map(|v| v.to_str().ok()))
}

/// The [live page](crate::live): an axum handler for `GET /` (or any path), with
/// [`live_api`] mounted at `api/functions` beside it, where the page looks for its data.
/// Starts the snapshot sampler at its first request (call [`live::start`](crate::live::start)
/// earlier for windows that cover the first requests too). Mount both behind the same
/// authentication as `/metrics`: they show the same numbers.
///
/// ```
/// use axum::{routing::get, Router};
///
/// let app: Router = Router::new()
///     .route("/", get(instrument_metrics::axum::live_page))
///     .route("/api/functions", get(instrument_metrics::axum::live_api))
///     .route("/metrics", get(instrument_metrics::axum::metrics));
/// # drop(app);
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let response = instrument_metrics::axum::live_page().await;
/// assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
/// # });
/// ```
pub async fn live_page() -> Response {
    crate::live::start();
    live_response(
        Body::from(crate::live::page()),
        crate::live::HTML_CONTENT_TYPE,
    )
}

/// The live page's JSON (see [`live`](crate::live) for the schema): an axum handler for
/// `GET /api/functions`. Built on a thread of its own, not on the executor's.
///
/// ```
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let response = instrument_metrics::axum::live_api().await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// # });
/// ```
pub async fn live_api() -> Response {
    let Some(json) = off_thread::run(crate::live::functions_json).await else {
        let mut response = Response::new(Body::from("Reading the snapshots failed\n"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return response;
    };
    live_response(Body::from(json), crate::live::JSON_CONTENT_TYPE)
}

fn live_response(body: Body, content_type: &'static str) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    for (name, value) in crate::live::SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
