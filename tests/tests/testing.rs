//! `instrument_metrics::testing`: captures see exactly their own calls, while other threads call
//! the same functions; they nest; a panicking call is counted; an async capture follows its
//! future across worker threads; tasks spawned from inside are not in it.

use std::sync::{Arc, Barrier};

use instrument_metrics::instrument_metrics;
use instrument_metrics::testing::{capture, capture_future, Calls};

#[instrument_metrics]
fn shared(n: u64) -> Result<u64, String> {
    if n.is_multiple_of(3) {
        Err(format!("{n} is a multiple of 3"))
    } else {
        Ok(n)
    }
}

#[instrument_metrics]
fn other() {}

#[instrument_metrics]
fn explodes() {
    panic!("on purpose");
}

#[instrument_metrics]
async fn hop(n: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    shared(n)
}

/// `n` calls of `shared`, of which those at multiples of 3 fail.
fn expected(from: u64, n: u64) -> Calls {
    let error = (from..from + n).filter(|i| i % 3 == 0).count() as u64;
    Calls {
        ok: n - error,
        error,
        panic: 0,
        cancelled: 0,
    }
}

#[test]
fn concurrent_captures_each_see_exactly_their_own_calls() {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 200;
    let start = Arc::new(Barrier::new(THREADS as usize));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                for round in 0..ROUNDS {
                    // Each thread and round makes a different number of calls.
                    let n = 1 + (t * 7 + round) % 11;
                    let ((), seen) = capture(|| {
                        for i in 0..n {
                            let _ = shared(i);
                        }
                    });
                    seen.assert_calls("shared", expected(0, n));
                    seen.assert_only(&["shared"]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no capture saw another thread's calls");
    }
}

#[test]
fn captures_nest_and_the_outer_one_sees_the_inner_ones_calls() {
    let ((), outer) = capture(|| {
        let _ = shared(1);
        let ((), inner) = capture(|| {
            let _ = shared(3);
            other();
        });
        assert_eq!(
            inner.calls("shared"),
            Calls {
                ok: 0,
                error: 1,
                panic: 0,
                cancelled: 0
            }
        );
        assert_eq!(inner.calls("other").ok, 1);
        other();
    });
    assert_eq!(
        outer.calls("shared"),
        Calls {
            ok: 1,
            error: 1,
            panic: 0,
            cancelled: 0
        }
    );
    assert_eq!(outer.calls("other").ok, 2);
    assert_eq!(outer.functions(), ["other", "shared"]);
}

#[test]
fn a_panicking_call_is_counted_when_caught_inside_the_capture() {
    let (caught, seen) = capture(|| std::panic::catch_unwind(explodes));
    assert!(caught.is_err());
    seen.assert_calls(
        "explodes",
        Calls {
            ok: 0,
            error: 0,
            panic: 1,
            cancelled: 0,
        },
    );
    // A panic leaving the closure ends the capture with it; the next one starts clean.
    let escaped = std::panic::catch_unwind(|| capture(explodes));
    assert!(escaped.is_err());
    let ((), after) = capture(other);
    after.assert_only(&["other"]);
    assert_eq!(after.calls("explodes").total(), 0);
}

#[test]
fn an_async_capture_follows_its_future_across_worker_threads() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..16u64)
            .map(|t| {
                tokio::spawn(async move {
                    let ((), seen) = capture_future(async move {
                        for i in 0..50 {
                            let _ = hop(t * 1000 + i).await;
                        }
                    })
                    .await;
                    // The yields move the future between workers; every call is there once.
                    assert_eq!(seen.calls("hop").total(), 50);
                    assert_eq!(seen.calls("shared"), expected(t * 1000, 50));
                    seen.assert_only(&["hop", "shared"]);
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("each capture saw its own 50 calls");
        }
    });
}

#[test]
fn tasks_spawned_inside_a_capture_are_not_in_it() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let ((), seen) = capture_future(async {
            let _ = shared(1);
            tokio::spawn(async { shared(2) }).await.unwrap().unwrap();
        })
        .await;
        assert_eq!(
            seen.calls("shared").ok,
            1,
            "only the call made by the captured future:\n{seen}"
        );
    });
}

#[test]
fn a_failed_assertion_shows_what_was_captured() {
    let ((), seen) = capture(|| {
        let _ = shared(3);
        other();
    });
    let message = std::panic::catch_unwind(|| seen.assert_only(&["shared"]))
        .expect_err("other was called too")
        .downcast::<String>()
        .expect("a formatted message");
    assert_eq!(
        *message,
        "called besides [\"shared\"]: [\"other\"]; captured:\n\
         | function | module | labels | ok | error | panic | cancelled |\n\
         | other | testing |  | 1 | 0 | 0 | 0 |\n\
         | shared | testing |  | 0 | 1 | 0 | 0 |\n"
    );
}

#[test]
fn http_exchanges_and_grpc_calls_ended_inside_are_in_it() {
    use axum::routing::get;
    use tower::ServiceExt as _;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = axum::Router::new()
            .route("/items/{id}", get(|| async { "an item" }))
            .layer(instrument_metrics::http::layer());
        // In process: the response body is read to its end inside the capture, where the
        // exchange ends and is recorded.
        let ((), seen) = capture_future(async {
            for path in ["/items/1", "/items/2", "/nowhere"] {
                let response = app
                    .clone()
                    .oneshot(
                        http::Request::get(path)
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                let _ = http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap();
            }
        })
        .await;
        assert_eq!(seen.requests("GET", "/items/{id}"), [(200, 2)].into());
        assert_eq!(seen.requests("GET", "_unmatched"), [(404, 1)].into());

        // gRPC: the client layer's calls end in the captured future; the server's, in the
        // server's own tasks, are not in it.
        routeguide::declare().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(routeguide::serve(listener, std::future::pending()));
        let mut client = routeguide::client(addr).unwrap();
        let ((), seen) = capture_future(async {
            let point = |latitude, longitude| routeguide::pb::Point {
                latitude,
                longitude,
            };
            client.get_feature(point(3, 4)).await.unwrap();
            client.get_feature(point(0, 0)).await.unwrap_err();
        })
        .await;
        assert_eq!(
            seen.grpc_calls("routeguide.RouteGuide", "GetFeature", true),
            [("NotFound".to_owned(), 1), ("OK".to_owned(), 1)].into()
        );
        assert!(seen
            .grpc_calls("routeguide.RouteGuide", "GetFeature", false)
            .is_empty());
    });
}
