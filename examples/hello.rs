//! An axum server whose `/hello` sleeps a random 0–1 s and fails 20% of the time with a 500,
//! measured twice: every request by the HTTP layer (requests by route, method and status code,
//! latency, body sizes) and the handler by the attribute (calls by result, duration, in flight).
//! `/metrics` is served beside it, and the live page at `/` with its JSON at `/api/functions`;
//! all three are left out of the layer's counts.
//!
//! `cargo run --example hello` (listens on 127.0.0.1:3000; `--addr` to change it) prints the
//! live page's address.
//! `cargo run --example hello -- --load 200` also drives itself with 200 requests, 8 at a time,
//! and prints the status codes it got, to compare with
//! `http_server_request_duration_seconds_count{http_route="/hello"}` by status code and with
//! `function_calls_total{function="hello"}` by result.
//! `--live-interval SECONDS` sets how often the live page's snapshots are taken (default 5).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use instrument_metrics::http::{HttpMetrics, MetricsLayer};
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
    let next = Arc::new(AtomicU64::new(0));
    // Status code (0: no answer) -> responses.
    let seen = Arc::new(Mutex::new(BTreeMap::<u16, u64>::new()));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (next, seen) = (next.clone(), seen.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests as u64 {
                    let status = instrument_metrics_examples::http_get(addr, "/hello")
                        .await
                        .unwrap_or(0);
                    if let Ok(mut seen) = seen.lock() {
                        *seen.entry(status).or_default() += 1;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let by_status = seen.lock().map_or_else(
        |_| String::new(),
        |seen| {
            seen.iter()
                .map(|(status, n)| format!(" {status}={n}"))
                .collect()
        },
    );
    // One line, parsed by tests/e2e/e2e.py.
    println!(
        "load: sent {requests} requests, got{by_status}; see http://{addr}/metrics and the live page at http://{addr}/"
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
    // Native histograms beside the classic buckets, and each request in a span with
    // OpenTelemetry context: a protobuf scrape has native histograms, an OpenMetrics one
    // exemplars with real trace ids.
    // What the runtime running every handler is doing: workers, tasks, busy time.
    if let Err(e) =
        instrument_metrics::runtime::register_tokio(&tokio::runtime::Handle::current(), "main")
    {
        eprintln!("runtime statistics not registered: {e}");
    }
    instrument_metrics::set_default_histograms(instrument_metrics::Histograms::Both);
    let _tracing = instrument_metrics_examples::traced::init();
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
    // Snapshots from the start, so the live page's windows cover every request.
    let interval = instrument_metrics_examples::flag(&args, "live-interval")
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(5));
    instrument_metrics::live::start_every(interval);
    println!("hello listening on http://{local} (try /hello and /metrics)");
    println!("live page: http://{local}/");
    // The layer counts requests by route template, method and status code, as the Go
    // tutorial's middleware does by hand; the scrapes of /metrics are left out.
    let http = match HttpMetrics::builder()
        .skip("/metrics")
        .skip("/")
        .skip("/api/functions")
        .build()
    {
        Ok(m) => m,
        Err(e) => {
            eprintln!("HTTP metrics: {e}");
            std::process::exit(1);
        }
    };
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/metrics", get(instrument_metrics::axum::metrics))
        .route("/", get(instrument_metrics::axum::live_page))
        .route("/api/functions", get(instrument_metrics::axum::live_api))
        .layer(MetricsLayer::new(http))
        .layer(axum::middleware::from_fn(
            instrument_metrics_examples::traced::requests,
        ));
    if requests > 0 {
        tokio::spawn(load(local, requests));
    }
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
