//! gRPC through real tonic servers and clients on loopback, both wearing our layers: every RPC
//! type, every code the RouteGuide example gives (its errors are trailers-only responses, its
//! successes end in trailers), a client cancelling mid-stream, deadlines, an unknown method,
//! a transport failure, concurrent streams on one connection, exact message counts.
//!
//! gRPC methods are process-wide (one series per method and side), so the tests of this binary
//! take turns (`TURN`) and compare what changed across each one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use instrument_metrics_tests::parse;
use routeguide::pb::{Point, Rectangle, RouteNote};
use tokio::sync::{oneshot, Mutex};

static TURN: Mutex<()> = Mutex::const_new(());

const SERVICE: &str = "routeguide.RouteGuide";

/// A RouteGuide server on a free loopback port, stopped when dropped.
struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    // Before any call of the test, whichever task runs first.
    routeguide::declare().unwrap();
    tokio::spawn(async move {
        routeguide::serve(listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { addr, _stop: stop }
}

/// Every gRPC sample of the exposition, by name and labels.
type Readings = BTreeMap<(String, Vec<(String, String)>), f64>;

fn read() -> Readings {
    parse(&instrument_metrics::render())
        .into_iter()
        .filter(|s| s.name.starts_with("grpc_") || s.name.starts_with("instrument_metrics_grpc"))
        .map(|s| ((s.name, s.labels.into_iter().collect()), s.value))
        .collect()
}

/// What changed between two readings, for a series whose labels include `labels`; the series
/// must exist in `after`.
fn delta(before: &Readings, after: &Readings, name: &str, labels: &[(&str, &str)]) -> f64 {
    let pick = |r: &Readings| -> Option<f64> {
        let found: Vec<f64> = r
            .iter()
            .filter(|((n, l), _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, v)| *v)
            .collect();
        assert!(
            found.len() <= 1,
            "{name} {labels:?} picks {} series",
            found.len()
        );
        found.first().copied()
    };
    let a = pick(after).unwrap_or_else(|| panic!("no {name} with {labels:?}"));
    a - pick(before).unwrap_or(0.0)
}

fn side(prefix: &str, family: &str) -> String {
    format!("grpc_{prefix}_{family}")
}

fn point(latitude: i32, longitude: i32) -> Point {
    Point {
        latitude,
        longitude,
    }
}

fn note(message: &str) -> RouteNote {
    RouteNote {
        location: Some(point(3, 4)),
        message: message.to_owned(),
    }
}

/// Waits (generously: a loaded machine) until the server has ended `n` more calls of `method`.
async fn server_handled(before: &Readings, method: &str, n: f64) -> Readings {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = read();
        let done: f64 = now
            .iter()
            .filter(|((name, l), _)| {
                name == "grpc_server_handled_total"
                    && l.iter().any(|(k, v)| k == "grpc_method" && v == method)
            })
            .map(|(key, v)| v - before.get(key).copied().unwrap_or(0.0))
            .sum();
        if done >= n || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_type_and_code_is_counted_exactly_on_both_sides() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let mut client = routeguide::client(s.addr).unwrap();
    let before = read();
    routeguide::load(&mut client, 2).await.unwrap();
    let after = server_handled(&before, "RouteChat", 6.0).await;
    let kinds = [
        ("GetFeature", "unary", 5.0, 5.0, 1.0),
        ("ListFeatures", "server_stream", 2.0, 2.0, 5.0),
        ("RecordRoute", "client_stream", 2.0, 5.0, 1.0),
        ("RouteChat", "bidi_stream", 3.0, 5.0, 4.0),
    ];
    for (method, kind, calls, to_server, to_client) in kinds {
        let l = [
            ("grpc_service", SERVICE),
            ("grpc_method", method),
            ("grpc_type", kind),
        ];
        for (p, received, sent) in [
            ("server", to_server, to_client),
            ("client", to_client, to_server),
        ] {
            let d = |family: &str| delta(&before, &after, &side(p, family), &l);
            assert_eq!(d("started_total"), 2.0 * calls, "{p} {method} started");
            assert_eq!(
                d("msg_received_total"),
                2.0 * received,
                "{p} {method} received"
            );
            assert_eq!(d("msg_sent_total"), 2.0 * sent, "{p} {method} sent");
            assert_eq!(
                d("handling_seconds_count"),
                2.0 * calls,
                "{p} {method} timed"
            );
        }
    }
    let mut want: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for (method, code) in routeguide::ROUND {
        *want.entry((method, code)).or_default() += 2.0;
    }
    for p in ["server", "client"] {
        for (method, _, _, _, _) in kinds {
            for code in CODES {
                let got = delta(
                    &before,
                    &after,
                    &side(p, "handled_total"),
                    &[("grpc_method", method), ("grpc_code", code)],
                );
                let expected = want.get(&(method, code)).copied().unwrap_or(0.0);
                assert_eq!(got, expected, "{p} {method} {code}");
            }
            // Deadlines are not transport failures.
            let l = [("grpc_side", p), ("grpc_method", method)];
            assert_eq!(
                delta(
                    &before,
                    &after,
                    "instrument_metrics_grpc_transport_errors_total",
                    &l
                ),
                0.0,
                "{p} {method}"
            );
        }
    }
    // The deadline calls ran into their 50 ms; the 8 others may be quick. The client times
    // from before sending, so its deadline calls last at least 50 ms; the server's clock starts
    // when the request arrives, later by the trip (long on a loaded machine: seen 50 ms minus a
    // little), so there the bound is 25 ms.
    let slow = |p: &str, le: &str| {
        let l = [("grpc_method", "GetFeature"), ("le", le)];
        let fast = delta(&before, &after, &side(p, "handling_seconds_bucket"), &l);
        assert!(
            fast <= 8.0,
            "{p}: {fast} GetFeature calls under {le} s, 8 at most"
        );
    };
    slow("server", "0.025");
    slow("client", "0.05");
}

const CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_methods_exist_at_zero_for_every_code_from_the_start() {
    let _turn = TURN.lock().await;
    let _s = server().await;
    let now = read();
    for (method, kind) in [
        ("GetFeature", "unary"),
        ("ListFeatures", "server_stream"),
        ("RecordRoute", "client_stream"),
        ("RouteChat", "bidi_stream"),
    ] {
        for code in CODES {
            let key = (
                "grpc_server_handled_total".to_owned(),
                vec![
                    ("grpc_code".to_owned(), code.to_owned()),
                    ("grpc_method".to_owned(), method.to_owned()),
                    ("grpc_service".to_owned(), SERVICE.to_owned()),
                    ("grpc_type".to_owned(), kind.to_owned()),
                ],
            );
            assert!(now.contains_key(&key), "no {key:?}");
        }
    }
    // Reflection, registered too, is there with its exact type.
    let reflection = now.keys().any(|(n, l)| {
        n == "grpc_server_started_total"
            && l.contains(&("grpc_method".to_owned(), "ServerReflectionInfo".to_owned()))
            && l.contains(&("grpc_type".to_owned(), "bidi_stream".to_owned()))
    });
    assert!(reflection);
}

/// A client whose connection gives each stream a 1 KiB window: a server stream of 1,000
/// features waits for the client after about 40 of them.
fn narrow_client(addr: SocketAddr) -> routeguide::Client {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .initial_stream_window_size(Some(1024))
        .connect_lazy();
    routeguide::pb::route_guide_client::RouteGuideClient::new(
        tower::ServiceBuilder::new()
            .layer(instrument_metrics::grpc::client_layer())
            .service(channel),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cancelling_mid_stream_is_canceled_on_both_sides() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let mut client = narrow_client(s.addr);
    let before = read();
    let r = Rectangle {
        lo: Some(point(1, 0)),
        hi: Some(point(1_000, 0)),
    };
    let mut stream = client.list_features(r).await.unwrap().into_inner();
    assert!(stream.message().await.unwrap().is_some());
    // Gone after one feature: the stream is reset while the server waits for the window.
    drop(stream);
    let after = server_handled(&before, "ListFeatures", 1.0).await;
    let m = [("grpc_method", "ListFeatures")];
    for p in ["server", "client"] {
        let l = [("grpc_method", "ListFeatures"), ("grpc_code", "Canceled")];
        assert_eq!(
            delta(&before, &after, &side(p, "handled_total"), &l),
            1.0,
            "{p}"
        );
        let ok = [("grpc_method", "ListFeatures"), ("grpc_code", "OK")];
        assert_eq!(
            delta(&before, &after, &side(p, "handled_total"), &ok),
            0.0,
            "{p}"
        );
    }
    assert!(delta(&before, &after, "grpc_client_msg_received_total", &m) >= 1.0);
    let sent = delta(&before, &after, "grpc_server_msg_sent_total", &m);
    assert!((1.0..1_000.0).contains(&sent), "server sent {sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_giving_up_on_a_slow_call_is_canceled_on_both_sides() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let mut client = routeguide::client(s.addr).unwrap();
    let before = read();
    // GetFeature at longitude 2 sleeps `latitude` ms; the caller stops waiting after 100.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        client.get_feature(point(3_000, 2)),
    )
    .await;
    assert!(gave_up.is_err());
    let after = server_handled(&before, "GetFeature", 1.0).await;
    for p in ["server", "client"] {
        let l = [("grpc_method", "GetFeature"), ("grpc_code", "Canceled")];
        assert_eq!(
            delta(&before, &after, &side(p, "handled_total"), &l),
            1.0,
            "{p}"
        );
        let m = [("grpc_method", "GetFeature")];
        assert_eq!(
            delta(&before, &after, &side(p, "msg_sent_total"), &m),
            if p == "client" { 1.0 } else { 0.0 }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_is_deadline_exceeded_on_both_sides_not_a_transport_failure() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let mut client = routeguide::client(s.addr).unwrap();
    let before = read();
    // GetFeature at longitude 2 sleeps `latitude` ms: 2 s against a 100 ms deadline. tonic's
    // server gives up at the deadline and answers `Cancelled`.
    let mut req = tonic::Request::new(point(2_000, 2));
    req.set_timeout(Duration::from_millis(100));
    let err = client.get_feature(req).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Cancelled);
    let after = server_handled(&before, "GetFeature", 1.0).await;
    for p in ["server", "client"] {
        let l = [
            ("grpc_method", "GetFeature"),
            ("grpc_code", "DeadlineExceeded"),
        ];
        assert_eq!(
            delta(&before, &after, &side(p, "handled_total"), &l),
            1.0,
            "{p}"
        );
        let c = [("grpc_method", "GetFeature"), ("grpc_code", "Canceled")];
        assert_eq!(
            delta(&before, &after, &side(p, "handled_total"), &c),
            0.0,
            "{p}"
        );
        let t = [("grpc_side", p), ("grpc_method", "GetFeature")];
        assert_eq!(
            delta(
                &before,
                &after,
                "instrument_metrics_grpc_transport_errors_total",
                &t
            ),
            0.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_method_is_unmatched_and_unimplemented() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let before = read();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", s.addr))
        .unwrap()
        .connect_lazy();
    let channel = tower::ServiceBuilder::new()
        .layer(instrument_metrics::grpc::client_layer())
        .service(channel);
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/scanner.Probe/Anything");
    let r: Result<tonic::Response<Point>, tonic::Status> = grpc
        .unary(
            tonic::Request::new(point(1, 2)),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await;
    assert_eq!(r.unwrap_err().code(), tonic::Code::Unimplemented);
    let after = server_handled(&before, "_unmatched", 1.0).await;
    for p in ["server", "client"] {
        let l = [
            ("grpc_service", "_unmatched"),
            ("grpc_method", "_unmatched"),
            ("grpc_type", "unknown"),
            ("grpc_code", "Unimplemented"),
        ];
        assert_eq!(
            delta(&before, &after, &side(p, "handled_total"), &l),
            1.0,
            "{p}"
        );
    }
    // The probe's names are nowhere.
    assert!(!after
        .keys()
        .any(|(_, l)| l.iter().any(|(_, v)| v.contains("Probe"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_a_transport_failure_seen_as_unavailable() {
    let _turn = TURN.lock().await;
    // Declared methods (the server of another test may not have run yet).
    routeguide::declare().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut client = routeguide::client(closed).unwrap();
    let before = read();
    let err = client.get_feature(point(10, 10)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    let after = read();
    let l = [("grpc_method", "GetFeature"), ("grpc_code", "Unavailable")];
    assert_eq!(delta(&before, &after, "grpc_client_handled_total", &l), 1.0);
    let t = [("grpc_side", "client"), ("grpc_method", "GetFeature")];
    assert_eq!(
        delta(
            &before,
            &after,
            "instrument_metrics_grpc_transport_errors_total",
            &t
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_on_one_connection_count_every_message() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let client = routeguide::client(s.addr).unwrap();
    let before = read();
    let chats = (0..8).map(|i| {
        let mut c = client.clone();
        tokio::spawn(async move {
            let notes: Vec<RouteNote> = (0..20).map(|j| note(&format!("{i}/{j}"))).collect();
            let mut echoes = c
                .route_chat(tokio_stream::iter(notes))
                .await
                .unwrap()
                .into_inner();
            let mut n = 0;
            while echoes.message().await.unwrap().is_some() {
                n += 1;
            }
            n
        })
    });
    for chat in chats.collect::<Vec<_>>() {
        assert_eq!(chat.await.unwrap(), 20);
    }
    let after = server_handled(&before, "RouteChat", 8.0).await;
    let m = [("grpc_method", "RouteChat")];
    for p in ["server", "client"] {
        assert_eq!(delta(&before, &after, &side(p, "started_total"), &m), 8.0);
        assert_eq!(
            delta(&before, &after, &side(p, "msg_received_total"), &m),
            160.0
        );
        assert_eq!(
            delta(&before, &after, &side(p, "msg_sent_total"), &m),
            160.0
        );
        let ok = [("grpc_method", "RouteChat"), ("grpc_code", "OK")];
        assert_eq!(delta(&before, &after, &side(p, "handled_total"), &ok), 8.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_wear_the_attribute_with_their_status_as_error_kind() {
    let _turn = TURN.lock().await;
    let s = server().await;
    let mut client = routeguide::client(s.addr).unwrap();
    let read_fn = || parse(&instrument_metrics::render());
    let count = |samples: &[instrument_metrics_tests::Sample], result: &str, kind: Option<&str>| {
        samples
            .iter()
            .filter(|x| {
                x.name == "function_calls_total"
                    && x.labels.get("function").map(String::as_str) == Some("Guide::get_feature")
                    && x.labels.get("result").map(String::as_str) == Some(result)
                    && x.labels.get("error_kind").map(String::as_str) == kind
            })
            .map(|x| x.value)
            .sum::<f64>()
    };
    let before = read_fn();
    for p in [point(10, 10), point(0, 0), point(1, 1)] {
        let _ = client.get_feature(p).await;
    }
    let after = read_fn();
    // NotFound is a caller's mistake (ok); Internal a failure, its code the error kind.
    assert_eq!(count(&after, "ok", None) - count(&before, "ok", None), 2.0);
    assert_eq!(
        count(&after, "error", Some("Internal")) - count(&before, "error", Some("Internal")),
        1.0
    );
}
