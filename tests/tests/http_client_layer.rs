//! The client layer around hyper-util's legacy `Client`, calling real servers (axum on
//! hyper) over loopback sockets: every value read back by parsing the exposition.
//!
//! Each test's client records into metrics with a constant label `test="<name>"`, and calls
//! servers of its own, so tests running in parallel read only their own series.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument_metrics::http::{ClientMetrics, ClientMetricsLayer, HttpClientMetrics};
use instrument_metrics_tests::client_calls::{
    call, expect, key, series, ACTIVE, COUNT, OVERFLOW, REQUEST_COUNT, REQUEST_SUM, RESPONSE_COUNT,
    RESPONSE_SUM,
};
use tower::{Layer as _, ServiceExt as _};

// ---- the server -----------------------------------------------------------------------------

/// `n` chunks of 1000 bytes, `gap` apart (the first one at once); with `fail`, an error
/// instead of the last chunk (the server then cuts the connection mid-body).
fn stream(n: usize, gap: Duration, fail: bool) -> Body {
    Body::from_stream(futures_util::stream::unfold(0, move |i| async move {
        if i == n {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        if fail && i == n - 1 {
            return Some((Err(std::io::Error::other("storage went away")), i + 1));
        }
        Some((Ok(vec![b'x'; 1000]), i + 1))
    }))
}

fn router() -> Router {
    Router::new()
        .route("/ok", get(|| async { "hello" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "storage outage") }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/stream/{n}/{gap_ms}",
            get(|Path((n, gap)): Path<(usize, u64)>| async move {
                stream(n, Duration::from_millis(gap), false)
            }),
        )
        .route(
            "/broken",
            get(|| async { stream(2, Duration::from_millis(20), true) }),
        )
        .route(
            "/slow/{ms}",
            get(|Path(ms): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slept"
            }),
        )
}

/// A server on its own runtime and thread, on a port of its own.
fn spawn_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, router()).await
        })
    });
    addr
}

/// A port nothing listens on: bound, then closed.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

// ---- the client -----------------------------------------------------------------------------

type Inner = Client<HttpConnector, Full<Bytes>>;

fn metrics(test: &str) -> HttpClientMetrics {
    HttpClientMetrics::builder()
        .label("test", test)
        .build()
        .expect("valid metrics")
}

fn client(test: &str) -> ClientMetrics<Inner> {
    ClientMetricsLayer::new(metrics(test)).layer(Client::builder(TokioExecutor::new()).build_http())
}

fn get_request(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url)
        .body(Full::default())
        .expect("request")
}

/// Sends `req` and reads the whole response body; the status and the bytes read.
async fn send(client: &ClientMetrics<Inner>, req: http::Request<Full<Bytes>>) -> (u16, usize) {
    let response = client.clone().oneshot(req).await.expect("a response");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("the body");
    (status, body.to_bytes().len())
}

fn port(addr: SocketAddr) -> String {
    addr.port().to_string()
}

// ---- the tests ------------------------------------------------------------------------------

