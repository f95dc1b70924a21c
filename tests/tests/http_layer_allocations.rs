//! The tower layer adds no allocation to a request once its (method, route, status) has been
//! seen: counted with a global allocator, the same requests through the same router with our
//! layer and with a layer of the same shape that does nothing (a service calling the inner one
//! and wrapping the response body). axum itself boxes the future and the body of any layer
//! given to `Router::layer`, and clones a layer that carries state into a box per request;
//! that part is the router's, the same for every middleware with a configuration.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use tower::ServiceExt as _;

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

fn router() -> Router {
    Router::new()
        .route(
            "/users/{id}",
            get(|Path(id): Path<u32>| async move {
                if id < 100 {
                    "a user"
                } else {
                    "none"
                }
            }),
        )
        .route("/health", get(|| async { "ok" }))
}

/// Allocations of `rounds` × the same three requests, after one warm-up round.
fn allocations_per_round(app: &Router, rounds: u64) -> u64 {
    let paths = ["/users/7", "/health", "/nowhere"];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let round = || async {
            for path in &paths {
                let req = http::Request::get(*path)
                    .body(Body::empty())
                    .expect("request");
                let res = app.clone().oneshot(req).await.expect("infallible");
                let _ = axum::body::to_bytes(res.into_body(), usize::MAX).await;
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

/// A layer of the same shape as ours that records nothing: the floor for any body-wrapping
/// middleware with a configuration under `Router::layer`.
#[derive(Clone)]
struct Nothing(#[allow(dead_code)] &'static str);

impl<S> tower::Layer<S> for Nothing {
    type Service = NothingService<S>;
    fn layer(&self, inner: S) -> NothingService<S> {
        NothingService(inner)
    }
}

#[derive(Clone)]
struct NothingService<S>(S);

impl<S, B> tower::Service<http::Request<Body>> for NothingService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: http_body::Body,
{
    type Response = http::Response<Passthrough<B>>;
    type Error = S::Error;
    type Future = NothingFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        NothingFuture(self.0.call(req))
    }
}

struct NothingFuture<F>(F);

impl<F, B, E> std::future::Future for NothingFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<Passthrough<B>>, E>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        // SAFETY: structural pinning of the only field; never moved out.
        let inner = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        inner.poll(cx).map(|r| r.map(|res| res.map(Passthrough)))
    }
}

struct Passthrough<B>(B);

impl<B: http_body::Body> http_body::Body for Passthrough<B> {
    type Data = B::Data;
    type Error = B::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        // SAFETY: structural pinning of the only field; never moved out.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}

#[test]
fn the_layer_adds_no_allocation_once_a_combination_was_seen() {
    let floor = router().layer(Nothing("configuration"));
    let measured = router().layer(instrument_metrics::http::layer());
    let nothing = allocations_per_round(&floor, 200);
    let ours = allocations_per_round(&measured, 200);
    let bare = allocations_per_round(&router(), 200);
    println!("allocations per round of 3 requests: bare router {bare}, do-nothing layer {nothing}, ours {ours}");
    assert_eq!(
        ours, nothing,
        "ours against a do-nothing layer (bare router: {bare})"
    );
}
