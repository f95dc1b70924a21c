//! Cost of measuring one gRPC call, in process: the same tonic RouteGuide service bare, with a
//! layer that only wraps the bodies, with our server layer, with the best hand-written layer on
//! the `prometheus` crate, and with our client layer, side by side in one run. Prints the
//! medians, the overheads above the bare service and the ratio the README quotes (issue 15's
//! target: ours <= 0.5x the hand-written layer's overhead).
//!
//! `cargo bench -p instrument-metrics-example-routeguide --bench grpc_overhead`
//!
//! One call = build a unary `GetFeature((10,10))` request (`POST /routeguide.RouteGuide/GetFeature`,
//! `content-type: application/grpc`, `te: trailers`, a gRPC-framed `Point`), call
//! `routeguide::service()` as a tower `Service`, and drive the response body to its end (the
//! `Feature` message, then the trailers with `grpc-status: 0`), on a current-thread tokio
//! runtime: what tonic's server does for a call minus HTTP/2. The handler wears
//! `#[instrument_metrics(error_kind)]` in every row alike. Every stack has seen the call before
//! it is measured: the common case of a running server.
//!
//! - Times are this thread's CPU time, not the wall clock: on a machine shared with builds, a
//!   thread waiting for a core is not charged for it.
//! - `noop_body_layer` is the floor of any layer that measures to the end of the response
//!   stream: it wraps the request and the response bodies in pass-through bodies and records
//!   nothing.
//! - The client rows call the same service with the request body as a `tonic::body::Body` (what
//!   a `Channel` takes and a generated client hands its channel): `bare_tonic_body` is their
//!   floor, `instrument_metrics_client` wears `grpc::client_layer()`.
//! - After criterion, an interleaved pass runs every row in turn, a short batch each, round
//!   after round, and takes the median of each row's difference from its floor in the same
//!   round: load bursts from elsewhere then hit every row alike. Allocations per call last.
//! - `GRPC_OVERHEAD_PROFILE=<row> [GRPC_OVERHEAD_CALLS=n]` runs only that row, n calls, for
//!   `perf record` or `valgrind --tool=callgrind` (instructions per call, independent of the
//!   machine's load: run n and 9n and divide the difference by 8n).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf as _, Bytes};
use criterion::{BenchmarkId, Criterion};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, TE};
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt as _, Full};
use prost::Message as _;
use tower::{Layer, Service};

use instrument_metrics::prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

// ---- the request, the same for every row ---------------------------------------------------

const PATH: &str = "/routeguide.RouteGuide/GetFeature";

/// `Point { latitude: 10, longitude: 10 }` in one gRPC frame (flag, big-endian length,
/// message), built once and leaked so that every request's body shares it without a copy.
static FRAME: LazyLock<&'static [u8]> = LazyLock::new(|| {
    let point = routeguide::pb::Point {
        latitude: 10,
        longitude: 10,
    }
    .encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(point.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&point);
    Box::leak(frame.into_boxed_slice())
});

/// A new unary `GetFeature((10,10))` request, as a server's HTTP/2 stack hands it on.
fn request() -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(Bytes::from_static(&FRAME)));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = http::Uri::from_static(PATH);
    let headers = req.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(TE, HeaderValue::from_static("trailers"));
    req
}

/// The same request with its body as a `tonic::body::Body`, what a client's channel takes
/// (`Body::new` boxes the `Full`: one allocation, in both client rows).
fn tonic_request() -> Request<tonic::body::Body> {
    request().map(tonic::body::Body::new)
}

// ---- the floor: a layer that wraps both bodies and records nothing -------------------------

#[derive(Clone, Copy)]
struct NoopBodyLayer;

impl<S> Layer<S> for NoopBodyLayer {
    type Service = NoopBody<S>;

    fn layer(&self, inner: S) -> NoopBody<S> {
        NoopBody { inner }
    }
}

