//! An axum server whose `/hello` sleeps a random 0–1 s and fails 20% of the time with a 500,
//! instrumented with one attribute; `/metrics` is served beside it.
//!
//! `cargo run --example hello` (listens on 127.0.0.1:3000; `--addr` to change it)
//! `cargo run --example hello -- --load 200` also drives itself with 200 requests, 8 at a time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use instrument_metrics::instrument_metrics;

/// A tiny shared random source: good enough for a demo, no dependency.
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut x = STATE.fetch_add(0x6A09_E667_F3BC_C909, Ordering::Relaxed);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[instrument_metrics(in_flight)]
async fn hello() -> (StatusCode, &'static str) {
    tokio::time::sleep(Duration::from_secs_f64(random_unit())).await;
    if random_unit() < 0.2 {
        (StatusCode::INTERNAL_SERVER_ERROR, "something broke\n")
    } else {
        (StatusCode::OK, "hello\n")
    }
}

async fn load(addr: std::net::SocketAddr, requests: usize) {
    let next = std::sync::Arc::new(AtomicU64::new(0));
    let failures = std::sync::Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (next, failures) = (next.clone(), failures.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests as u64 {
                    match instrument_metrics_examples::http_get(addr, "/hello").await {
                        Ok(200) => {}
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    println!(
        "load: sent {requests} requests, {} failed; see http://{addr}/metrics",
        failures.load(Ordering::Relaxed)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = instrument_metrics_examples::flag(&args, "addr")
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let requests: usize = instrument_metrics_examples::flag(&args, "load")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let Ok(local) = listener.local_addr() else {
        eprintln!("no local address");
        std::process::exit(1);
    };
    println!("hello listening on http://{local} (try /hello and /metrics)");
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/metrics", get(instrument_metrics::axum::metrics));
    if requests > 0 {
        tokio::spawn(load(local, requests));
    }
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
