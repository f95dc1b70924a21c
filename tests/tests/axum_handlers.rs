//! axum handlers through real HTTP requests: every response shape classified by its status,
//! a dropped request counted as cancelled, and `instrument_metrics::axum::metrics` serving
//! text, OpenMetrics and gzip.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use instrument_metrics::exposition::TEXT_CONTENT_TYPE;
use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::http_client::{connect, request, send, Reply};
use instrument_metrics_tests::metrics_endpoint::assert_serves_metrics;
use instrument_metrics_tests::{calls, calls_once_recorded};

// ---- handlers -------------------------------------------------------------------------------

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("valid status code")
}

#[instrument_metrics]
async fn ax_status(Path(code): Path<u16>) -> StatusCode {
    status(code)
}

#[instrument_metrics]
async fn ax_response(Path(code): Path<u16>) -> Response {
    let mut response = format!("status {code}").into_response();
    *response.status_mut() = status(code);
    response
}

#[instrument_metrics]
async fn ax_tuple(Path(code): Path<u16>) -> (StatusCode, String) {
    (status(code), format!("status {code}"))
}

#[instrument_metrics]
async fn ax_triple(Path(code): Path<u16>) -> (StatusCode, HeaderMap, &'static str) {
    let mut headers = HeaderMap::new();
    headers.insert("x-shape", HeaderValue::from_static("triple"));
    (status(code), headers, "body")
}

/// An application error type, as axum apps write them.
#[derive(Debug)]
struct AppError(&'static str);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.0).into_response()
    }
}

#[instrument_metrics]
async fn ax_result_status(Path(code): Path<u16>) -> Result<StatusCode, AppError> {
    if code == 0 {
        return Err(AppError("no code"));
    }
    Ok(status(code))
}

#[instrument_metrics]
async fn ax_json(Path(id): Path<u32>) -> Result<Json<serde_json::Value>, AppError> {
    let id = id.checked_sub(1).ok_or(AppError("ids start at 1"))?;
    Ok(Json(serde_json::json!({ "index": id })))
}

#[instrument_metrics]
async fn ax_impl(Path(code): Path<u16>) -> impl IntoResponse {
    (status(code), "opaque")
}

#[instrument_metrics]
async fn ax_slow() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(2)).await;
    StatusCode::OK
}

#[instrument_metrics]
async fn ax_gzip_probe() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Routed, never requested: must be exported at 0 all the same.
#[instrument_metrics]
async fn ax_never() -> StatusCode {
    StatusCode::OK
}

// ---- one server for the whole file, on its own runtime ---------------------------------------

fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let app = Router::new()
            .route("/status/{code}", get(ax_status))
            .route("/response/{code}", get(ax_response))
            .route("/tuple/{code}", get(ax_tuple))
            .route("/triple/{code}", get(ax_triple))
            .route("/result/{code}", get(ax_result_status))
            .route("/json/{id}", get(ax_json))
            .route("/impl/{code}", get(ax_impl))
            .route("/slow", get(ax_slow))
            .route("/probe", get(ax_gzip_probe))
            .route("/never", get(ax_never))
            .route("/metrics", get(instrument_metrics::axum::metrics));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        std::thread::spawn(move || {
            runtime.block_on(async move { axum::serve(listener, app).await })
        });
        addr
    })
}

// ---- requests --------------------------------------------------------------------------------

fn get_path(path: &str) -> Reply {
    request(server(), "GET", path, &[])
}

// ---- shapes ----------------------------------------------------------------------------------

#[test]
fn status_code_5xx_is_error_4xx_is_ok() {
    for (code, expected) in [(200, 200), (404, 404), (500, 500), (503, 503)] {
        assert_eq!(get_path(&format!("/status/{code}")).status, expected);
    }
    assert_eq!(calls("ax_status"), [2, 2, 0, 0]);
}

#[test]
fn response_by_its_status() {
    assert_eq!(get_path("/response/200").status, 200);
    assert_eq!(get_path("/response/502").status, 502);
    assert_eq!(get_path("/response/418").status, 418);
    assert_eq!(calls("ax_response"), [2, 1, 0, 0]);
}

#[test]
fn status_tuples() {
    let created = get_path("/tuple/201");
    assert_eq!(
        (created.status, created.text().as_str()),
        (201, "status 201")
    );
    assert_eq!(get_path("/tuple/500").status, 500);
    assert_eq!(calls("ax_tuple"), [1, 1, 0, 0]);

    let reply = get_path("/triple/504");
    assert_eq!(reply.status, 504);
    assert_eq!(reply.header("x-shape"), Some("triple"));
    assert_eq!(get_path("/triple/200").status, 200);
    assert_eq!(calls("ax_triple"), [1, 1, 0, 0]);
}

#[test]
fn result_of_status() {
    assert_eq!(get_path("/result/204").status, 204);
    assert_eq!(get_path("/result/500").status, 500);
    // Err is an error whatever status it turns into (here 400).
    assert_eq!(get_path("/result/0").status, 400);
    assert_eq!(calls("ax_result_status"), [1, 2, 0, 0]);
}

#[test]
fn result_of_json_with_app_error() {
    let ok = get_path("/json/3");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), r#"{"index":2}"#);
    assert_eq!(get_path("/json/0").status, 400);
    assert_eq!(get_path("/json/1").status, 200);
    assert_eq!(calls("ax_json"), [2, 1, 0, 0]);
}

#[test]
fn impl_into_response_is_classified_by_its_concrete_value() {
    assert_eq!(get_path("/impl/500").status, 500);
    assert_eq!(get_path("/impl/200").status, 200);
    assert_eq!(get_path("/impl/500").status, 500);
    assert_eq!(calls("ax_impl"), [1, 2, 0, 0]);
}

#[test]
fn client_going_away_is_cancelled() {
    let mut stream = connect(server());
    send(&mut stream, "GET", "/slow", &[], false);
    std::thread::sleep(Duration::from_millis(100));
    drop(stream);

    let counts = calls_once_recorded("ax_slow", Duration::from_secs(10));
    assert_eq!(
        counts,
        [0, 0, 0, 1],
        "axum drops the handler's future when the client disconnects"
    );
}

// ---- the /metrics handler --------------------------------------------------------------------

#[test]
fn metrics_head() {
    let reply = request(server(), "HEAD", "/metrics", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert!(reply.body.is_empty());
}

#[test]
fn metrics_endpoint_in_every_format() {
    assert_serves_metrics(server(), "/probe", "ax_gzip_probe", "ax_never");
}
