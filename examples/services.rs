//! A small REST service (accounts), each handler instrumented, `/metrics` served for Prometheus.
//! `examples/prometheus/` has the Prometheus config, rules and Grafana dashboard that go with it.
//!
//! `cargo run --example services -- --addr 127.0.0.1:8080`
//!
//! Routes: `GET /accounts/{id}`, `POST /accounts` (body: the account name), `GET /health`,
//! `GET /metrics`. Deterministic failures, so tests can predict the error counts: ids divisible
//! by 13 hit a "storage outage" (500), and creating an account named `fail` is a 500 too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use instrument_metrics::instrument_metrics;

#[derive(Default)]
struct Accounts {
    by_id: Mutex<HashMap<u64, String>>,
}

#[derive(Debug)]
enum StoreError {
    Outage,
}

#[instrument_metrics]
impl Accounts {
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
        let Ok(mut map) = self.by_id.lock() else {
            return Err(StoreError::Outage);
        };
        let id = map.len() as u64 + 1;
        map.insert(id, name.to_owned());
        Ok(id)
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
        Err(StoreError::Outage) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage outage".to_owned(),
        ),
    }
}

#[instrument_metrics]
async fn health() -> StatusCode {
    StatusCode::OK
}

fn app() -> Router {
    Router::new()
        .route("/accounts/{id}", get(get_account))
        .route("/accounts", post(create_account))
        .route("/health", get(health))
        .route("/metrics", get(instrument_metrics::axum::metrics))
        .with_state(Arc::new(Accounts::default()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = instrument_metrics_examples::flag(&args, "addr")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    if let Err(e) = instrument_metrics::build_info!() {
        eprintln!("build info not registered: {e}");
    }
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
    if let Err(e) = axum::serve(listener, app()).await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
