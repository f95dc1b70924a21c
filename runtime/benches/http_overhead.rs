//! Cost of measuring one HTTP request, in process: the same axum router bare, with our layer,
//! with `axum-prometheus` and with the best hand-written middleware on the `prometheus` crate,
//! side by side in one run. Prints the medians, the overheads above the bare router and the
//! ratio the README quotes (issue target: ours <= 0.5x the best of the other two), and ours
//! above `noop_body_layer`, the floor of any layer measuring to the body's end (issue 15
//! target: <= 100 ns).
//!
//! `cargo bench -p instrument-metrics --bench http_overhead --features axum`
//!
//! One request = build the `Request`, route it, run the handler, drain the response body to
//! its end (what a server does), on a current-thread tokio runtime, the router converted once
//! with `with_state(())` as `axum::serve` does for each connection. Every stack has seen every
//! (method, route, status) before it is measured: the common case of a running server.
//!
//! - Times are this thread's CPU time, not the wall clock: on a machine shared with builds, a
//!   thread waiting for a core is not charged for it.
//! - Floors beside the subjects: `noop_layer` (what `Router::layer` itself costs),
//!   `noop_body_layer` (a layer that only wraps the response body, as measuring to the body's
//!   end requires), `instrument_metrics_skipping` (our layer with every route skipped).
//! - After criterion, an interleaved pass runs every row in turn, a short batch each, round after
//!   round, and takes the median of each row's difference from `bare` in the same round: load
//!   bursts from elsewhere then hit every row alike. Allocations per request are counted last.
//! - `HTTP_OVERHEAD_PAIRED=<k>` skips criterion and runs the interleaved pass k times, one
//!   line of paired overheads each: a quick comparison of two builds on a loaded machine.
//! - `HTTP_OVERHEAD_POLLS=1` measures our layer with `polls()` on in the `instrument_metrics`
//!   row (a row of its own would change the other rows' numbers: every row of a round shares
//!   the caches).
//! - `HTTP_OVERHEAD_PROFILE=<row> [HTTP_OVERHEAD_REQUESTS=n]` runs only that row, n requests,
//!   for `perf record` or `valgrind --tool=cachegrind` (instructions per request, independent
//!   of the machine's load: run n and 9n and divide the difference).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Path};
use axum::http::{Method, Request, Response};
use axum::routing::get;
use axum::Router;
use criterion::{BenchmarkId, Criterion};
use tower::{Service, ServiceExt};

use instrument_metrics::prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

// ---- the router, the same for every row ----------------------------------------------------

async fn user(Path(id): Path<u64>) -> String {
    format!("{{\"id\":{id},\"name\":\"Ada\"}}")
}

async fn orders(Path(id): Path<u64>) -> String {
    format!("{{\"user\":{id},\"orders\":[]}}")
}

async fn health() -> &'static str {
    "ok"
}

fn routes() -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/users/{id}/orders", get(orders))
        .route("/health", get(health))
}

/// The requests, in turn: two routes, both answered 200 with a small body.
const PATHS: [&str; 2] = ["/users/42", "/health"];

fn request(i: u64) -> Request<Body> {
    let path = PATHS[usize::from(i % 2 == 1)];
    Request::get(path)
        .body(Body::empty())
        .expect("valid request")
}

// ---- the bar: hand-written tower middleware on the `prometheus` crate ----------------------

/// What hand-written middleware records: requests by (method, route, status) and their
/// duration, with `with_label_values` on each request (the `prometheus` crate's way).
struct Handwritten {
    requests: IntCounterVec,
    seconds: HistogramVec,
}

static HANDWRITTEN: LazyLock<Handwritten> = LazyLock::new(|| {
    let labels = ["method", "route", "status"];
    let h = Handwritten {
        requests: IntCounterVec::new(
            Opts::new("http_requests_total", "Requests by method, route, status."),
            &labels,
        )
        .expect("valid counter"),
        seconds: HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Request duration."),
            &labels,
        )
        .expect("valid histogram"),
    };
    // A registry of its own, as an application would keep (ours is `registry()`).
    let registry = Registry::new();
    registry
        .register(Box::new(h.requests.clone()))
        .expect("registered");
    registry
        .register(Box::new(h.seconds.clone()))
        .expect("registered");
    std::mem::forget(registry);
    h
});

