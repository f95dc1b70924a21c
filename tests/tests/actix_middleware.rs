//! The actix-web middleware (`instrument_metrics::actix::Metrics`) through real actix-web
//! servers, real sockets and a raw client: every value read back by parsing the exposition.
//!
//! Each test starts its own server whose metrics carry a constant label `test="<name>"`, so
//! tests running in parallel read only their own series.

use std::borrow::Cow;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::dev::{Service as _, ServiceRequest};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse, HttpServer};
use instrument_metrics::actix::Metrics;
use instrument_metrics::http::HttpMetrics;
use instrument_metrics_tests::http_client::{connect, request, send};
use instrument_metrics_tests::{find_value, parse, Sample};

const DURATION: &str = "http_server_request_duration_seconds";
const RESPONSE: &str = "http_server_response_body_size_bytes";
const REQUEST: &str = "http_server_request_body_size_bytes";
const ACTIVE: &str = "http_server_active_requests";

// ---- handlers -------------------------------------------------------------------------------

async fn user(id: web::Path<u32>) -> HttpResponse {
    match *id {
        13 => HttpResponse::InternalServerError().body("storage outage"),
        0..100 => HttpResponse::Ok().body(format!("user {id}")),
        _ => HttpResponse::NotFound().body("no such user"),
    }
}

/// `n` chunks of 1000 bytes, `gap` apart (the first one at once), without a length.
async fn stream(path: web::Path<(usize, u64)>) -> HttpResponse {
    let (n, gap) = path.into_inner();
    let gap = Duration::from_millis(gap);
    HttpResponse::Ok().streaming(futures_util::stream::unfold(0, move |i| async move {
        if i == n {
            return None;
        }
        if i > 0 {
            actix_web::rt::time::sleep(gap).await;
        }
        Some((
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1000])),
            i + 1,
        ))
    }))
}

async fn slow(ms: web::Path<u64>) -> &'static str {
    actix_web::rt::time::sleep(Duration::from_millis(*ms)).await;
    "slept"
}

async fn panics() -> &'static str {
    if true {
        panic!("handler panics on purpose");
    }
    "unreachable"
}

fn metrics(test: &str) -> HttpMetrics {
    HttpMetrics::builder()
        .label("test", test)
        .skip("/metrics")
        .build()
        .expect("valid metrics")
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/users/{id}")
            .route(web::get().to(user))
            .route(web::head().to(user))
            .route(web::post().to(user)),
    )
    .route("/stream/{n}/{gap_ms}", web::get().to(stream))
    .route("/slow/{ms}", web::get().to(slow))
    .route("/echo", web::post().to(|body: String| async move { body }))
    .route("/panic", web::get().to(panics))
    .route(
        "/empty",
        web::get().to(|| async { HttpResponse::NoContent().finish() }),
    )
    .service(
        web::scope("/api").service(
            web::resource("/items/{id}")
                .wrap_fn(|req, srv| {
                    // An inner middleware refusing the request: an `Err`, not a response.
                    let refuse = req.headers().get("x-refuse").is_some();
                    let fut = srv.call(req);
                    async move {
                        if refuse {
                            Err(actix_web::error::ErrorUnauthorized("go away"))
                        } else {
                            fut.await
                        }
                    }
                })
                .route(web::get().to(|id: web::Path<u32>| async move { format!("item {id}") })),
        ),
    )
    .route(
        "/metrics",
        web::get().to(instrument_metrics::actix::metrics),
    );
}

/// A server on its own actix system (2 workers), every request through `middleware`;
/// `half_closed` as `HttpServer::h1_allow_half_closed`.
fn spawn_with(middleware: Metrics, half_closed: bool) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server =
                HttpServer::new(move || App::new().configure(routes).wrap(middleware.clone()))
                    .workers(2)
                    .disable_signals()
                    .h1_allow_half_closed(half_closed)
                    .bind(("127.0.0.1", 0))
                    .expect("bind 127.0.0.1:0");
            tx.send(server.addrs()[0]).expect("send address");
            server.run().await
        })
    });
    rx.recv().expect("server address")
}

