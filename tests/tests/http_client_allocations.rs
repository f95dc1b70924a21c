//! The client layer adds no allocation to a call once its (method, address, port, status) has
//! been seen: counted with a global allocator, the same calls through the same in-memory
//! client, bare and wearing the layer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use tower::{Layer as _, Service, ServiceExt as _};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A client answering from memory: 200 with a body for `/items/…`, 404 otherwise.
async fn answer(
    req: http::Request<Full<Bytes>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let found = req.uri().path().starts_with("/items/");
    let mut response = http::Response::new(Full::new(Bytes::from_static(if found {
        b"an item"
    } else {
        b"none"
    })));
    if !found {
        *response.status_mut() = http::StatusCode::NOT_FOUND;
    }
    Ok(response)
}

/// Allocations of `rounds` × the same four calls (two hosts, two statuses, a POST with a
/// body), after one warm-up round.
fn allocations_per_round<S, B>(client: &S, rounds: u64) -> u64
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<B>, Error = Infallible>
        + Clone,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let calls = [
        ("GET", "http://inventory.internal/items/1"),
        ("GET", "http://inventory.internal/missing"),
        ("GET", "https://billing.internal:8443/items/2"),
        ("POST", "http://inventory.internal/items/"),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let round = || async {
            for (method, uri) in calls {
                let body = if method == "POST" {
                    Full::new(Bytes::from_static(b"{\"name\":\"x\"}"))
                } else {
                    Full::default()
                };
                let req = http::Request::builder()
                    .method(method)
                    .uri(http::Uri::from_static(uri))
                    .body(body)
                    .expect("request");
                let response = client.clone().oneshot(req).await.expect("infallible");
                let mut body = std::pin::pin!(response.into_body());
                while let Some(frame) = body.frame().await {
                    frame.expect("a frame");
                }
            }
        };
        round().await;
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..rounds {
            round().await;
        }
        (ALLOCATIONS.load(Ordering::Relaxed) - before) / rounds
    })
}

#[test]
fn the_client_layer_adds_no_allocation_once_a_combination_was_seen() {
    let bare = tower::service_fn(answer);
    let metrics = instrument_metrics::http::HttpClientMetrics::builder()
        .label("test", "allocations")
        .build()
        .expect("valid metrics");
    let measured = instrument_metrics::http::ClientMetricsLayer::new(metrics).layer(bare);
    let without = allocations_per_round(&bare, 200);
    let with = allocations_per_round(&measured, 200);
    println!("allocations per round of 4 calls: bare client {without}, with the layer {with}");
    assert_eq!(with, without);
    // And they were recorded: 201 rounds of each call.
    let text = instrument_metrics::render();
    let count = instrument_metrics_tests::value(
        &text,
        "http_client_request_duration_seconds_count",
        &[
            ("test", "allocations"),
            ("server_address", "billing.internal"),
            ("server_port", "8443"),
        ],
    );
    assert_eq!(count, 201.0);
}
