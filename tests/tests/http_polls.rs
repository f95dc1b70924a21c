//! `HttpMetrics::builder().polls()`: each request's busy time (inside `poll` of its handler
//! and of its response body) and slow polls, through a real axum server on loopback and a
//! real client. Each test's metrics carry a constant label `test="<name>"` of their own.
//! Time bounds are generous: the machine may be loaded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use instrument_metrics::http::HttpMetrics;
use instrument_metrics_tests::http_client::request;
use instrument_metrics_tests::{find_value, parse};

const BUSY: &str = "http_server_request_busy_seconds";
const SLOW: &str = "http_server_request_slow_polls_total";
const DURATION: &str = "http_server_request_duration_seconds";

/// Two chunks, each made by a poll that blocks its thread for 15 ms.
fn blocking_body() -> Body {
    Body::from_stream(futures_util::stream::poll_fn({
        let mut left = 2;
        move |_| {
            if left == 0 {
                return std::task::Poll::Ready(None);
            }
            left -= 1;
            std::thread::sleep(Duration::from_millis(15));
            std::task::Poll::Ready(Some(Ok::<_, std::io::Error>(vec![b'x'; 100])))
        }
    }))
}

fn router(metrics: HttpMetrics) -> Router {
    Router::new()
        .route(
            "/block",
            get(|| async {
                // Blocks the executor: one poll of 30 ms.
                std::thread::sleep(Duration::from_millis(30));
                "blocked"
            }),
        )
        .route(
            "/wait",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                "waited"
            }),
        )
        .route("/body", get(|| async { blocking_body() }))
        .layer(instrument_metrics::http::MetricsLayer::new(metrics))
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

fn value(test: &str, name: &str, route: &str) -> Option<f64> {
    find_value(
        &parse(&instrument_metrics::render()),
        name,
        &[
            ("test", test),
            ("http_route", route),
            ("http_request_method", "GET"),
        ],
    )
}

/// Waits (bounded) for `route`'s busy count to reach `n` (the server records an exchange as
/// its last frame goes out, which the client can see a moment earlier).
fn recorded(test: &str, route: &str, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while value(test, &format!("{BUSY}_count"), route) != Some(n) {
        assert!(
            Instant::now() < deadline,
            "{route}: no {n} busy requests:\n{}",
            instrument_metrics::render()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn blocking_handlers_and_bodies_show_slow_polls_and_waiting_ones_do_not() {
    let test = "polls";
    let metrics = HttpMetrics::builder()
        .label("test", test)
        .polls()
        .build()
        .unwrap();
    let addr = spawn_server(router(metrics));
    for path in ["/block", "/wait", "/body"] {
        for _ in 0..2 {
            assert_eq!(request(addr, "GET", path, &[]).status, 200, "{path}");
        }
        recorded(test, path, 2.0);
    }
    let get = |name: &str, route: &str| {
        value(test, name, route).unwrap_or_else(|| panic!("no {name} for {route}"))
    };

    // Blocking the executor: one slow poll per request, busy at least the blocking.
    assert_eq!(get(SLOW, "/block"), 2.0);
    assert!(get(&format!("{BUSY}_sum"), "/block") >= 0.060);
    // Waiting: no slow poll, busy far below the wall-clock duration.
    assert_eq!(get(SLOW, "/wait"), 0.0);
    let (busy, duration) = (
        get(&format!("{BUSY}_sum"), "/wait"),
        get(&format!("{DURATION}_sum"), "/wait"),
    );
    assert!(duration >= 0.100, "two 50 ms waits: {duration}");
    assert!(
        busy < duration / 4.0,
        "busy {busy} s far below the {duration} s waited"
    );
    // The body's polls count too: two frames made by 15 ms polls each, per request.
    assert_eq!(get(SLOW, "/body"), 4.0);
    assert!(get(&format!("{BUSY}_sum"), "/body") >= 0.060);
    // The busy histogram has the duration histogram's buckets: the +Inf bucket is the count.
    for route in ["/block", "/wait", "/body"] {
        let inf = find_value(
            &parse(&instrument_metrics::render()),
            &format!("{BUSY}_bucket"),
            &[("test", test), ("http_route", route), ("le", "+Inf")],
        );
        assert_eq!(inf, Some(2.0), "{route}");
    }
}

#[test]
fn a_threshold_of_its_own_and_none_without_polls() {
    let strict = HttpMetrics::builder()
        .label("test", "polls_strict")
        .slow_poll(Duration::from_secs(1))
        .build()
        .unwrap();
    let addr = spawn_server(router(strict));
    assert_eq!(request(addr, "GET", "/block", &[]).status, 200);
    recorded("polls_strict", "/block", 1.0);
    // 30 ms is not slow against a 1 s threshold, but still busy time.
    assert_eq!(value("polls_strict", SLOW, "/block"), Some(0.0));
    assert!(value("polls_strict", &format!("{BUSY}_sum"), "/block").unwrap() >= 0.030);

    let plain = HttpMetrics::builder()
        .label("test", "polls_off")
        .build()
        .unwrap();
    let addr = spawn_server(router(plain));
    assert_eq!(request(addr, "GET", "/block", &[]).status, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while value("polls_off", &format!("{DURATION}_count"), "/block") != Some(1.0) {
        assert!(Instant::now() < deadline, "the request is recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(value("polls_off", &format!("{BUSY}_count"), "/block"), None);
    assert_eq!(value("polls_off", SLOW, "/block"), None);
}

#[test]
fn the_same_labels_with_and_without_polls_is_an_error() {
    HttpMetrics::builder()
        .label("test", "polls_clash")
        .build()
        .unwrap();
    let err = HttpMetrics::builder()
        .label("test", "polls_clash")
        .polls()
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("polls"), "{err}");
}
