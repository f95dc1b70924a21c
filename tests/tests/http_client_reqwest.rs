//! reqwest through reqwest-middleware with [`ReqwestMetrics`], calling real servers (axum on
//! hyper) over loopback sockets: every value read back by parsing the exposition.
//!
//! Each test's middleware records into metrics with a constant label `test="<name>"`, and calls
//! servers of its own, so tests running in parallel read only their own series.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use instrument_metrics::http::{HttpClientMetrics, ReqwestMetrics};
use instrument_metrics_tests::client_calls::{
    call, expect, series, COUNT, REQUEST_SUM, RESPONSE_COUNT, RESPONSE_SUM,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

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

fn spawn_server() -> SocketAddr {
    let app = Router::new()
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
        );
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
            axum::serve(listener, app).await
        })
    });
    addr
}

fn client_with(test: &str, reqwest: reqwest::ClientBuilder) -> ClientWithMiddleware {
    let metrics = HttpClientMetrics::builder()
        .label("test", test)
        .build()
        .expect("valid metrics");
    ClientBuilder::new(reqwest.build().expect("a reqwest client"))
        .with(ReqwestMetrics::new(metrics))
        .build()
}

fn client(test: &str) -> ClientWithMiddleware {
    client_with(test, reqwest::Client::builder())
}

#[tokio::test]
async fn statuses_are_counted_with_their_body_sizes() {
    let test = "reqwest_statuses";
    let addr = spawn_server();
    let client = client(test);
    let url = |path: &str| format!("http://{addr}{path}");
    for _ in 0..2 {
        let response = client.get(url("/ok")).send().await.expect("a response");
        assert_eq!(response.status(), 200);
        // The URL survives the body's wrapping.
        assert_eq!(response.url().as_str(), url("/ok"));
        assert_eq!(response.text().await.expect("text"), "hello");
    }
    let missing = client
        .get(url("/nowhere"))
        .send()
        .await
        .expect("a response");
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.bytes().await.expect("bytes").len(), 0);
    let failed = client.get(url("/fail")).send().await.expect("a response");
    assert_eq!(failed.status(), 500);
    assert_eq!(failed.text().await.expect("text"), "storage outage");
    let echoed = client
        .post(url("/echo"))
        .body("twelve bytes")
        .send()
        .await
        .expect("a response");
    assert_eq!(echoed.text().await.expect("text"), "twelve bytes");
    let streamed = client
        .get(url("/stream/3/1"))
        .send()
        .await
        .expect("a response");
    assert_eq!(streamed.bytes().await.expect("bytes").len(), 3000);

    let p = addr.port().to_string();
    let get = |status| call("GET", "127.0.0.1", &p, status, "");
    let post = call("POST", "127.0.0.1", &p, "200", "");
    assert_eq!(
        series(test, COUNT),
        expect(&[
            (get("200"), 3.0),
            (get("404"), 1.0),
            (get("500"), 1.0),
            (post.clone(), 1.0),
        ])
    );
    assert_eq!(
        series(test, RESPONSE_SUM),
        expect(&[
            (get("200"), 3010.0),
            (get("404"), 0.0),
            (get("500"), 14.0),
            (post.clone(), 12.0),
        ])
    );
    assert_eq!(series(test, RESPONSE_COUNT), series(test, COUNT));
    assert_eq!(series(test, REQUEST_SUM)[&post], 12.0);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error_without_status() {
    let test = "reqwest_refused";
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = client(test);
    let err = client
        .get(format!("http://127.0.0.1:{port}/ok"))
        .send()
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(&err, reqwest_middleware::Error::Reqwest(e) if e.is_connect()),
        "{err:?}"
    );
    assert_eq!(
        series(test, COUNT),
        expect(&[(
            call("GET", "127.0.0.1", &port.to_string(), "", "connect"),
            1.0
        )])
    );
    assert!(series(test, RESPONSE_COUNT).is_empty());
}

#[tokio::test]
async fn reqwest_timeouts_are_timeouts() {
    let test = "reqwest_timeout";
    let addr = spawn_server();
    let client = client_with(
        test,
        reqwest::Client::builder().timeout(Duration::from_millis(100)),
    );
    let err = client
        .get(format!("http://{addr}/slow/5000"))
        .send()
        .await
        .expect_err("timed out");
    assert!(
        matches!(&err, reqwest_middleware::Error::Reqwest(e) if e.is_timeout()),
        "{err:?}"
    );
    assert_eq!(
        series(test, COUNT),
        expect(&[(
            call("GET", "127.0.0.1", &addr.port().to_string(), "", "timeout"),
            1.0
        )])
    );
}

#[tokio::test]
async fn a_response_dropped_mid_stream_is_cancelled_with_its_status_and_bytes() {
    let test = "reqwest_dropped";
    let addr = spawn_server();
    let client = client(test);
    let mut response = client
        .get(format!("http://{addr}/stream/5/300"))
        .send()
        .await
        .expect("a response");
    let mut read = 0;
    while read < 1000 {
        read += response
            .chunk()
            .await
            .expect("a chunk")
            .expect("data")
            .len();
    }
    assert_eq!(read, 1000);
    assert!(
        series(test, COUNT).is_empty(),
        "not recorded before its end"
    );
    drop(response);
    let cancelled = call(
        "GET",
        "127.0.0.1",
        &addr.port().to_string(),
        "200",
        "cancelled",
    );
    assert_eq!(series(test, COUNT), expect(&[(cancelled.clone(), 1.0)]));
    assert_eq!(series(test, RESPONSE_SUM), expect(&[(cancelled, 1000.0)]));
}

#[tokio::test]
async fn a_body_cut_by_the_server_is_a_body_error() {
    let test = "reqwest_body_error";
    let addr = spawn_server();
    let client = client(test);
    let mut response = client
        .get(format!("http://{addr}/broken"))
        .send()
        .await
        .expect("a response");
    let mut read = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => panic!("the body ended without its error after {read} bytes"),
            Err(e) => {
                assert!(e.is_body() || e.is_decode(), "{e:?}");
                break;
            }
        }
    }
    let failed = call(
        "GET",
        "127.0.0.1",
        &addr.port().to_string(),
        "200",
        "body_error",
    );
    assert_eq!(series(test, COUNT), expect(&[(failed.clone(), 1.0)]));
    #[allow(clippy::cast_precision_loss)]
    let read = read as f64;
    assert_eq!(series(test, RESPONSE_SUM), expect(&[(failed, read)]));
}
