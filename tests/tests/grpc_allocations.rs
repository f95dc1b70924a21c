//! The gRPC layers allocate nothing per call once a (service, method, code) has been seen;
//! the client layer's one box of the request body is the exception, by design. Counted with a
//! global allocator, on this thread only (the tests of this binary run side by side), around
//! a hand-made inner service that itself allocates nothing: its request and response bodies
//! are static bytes, and the header maps it answers with are handed back after each call and
//! reused. So whatever the count shows is the layer's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt as _, Full};
use tower::{Layer as _, Service, ServiceExt as _};

struct Counting;

thread_local! {
    /// Allocations made by this thread.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: a thread's last allocations may come after its locals are gone.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---- an inner service that allocates nothing per call -------------------------------------

/// What the inner service answers a path with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// A `Feature` message, then trailers with `grpc-status: 0`.
    Ok,
    /// Trailers-only: `grpc-status: 3` in the headers, no body.
    InvalidArgument,
    /// Trailers-only `grpc-status: 12`, for a path no descriptor declares.
    Unimplemented,
}

/// The calls of one round: a declared method answered OK, a declared method answered with a
/// trailers-only error, a path nobody declared.
const ROUND: [(&str, Answer); 3] = [
    ("/routeguide.RouteGuide/GetFeature", Answer::Ok),
    (
        "/routeguide.RouteGuide/ListFeatures",
        Answer::InvalidArgument,
    ),
    ("/routeguide.RouteGuide/NoSuchMethod", Answer::Unimplemented),
];

fn answer_to(path: &str) -> Answer {
    ROUND
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(Answer::Unimplemented, |(_, a)| *a)
}

/// `Point { latitude: 10, longitude: 10 }`, one gRPC frame.
const POINT: &[u8] = &[0, 0, 0, 0, 4, 0x08, 10, 0x10, 10];
/// `Feature { name: "f" }`, one gRPC frame.
const FEATURE: &[u8] = &[0, 0, 0, 0, 3, 0x0a, 1, b'f'];

/// The header maps of a call, by use: made at the first call, handed back after each one.
#[derive(Clone, Copy)]
enum Map {
    Request,
    OkHeaders,
    OkTrailers,
    InvalidArgument,
    Unimplemented,
}

thread_local! {
    static MAPS: RefCell<[Option<HeaderMap>; 5]> = const { RefCell::new([None, None, None, None, None]) };
}

fn take_map(which: Map) -> HeaderMap {
    let kept = MAPS.with(|m| m.borrow_mut()[which as usize].take());
    kept.unwrap_or_else(|| {
        let pairs: &[(&str, &str)] = match which {
            Map::Request => &[
                ("content-type", "application/grpc"),
                ("te", "trailers"),
                ("grpc-timeout", "5S"),
            ],
            Map::OkHeaders => &[("content-type", "application/grpc")],
            Map::OkTrailers => &[("grpc-status", "0")],
            Map::InvalidArgument => &[("content-type", "application/grpc"), ("grpc-status", "3")],
            Map::Unimplemented => &[("content-type", "application/grpc"), ("grpc-status", "12")],
        };
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    })
}

fn give_back(which: Map, map: HeaderMap) {
    MAPS.with(|m| m.borrow_mut()[which as usize] = Some(map));
}

/// A response body: a static message then the trailers, or nothing (trailers-only).
struct Reply {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// The inner service: reads the request to its end, hands its headers back, answers.
async fn inner<B>(mut req: Request<B>) -> Result<Response<Reply>, Infallible>
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    give_back(Map::Request, std::mem::take(req.headers_mut()));
    let answer = answer_to(req.uri().path());
    let mut body = std::pin::pin!(req.into_body());
    while let Some(frame) = body.frame().await {
        frame.expect("an in-memory body");
    }
    let (headers, reply) = match answer {
        Answer::Ok => (
            take_map(Map::OkHeaders),
            Reply {
                data: Some(Bytes::from_static(FEATURE)),
                trailers: Some(take_map(Map::OkTrailers)),
            },
        ),
        Answer::InvalidArgument => (take_map(Map::InvalidArgument), Reply::empty()),
        Answer::Unimplemented => (take_map(Map::Unimplemented), Reply::empty()),
    };
    let mut response = Response::new(reply);
    *response.headers_mut() = headers;
    Ok(response)
}

impl Reply {
    fn empty() -> Reply {
        Reply {
            data: None,
            trailers: None,
        }
    }
}

fn request(path: &'static str) -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(Bytes::from_static(POINT)));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = http::Uri::from_static(path);
    *req.headers_mut() = take_map(Map::Request);
    req
}

/// The same request with its body as a `tonic::body::Body`, as a generated client hands it to
/// its channel (`Body::new` boxes the `Full`: one allocation, with or without the layer).
fn tonic_request(path: &'static str) -> Request<tonic::body::Body> {
    request(path).map(tonic::body::Body::new)
}

