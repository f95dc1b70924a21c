//! actix-web handlers through real HTTP requests: every response shape classified by its
//! status, and `instrument_metrics::actix::metrics` serving text, OpenMetrics and gzip.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, App, Either, HttpResponse, HttpServer, Responder};
use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::http_client::{connect, request, send, Reply};
use instrument_metrics_tests::metrics_endpoint::assert_serves_metrics;
use instrument_metrics_tests::{calls, calls_once_recorded};

// ---- handlers -------------------------------------------------------------------------------

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("valid status code")
}

#[instrument_metrics]
async fn ac_response(code: web::Path<u16>) -> HttpResponse {
    HttpResponse::build(status(*code)).body(format!("status {code}"))
}

#[instrument_metrics]
async fn ac_result(code: web::Path<u16>) -> Result<HttpResponse, actix_web::Error> {
    if *code == 0 {
        return Err(actix_web::error::ErrorBadRequest("no code"));
    }
    Ok(HttpResponse::build(status(*code)).finish())
}

#[instrument_metrics]
async fn ac_impl(code: web::Path<u16>) -> impl Responder {
    (format!("status {code}"), status(*code))
}

#[instrument_metrics]
async fn ac_impl_response(code: web::Path<u16>) -> impl Responder {
    HttpResponse::build(status(*code)).finish()
}

#[instrument_metrics]
async fn ac_either(code: web::Path<u16>) -> Either<HttpResponse, (&'static str, StatusCode)> {
    if *code < 300 {
        Either::Left(HttpResponse::build(status(*code)).finish())
    } else {
        Either::Right(("right", status(*code)))
    }
}

#[instrument_metrics]
async fn ac_slow() -> HttpResponse {
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    HttpResponse::Ok().finish()
}

#[instrument_metrics]
async fn ac_probe() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Routed, never requested: must be exported at 0 all the same.
#[instrument_metrics]
async fn ac_never() -> HttpResponse {
    HttpResponse::Ok().finish()
}

// ---- one server for the whole file, on its own actix system ----------------------------------

fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(|| {
                    App::new()
                        .route("/response/{code}", web::get().to(ac_response))
                        .route("/result/{code}", web::get().to(ac_result))
                        .route("/impl/{code}", web::get().to(ac_impl))
                        .route("/impl-response/{code}", web::get().to(ac_impl_response))
                        .route("/either/{code}", web::get().to(ac_either))
                        .route("/slow", web::get().to(ac_slow))
                        .route("/probe", web::get().to(ac_probe))
                        .route("/never", web::get().to(ac_never))
                        .route(
                            "/metrics",
                            web::get().to(instrument_metrics::actix::metrics),
                        )
                })
                .workers(2)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind 127.0.0.1:0");
                tx.send(server.addrs()[0]).expect("send address");
                server.run().await
            })
        });
        rx.recv().expect("server address")
    })
}

// ---- requests --------------------------------------------------------------------------------

fn get_path(path: &str) -> Reply {
    get_with(path, &[])
}

fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    request(server(), "GET", path, headers)
}

// ---- shapes ----------------------------------------------------------------------------------

#[test]
fn http_response_by_its_status() {
    let ok = get_path("/response/200");
    assert_eq!((ok.status, ok.text().as_str()), (200, "status 200"));
    assert_eq!(get_path("/response/500").status, 500);
    assert_eq!(get_path("/response/404").status, 404);
    assert_eq!(get_path("/response/503").status, 503);
    assert_eq!(calls("ac_response"), [2, 2, 0, 0]);
}

#[test]
fn result_of_http_response() {
    assert_eq!(get_path("/result/200").status, 200);
    assert_eq!(get_path("/result/500").status, 500);
    // Err is an error whatever status it turns into (here 400).
    assert_eq!(get_path("/result/0").status, 400);
    assert_eq!(calls("ac_result"), [1, 2, 0, 0]);
}

#[test]
fn impl_responder_is_classified_by_its_concrete_value() {
    let failed = get_path("/impl/500");
    assert_eq!((failed.status, failed.text().as_str()), (500, "status 500"));
    assert_eq!(get_path("/impl/200").status, 200);
    assert_eq!(calls("ac_impl"), [1, 1, 0, 0]);

    assert_eq!(get_path("/impl-response/500").status, 500);
    assert_eq!(get_path("/impl-response/201").status, 201);
    assert_eq!(get_path("/impl-response/201").status, 201);
    assert_eq!(calls("ac_impl_response"), [2, 1, 0, 0]);
}

#[test]
fn either_side_decides() {
    assert_eq!(get_path("/either/200").status, 200);
    assert_eq!(get_path("/either/502").status, 502);
    assert_eq!(get_path("/either/404").status, 404);
    assert_eq!(calls("ac_either"), [2, 1, 0, 0]);
}

/// Unlike axum (hyper), actix-web 4 runs a handler to completion when its client has gone
/// away, so the call counts as what it returned, not `cancelled`; the actix module docs say so.
/// If this starts failing, actix-web began dropping the future: update those docs.
#[test]
fn client_going_away_still_runs_the_handler() {
    let mut stream = connect(server());
    send(&mut stream, "GET", "/slow", &[], false);
    std::thread::sleep(Duration::from_millis(100));
    drop(stream);

    let counts = calls_once_recorded("ac_slow", Duration::from_secs(10));
    assert_eq!(counts, [1, 0, 0, 0], "one call, run to completion");
}

// ---- the /metrics handler --------------------------------------------------------------------

#[test]
fn metrics_endpoint_in_every_format() {
    assert_serves_metrics(server(), "/probe", "ac_probe", "ac_never");
}
