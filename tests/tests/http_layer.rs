//! The tower layer through real servers (axum on hyper, and a bare hyper service), real
//! sockets and real clients: every value read back by parsing the exposition.
//!
//! Each test builds its own server whose metrics carry a constant label `test="<name>"`, so
//! tests running in parallel read only their own series.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use instrument_metrics::http::{HttpMetrics, MetricsLayer};
use instrument_metrics_tests::http_client::{connect, request, send};
use instrument_metrics_tests::{find_value, parse, Sample};

const DURATION: &str = "http_server_request_duration_seconds";
const RESPONSE: &str = "http_server_response_body_size_bytes";
const REQUEST: &str = "http_server_request_body_size_bytes";
const ACTIVE: &str = "http_server_active_requests";

// ---- servers --------------------------------------------------------------------------------

async fn user(Path(id): Path<u32>) -> (StatusCode, String) {
    match id {
        13 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage outage".to_owned(),
        ),
        0..100 => (StatusCode::OK, format!("user {id}")),
        _ => (StatusCode::NOT_FOUND, "no such user".to_owned()),
    }
}

/// `n` chunks of 1000 bytes, `gap` apart (the first one at once).
fn stream(n: usize, gap: Duration) -> Body {
    Body::from_stream(futures_util::stream::unfold(0, move |i| async move {
        if i == n {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        Some((Ok::<_, std::io::Error>(vec![b'x'; 1000]), i + 1))
    }))
}

fn router(test: &str) -> Router {
    let metrics = HttpMetrics::builder()
        .label("test", test)
        .skip("/metrics")
        .build()
        .expect("valid metrics");
    Router::new()
        .route("/users/{id}", get(user).post(user))
        .route(
            "/stream/{n}/{gap_ms}",
            get(|Path((n, gap)): Path<(usize, u64)>| async move {
                stream(n, Duration::from_millis(gap))
            }),
        )
        .route(
            "/slow/{ms}",
            get(|Path(ms): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slept"
            }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("handler panics on purpose");
                }
                "unreachable"
            }),
        )
        .route("/metrics", get(instrument_metrics::axum::metrics))
        .layer(MetricsLayer::new(metrics))
}

fn spawn_server(app: Router) -> SocketAddr {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || runtime.block_on(async move { axum::serve(listener, app).await }));
    addr
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

/// Waits (bounded) until `name` with `labels` exists and returns it; a server records an
/// exchange as the response's last frame goes out, which a client can see a moment earlier.
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

fn get_status(addr: SocketAddr, path: &str) -> u16 {
    request(addr, "GET", path, &[]).status
}

// ---- tests ----------------------------------------------------------------------------------

#[test]
fn requests_are_counted_by_route_method_and_status() {
    let t = "by_status";
    let addr = spawn_server(router(t));
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
    let count = |method: &str, status: &str| {
        eventually(
            t,
            &format!("{DURATION}_count"),
            &[
                ("http_request_method", method),
                ("http_route", "/users/{id}"),
                ("http_response_status_code", status),
            ],
        )
    };
    assert_eq!(count("GET", "200"), 2.0);
    assert_eq!(count("GET", "404"), 1.0);
    assert_eq!(count("GET", "500"), 1.0);
    assert_eq!(count("POST", "200"), 1.0);
    // Bytes sent, exactly: "user 1" + "user 2".
    let sent = eventually(
        t,
        &format!("{RESPONSE}_sum"),
        &[
            ("http_request_method", "GET"),
            ("http_route", "/users/{id}"),
            ("http_response_status_code", "200"),
        ],
    );
    assert_eq!(sent, 12.0);
    // _count equals the +Inf bucket, and no series has an error_type.
    let inf = eventually(
        t,
        &format!("{DURATION}_bucket"),
        &[
            ("http_request_method", "GET"),
            ("http_route", "/users/{id}"),
            ("http_response_status_code", "200"),
            ("le", "+Inf"),
        ],
    );
    assert_eq!(inf, 2.0);
    assert!(samples(t, &format!("{DURATION}_count"))
        .iter()
        .all(|s| !s.labels.contains_key("error_type")));
    // The skipped /metrics route never shows up, though it was scraped by the reads above.
    assert_eq!(get_status(addr, "/metrics"), 200);
    assert!(samples(t, &format!("{DURATION}_count"))
        .iter()
        .all(|s| s.labels["http_route"] != "/metrics"));
}