#[derive(Clone)]
struct NoopBody<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for NoopBody<S>
where
    S: Service<Request<PassBody<B>>, Response = Response<RB>>,
{
    type Response = Response<PassBody<RB>>;
    type Error = S::Error;
    type Future = PassFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        PassFuture {
            inner: self.inner.call(req.map(|inner| PassBody { inner })),
        }
    }
}

pin_project_lite::pin_project! {
    struct PassFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, RB, E> Future for PassFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = Result<Response<PassBody<RB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = ready!(self.project().inner.poll(cx));
        Poll::Ready(result.map(|r| r.map(|inner| PassBody { inner })))
    }
}

pin_project_lite::pin_project! {
    struct PassBody<B> {
        #[pin]
        inner: B,
    }
}

impl<B: Body> Body for PassBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

// ---- the bar: a hand-written tower layer on the `prometheus` crate -------------------------

/// go-grpc-middleware's server families, recorded the `prometheus` crate's way: children
/// found by `with_label_values` on each call, timed with `Instant`.
struct Handwritten {
    started: IntCounterVec,
    handled: IntCounterVec,
    received: IntCounterVec,
    sent: IntCounterVec,
    seconds: HistogramVec,
}

static HANDWRITTEN: LazyLock<Handwritten> = LazyLock::new(|| {
    let labels = ["grpc_type", "grpc_service", "grpc_method"];
    let counter = |name: &str, help: &str, labels: &[&str]| {
        IntCounterVec::new(Opts::new(name, help), labels).expect("valid counter")
    };
    let h = Handwritten {
        started: counter("grpc_server_started_total", "RPCs started.", &labels),
        handled: counter(
            "grpc_server_handled_total",
            "RPCs completed, by code.",
            &["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
        ),
        received: counter(
            "grpc_server_msg_received_total",
            "Messages received.",
            &labels,
        ),
        sent: counter("grpc_server_msg_sent_total", "Messages sent.", &labels),
        // The same bounds as ours, so both look a duration up among 14.
        seconds: HistogramVec::new(
            HistogramOpts::new("grpc_server_handling_seconds", "RPC duration.").buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
            ]),
            &labels,
        )
        .expect("valid histogram"),
    };
    // A registry of its own, as an application would keep (ours is `registry()`).
    let registry = Registry::new();
    registry
        .register(Box::new(h.started.clone()))
        .expect("registered");
    registry
        .register(Box::new(h.handled.clone()))
        .expect("registered");
    registry
        .register(Box::new(h.received.clone()))
        .expect("registered");
    registry
        .register(Box::new(h.sent.clone()))
        .expect("registered");
    registry
        .register(Box::new(h.seconds.clone()))
        .expect("registered");
    std::mem::forget(registry);
    h
});

/// `grpc_code` by the code's number, go-grpc-middleware's names.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// Made once, as tonic does: a lookup by `&str` parses the name on every call.
static GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

/// The `grpc_code` of a `grpc-status` value.
fn code_name(value: Option<&HeaderValue>) -> &'static str {
    let code = value
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(2);
    CODE_NAMES.get(code).copied().unwrap_or("Unknown")
}

/// RouteGuide's methods and their kinds, as a user writes them down for their own service.
fn grpc_type(method: &str) -> &'static str {
    match method {
        "ListFeatures" => "server_stream",
        "RecordRoute" => "client_stream",
        "RouteChat" => "bidi_stream",
        _ => "unary",
    }
}

/// The call's labels without copying the path: the request's `PathAndQuery` (a reference
/// count on the bytes HTTP/2 decoded; here a static) and where it splits.
struct Labels {
    path: Option<PathAndQuery>,
    /// Byte index of the `/` between service and method; 0 when the path has no such shape.
    split: usize,
    kind: &'static str,
}

impl Labels {
    fn new(path: Option<&PathAndQuery>) -> Labels {
        let p = path.map_or("", PathAndQuery::path);
        let split = p.get(1..).and_then(|s| s.find('/')).map_or(0, |i| i + 1);
        let kind = if split > 0 {
            grpc_type(&p[split + 1..])
        } else {
            "unary"
        };
        Labels {
            path: path.cloned(),
            split,
            kind,
        }
    }