#[derive(Clone, Copy)]
struct HandwrittenLayer;

impl<S> tower::Layer<S> for HandwrittenLayer {
    type Service = HandwrittenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HandwrittenService { inner }
    }
}

#[derive(Clone)]
struct HandwrittenService<S> {
    inner: S,
}

/// A method's label without allocating (`Method::as_str` borrows from the request).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

impl<S, B, RB> Service<Request<B>> for HandwrittenService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = HandwrittenFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let start = Instant::now();
        let method = method_label(req.method());
        // `MatchedPath` is an `Arc<str>`: a reference count, no copy of the text.
        let route = req.extensions().get::<MatchedPath>().cloned();
        HandwrittenFuture {
            inner: self.inner.call(req),
            start,
            method,
            route,
        }
    }
}

pin_project_lite::pin_project! {
    struct HandwrittenFuture<F> {
        #[pin]
        inner: F,
        start: Instant,
        method: &'static str,
        route: Option<MatchedPath>,
    }
}

impl<F, RB, E> Future for HandwrittenFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let code = result.as_ref().map(Response::status);
        let status = code.as_ref().map_or("error", |c| c.as_str());
        let route = this
            .route
            .as_ref()
            .map_or("_unmatched", MatchedPath::as_str);
        let labels = [*this.method, route, status];
        let m = &*HANDWRITTEN;
        m.requests.with_label_values(&labels).inc();
        m.seconds
            .with_label_values(&labels)
            .observe(this.start.elapsed().as_secs_f64());
        Poll::Ready(result)
    }
}

// ---- floors for any layer: axum's own cost of one more layer ------------------------------

/// A layer that records nothing: what `Router::layer` itself costs per request.
#[derive(Clone, Copy)]
struct NoopLayer;

impl<S> tower::Layer<S> for NoopLayer {
    type Service = S;

    fn layer(&self, inner: S) -> S {
        inner
    }
}

/// A layer that records nothing but wraps the response body, as any middleware measuring
/// to the body's end must (axum then boxes the wrapped body once more).
#[derive(Clone, Copy)]
struct NoopBodyLayer;

impl<S> tower::Layer<S> for NoopBodyLayer {
    type Service = tower::util::MapResponse<S, fn(Response<Body>) -> Response<PassBody>>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::util::MapResponse::new(inner, |r: Response<Body>| r.map(|inner| PassBody { inner }))
    }
}

pin_project_lite::pin_project! {
    struct PassBody {
        #[pin]
        inner: Body,
    }
}

impl http_body::Body for PassBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

// ---- allocations per request (counted only in the summary pass) ----------------------------

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is a thread-local `Cell`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---- the rows ------------------------------------------------------------------------------

const ROWS: [&str; 7] = [
    "bare",
    "noop_layer",
    "noop_body_layer",
    "instrument_metrics_skipping",
    "instrument_metrics",
    "axum_prometheus",
    "prometheus_by_hand",
];

/// The rows' routers. `axum-prometheus` spawns its exporter's upkeep (every 5 s) on the tokio
/// runtime it is made in: `upkeep`, one worker of its own, as a server's other workers would.
fn stacks(upkeep: &tokio::runtime::Runtime) -> Vec<(&'static str, Router)> {
    let (peer, _handle) = upkeep.block_on(async { axum_prometheus::PrometheusMetricLayer::pair() });
    let _ = &*HANDWRITTEN;
    let skipping = instrument_metrics::http::HttpMetrics::builder()
        .label("bench", "skipping")
        .skip("/users/{id}")
        .skip("/health")
        .build()
        .expect("valid metrics");
    let rows = vec![
        ("bare", routes()),
        ("noop_layer", routes().layer(NoopLayer)),
        ("noop_body_layer", routes().layer(NoopBodyLayer)),
        // Our layer with every route skipped: its plumbing (wrapped future and body, route
        // read, skip check) without an exchange (no clock, no series, no atomics).
        (
            "instrument_metrics_skipping",
            routes().layer(instrument_metrics::http::MetricsLayer::new(skipping)),
        ),
        (
            "instrument_metrics",
            if std::env::var_os("HTTP_OVERHEAD_POLLS").is_some() {
                let polls = instrument_metrics::http::HttpMetrics::builder()
                    .label("bench", "polls")
                    .polls()
                    .build()
                    .expect("valid metrics");
                routes().layer(instrument_metrics::http::MetricsLayer::new(polls))
            } else {
                routes().layer(instrument_metrics::http::layer())
            },
        ),
        ("axum_prometheus", routes().layer(peer)),
        ("prometheus_by_hand", routes().layer(HandwrittenLayer)),
    ];
    // What `axum::serve` does for each connection: handlers (and the layers around them)
    // become services once, not on every request.
    rows.into_iter()
        .map(|(name, router)| (name, router.with_state(())))
        .collect()
}

