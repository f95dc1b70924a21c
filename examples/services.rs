//! A small REST service (accounts), each handler instrumented, every request measured by the
//! HTTP layer (per route: rate, status codes, latency, body sizes), `/metrics` served for
//! Prometheus. `examples/prometheus/` has the Prometheus config, rules and Grafana dashboard
//! that go with it.
//!
//! `cargo run --example services -- --addr 127.0.0.1:8080`
//!
//! Routes: `GET /accounts/{id}`, `POST /accounts` (body: the account name), `GET /export`
//! (every account as CSV, streamed a line at a time), `GET /reports/{ms}` (a report that takes
//! `ms` milliseconds), `GET /health`, `GET /metrics` (not
//! measured by the layer). Deterministic failures, so tests can predict the error counts: ids
//! divisible by 13 hit a "storage outage" (500), creating an account named `fail` is a 500
//! too, and a name longer than 32 bytes is refused by the store (400). Any other path is a 404
//! counted under `http_route="_unmatched"`.
//!
//! The store's calls carry bounded dynamic labels: `Accounts::load` by the account's `tier`
//! (an enum: every tier at 0 from the start), and every store error by its `error_kind`
//! (`Outage`, `Rejected`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use instrument_metrics::http::{HttpMetrics, MetricsLayer};
use instrument_metrics::{instrument_metrics, LabelValue};

#[derive(Default)]
struct Accounts {
    // Ordered, so the export is the same bytes every time.
    by_id: Mutex<BTreeMap<u64, String>>,
}

/// Why the store failed: the `error_kind` of `result="error"` (one series per variant).
#[derive(Debug, LabelValue)]
enum StoreError {
    Outage,
    Rejected,
}

/// An account's plan: even ids are `pro`, odd ones `free` (a stand-in for a looked-up field).
#[derive(Clone, Copy, LabelValue)]
enum Tier {
    #[label_value(rename = "free")]
    Free,
    #[label_value(rename = "pro")]
    Pro,
}

impl Tier {
    fn of(id: u64) -> Tier {
        if id.is_multiple_of(2) {
            Tier::Pro
        } else {
            Tier::Free
        }
    }
}

/// Longest account name the store takes.
const MAX_NAME: usize = 32;

#[instrument_metrics(error_kind)]
impl Accounts {
    #[instrument_metrics(labels(tier = Tier::of(*id)))]
    fn load(&self, id: u64) -> Result<Option<String>, StoreError> {
        if id.is_multiple_of(13) {
            return Err(StoreError::Outage);
        }
        Ok(self.by_id.lock().map_or(None, |m| m.get(&id).cloned()))
    }

    fn insert(&self, name: &str) -> Result<u64, StoreError> {
        if name == "fail" {
            return Err(StoreError::Outage);
        }
        if name.len() > MAX_NAME {
            return Err(StoreError::Rejected);
        }
        let Ok(mut map) = self.by_id.lock() else {
            return Err(StoreError::Outage);
        };
        let id = map.len() as u64 + 1;
        map.insert(id, name.to_owned());
        Ok(id)
    }

    fn list(&self) -> Result<Vec<(u64, String)>, StoreError> {
        let Ok(map) = self.by_id.lock() else {
            return Err(StoreError::Outage);
        };
        Ok(map.iter().map(|(id, name)| (*id, name.clone())).collect())
    }
}

#[instrument_metrics]
async fn get_account(
    State(accounts): State<Arc<Accounts>>,
    Path(id): Path<u64>,
) -> (StatusCode, String) {
    match accounts.load(id) {
        Ok(Some(name)) => (StatusCode::OK, name),
        Ok(None) => (StatusCode::NOT_FOUND, "no such account".to_owned()), // 4xx: the client's problem, ok
        Err(StoreError::Rejected) => (StatusCode::BAD_REQUEST, "rejected".to_owned()),
        Err(StoreError::Outage) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage outage".to_owned(),
        ),
    }
}

#[instrument_metrics(in_flight)]
async fn create_account(
    State(accounts): State<Arc<Accounts>>,
    name: String,
) -> (StatusCode, String) {
    let name = name.trim();
    if name.is_empty() {
        return (StatusCode::BAD_REQUEST, "empty name".to_owned());
    }
    match accounts.insert(name) {
        Ok(id) => (StatusCode::CREATED, id.to_string()),
        Err(StoreError::Rejected) => (StatusCode::BAD_REQUEST, "name too long".to_owned()),
        Err(StoreError::Outage) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage outage".to_owned(),
        ),
    }
}

/// Every account as a CSV line, one body chunk a line, a millisecond apart: the response has
/// no `Content-Length`, and the layer counts its bytes and time until the last chunk is sent.
/// (The attribute times only building the body; the layer times sending it.)
#[instrument_metrics]
async fn export(State(accounts): State<Arc<Accounts>>) -> (StatusCode, Body) {
    let Ok(rows) = accounts.list() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Body::from("storage outage"),
        );
    };
    let lines = std::iter::once("id,name\n".to_owned())
        .chain(rows.into_iter().map(|(id, name)| format!("{id},{name}\n")));
    let chunks = futures_util::stream::unfold((lines, true), |(mut lines, first)| async move {
        let line = lines.next()?;
        if !first {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Some((Ok::<_, std::convert::Infallible>(line), (lines, false)))
    });
    (StatusCode::OK, Body::from_stream(chunks))
}

/// A report that takes `ms` milliseconds to build (at most a second): a known latency, which
/// the end-to-end run finds again in the native histogram's quantile.
#[instrument_metrics]
async fn report(Path(ms): Path<u64>) -> String {
    tokio::time::sleep(Duration::from_millis(ms.min(1000))).await;
    format!("report built in {ms} ms\n")
}

#[instrument_metrics]
async fn health() -> StatusCode {
    StatusCode::OK
}

fn app() -> Result<Router, instrument_metrics::Error> {
    // Every request by route template, method and status; Prometheus' own scrapes left out.
    let http = HttpMetrics::builder().skip("/metrics").build()?;
    Ok(Router::new()
        .route("/accounts/{id}", get(get_account))
        .route("/accounts", post(create_account))
        .route("/export", get(export))
        .route("/reports/{ms}", get(report))
        .route("/health", get(health))
        .route("/metrics", get(instrument_metrics::axum::metrics))
        .with_state(Arc::new(Accounts::default()))
        // Last, so it wraps every route and the fallback (404s are `_unmatched`).
        .layer(MetricsLayer::new(http))
        // Outside the metrics: each request's span (and trace id) is current when it starts.
        .layer(axum::middleware::from_fn(
            instrument_metrics_examples::traced::requests,
        )))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = instrument_metrics_examples::flag(&args, "addr")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    // Native histograms beside the classic buckets (protobuf scrapes get both), and every
    // request in a span with OpenTelemetry context: exemplars with real trace ids.
    instrument_metrics::set_histograms(instrument_metrics::Histograms::Both);
    let _tracing = instrument_metrics_examples::traced::init();
    if let Err(e) = instrument_metrics::build_info!() {
        eprintln!("build info not registered: {e}");
    }
    let app = match app() {
        Ok(app) => app,
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
    println!(
        "services listening on http://{}",
        listener.local_addr().map_or(addr, |a| a.to_string())
    );
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