    fn service_method(&self) -> (&str, &str) {
        match &self.path {
            Some(p) if self.split > 0 => (&p.path()[1..self.split], &p.path()[self.split + 1..]),
            _ => ("unknown", "unknown"),
        }
    }

    fn with_code(&self, code: &'static str) -> [&str; 4] {
        let (service, method) = self.service_method();
        [self.kind, service, method, code]
    }
}

/// Counts gRPC messages (1-byte flag, 4-byte big-endian length, payload) in a byte stream.
#[derive(Default)]
struct MessageCounter {
    /// Prefix bytes read of the current message (5 once its length is known).
    header: usize,
    length: usize,
    /// Payload bytes still to come.
    left: usize,
}

impl MessageCounter {
    fn feed(&mut self, mut bytes: &[u8]) -> u64 {
        let mut ended = 0;
        loop {
            if self.header == 5 {
                // The payload: skip what is here of it.
                let n = self.left.min(bytes.len());
                self.left -= n;
                bytes = &bytes[n..];
                if self.left > 0 {
                    return ended;
                }
                ended += 1;
                self.header = 0;
            }
            if bytes.is_empty() {
                return ended;
            }
            if self.header == 0 && bytes.len() >= 5 {
                // A whole prefix at hand.
                self.left = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
                self.header = 5;
                bytes = &bytes[5..];
                continue;
            }
            // A prefix cut between chunks: byte by byte.
            if self.header > 0 {
                self.length = self.length << 8 | usize::from(bytes[0]);
            }
            self.header += 1;
            bytes = &bytes[1..];
            if self.header == 5 {
                self.left = std::mem::take(&mut self.length);
            }
        }
    }
}

#[derive(Clone, Copy)]
struct HandwrittenLayer;

impl<S> Layer<S> for HandwrittenLayer {
    type Service = HandwrittenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HandwrittenService { inner }
    }
}

#[derive(Clone)]
struct HandwrittenService<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for HandwrittenService<S>
where
    S: Service<Request<CountedRequest<B>>, Response = Response<RB>>,
    RB: Body,
{
    type Response = Response<HandwrittenBody<RB>>;
    type Error = S::Error;
    type Future = HandwrittenFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let start = Instant::now();
        let labels = Labels::new(req.uri().path_and_query());
        let m = &*HANDWRITTEN;
        let (service, method) = labels.service_method();
        let values = [labels.kind, service, method];
        m.started.with_label_values(&values).inc();
        let received = m.received.with_label_values(&values);
        let sent = m.sent.with_label_values(&values);
        let seconds = m.seconds.with_label_values(&values);
        let req = req.map(|inner| CountedRequest {
            inner,
            counter: MessageCounter::default(),
            received,
        });
        HandwrittenFuture {
            inner: self.inner.call(req),
            call: Some(HandwrittenCall {
                start,
                labels,
                sent,
                seconds,
            }),
        }
    }
}

/// What the end of a call records.
struct HandwrittenCall {
    start: Instant,
    labels: Labels,
    sent: IntCounter,
    seconds: Histogram,
}

impl HandwrittenCall {
    fn end(self, code: &'static str) {
        HANDWRITTEN
            .handled
            .with_label_values(&self.labels.with_code(code))
            .inc();
        self.seconds.observe(self.start.elapsed().as_secs_f64());
    }
}

pin_project_lite::pin_project! {
    struct HandwrittenFuture<F> {
        #[pin]
        inner: F,
        call: Option<HandwrittenCall>,
    }
}