fn spawn_server(test: &str) -> SocketAddr {
    spawn_with(Metrics::new(metrics(test)), true)
}

// ---- reading back ---------------------------------------------------------------------------

/// This test's samples of `name` (constant label `test`).
fn samples(test: &str, name: &str) -> Vec<Sample> {
    parse(&instrument_metrics::render())
        .into_iter()
        .filter(|s| s.name == name && s.labels.get("test").map(String::as_str) == Some(test))
        .collect()
}

fn value(test: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut all = labels.to_vec();
    all.push(("test", test));
    find_value(&parse(&instrument_metrics::render()), name, &all)
}

/// Waits (bounded) until `name` with `labels` exists and returns it: the server records an
/// exchange as the response's last chunk goes out, which a client can see a moment earlier.
fn eventually(test: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = value(test, name, labels) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "no {name} {labels:?} for {test}:\n{}",
            instrument_metrics::render()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until the in-flight gauge of `method` reads `n`.
fn active_becomes(test: &str, method: &str, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while value(test, ACTIVE, &[("http_request_method", method)]) != Some(n) {
        assert!(
            Instant::now() < deadline,
            "{ACTIVE}{{{method}}} never {n} for {test}:\n{}",
            instrument_metrics::render()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn get_status(addr: SocketAddr, path: &str) -> u16 {
    request(addr, "GET", path, &[]).status
}

fn count(test: &str, labels: &[(&str, &str)]) -> f64 {
    eventually(test, &format!("{DURATION}_count"), labels)
}

// ---- tests ----------------------------------------------------------------------------------

#[test]
fn requests_are_counted_by_route_method_and_status() {
    let t = "ax_by_status";
    let addr = spawn_server(t);
    for (path, status) in [
        ("/users/1", 200),
        ("/users/2", 200),
        ("/users/500", 404),
        ("/users/13", 500),
    ] {
        assert_eq!(get_status(addr, path), status);
    }
    assert_eq!(
        request(addr, "POST", "/users/3", &[("content-length", "0")]).status,
        200
    );
    let by = |method: &str, status: &str| {
        count(
            t,
            &[
                ("http_request_method", method),
                ("http_route", "/users/{id}"),
                ("http_response_status_code", status),
            ],
        )
    };
    assert_eq!(by("GET", "200"), 2.0);
    assert_eq!(by("GET", "404"), 1.0);
    assert_eq!(by("GET", "500"), 1.0);
    assert_eq!(by("POST", "200"), 1.0);
    let ok = [
        ("http_request_method", "GET"),
        ("http_route", "/users/{id}"),
        ("http_response_status_code", "200"),
    ];
    // Bytes sent, exactly: "user 1" + "user 2"; "no such user", "storage outage".
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &ok), 12.0);
    assert_eq!(
        eventually(
            t,
            &format!("{RESPONSE}_sum"),
            &[
                ("http_request_method", "GET"),
                ("http_response_status_code", "404")
            ]
        ),
        12.0
    );
    assert_eq!(
        eventually(
            t,
            &format!("{RESPONSE}_sum"),
            &[
                ("http_request_method", "GET"),
                ("http_response_status_code", "500")
            ]
        ),
        14.0
    );
    // _count equals the +Inf bucket; bodiless GETs have a request body of 0 bytes.
    let mut inf = ok.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(eventually(t, &format!("{DURATION}_bucket"), &inf), 2.0);
    assert_eq!(eventually(t, &format!("{REQUEST}_count"), &ok), 2.0);
    assert_eq!(eventually(t, &format!("{REQUEST}_sum"), &ok), 0.0);
    assert!(samples(t, &format!("{DURATION}_count"))
        .iter()
        .all(|s| !s.labels.contains_key("error_type")));
    // Nothing left in flight.
    assert_eq!(
        value(t, ACTIVE, &[("http_request_method", "GET")]),
        Some(0.0)
    );
    // The skipped /metrics route never shows up, though it is served through the middleware.
    assert_eq!(get_status(addr, "/metrics"), 200);
    assert!(samples(t, &format!("{DURATION}_count"))
        .iter()
        .all(|s| s.labels["http_route"] != "/metrics"));
}

#[test]
fn unmatched_paths_share_one_route_value() {
    let t = "ax_unmatched";
    let addr = spawn_server(t);
    for i in 0..40 {
        assert_eq!(get_status(addr, &format!("/wp-admin/{i}/probe.php")), 404);
    }
    assert_eq!(
        count(
            t,
            &[
                ("http_route", "_unmatched"),
                ("http_response_status_code", "404")
            ]
        ),
        40.0
    );
    let routes: std::collections::BTreeSet<String> = samples(t, &format!("{DURATION}_count"))
        .into_iter()
        .map(|s| s.labels["http_route"].clone())
        .collect();
    assert_eq!(routes.into_iter().collect::<Vec<_>>(), ["_unmatched"]);
}

#[test]
fn odd_methods_are_other_and_head_sends_no_bytes() {
    let t = "ax_methods";
    let addr = spawn_server(t);
    // A method outside the standard set reaches the resource, which answers 405.
    assert_eq!(request(addr, "BREW", "/users/1", &[]).status, 405);
    assert_eq!(
        count(
            t,
            &[
                ("http_request_method", "_OTHER"),
                ("http_route", "/users/{id}"),
                ("http_response_status_code", "405")
            ]
        ),
        1.0
    );
    // A standard method the resource has no route for: counted under its own name.
    assert_eq!(request(addr, "DELETE", "/users/1", &[]).status, 405);
    assert_eq!(
        count(
            t,
            &[
                ("http_request_method", "DELETE"),
                ("http_response_status_code", "405")
            ]
        ),
        1.0
    );
    // HEAD: the handler makes a body of 6 bytes, actix sends none.
    let reply = request(addr, "HEAD", "/users/1", &[]);
    assert_eq!(
        (reply.status, reply.header("content-length")),
        (200, Some("6"))
    );
    let labels = [
        ("http_request_method", "HEAD"),
        ("http_route", "/users/{id}"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(count(t, &labels), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 0.0);
    // A 204 has no body to wait for.
    assert_eq!(get_status(addr, "/empty"), 204);
    let empty = [
        ("http_route", "/empty"),
        ("http_response_status_code", "204"),
    ];
    assert_eq!(count(t, &empty), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &empty), 0.0);
    for method in ["_OTHER", "DELETE", "HEAD", "GET"] {
        assert_eq!(
            value(t, ACTIVE, &[("http_request_method", method)]),
            Some(0.0),
            "{method}"
        );
    }
}

#[test]
fn a_streamed_body_is_measured_until_its_last_chunk() {
    let t = "ax_stream";
    let addr = spawn_server(t);
    let reply = request(addr, "GET", "/stream/4/150", &[]);
    assert_eq!((reply.status, reply.body.len()), (200, 4000));
    let labels = [
        ("http_route", "/stream/{n}/{gap_ms}"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 4000.0);
    // Three gaps of 150 ms: between 0.25 s and 0.75 s, so the handler's instant return
    // (the response head) was not where timing stopped.
    let bucket = |name: &str, le: &str| {
        let mut l = labels.to_vec();
        l.push(("le", le));
        eventually(t, &format!("{name}_bucket"), &l)
    };
    assert_eq!(bucket(DURATION, "0.25"), 0.0);
    assert_eq!(bucket(DURATION, "0.75"), 1.0);
    assert_eq!(
        (bucket(RESPONSE, "1024"), bucket(RESPONSE, "4096")),
        (0.0, 1.0)
    );
    assert!(samples(t, &format!("{DURATION}_count"))
        .iter()
        .all(|s| !s.labels.contains_key("error_type")));
}

#[test]
fn a_client_gone_mid_body_is_cancelled_with_the_status_sent() {
    let t = "ax_gone_mid_body";
    let addr = spawn_server(t);
    let mut stream = connect(addr);
    send(&mut stream, "GET", "/stream/5/2000", &[], true);
    // Read the head and the first chunk (1000 bytes of 'x'), then go away.
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    assert!(line.starts_with("HTTP/1.1 200"), "{line:?}");
    let mut seen = Vec::new();
    while seen.iter().filter(|b| **b == b'x').count() < 1000 {
        let consumed = reader.buffer().len();
        seen.extend_from_slice(reader.buffer());
        reader.consume(consumed);
        if seen.iter().filter(|b| **b == b'x').count() >= 1000 {
            break;
        }
        let mut buf = [0u8; 512];
        let n = reader.get_mut().read(&mut buf).expect("first chunk");
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(reader);
    let labels = [
        ("http_route", "/stream/{n}/{gap_ms}"),
        ("http_response_status_code", "200"),
        ("error_type", "cancelled"),
    ];
    assert_eq!(count(t, &labels), 1.0);
    // Bytes handed to actix before it saw the connection gone: the first chunk, and the ones
    // it took until a write failed (a write to a closed peer may still succeed once).
    let sent = eventually(t, &format!("{RESPONSE}_sum"), &labels);
    assert!([1000.0, 2000.0, 3000.0].contains(&sent), "{sent}");
    assert_eq!(
        value(t, ACTIVE, &[("http_request_method", "GET")]),
        Some(0.0)
    );
}

/// The match pattern as read before the request goes on, for the tests of what ends before
/// actix's router has told the route (the middleware's default reads it from the response).
fn before_routing(test: &str) -> Metrics {
    Metrics::new(metrics(test))
        .route_with(|req: &ServiceRequest| req.match_pattern().map(Cow::Owned))
}

/// With `h1_allow_half_closed(false)`, actix drops the handler's future when the client
/// closes its side: recorded as cancelled, without a status (none was sent). By default on
/// the unmatched route (actix's router never answered); on its own route with the match
/// pattern read before routing.
#[test]
fn a_client_gone_before_the_response_is_cancelled_without_status() {
    for (t, middleware, route) in [
        (
            "ax_gone_before",
            Metrics::new(metrics("ax_gone_before")),
            "_unmatched",
        ),
        (
            "ax_gone_before_routed",
            before_routing("ax_gone_before_routed"),
            "/slow/{ms}",
        ),
    ] {
        let addr = spawn_with(middleware, false);
        let mut stream = connect(addr);
        send(&mut stream, "GET", "/slow/3000", &[], false);
        active_becomes(t, "GET", 1.0);
        stream.shutdown(std::net::Shutdown::Both).expect("shutdown");
        drop(stream);
        let started = Instant::now();
        assert_eq!(
            count(t, &[("http_route", route), ("error_type", "cancelled")]),
            1.0
        );
        // Well before the handler would have returned.
        assert!(started.elapsed() < Duration::from_millis(2500), "{t}");
        let series = samples(t, &format!("{DURATION}_count"));
        assert_eq!(series.len(), 1, "{series:?}");
        assert!(
            !series[0].labels.contains_key("http_response_status_code"),
            "{series:?}"
        );
        assert_eq!(
            value(t, ACTIVE, &[("http_request_method", "GET")]),
            Some(0.0)
        );
    }
}

/// actix's default (`h1_allow_half_closed(true)`) runs the handler to completion after the
/// client went away and writes its response into the closed connection: the middleware sees
/// a complete exchange, as actix itself does. The module docs say so; if this starts failing,
/// actix began dropping such requests: update them.
#[test]
fn by_default_actix_answers_a_client_gone_before_the_response() {
    let t = "ax_gone_default";
    let addr = spawn_server(t);
    let mut stream = connect(addr);
    send(&mut stream, "GET", "/slow/500", &[], false);
    active_becomes(t, "GET", 1.0);
    stream.shutdown(std::net::Shutdown::Both).expect("shutdown");
    drop(stream);
    let labels = [
        ("http_route", "/slow/{ms}"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(count(t, &labels), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 5.0);
    assert!(samples(t, &format!("{DURATION}_count"))
        .iter()
        .all(|s| !s.labels.contains_key("error_type")));
}

#[test]
fn request_bodies_of_known_length_are_measured() {
    let t = "ax_request_size";
    let addr = spawn_server(t);
    let body = "y".repeat(300);
    let mut stream = connect(addr);
    let host = stream.peer_addr().expect("peer");
    write!(
        stream,
        "POST /echo HTTP/1.1\r\nHost: {host}\r\nContent-Length: 300\r\nConnection: close\r\n\r\n{body}"
    )
    .expect("write");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read");
    assert!(reply.starts_with(b"HTTP/1.1 200"), "{reply:?}");
    let labels = [
        ("http_request_method", "POST"),
        ("http_route", "/echo"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(eventually(t, &format!("{REQUEST}_sum"), &labels), 300.0);
    assert_eq!(eventually(t, &format!("{REQUEST}_count"), &labels), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 300.0);
    // A chunked request body has no known length: no request size sample.
    let mut stream = connect(addr);
    write!(
        stream,
        "POST /echo HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    .expect("write");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read");
    assert!(reply.starts_with(b"HTTP/1.1 200"), "{reply:?}");
    assert_eq!(eventually(t, &format!("{DURATION}_count"), &labels), 2.0);
    assert_eq!(eventually(t, &format!("{REQUEST}_count"), &labels), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 305.0);
}

#[test]
fn a_panicking_handler_is_told_apart() {
    for (t, middleware, route) in [
        ("ax_panic", Metrics::new(metrics("ax_panic")), "_unmatched"),
        (
            "ax_panic_routed",
            before_routing("ax_panic_routed"),
            "/panic",
        ),
    ] {
        let addr = spawn_with(middleware, true);
        let mut stream = connect(addr);
        send(&mut stream, "GET", "/panic", &[], true);
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest); // the connection's task unwound: closed
        assert_eq!(
            count(t, &[("http_route", route), ("error_type", "panic")]),
            1.0
        );
        assert_eq!(
            value(t, ACTIVE, &[("http_request_method", "GET")]),
            Some(0.0)
        );
        // The server goes on serving.
        assert_eq!(get_status(addr, "/users/1"), 200);
    }
}

#[test]
fn an_inner_service_error_is_recorded_with_the_status_actix_sends() {
    for (t, middleware, route) in [
        (
            "ax_service_error",
            Metrics::new(metrics("ax_service_error")),
            "_unmatched",
        ),
        (
            "ax_service_error_routed",
            before_routing("ax_service_error_routed"),
            "/api/items/{id}",
        ),
    ] {
        let addr = spawn_with(middleware, true);
        assert_eq!(request(addr, "GET", "/api/items/7", &[]).status, 200);
        assert_eq!(
            request(addr, "GET", "/api/items/7", &[("x-refuse", "1")]).status,
            401
        );
        assert_eq!(
            count(
                t,
                &[
                    ("http_route", "/api/items/{id}"),
                    ("http_response_status_code", "200")
                ]
            ),
            1.0
        );
        assert_eq!(
            count(
                t,
                &[
                    ("http_route", route),
                    ("http_response_status_code", "401"),
                    ("error_type", "service_error")
                ]
            ),
            1.0
        );
    }
}

#[test]
fn concurrent_requests_are_counted_exactly() {
    let t = "ax_concurrent";
    let addr = spawn_server(t);
    std::thread::scope(|s| {
        for w in 0..8 {
            s.spawn(move || {
                for i in 0..25 {
                    let id = (w * 25 + i) % 90 + 1;
                    let id = if id == 13 { 14 } else { id };
                    assert_eq!(get_status(addr, &format!("/users/{id}")), 200);
                }
            });
        }
    });
    let labels = [
        ("http_request_method", "GET"),
        ("http_route", "/users/{id}"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(count(t, &labels), 200.0);
    // "user N": 6 bytes for N < 10, 7 otherwise; ids 1..=90 (13 replaced by 14), the first
    // 200 of the cycle: 1..=90, 1..=90, 1..=20.
    let ids = (0..200)
        .map(|k| k % 90 + 1)
        .map(|id| if id == 13 { 14 } else { id });
    let bytes: usize = ids.map(|id: usize| format!("user {id}").len()).sum();
    #[allow(clippy::cast_precision_loss)]
    let bytes = bytes as f64;
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), bytes);
    assert_eq!(
        value(t, ACTIVE, &[("http_request_method", "GET")]),
        Some(0.0)
    );
}

#[test]
fn a_custom_route_extraction() {
    let t = "ax_route_with";
    // A path prefix as the route; anything else is the shared unmatched value.
    let middleware = Metrics::new(metrics(t)).route_with(|req: &ServiceRequest| {
        req.path()
            .starts_with("/users/")
            .then_some(Cow::Borrowed("users"))
    });
    let addr = spawn_with(middleware, true);
    assert_eq!(get_status(addr, "/users/1"), 200);
    assert_eq!(get_status(addr, "/users/2"), 200);
    assert_eq!(get_status(addr, "/api/items/1"), 200);
    assert_eq!(
        count(
            t,
            &[
                ("http_route", "users"),
                ("http_response_status_code", "200")
            ]
        ),
        2.0
    );
    assert_eq!(
        count(
            t,
            &[
                ("http_route", "_unmatched"),
                ("http_response_status_code", "200")
            ]
        ),
        1.0
    );
}

#[test]
fn the_default_middleware_records_without_constant_labels() {
    // `Metrics::default()`: no constant labels, so this test reads a route of its own.
    let addr = {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(|| {
                    App::new()
                        .route(
                            "/default-only/{x}",
                            web::get().to(|| async { HttpResponse::Ok().body("abc") }),
                        )
                        .wrap(Metrics::default())
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind");
                tx.send(server.addrs()[0]).expect("send");
                server.run().await
            })
        });
        rx.recv().expect("address")
    };
    assert_eq!(get_status(addr, "/default-only/1"), 200);
    assert_eq!(get_status(addr, "/default-only/2"), 200);
    let labels = [
        ("http_request_method", "GET"),
        ("http_route", "/default-only/{x}"),
        ("http_response_status_code", "200"),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = instrument_metrics::render();
        let n = find_value(&parse(&text), &format!("{DURATION}_count"), &labels);
        if n == Some(2.0) {
            assert_eq!(
                find_value(&parse(&text), &format!("{RESPONSE}_sum"), &labels),
                Some(6.0)
            );
            break;
        }
        assert!(Instant::now() < deadline, "{n:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_exposition_stays_valid_for_promtool_and_openmetrics() {
    let t = "ax_valid";
    let addr = spawn_server(t);
    for path in [
        "/users/1",
        "/users/13",
        "/nowhere",
        "/stream/2/10",
        "/empty",
    ] {
        let _ = get_status(addr, path);
    }
    let _ = request(addr, "BREW", "/users/1", &[]);
    let _ = count(t, &[("http_route", "/stream/{n}/{gap_ms}")]);
    let text = instrument_metrics::render();
    instrument_metrics_tests::assert_promtool_finds_nothing(&text);
    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(om.ends_with("# EOF\n"));
    let om_samples = parse(om.trim_end_matches("# EOF\n"));
    let n = |samples: &[Sample]| {
        samples
            .iter()
            .filter(|s| {
                s.name == format!("{DURATION}_count")
                    && s.labels.get("test").map(String::as_str) == Some(t)
            })
            .count()
    };
    assert_eq!(n(&om_samples), n(&parse(&text)));
    assert!(n(&om_samples) >= 5);
}

#[test]
fn routes_past_the_limit_are_other_and_counted() {
    let t = "ax_route_limit";
    let metrics = HttpMetrics::builder()
        .label("test", t)
        .route_limit(3)
        .build()
        .expect("metrics");
    // A mistake the limit guards against: raw paths as routes.
    let middleware =
        Metrics::new(metrics).route_with(|req: &ServiceRequest| Some(req.path().to_owned().into()));
    let addr = spawn_with(middleware, true);
    for i in 0..10 {
        assert_eq!(get_status(addr, &format!("/users/{i}")), 200);
    }
    // Again: the first three are remembered by name, the rest still overflow.
    for i in 0..10 {
        assert_eq!(get_status(addr, &format!("/users/{i}")), 200);
    }
    let _ = count(t, &[("http_route", "_OTHER")]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let routes = loop {
        let mut routes: Vec<(String, f64)> = samples(t, &format!("{DURATION}_count"))
            .into_iter()
            .map(|s| (s.labels["http_route"].clone(), s.value))
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        if routes.iter().map(|r| r.1).sum::<f64>() == 20.0 || Instant::now() > deadline {
            break routes;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        routes,
        [
            ("/users/0".to_owned(), 2.0),
            ("/users/1".to_owned(), 2.0),
            ("/users/2".to_owned(), 2.0),
            ("_OTHER".to_owned(), 14.0)
        ]
    );
    assert_eq!(
        value(t, "instrument_metrics_http_route_overflow_total", &[]),
        Some(14.0)
    );
}

#[test]
fn a_route_skipped_by_its_template_is_not_recorded() {
    let t = "ax_skip_template";
    let metrics = HttpMetrics::builder()
        .label("test", t)
        .skip("/users/{id}")
        .skip("/empty")
        .build()
        .expect("metrics");
    let addr = spawn_with(Metrics::new(metrics), true);
    for path in ["/users/1", "/users/2", "/empty", "/stream/1/0"] {
        let _ = get_status(addr, path);
    }
    assert_eq!(count(t, &[("http_route", "/stream/{n}/{gap_ms}")]), 1.0);
    let routes: Vec<String> = samples(t, &format!("{DURATION}_count"))
        .into_iter()
        .map(|s| s.labels["http_route"].clone())
        .collect();
    assert_eq!(routes, ["/stream/{n}/{gap_ms}"]);
    // The skipped ones, known only at their response, gave their in-flight place back.
    assert_eq!(
        value(t, ACTIVE, &[("http_request_method", "GET")]),
        Some(0.0)
    );
}

#[test]
fn a_scope_wrapped_alone_records_its_own_requests_with_full_patterns() {
    let t = "ax_scope";
    let metrics = metrics(t);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .route("/outside", web::get().to(|| async { "outside" }))
                    .service(
                        web::scope("/api")
                            .route(
                                "/items/{id}",
                                web::get().to(|| async { HttpResponse::Ok().body("item") }),
                            )
                            .wrap(Metrics::new(metrics.clone())),
                    )
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind");
            tx.send(server.addrs()[0]).expect("send");
            server.run().await
        })
    });
    let addr = rx.recv().expect("address");
    assert_eq!(get_status(addr, "/outside"), 200);
    assert_eq!(get_status(addr, "/api/items/1"), 200);
    assert_eq!(get_status(addr, "/api/items/2"), 200);
    assert_eq!(get_status(addr, "/api/nothing"), 404);
    assert_eq!(
        count(
            t,
            &[
                ("http_route", "/api/items/{id}"),
                ("http_response_status_code", "200")
            ]
        ),
        2.0
    );
    assert_eq!(
        count(
            t,
            &[
                ("http_route", "_unmatched"),
                ("http_response_status_code", "404")
            ]
        ),
        1.0
    );
    let mut routes: Vec<String> = samples(t, &format!("{DURATION}_count"))
        .into_iter()
        .map(|s| s.labels["http_route"].clone())
        .collect();
    routes.sort();
    assert_eq!(routes, ["/api/items/{id}", "_unmatched"]);
}
