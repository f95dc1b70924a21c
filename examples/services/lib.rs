//! The accounts service of the `services` example (`cargo run --example services`), a library so
//! that the `rules` example (`cargo run --example rules`) links the same instrumented functions
//! and prints the Prometheus rules of their objectives.
//!
//! Each handler is instrumented, every request measured by the HTTP layer (per route: rate,
//! status codes, latency, body sizes), `/metrics` served for Prometheus.
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
//!
//! Objectives ([`OBJECTIVES`]): `accounts` (the two account handlers: 99.9% succeed, 99% within
//! 250 ms) and `store` (every store call: 99.99% succeed). They add no label and no series.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use instrument_metrics::http::{HttpClientMetrics, HttpMetrics, MetricsLayer, ReqwestMetrics};
use instrument_metrics::slo::Objective;
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

/// The objectives of this service, declared by both binaries (`services` for its live page,
/// `rules` to print their rules):
/// - `accounts`: `GET /accounts/{id}` and `POST /accounts` (their handlers) succeed 99.9% of
///   the time, and 99% of them take at most 250 ms (a default bucket bound);
/// - `store`: the store's calls (`Accounts::load`, `insert`, `list`) succeed 99.99% of the time.
///
/// ```
/// assert_eq!(services::OBJECTIVES.map(|o| o.name()), ["accounts", "store"]);
/// ```
pub const OBJECTIVES: [Objective; 2] = [
    Objective::new("accounts")
        .success_ratio(0.999)
        .latency(Duration::from_millis(250), 0.99),
    Objective::new("store").success_ratio(0.9999),
];

/// Longest account name the store takes.
const MAX_NAME: usize = 32;

#[instrument_metrics(error_kind, objective = "store")]
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

#[instrument_metrics(objective = "accounts")]
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

#[instrument_metrics(in_flight, objective = "accounts")]
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

/// Another instance, asked by `GET /peer/accounts/{id}`: its base URL and the client that
/// calls it, every call measured by [`ReqwestMetrics`] (`http_client_*` families).
struct Peer {
    base: String,
    client: reqwest_middleware::ClientWithMiddleware,
}

/// The account `id` as the peer has it: its status and body, relayed. Not instrumented with
/// the attribute: the server layer here, the client middleware and the peer's own layer
/// measure it.
async fn peer_account(peer: Option<Arc<Peer>>, id: u64) -> (StatusCode, String) {
    let Some(peer) = peer else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "no peer configured (--peer)".to_owned(),
        );
    };
    let url = format!("{}/accounts/{id}", peer.base);
    match peer.client.get(url).send().await {
        Ok(response) => {
            let status = response.status();
            match response.text().await {
                Ok(body) => (status, body),
                Err(_) => (
                    StatusCode::BAD_GATEWAY,
                    "the peer's answer broke off".to_owned(),
                ),
            }
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "peer unreachable".to_owned()),
    }
}

/// The service without a peer: its routes, state and HTTP metrics layer.
///
/// # Errors
/// When the HTTP metrics refuse their configuration (they do not: it is fixed).
///
/// ```
/// let _router = services::app().unwrap();
/// ```
pub fn app() -> Result<Router, instrument_metrics::Error> {
    app_with_peer(None)
}

/// The service, asking `peer` (a base URL such as `http://127.0.0.1:8081`, another instance)
/// on `GET /peer/accounts/{id}`.
///
/// # Errors
/// When the HTTP metrics refuse their configuration (they do not: it is fixed).
///
/// ```
/// let _router = services::app_with_peer(Some("http://127.0.0.1:8081".to_owned())).unwrap();
/// ```
pub fn app_with_peer(peer: Option<String>) -> Result<Router, instrument_metrics::Error> {
    // Every request by route template, method and status; Prometheus' own scrapes left out.
    let http = HttpMetrics::builder().skip("/metrics").build()?;
    // Every call to the peer by server address, port and status (the `http_client_*` families
    // exist once there is a peer to call).
    let peer = match peer {
        Some(base) => {
            let calls = ReqwestMetrics::new(HttpClientMetrics::builder().build()?);
            let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                .with(calls)
                .build();
            Some(Arc::new(Peer { base, client }))
        }
        None => None,
    };
    Ok(Router::new()
        .route("/accounts/{id}", get(get_account))
        .route("/accounts", post(create_account))
        .route("/export", get(export))
        .route("/reports/{ms}", get(report))
        .route(
            "/peer/accounts/{id}",
            get(move |Path(id): Path<u64>| peer_account(peer.clone(), id)),
        )
        .route("/health", get(health))
        .route("/metrics", get(instrument_metrics::axum::metrics))
        .with_state(Arc::new(Accounts::default()))
        // Last, so it wraps every route and the fallback (404s are `_unmatched`).
        .layer(MetricsLayer::new(http)))
}
