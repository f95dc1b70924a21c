//! A small REST service (accounts), each handler instrumented, every request measured by the
//! HTTP layer (per route: rate, status codes, latency, body sizes), `/metrics` served for
//! Prometheus, and the live page at `/` (its JSON at `/api/functions`; neither measured by the
//! layer). `examples/prometheus/` has the Prometheus config, rules and Grafana dashboard that go
//! with it. `--live-interval SECONDS` sets how often the live page's snapshots are taken
//! (default 5).
//!
//! `cargo run --example services -- --addr 127.0.0.1:8080 [--peer 127.0.0.1:8081] [--live-interval S]`
//!
//! The service itself is the `services` library (`examples/services/lib.rs`), which the `rules`
//! example links too: `cargo run --example rules > rules.yml` writes the Prometheus rules of
//! its objectives.
//!
//! Routes: `GET /accounts/{id}`, `POST /accounts` (body: the account name), `GET /export`
//! (every account as CSV, streamed a line at a time), `GET /reports/{ms}` (a report that takes
//! `ms` milliseconds), `GET /peer/accounts/{id}` (the account as a peer instance has it: a call
//! through reqwest, measured by the client middleware; 503 without a peer), `GET /health`,
//! `GET /metrics` (not measured by the layer). Deterministic failures, so tests can predict
//! the error counts: ids divisible by 13 hit a "storage outage" (500), creating an account
//! named `fail` is a 500 too, and a name longer than 32 bytes is refused by the store (400).
//! Any other path is a 404 counted under `http_route="_unmatched"`.
//!
//! The store's calls carry bounded dynamic labels: `Accounts::load` by the account's `tier`
//! (an enum: every tier at 0 from the start), and every store error by its `error_kind`
//! (`Outage`, `Rejected`).

use std::time::Duration;

use axum::routing::get;
use services::{app_with_peer, OBJECTIVES};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = instrument_metrics_examples::flag(&args, "addr")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    // Native histograms beside the classic buckets (protobuf scrapes get both), and every
    // request in a span with OpenTelemetry context: exemplars with real trace ids.
    // What the runtime running every handler is doing: workers, tasks, busy time.
    if let Err(e) =
        instrument_metrics::runtime::register_tokio(&tokio::runtime::Handle::current(), "main")
    {
        eprintln!("runtime statistics not registered: {e}");
    }
    instrument_metrics::set_default_histograms(instrument_metrics::Histograms::Both);
    let _tracing = instrument_metrics_examples::traced::init();
    if let Err(e) = instrument_metrics::build_info!() {
        eprintln!("build info not registered: {e}");
    }
    // What the service promises; the rules for them: `cargo run --example rules`.
    if let Err(e) = instrument_metrics::slo::declare(OBJECTIVES) {
        eprintln!("objectives: {e}");
        std::process::exit(1);
    }
    // Another instance to ask on `GET /peer/accounts/{id}`, if given.
    let peer = instrument_metrics_examples::flag(&args, "peer").map(|a| format!("http://{a}"));
    // Snapshots from the start, so the live page's windows cover every call.
    let interval = instrument_metrics_examples::flag(&args, "live-interval")
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(5));
    instrument_metrics::live::start_every(interval);
    let app = match app_with_peer(peer) {
        // The live page beside the service, outside its HTTP metrics layer (as /metrics is
        // skipped by it); outside the metrics too, each request's span (and trace id) is
        // current when it starts.
        Ok(app) => app
            .route("/", get(instrument_metrics::axum::live_page))
            .route("/api/functions", get(instrument_metrics::axum::live_api))
            .layer(axum::middleware::from_fn(
                instrument_metrics_examples::traced::requests,
            )),
        Err(e) => {
            eprintln!("HTTP metrics: {e}");
            std::process::exit(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a.to_string());
    println!("services listening on http://{local}");
    println!("live page: http://{local}/");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