impl<F, RB, E> Future for HandwrittenFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
    RB: Body,
{
    type Output = Result<Response<HandwrittenBody<RB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let call = this.call.take().expect("polled after completion");
        Poll::Ready(match result {
            Ok(response) => {
                // A trailers-only response (an error status) carries its status in the headers.
                let call = match response.headers().get(&GRPC_STATUS) {
                    Some(status) => {
                        call.end(code_name(Some(status)));
                        None
                    }
                    None => Some(call),
                };
                Ok(response.map(|inner| HandwrittenBody {
                    inner,
                    counter: MessageCounter::default(),
                    call,
                }))
            }
            Err(e) => {
                call.end("Unknown");
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// The request body, counting the messages received.
    struct CountedRequest<B> {
        #[pin]
        inner: B,
        counter: MessageCounter,
        received: IntCounter,
    }
}

impl<B: Body> Body for CountedRequest<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(data) = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref()) {
            let n = this.counter.feed(data.chunk());
            if n > 0 {
                this.received.inc_by(n);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// The response body, counting the messages sent and ending the call at the trailers
    /// (`Canceled` if dropped before them).
    struct HandwrittenBody<B> {
        #[pin]
        inner: B,
        counter: MessageCounter,
        call: Option<HandwrittenCall>,
    }

    impl<B> PinnedDrop for HandwrittenBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.end("Canceled");
            }
        }
    }
}