/// One request through `app`, its body drained to the end; the bytes received.
async fn one(app: &mut Router, i: u64) -> usize {
    let svc = ServiceExt::<Request<Body>>::ready(app)
        .await
        .expect("the router is always ready");
    let response = svc.call(request(i)).await.expect("infallible");
    assert!(response.status().is_success());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    body.len()
}

/// This thread's CPU time: unlike the wall clock, it does not run while the thread waits for
/// a core, so other processes compiling on the machine inflate it far less.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut t) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID");
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// `iters` requests, timed in this thread's CPU time.
fn requests(rt: &tokio::runtime::Runtime, app: &Router, iters: u64) -> Duration {
    let mut app = app.clone();
    rt.block_on(async {
        let start = thread_cpu();
        for i in 0..iters {
            black_box(one(&mut app, black_box(i)).await);
        }
        thread_cpu().saturating_sub(start)
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn benches(c: &mut Criterion, rt: &tokio::runtime::Runtime, stacks: &[(&'static str, Router)]) {
    let mut group = c.benchmark_group("http_overhead");
    for (name, app) in stacks {
        group.bench_with_input(BenchmarkId::from_parameter(name), app, |b, app| {
            b.iter_custom(|iters| requests(rt, app, iters));
        });
    }
    group.finish();
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// Heap allocations per request of each stack (the allocator counts only during this pass).
fn allocations(rt: &tokio::runtime::Runtime, app: &Router) -> f64 {
    const N: u64 = 1000;
    let mut app = app.clone();
    rt.block_on(async {
        COUNTING.store(true, Ordering::Relaxed);
        let before = ALLOCATIONS.with(Cell::get);
        for i in 0..N {
            black_box(one(&mut app, i).await);
        }
        let after = ALLOCATIONS.with(Cell::get);
        COUNTING.store(false, Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)]
        let per = (after - before) as f64 / N as f64;
        per
    })
}

/// Rows measured in turn, a short batch each, round after round, so a burst of load from
/// elsewhere hits every row alike; per row, the median over rounds of its time and of its
/// difference from the bare router in the same round (a paired estimate).
fn interleaved(rt: &tokio::runtime::Runtime, stacks: &[(&'static str, Router)]) -> Vec<(f64, f64)> {
    const ROUNDS: usize = 1001;
    const BATCH: u32 = 400;
    let n = stacks.len();
    let mut per: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); n];
    for round in 0..ROUNDS {
        for k in 0..n {
            let j = (k + round) % n;
            let t = requests(rt, &stacks[j].1, u64::from(BATCH));
            per[j].push(t.as_secs_f64() * 1e9 / f64::from(BATCH));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (0..n)
        .map(|j| {
            let diffs = per[j].iter().zip(&per[0]).map(|(a, b)| a - b).collect();
            (median(per[j].clone()), median(diffs))
        })
        .collect()
}

fn report(load_before: &str, rt: &tokio::runtime::Runtime, stacks: &[(&'static str, Router)]) {
    let Some(medians) = ROWS
        .iter()
        .map(|r| common::median_ns("http_overhead", r))
        .collect::<Option<Vec<f64>>>()
    else {
        return;
    };
    let load_criterion = load();
    let paired = interleaved(rt, stacks);
    let allocs: Vec<f64> = stacks.iter().map(|(_, app)| allocations(rt, app)).collect();
    let at = |name: &str| ROWS.iter().position(|r| *r == name).unwrap_or(0);
    let bare = medians[at("bare")];
    println!(
        "\nhttp_overhead: one GET through an axum 0.8 router (2 routes in turn, 200, small body \
         drained to its end), current-thread tokio, thread CPU time per request. Load average \
         (1, 5, 15 min): {load_before} before, {load_criterion} after criterion, {} after the \
         interleaved pass.",
        load()
    );
    println!(
        "\n| stack | criterion median (ns) | overhead above bare (ns) | interleaved median (ns) | overhead above bare, paired (ns) | allocations per request |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, name) in ROWS.iter().enumerate() {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} |",
            medians[i],
            medians[i] - bare,
            paired[i].0,
            paired[i].1,
            allocs[i]
        );
    }
    for (how, over) in [
        (
            "criterion medians",
            ROWS.iter()
                .zip(&medians)
                .map(|(_, m)| m - bare)
                .collect::<Vec<f64>>(),
        ),
        (
            "interleaved, paired",
            paired.iter().map(|p| p.1).collect::<Vec<f64>>(),
        ),
    ] {
        let (ours, peer, hand) = (
            over[at("instrument_metrics")],
            over[at("axum_prometheus")],
            over[at("prometheus_by_hand")],
        );
        println!(
            "\n{how}: overhead ours / best of (axum-prometheus, prometheus by hand) = {:.2} \
             (target <= 0.5); ours / axum-prometheus {:.2}; ours / prometheus by hand {:.2}. \
             Recording alone: ours {:.0} ns above noop_body_layer (target <= 100; overhead \
             ours / noop_body_layer = {:.2}; {:.0} ns above our layer skipping every route), \
             prometheus by hand {:.0} ns above noop_layer.",
            ours / peer.min(hand),
            ours / peer,
            ours / hand,
            ours - over[at("noop_body_layer")],
            ours / over[at("noop_body_layer")],
            ours - over[at("instrument_metrics_skipping")],
            hand - over[at("noop_layer")],
        );
    }
}

fn main() {
    let load_before = load();
    let rt = runtime();
    let upkeep = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .expect("a runtime for axum-prometheus's upkeep");
    let stacks = stacks(&upkeep);
    // Every (method, route, status) each stack will see, seen once before measuring.
    rt.block_on(async {
        for (_, app) in &stacks {
            let mut app = app.clone();
            for i in 0..PATHS.len() as u64 {
                black_box(one(&mut app, i).await);
            }
        }
    });
    // `HTTP_OVERHEAD_PROFILE=<row> [HTTP_OVERHEAD_REQUESTS=n]`: only that row, n requests,
    // no criterion: for `perf record` on one stack.
    if let Ok(only) = std::env::var("HTTP_OVERHEAD_PROFILE") {
        let n = std::env::var("HTTP_OVERHEAD_REQUESTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2_000_000);
        let (_, app) = stacks
            .iter()
            .find(|(name, _)| *name == only)
            .expect("HTTP_OVERHEAD_PROFILE names a row");
        // The clock's calibration (20 ms on a thread of its own, started before `main`) is
        // over before the first measured request: under valgrind, whose slow start-up does
        // not always give that thread its turn, runs would otherwise differ by which clock
        // they read.
        std::thread::sleep(Duration::from_millis(200));
        let t = requests(&rt, app, n);
        #[allow(clippy::cast_precision_loss)]
        let per = t.as_secs_f64() * 1e9 / n as f64;
        println!("{only}: {n} requests, {per:.0} ns/request (thread CPU time)");
        return;
    }
    if let Some(k) = std::env::var("HTTP_OVERHEAD_PAIRED")
        .ok()
        .and_then(|k| k.parse::<usize>().ok())
    {
        let at = |name: &str| ROWS.iter().position(|r| *r == name).unwrap_or(0);
        for _ in 0..k {
            let paired = interleaved(&rt, &stacks);
            let over = |name: &str| paired[at(name)].1;
            let rows: Vec<String> = ROWS.iter().map(|r| format!("{r} {:.0}", over(r))).collect();
            println!(
                "paired overhead above bare (ns): {}; ours above noop_body_layer {:.0} (load {})",
                rows.join(", "),
                over("instrument_metrics") - over("noop_body_layer"),
                load()
            );
        }
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c, &rt, &stacks);
    c.final_summary();
    report(&load_before, &rt, &stacks);
}