/// Allocations of [`ROUNDS`] rounds of [`ROUND`] through `service`, after a warm-up round, on a
/// current-thread runtime; every response body driven to its end.
fn allocations<S, B, RB>(service: &S, make: fn(&'static str) -> Request<B>) -> u64
where
    S: Service<Request<B>, Response = Response<RB>, Error = Infallible> + Clone,
    RB: Body,
    RB::Error: std::fmt::Debug,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut service = service.clone();
        let mut round = async || {
            for (path, answer) in ROUND {
                let response = service
                    .ready()
                    .await
                    .expect("infallible")
                    .call(make(path))
                    .await
                    .expect("infallible");
                let (parts, body) = response.into_parts();
                let mut body = std::pin::pin!(body);
                while let Some(frame) = body.frame().await {
                    if let Ok(trailers) = frame.expect("a frame").into_trailers() {
                        give_back(Map::OkTrailers, trailers);
                    }
                }
                let map = match answer {
                    Answer::Ok => Map::OkHeaders,
                    Answer::InvalidArgument => Map::InvalidArgument,
                    Answer::Unimplemented => Map::Unimplemented,
                };
                give_back(map, parts.headers);
            }
        };
        round().await;
        let before = ALLOCATIONS.with(Cell::get);
        for _ in 0..ROUNDS {
            round().await;
        }
        ALLOCATIONS.with(Cell::get) - before
    })
}

/// Allocates once per call, and passes the request on: what a layer allocating would do.
fn allocate(req: Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    std::hint::black_box(Box::new(req.uri().path().len()));
    req
}

const ROUNDS: u64 = 500;
/// Calls measured: [`ROUNDS`] rounds of [`ROUND`].
const CALLS: u64 = ROUNDS * ROUND.len() as u64;

fn handled(text: &str, side: &str, method: &str, code: &str) -> f64 {
    instrument_metrics_tests::find_value(
        &instrument_metrics_tests::parse(text),
        &format!("grpc_{side}_handled_total"),
        &[("grpc_method", method), ("grpc_code", code)],
    )
    .unwrap_or(0.0)
}

#[test]
fn the_harness_sees_an_allocation_per_call() {
    routeguide::declare().expect("RouteGuide's descriptors");
    let bare = tower::service_fn(inner::<Full<Bytes>>);
    assert_eq!(allocations(&bare, request), 0);
    // The same calls through a layer allocating once per call: counted, every one.
    let allocating = tower::util::MapRequest::new(
        bare,
        allocate as fn(Request<Full<Bytes>>) -> Request<Full<Bytes>>,
    );
    assert_eq!(allocations(&allocating, request), CALLS);
}

#[test]
fn the_server_layer_allocates_nothing_per_call() {
    routeguide::declare().expect("RouteGuide's descriptors");
    let measured = instrument_metrics::grpc::layer().layer(tower::service_fn(
        inner::<instrument_metrics::grpc::MessageCountingBody<Full<Bytes>>>,
    ));
    let text = instrument_metrics::render();
    let before = [
        handled(&text, "server", "GetFeature", "OK"),
        handled(&text, "server", "ListFeatures", "InvalidArgument"),
        handled(&text, "server", "_unmatched", "Unimplemented"),
    ];
    let allocated = allocations(&measured, request);
    println!("server layer: {allocated} allocations in {CALLS} calls");
    assert_eq!(allocated, 0);
    // And every call was recorded (the warm-up round too), by its method and code.
    let text = instrument_metrics::render();
    let after = [
        handled(&text, "server", "GetFeature", "OK"),
        handled(&text, "server", "ListFeatures", "InvalidArgument"),
        handled(&text, "server", "_unmatched", "Unimplemented"),
    ];
    for (b, a) in before.iter().zip(after) {
        assert_eq!(a - b, 1.0 + ROUNDS as f64, "{before:?} -> {after:?}");
    }
}

#[test]
fn the_client_layer_boxes_the_request_body_once_per_call_and_allocates_nothing_else() {
    routeguide::declare().expect("RouteGuide's descriptors");
    let bare = tower::service_fn(inner::<tonic::body::Body>);
    let measured = instrument_metrics::grpc::client_layer().layer(bare);
    let text = instrument_metrics::render();
    let before = handled(&text, "client", "GetFeature", "OK");
    let without = allocations(&bare, tonic_request);
    let with = allocations(&measured, tonic_request);
    println!("client layer: {with} allocations in {CALLS} calls, {without} without it");
    // Without the layer, one per call: `tonic::body::Body::new` boxing the `Full`.
    assert_eq!(without, CALLS);
    // The layer: the request body boxed again as a `tonic::body::Body` around the counting
    // body (a `Channel` takes nothing else), once per call, and nothing else.
    assert_eq!(with - without, CALLS);
    let text = instrument_metrics::render();
    assert_eq!(
        handled(&text, "client", "GetFeature", "OK") - before,
        1.0 + ROUNDS as f64
    );
}