impl<B: Body> Body for HandwrittenBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let Some(data) = f.data_ref() {
                    if let Some(call) = this.call {
                        let n = this.counter.feed(data.chunk());
                        if n > 0 {
                            call.sent.inc_by(n);
                        }
                    }
                } else if let Some(trailers) = f.trailers_ref() {
                    if let Some(call) = this.call.take() {
                        call.end(code_name(trailers.get(&GRPC_STATUS)));
                    }
                }
            }
            Some(Err(_)) | None => {
                if let Some(call) = this.call.take() {
                    call.end("Unknown");
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

// ---- allocations per call (counted only in the summary pass) -------------------------------

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

/// A row: a service and the requests it is called with.
trait Row {
    /// `iters` calls, timed in this thread's CPU time.
    fn calls(&self, rt: &tokio::runtime::Runtime, iters: u64) -> Duration;
    /// One call: the `Feature`'s name and the `grpc-status` of the trailers.
    fn check(&self, rt: &tokio::runtime::Runtime) -> (String, String);
}

struct Stack<S, B> {
    service: S,
    request: fn() -> Request<B>,
}

/// One call through `service`, its response body driven to the end; the body's bytes and
/// its trailers.
async fn one<S, B, RB>(service: &mut S, req: Request<B>) -> (Bytes, Option<HeaderMap>)
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Error: Debug,
    RB: Body,
    RB::Error: Debug,
{
    poll_fn(|cx| service.poll_ready(cx))
        .await
        .expect("the service is always ready");
    let response = service.call(req).await.expect("a response");
    let mut body = std::pin::pin!(response.into_body());
    let (mut data, mut trailers) = (Bytes::new(), None);
    while let Some(frame) = body.frame().await {
        match frame.expect("an in-memory body").into_data() {
            Ok(mut d) => data = d.copy_to_bytes(d.remaining()),
            Err(f) => trailers = f.into_trailers().ok(),
        }
    }
    (data, trailers)
}

impl<S, B, RB> Row for Stack<S, B>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone,
    S::Error: Debug,
    RB: Body,
    RB::Error: Debug,
{
    fn calls(&self, rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let mut service = self.service.clone();
        rt.block_on(async {
            let start = thread_cpu();
            for _ in 0..iters {
                black_box(one(&mut service, (self.request)()).await);
            }
            thread_cpu().saturating_sub(start)
        })
    }

    fn check(&self, rt: &tokio::runtime::Runtime) -> (String, String) {
        let mut service = self.service.clone();
        let (data, trailers) = rt.block_on(one(&mut service, (self.request)()));
        let feature = routeguide::pb::Feature::decode(data.get(5..).unwrap_or_default())
            .expect("a Feature message");
        let status = trailers
            .and_then(|t| Some(t.get("grpc-status")?.to_str().ok()?.to_owned()))
            .unwrap_or_default();
        (feature.name, status)
    }
}

/// The rows, in the order printed; the first is the floor of the next three, the fifth the
/// floor of the sixth.
fn rows() -> Vec<(&'static str, Box<dyn Row>)> {
    let _ = &*HANDWRITTEN;
    fn row<S, B, RB>(
        name: &'static str,
        service: S,
        request: fn() -> Request<B>,
    ) -> (&'static str, Box<dyn Row>)
    where
        S: Service<Request<B>, Response = Response<RB>> + Clone + 'static,
        S::Error: Debug,
        RB: Body,
        RB::Error: Debug,
        B: 'static,
    {
        (name, Box::new(Stack { service, request }))
    }
    vec![
        row("bare", routeguide::service(), request),
        row(
            "noop_body_layer",
            NoopBodyLayer.layer(routeguide::service()),
            request,
        ),
        row(
            "instrument_metrics",
            instrument_metrics::grpc::layer().layer(routeguide::service()),
            request,
        ),
        row(
            "prometheus_by_hand",
            HandwrittenLayer.layer(routeguide::service()),
            request,
        ),
        row("bare_tonic_body", routeguide::service(), tonic_request),
        row(
            "instrument_metrics_client",
            instrument_metrics::grpc::client_layer().layer(routeguide::service()),
            tonic_request,
        ),
    ]
}

/// Each row's floor: what its overhead is measured above.
fn floor(row: &str) -> &'static str {
    match row {
        "bare_tonic_body" | "instrument_metrics_client" => "bare_tonic_body",
        _ => "bare",
    }
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// The median of `grpc_overhead/<row>` from this run, in nanoseconds, as criterion saved it
/// (under `$CARGO_TARGET_DIR`, else the workspace's `target`).
fn median_ns(row: &str) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_owned());
    let path = format!("{target}/criterion/grpc_overhead/{row}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Heap allocations per call of a row (the allocator counts only during this pass).
fn allocations(rt: &tokio::runtime::Runtime, row: &dyn Row) -> f64 {
    const N: u64 = 1000;
    COUNTING.store(true, Ordering::Relaxed);
    let before = ALLOCATIONS.with(Cell::get);
    row.calls(rt, N);
    let after = ALLOCATIONS.with(Cell::get);
    COUNTING.store(false, Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let per = (after - before) as f64 / N as f64;
    per
}

/// Rows measured in turn, a short batch each, round after round, so a burst of load from
/// elsewhere hits every row alike; per row, the median over rounds of its time and of its
/// difference from its floor in the same round (a paired estimate).
fn interleaved(
    rt: &tokio::runtime::Runtime,
    rows: &[(&'static str, Box<dyn Row>)],
) -> Vec<(f64, f64)> {
    const ROUNDS: usize = 1001;
    const BATCH: u32 = 200;
    let n = rows.len();
    let mut per: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); n];
    for round in 0..ROUNDS {
        for k in 0..n {
            let j = (k + round) % n;
            let t = rows[j].1.calls(rt, u64::from(BATCH));
            per[j].push(t.as_secs_f64() * 1e9 / f64::from(BATCH));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let at = |name: &str| rows.iter().position(|r| r.0 == name).unwrap_or(0);
    (0..n)
        .map(|j| {
            let f = at(floor(rows[j].0));
            let diffs = per[j].iter().zip(&per[f]).map(|(a, b)| a - b).collect();
            (median(per[j].clone()), median(diffs))
        })
        .collect()
}

fn report(load_before: &str, rt: &tokio::runtime::Runtime, rows: &[(&'static str, Box<dyn Row>)]) {
    let Some(medians) = rows
        .iter()
        .map(|(name, _)| median_ns(name))
        .collect::<Option<Vec<f64>>>()
    else {
        // A filtered run (`cargo bench -- <row>`): no summary.
        return;
    };
    let load_criterion = load();
    let paired = interleaved(rt, rows);
    let allocs: Vec<f64> = rows.iter().map(|(_, r)| allocations(rt, &**r)).collect();
    let at = |name: &str| rows.iter().position(|r| r.0 == name).unwrap_or(0);
    println!(
        "\ngrpc_overhead: one unary GetFeature((10,10)) through routeguide::service() as a tower \
         Service (OK, one message each way, response body driven to its trailers), \
         current-thread tokio, thread CPU time per call. Load average (1, 5, 15 min): \
         {load_before} before, {load_criterion} after criterion, {} after the interleaved pass.",
        load()
    );
    println!(
        "\n| row | criterion median (ns) | overhead above its floor (ns) | interleaved median (ns) | overhead above its floor, paired (ns) | allocations per call |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, (name, _)) in rows.iter().enumerate() {
        let over = medians[i] - medians[at(floor(name))];
        println!(
            "| {name} | {:.0} | {over:.0} | {:.0} | {:.0} | {:.1} |",
            medians[i], paired[i].0, paired[i].1, allocs[i]
        );
    }
    for (how, over) in [
        (
            "criterion medians",
            rows.iter()
                .enumerate()
                .map(|(i, (name, _))| medians[i] - medians[at(floor(name))])
                .collect::<Vec<f64>>(),
        ),
        (
            "interleaved, paired",
            paired.iter().map(|p| p.1).collect::<Vec<f64>>(),
        ),
    ] {
        let (noop, ours, hand, client) = (
            over[at("noop_body_layer")],
            over[at("instrument_metrics")],
            over[at("prometheus_by_hand")],
            over[at("instrument_metrics_client")],
        );
        println!(
            "\n{how}: server overhead ours / prometheus by hand (c-a)/(d-a) = {:.2} (target <= \
             0.5). Above noop_body_layer (c-b): ours {:.0} ns, prometheus by hand {:.0} ns \
             ((c-b)/(d-b) = {:.2}). Client layer above bare_tonic_body: {client:.0} ns.",
            ours / hand,
            ours - noop,
            hand - noop,
            (ours - noop) / (hand - noop),
        );
    }
}

fn main() {
    let load_before = load();
    // RouteGuide's methods declared before the first call, as `routeguide::serve` does.
    routeguide::declare().expect("RouteGuide's descriptors");
    let rt = runtime();
    let rows = rows();
    // Every row answers the call, and has seen it once before it is measured.
    for (name, row) in &rows {
        let (feature, status) = row.check(&rt);
        assert_eq!(
            (feature.as_str(), status.as_str()),
            ("f10,10", "0"),
            "{name}"
        );
    }
    // The hand-written layer counted that call as ours did: one message each way, `OK`.
    let unary = ["unary", "routeguide.RouteGuide", "GetFeature"];
    let h = &*HANDWRITTEN;
    assert_eq!(h.started.with_label_values(&unary).get(), 1);
    assert_eq!(h.received.with_label_values(&unary).get(), 1);
    assert_eq!(h.sent.with_label_values(&unary).get(), 1);
    let ok = ["unary", "routeguide.RouteGuide", "GetFeature", "OK"];
    assert_eq!(h.handled.with_label_values(&ok).get(), 1);
    assert_eq!(h.seconds.with_label_values(&unary).get_sample_count(), 1);
    if let Ok(only) = std::env::var("GRPC_OVERHEAD_PROFILE") {
        let n = std::env::var("GRPC_OVERHEAD_CALLS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000_000);
        let (_, row) = rows
            .iter()
            .find(|(name, _)| *name == only)
            .expect("GRPC_OVERHEAD_PROFILE names a row");
        let t = row.calls(&rt, n);
        #[allow(clippy::cast_precision_loss)]
        let per = t.as_secs_f64() * 1e9 / n as f64;
        println!("{only}: {n} calls, {per:.0} ns/call (thread CPU time)");
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    {
        let mut group = c.benchmark_group("grpc_overhead");
        for (name, row) in &rows {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| row.calls(&rt, iters));
            });
        }
        group.finish();
    }
    c.final_summary();
    report(&load_before, &rt, &rows);
}