#[tokio::test]
async fn statuses_are_counted_with_their_body_sizes() {
    let test = "statuses";
    let addr = spawn_server();
    let client = client(test);
    let url = |path: &str| format!("http://{addr}{path}");
    for _ in 0..3 {
        assert_eq!(send(&client, get_request(&url("/ok"))).await, (200, 5));
    }
    assert_eq!(send(&client, get_request(&url("/nowhere"))).await, (404, 0));
    assert_eq!(send(&client, get_request(&url("/fail"))).await, (500, 14));
    let head = http::Request::head(url("/ok"))
        .body(Full::default())
        .expect("request");
    assert_eq!(send(&client, head).await, (200, 0));
    let echo = http::Request::post(url("/echo"))
        .body(Full::new(Bytes::from_static(b"twelve bytes")))
        .expect("request");
    assert_eq!(send(&client, echo).await, (200, 12));

    let p = port(addr);
    let get = |status| call("GET", "127.0.0.1", &p, status, "");
    assert_eq!(
        series(test, COUNT),
        expect(&[
            (get("200"), 3.0),
            (get("404"), 1.0),
            (get("500"), 1.0),
            (call("HEAD", "127.0.0.1", &p, "200", ""), 1.0),
            (call("POST", "127.0.0.1", &p, "200", ""), 1.0),
        ])
    );
    assert_eq!(
        series(test, RESPONSE_SUM),
        expect(&[
            (get("200"), 15.0),
            (get("404"), 0.0),
            (get("500"), 14.0),
            (call("HEAD", "127.0.0.1", &p, "200", ""), 0.0),
            (call("POST", "127.0.0.1", &p, "200", ""), 12.0),
        ])
    );
    assert_eq!(series(test, RESPONSE_COUNT), series(test, COUNT));
    // Every request's body length was known (empty, or 12 bytes).
    assert_eq!(series(test, REQUEST_COUNT), series(test, COUNT));
    assert_eq!(
        series(test, REQUEST_SUM)[&call("POST", "127.0.0.1", &p, "200", "")],
        12.0
    );
    let active = |m| {
        key(&[
            ("http_request_method", m),
            ("server_address", "127.0.0.1"),
            ("server_port", &p),
        ])
    };
    assert_eq!(
        series(test, ACTIVE),
        expect(&[
            (active("GET"), 0.0),
            (active("HEAD"), 0.0),
            (active("POST"), 0.0)
        ])
    );
    assert_eq!(series(test, OVERFLOW), expect(&[(String::new(), 0.0)]));
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error_without_status() {
    let test = "refused";
    let port = closed_port();
    let client = client(test);
    for _ in 0..2 {
        let err = client
            .clone()
            .oneshot(get_request(&format!("http://127.0.0.1:{port}/ok")))
            .await
            .expect_err("nothing listens there");
        assert!(err.is_connect(), "{err:?}");
    }
    let p = port.to_string();
    let refused = call("GET", "127.0.0.1", &p, "", "connect");
    assert_eq!(series(test, COUNT), expect(&[(refused.clone(), 2.0)]));
    assert!(
        series(test, RESPONSE_COUNT).is_empty(),
        "no response, no response size"
    );
    assert_eq!(series(test, REQUEST_COUNT), expect(&[(refused, 2.0)]));
}

#[tokio::test]
async fn a_body_dropped_mid_stream_is_cancelled_with_its_status_and_bytes() {
    let test = "dropped_body";
    let addr = spawn_server();
    let client = client(test);
    let response = client
        .clone()
        .oneshot(get_request(&format!("http://{addr}/stream/5/300")))
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut read = 0;
    while read < 1000 {
        let frame = body.frame().await.expect("a frame").expect("data");
        read += frame.into_data().expect("data").len();
    }
    assert_eq!(read, 1000, "the first chunk only");
    let p = port(addr);
    let active = key(&[
        ("http_request_method", "GET"),
        ("server_address", "127.0.0.1"),
        ("server_port", &p),
    ]);
    assert_eq!(series(test, ACTIVE), expect(&[(active.clone(), 1.0)]));
    assert!(
        series(test, COUNT).is_empty(),
        "not recorded before its end"
    );
    drop(body);
    let cancelled = call("GET", "127.0.0.1", &p, "200", "cancelled");
    assert_eq!(series(test, COUNT), expect(&[(cancelled.clone(), 1.0)]));
    assert_eq!(series(test, RESPONSE_SUM), expect(&[(cancelled, 1000.0)]));
    assert_eq!(series(test, ACTIVE), expect(&[(active, 0.0)]));
}

#[tokio::test]
async fn a_future_dropped_before_the_response_is_cancelled_without_status() {
    let test = "dropped_future";
    let addr = spawn_server();
    let client = client(test);
    let call_future = client
        .clone()
        .oneshot(get_request(&format!("http://{addr}/slow/5000")));
    let gave_up = tokio::time::timeout(Duration::from_millis(100), call_future).await;
    assert!(gave_up.is_err(), "the caller's own timeout fired");
    let p = port(addr);
    assert_eq!(
        series(test, COUNT),
        expect(&[(call("GET", "127.0.0.1", &p, "", "cancelled"), 1.0)])
    );
}

#[tokio::test]
async fn a_body_cut_by_the_server_is_a_body_error() {
    let test = "body_error";
    let addr = spawn_server();
    let client = client(test);
    let response = client
        .clone()
        .oneshot(get_request(&format!("http://{addr}/broken")))
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut read = 0;
    let error = loop {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.into_data().map_or(0, |d| d.len()),
            Some(Err(e)) => break e,
            None => panic!("the body ended without its error after {read} bytes"),
        }
    };
    // The chunked body ended without its last chunk: hyper says unexpected EOF.
    assert!(format!("{error:?}").contains("UnexpectedEof"), "{error:?}");
    let p = port(addr);
    let failed = call("GET", "127.0.0.1", &p, "200", "body_error");
    assert_eq!(series(test, COUNT), expect(&[(failed.clone(), 1.0)]));
    #[allow(clippy::cast_precision_loss)]
    let read = read as f64;
    assert_eq!(series(test, RESPONSE_SUM), expect(&[(failed, read)]));
}

