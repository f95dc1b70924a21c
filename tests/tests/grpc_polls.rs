//! The gRPC server layer's `polls()`: each call's busy time and slow polls, through a real
//! tonic server and client on loopback. A binary of its own: gRPC methods' series are shared
//! by every server in a process, and no other test here calls these methods.

use std::time::{Duration, Instant};

use instrument_metrics_tests::{find_value, parse};
use routeguide::pb::Point;

const METHOD: [(&str, &str); 2] = [
    ("grpc_service", "routeguide.RouteGuide"),
    ("grpc_method", "GetFeature"),
];

fn value(name: &str) -> Option<f64> {
    find_value(&parse(&instrument_metrics::render()), name, &METHOD)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_call_shows_its_slow_polls_and_a_waiting_one_does_not() {
    routeguide::declare().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(instrument_metrics::grpc::layer().polls())
            .add_service(routeguide::service())
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    // Before the first call: the method is declared, but no call kept busy time yet.
    assert_eq!(value("grpc_server_handling_busy_seconds_count"), None);

    let mut client = routeguide::client(addr).unwrap();
    let call = |latitude, longitude| {
        let mut client = client.clone();
        async move {
            client
                .get_feature(Point {
                    latitude,
                    longitude,
                })
                .await
                .unwrap();
        }
    };
    // Twice blocking the worker 30 ms.
    call(30, 3).await;
    call(30, 3).await;
    let settled = |n: f64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while value("grpc_server_handling_busy_seconds_count") != Some(n) {
            assert!(
                Instant::now() < deadline,
                "{n} calls with busy time:\n{}",
                instrument_metrics::render()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    settled(2.0);
    assert_eq!(value("grpc_server_slow_polls_total"), Some(2.0));
    let blocked = value("grpc_server_handling_busy_seconds_sum").unwrap();
    assert!(
        blocked >= 0.060,
        "busy {blocked} s: at least the 2 x 30 ms blocked"
    );

    // Twice waiting 50 ms: no slow poll, busy far below the handling time.
    let handling_before = value("grpc_server_handling_seconds_sum").unwrap();
    call(50, 2).await;
    call(50, 2).await;
    settled(4.0);
    assert_eq!(value("grpc_server_slow_polls_total"), Some(2.0));
    let waited = value("grpc_server_handling_busy_seconds_sum").unwrap() - blocked;
    let handled = value("grpc_server_handling_seconds_sum").unwrap() - handling_before;
    assert!(handled >= 0.100, "two 50 ms waits: {handled} s");
    assert!(
        waited < handled / 4.0,
        "busy {waited} s far below the {handled} s waited"
    );
    // The +Inf bucket is the count; the client side keeps no busy time.
    let samples = parse(&instrument_metrics::render());
    let mut inf = METHOD.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        find_value(&samples, "grpc_server_handling_busy_seconds_bucket", &inf),
        Some(4.0)
    );
    assert!(!samples
        .iter()
        .any(|s| s.name.starts_with("grpc_client_handling_busy")));
    client
        .get_feature(Point {
            latitude: 3,
            longitude: 4,
        })
        .await
        .unwrap();
}
