//! actix-web handlers through real HTTP requests: every response shape classified by its
//! status, and `instrument_metrics::actix::metrics` serving text, OpenMetrics and gzip.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, App, Either, HttpResponse, HttpServer, Responder};
use instrument_metrics::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::http_client::{connect, request, send, Reply};
use instrument_metrics_tests::{calls, value};

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

    let deadline = Instant::now() + Duration::from_secs(10);
    let counts = loop {
        let counts = calls("ac_slow");
        if counts != [0, 0, 0, 0] || Instant::now() > deadline {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(counts, [1, 0, 0, 0], "one call, run to completion");
}

// ---- the /metrics handler --------------------------------------------------------------------

const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[test]
fn metrics_plain_text() {
    let reply = get_path("/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.header("vary"), Some("Accept, Accept-Encoding"));
    let text = reply.text();
    assert!(!text.contains("# EOF"));
    for result in ["ok", "error", "panic", "cancelled"] {
        let labels = [("function", "ac_either"), ("result", result)];
        assert!(value(&text, "function_calls_total", &labels) >= 0.0);
    }
    let again = get_path("/metrics").text();
    assert!(
        value(
            &again,
            "instrument_metrics_scrapes_total",
            &[("code", "200")]
        ) >= 1.0
    );
}

#[test]
fn metrics_openmetrics_for_prometheus() {
    let reply = get_with("/metrics", &[("Accept", PROMETHEUS_ACCEPT)]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(OPENMETRICS_CONTENT_TYPE));
    let text = reply.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# TYPE function_calls counter\n"));
    assert!(text.contains(r#"function_calls_total{function="ac_probe","#));
}

#[test]
fn metrics_gzip_when_asked() {
    for _ in 0..3 {
        assert_eq!(get_path("/probe").status, 204);
    }
    let probe_ok = [("function", "ac_probe"), ("result", "ok")];

    let zipped = get_with("/metrics", &[("Accept-Encoding", "gzip, deflate")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some(TEXT_CONTENT_TYPE));
    let text = zipped.gunzip();
    let plain = get_path("/metrics").text();
    let zipped_value = value(&text, "function_calls_total", &probe_ok);
    assert!((zipped_value - 3.0).abs() < f64::EPSILON, "{zipped_value}");
    assert!((value(&plain, "function_calls_total", &probe_ok) - zipped_value).abs() < f64::EPSILON);

    let om = get_with(
        "/metrics",
        &[("Accept", PROMETHEUS_ACCEPT), ("Accept-Encoding", "gzip")],
    );
    assert_eq!(om.header("content-encoding"), Some("gzip"));
    assert_eq!(om.header("content-type"), Some(OPENMETRICS_CONTENT_TYPE));
    assert!(om.gunzip().ends_with("# EOF\n"));

    let refused = get_with("/metrics", &[("Accept-Encoding", "identity")]);
    assert_eq!(refused.header("content-encoding"), None);
}
