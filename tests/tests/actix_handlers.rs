//! actix-web handlers through real HTTP requests: every response shape classified by its
//! status, and `instrument_metrics::actix::metrics` serving text, OpenMetrics and gzip.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, App, Either, HttpResponse, HttpServer, Responder};
use instrument_metrics::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use instrument_metrics::instrument_metrics;
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

// ---- a small HTTP/1.1 client -----------------------------------------------------------------

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
}

fn send(path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(server()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_reply(&raw)
}

fn get_path(path: &str) -> Reply {
    send(path, &[])
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of response head");
    let head = std::str::from_utf8(&raw[..split]).expect("ascii head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = std::str::from_utf8(&data[..line_end]).expect("chunk size text");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
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
    let mut stream = TcpStream::connect(server()).expect("connect");
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("write request");
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

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("valid gzip");
    text
}

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
    let reply = send("/metrics", &[("Accept", PROMETHEUS_ACCEPT)]);
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

    let zipped = send("/metrics", &[("Accept-Encoding", "gzip, deflate")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some(TEXT_CONTENT_TYPE));
    let text = gunzip(&zipped.body);
    let plain = get_path("/metrics").text();
    let zipped_value = value(&text, "function_calls_total", &probe_ok);
    assert!((zipped_value - 3.0).abs() < f64::EPSILON, "{zipped_value}");
    assert!((value(&plain, "function_calls_total", &probe_ok) - zipped_value).abs() < f64::EPSILON);

    let om = send(
        "/metrics",
        &[("Accept", PROMETHEUS_ACCEPT), ("Accept-Encoding", "gzip")],
    );
    assert_eq!(om.header("content-encoding"), Some("gzip"));
    assert_eq!(om.header("content-type"), Some(OPENMETRICS_CONTENT_TYPE));
    assert!(gunzip(&om.body).ends_with("# EOF\n"));

    let refused = send("/metrics", &[("Accept-Encoding", "identity")]);
    assert_eq!(refused.header("content-encoding"), None);
}