#[test]
fn unmatched_paths_share_one_route_value() {
    let t = "unmatched";
    let addr = spawn_server(router(t));
    for i in 0..40 {
        assert_eq!(get_status(addr, &format!("/wp-admin/{i}/probe.php")), 404);
    }
    assert_eq!(
        eventually(
            t,
            &format!("{DURATION}_count"),
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
    let t = "methods";
    let addr = spawn_server(router(t));
    // A method outside the standard set reaches the route and is answered 405.
    let reply = request(addr, "BREW", "/users/1", &[]);
    assert_eq!(reply.status, 405);
    assert_eq!(
        eventually(
            t,
            &format!("{DURATION}_count"),
            &[
                ("http_request_method", "_OTHER"),
                ("http_route", "/users/{id}"),
                ("http_response_status_code", "405")
            ]
        ),
        1.0
    );
    let reply = request(addr, "HEAD", "/users/1", &[]);
    assert_eq!(reply.status, 200);
    let labels = [
        ("http_request_method", "HEAD"),
        ("http_route", "/users/{id}"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(eventually(t, &format!("{DURATION}_count"), &labels), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 0.0);
}

#[test]
fn a_streamed_body_is_measured_until_its_last_frame() {
    let t = "stream";
    let addr = spawn_server(router(t));
    let reply = request(addr, "GET", "/stream/4/150", &[]);
    assert_eq!((reply.status, reply.body.len()), (200, 4000));
    let labels = [
        ("http_route", "/stream/{n}/{gap_ms}"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 4000.0);
    // Three gaps of 150 ms: between 0.25 s and 0.75 s, so the handler's instant return
    // (the response head) was not where timing stopped.
    let bucket = |le: &str| {
        let mut l = labels.to_vec();
        l.push(("le", le));
        eventually(t, &format!("{DURATION}_bucket"), &l)
    };
    assert_eq!(bucket("0.25"), 0.0);
    assert_eq!(bucket("0.75"), 1.0);
    let bytes_bucket = |le: &str| {
        let mut l = labels.to_vec();
        l.push(("le", le));
        eventually(t, &format!("{RESPONSE}_bucket"), &l)
    };
    assert_eq!((bytes_bucket("1024"), bytes_bucket("4096")), (0.0, 1.0));
}

#[test]
fn a_client_gone_mid_body_is_cancelled_with_the_status_sent() {
    let t = "gone_mid_body";
    let addr = spawn_server(router(t));
    let mut stream = connect(addr);
    send(&mut stream, "GET", "/stream/5/2000", &[], true);
    // Read the head and the first chunk (1000 bytes of 'x'), then go away.
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    assert!(line.starts_with("HTTP/1.1 200"), "{line:?}");
    let mut seen = Vec::new();
    while seen.iter().filter(|b| **b == b'x').count() < 1000 {
        let mut buf = [0u8; 512];
        let n = reader.get_mut().read(&mut buf).expect("first chunk");
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
        let consumed = reader.buffer().len();
        seen.extend_from_slice(reader.buffer());
        reader.consume(consumed);
    }
    drop(reader);
    let labels = [
        ("http_route", "/stream/{n}/{gap_ms}"),
        ("http_response_status_code", "200"),
        ("error_type", "cancelled"),
    ];
    assert_eq!(eventually(t, &format!("{DURATION}_count"), &labels), 1.0);
    // Bytes handed to the server before it saw the connection gone: the first chunk, and the
    // ones hyper took until a write failed (a write to a closed peer may still succeed once).
    let sent = eventually(t, &format!("{RESPONSE}_sum"), &labels);
    assert!([1000.0, 2000.0, 3000.0].contains(&sent), "{sent}");
    assert_eq!(
        value(t, ACTIVE, &[("http_request_method", "GET")]),
        Some(0.0)
    );
}

#[test]
fn a_client_gone_before_the_response_is_cancelled_without_status() {
    let t = "gone_before";
    let addr = spawn_server(router(t));
    let mut stream = connect(addr);
    send(&mut stream, "GET", "/slow/3000", &[], false);
    // In flight while the handler sleeps.
    let deadline = Instant::now() + Duration::from_secs(5);
    while value(t, ACTIVE, &[("http_request_method", "GET")]) != Some(1.0) {
        assert!(Instant::now() < deadline, "never in flight");
        std::thread::sleep(Duration::from_millis(10));
    }
    stream.shutdown(std::net::Shutdown::Both).expect("shutdown");
    drop(stream);
    let count = eventually(
        t,
        &format!("{DURATION}_count"),
        &[("http_route", "/slow/{ms}"), ("error_type", "cancelled")],
    );
    assert_eq!(count, 1.0);
    let series = samples(t, &format!("{DURATION}_count"));
    let gone = series
        .iter()
        .find(|s| s.labels["http_route"] == "/slow/{ms}")
        .expect("the series");
    assert!(
        !gone.labels.contains_key("http_response_status_code"),
        "{gone:?}"
    );
    assert_eq!(
        value(t, ACTIVE, &[("http_request_method", "GET")]),
        Some(0.0)
    );
}

#[test]
fn request_bodies_of_known_length_are_measured() {
    let t = "request_size";
    let addr = spawn_server(router(t));
    let body = "y".repeat(300);
    let mut stream = connect(addr);
    let host = stream.peer_addr().expect("peer");
    write!(stream, "POST /echo HTTP/1.1\r\nHost: {host}\r\nContent-Length: 300\r\nConnection: close\r\n\r\n{body}").expect("write");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read");
    assert!(reply.starts_with(b"HTTP/1.1 200"));
    let labels = [
        ("http_request_method", "POST"),
        ("http_route", "/echo"),
        ("http_response_status_code", "200"),
    ];
    assert_eq!(eventually(t, &format!("{REQUEST}_sum"), &labels), 300.0);
    assert_eq!(eventually(t, &format!("{REQUEST}_count"), &labels), 1.0);
    assert_eq!(eventually(t, &format!("{RESPONSE}_sum"), &labels), 300.0);
}

#[test]
fn a_panicking_handler_is_told_apart() {
    let t = "panic";
    let addr = spawn_server(router(t));
    let mut stream = connect(addr);
    send(&mut stream, "GET", "/panic", &[], true);
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest); // hyper closes the connection
    assert_eq!(
        eventually(
            t,
            &format!("{DURATION}_count"),
            &[("http_route", "/panic"), ("error_type", "panic")]
        ),
        1.0
    );
}

#[test]
fn concurrent_requests_are_counted_exactly() {
    let t = "concurrent";
    let addr = spawn_server(router(t));
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
    assert_eq!(
        eventually(
            t,
            &format!("{DURATION}_count"),
            &[
                ("http_request_method", "GET"),
                ("http_route", "/users/{id}"),
                ("http_response_status_code", "200")
            ]
        ),
        200.0
    );
}

// ---- a bare hyper service, no router ---------------------------------------------------------

#[test]
fn a_bare_hyper_service_with_its_own_routes() {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceBuilder;

    let t = "bare_hyper";
    let metrics = HttpMetrics::builder()
        .label("test", t)
        .build()
        .expect("metrics");
    // gRPC-style: the path is the method, a bounded set; anything else is unmatched.
    let layer = MetricsLayer::new(metrics).route_with(|parts| {
        let p = parts.uri.path();
        p.starts_with("/pkg.Greeter/").then_some(p)
    });
    let service = ServiceBuilder::new().layer(layer).service_fn(
        |req: http::Request<hyper::body::Incoming>| async move {
            let body = format!("you asked {}", req.uri().path());
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from(body),
            )))
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        runtime.block_on(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = TowerToHyperService::new(service.clone());
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    for path in [
        "/pkg.Greeter/Hello",
        "/pkg.Greeter/Hello",
        "/pkg.Greeter/Bye",
        "/elsewhere",
    ] {
        assert_eq!(get_status(addr, path), 200);
    }
    let count = |route: &str| {
        eventually(
            t,
            &format!("{DURATION}_count"),
            &[("http_route", route), ("http_response_status_code", "200")],
        )
    };
    assert_eq!(count("/pkg.Greeter/Hello"), 2.0);
    assert_eq!(count("/pkg.Greeter/Bye"), 1.0);
    assert_eq!(count("_unmatched"), 1.0);
    // "you asked /pkg.Greeter/Hello" twice.
    assert_eq!(
        eventually(
            t,
            &format!("{RESPONSE}_sum"),
            &[("http_route", "/pkg.Greeter/Hello")]
        ),
        56.0
    );
}

#[test]
fn routes_past_the_limit_are_other_and_counted() {
    use tower::ServiceExt as _;

    let t = "route_limit";
    let metrics = HttpMetrics::builder()
        .label("test", t)
        .route_limit(3)
        .build()
        .expect("metrics");
    // A mistake the limit guards against: raw paths as routes.
    let layer = MetricsLayer::new(metrics).route_with(|parts| Some(parts.uri.path()));
    let app = Router::new().fallback(|| async { "any" }).layer(layer);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for i in 0..10 {
            let req = http::Request::get(format!("/item/{i}"))
                .body(Body::empty())
                .expect("request");
            let res = app.clone().oneshot(req).await.expect("infallible");
            // Drain the body so the exchange completes.
            let _ = axum::body::to_bytes(res.into_body(), usize::MAX).await;
        }
    });
    let routes: Vec<(String, f64)> = samples(t, &format!("{DURATION}_count"))
        .into_iter()
        .map(|s| (s.labels["http_route"].clone(), s.value))
        .collect();
    let mut routes = routes;
    routes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        routes,
        [
            ("/item/0".to_owned(), 1.0),
            ("/item/1".to_owned(), 1.0),
            ("/item/2".to_owned(), 1.0),
            ("_OTHER".to_owned(), 7.0)
        ]
    );
    assert_eq!(
        value(t, "instrument_metrics_http_route_overflow_total", &[]),
        Some(7.0)
    );
}

#[test]
fn the_exposition_stays_valid_for_promtool_and_openmetrics() {
    let t = "valid";
    let addr = spawn_server(router(t));
    for path in ["/users/1", "/users/13", "/nowhere", "/stream/2/10"] {
        let _ = get_status(addr, path);
    }
    let _ = eventually(
        t,
        &format!("{DURATION}_count"),
        &[("http_route", "/stream/{n}/{gap_ms}")],
    );
    let text = instrument_metrics::render();
    instrument_metrics_tests::assert_promtool_finds_nothing(&text);
    // OpenMetrics: the same samples (counters keep _total, buckets canonical `le`).
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
}