#[tokio::test]
async fn a_tower_timeout_inside_the_layer_is_a_timeout() {
    let test = "tower_timeout";
    let addr = spawn_server();
    let client = tower::ServiceBuilder::new()
        .layer(ClientMetricsLayer::new(metrics(test)))
        .timeout(Duration::from_millis(100))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let err = client
        .oneshot(get_request(&format!("http://{addr}/slow/5000")))
        .await
        .expect_err("timed out");
    assert!(err.is::<tower::timeout::error::Elapsed>(), "{err:?}");
    let p = port(addr);
    assert_eq!(
        series(test, COUNT),
        expect(&[(call("GET", "127.0.0.1", &p, "", "timeout"), 1.0)])
    );
}

#[tokio::test]
async fn addresses_past_the_limit_are_other_and_counted() {
    let test = "address_limit";
    let (a, b) = (spawn_server(), spawn_server());
    let limited = HttpClientMetrics::builder()
        .label("test", test)
        .address_limit(2)
        .build()
        .expect("valid metrics");
    let client =
        ClientMetricsLayer::new(limited).layer(Client::builder(TokioExecutor::new()).build_http());
    // Two endpoints fill the limit; `localhost` (the same server as `a`) is a third.
    for url in [
        format!("http://{a}/ok"),
        format!("http://{b}/ok"),
        format!("http://localhost:{}/ok", a.port()),
        format!("http://{a}/ok"),
        format!("http://localhost:{}/nowhere", a.port()),
    ] {
        send(&client, get_request(&url)).await;
    }
    let other = "_OTHER";
    let mut want = BTreeMap::new();
    want.insert(call("GET", "127.0.0.1", &port(a), "200", ""), 2.0);
    want.insert(call("GET", "127.0.0.1", &port(b), "200", ""), 1.0);
    want.insert(call("GET", other, other, "200", ""), 1.0);
    want.insert(call("GET", other, other, "404", ""), 1.0);
    assert_eq!(series(test, COUNT), want);
    assert_eq!(series(test, OVERFLOW), expect(&[(String::new(), 2.0)]));
}

#[tokio::test]
async fn exemplars_and_native_buckets_come_from_the_call() {
    use instrument_metrics::{set_exemplar_source, Histograms, TraceContext};
    use instrument_metrics_tests::client_model::io::prometheus::client::MetricFamily;
    use instrument_metrics_tests::{decode_protobuf, native_total, parse_openmetrics};

    let test = "traced_native";
    let addr = spawn_server();
    let both = HttpClientMetrics::builder()
        .label("test", test)
        .histograms(Histograms::Both)
        .build()
        .expect("valid metrics");
    let client =
        ClientMetricsLayer::new(both).layer(Client::builder(TokioExecutor::new()).build_http());
    // Only this test of the binary sets a source (and nothing else here reads exemplars).
    set_exemplar_source(|| Some(TraceContext::new(0xabc, 0xdef)));
    for _ in 0..4 {
        assert_eq!(
            send(&client, get_request(&format!("http://{addr}/ok"))).await,
            (200, 5)
        );
    }
    let om = instrument_metrics::exposition::render_openmetrics();
    let traced: Vec<_> = parse_openmetrics(&om)
        .into_iter()
        .filter(|s| {
            s.name == "http_client_request_duration_seconds_bucket"
                && s.labels.get("test").map(String::as_str) == Some(test)
        })
        .filter_map(|s| s.exemplar)
        .collect();
    assert!(!traced.is_empty(), "an exemplar on a bucket:\n{om}");
    for (labels, _, _) in &traced {
        assert_eq!(labels["trace_id"], format!("{:032x}", 0xabc));
        assert_eq!(labels["span_id"], format!("{:016x}", 0xdef));
    }
    let families: Vec<MetricFamily> =
        decode_protobuf(&instrument_metrics::exposition::render_protobuf());
    let family = families
        .iter()
        .find(|f| f.name() == "http_client_request_duration_seconds")
        .expect("the client family");
    let metric = family
        .metric
        .iter()
        .find(|m| {
            m.label
                .iter()
                .any(|l| l.name() == "test" && l.value() == test)
        })
        .expect("this test's series");
    let h = metric.histogram.as_ref().expect("a histogram");
    assert_eq!(h.schema, Some(3), "native buckets");
    assert_eq!(h.sample_count, Some(4));
    assert_eq!(native_total(h), 4);
    assert!(!h.bucket.is_empty(), "and the classic ones");
}
