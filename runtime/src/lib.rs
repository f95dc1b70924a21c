//! Prometheus metrics for any Rust function with one attribute.
//!
//! ```
//! use instrument_metrics::instrument_metrics;
//!
//! #[instrument_metrics]
//! fn parse_port(s: &str) -> Result<u16, std::num::ParseIntError> {
//!     s.parse()
//! }
//!
//! parse_port("8080").unwrap();
//! parse_port("eighty").unwrap_err();
//! let text = instrument_metrics::render();
//! assert!(text.contains(r#"function_calls_total{function="parse_port",module="rust_out",result="error"} 1"#));
//! ```
//!
//! Each instrumented function gets `function_calls_total{function,module,result}` (result is
//! `ok`, `error`, `panic` or `cancelled`), `function_calls_duration_seconds{function,module}`
//! and, with `in_flight`, `function_calls_in_flight{function,module}`.
//!
//! # Table of contents
//!
//! Every public item has one path. At the root:
//! - the attribute [`instrument_metrics`] and the derive and trait [`LabelValue`], with
//!   [`LABEL_NONE`] and [`LABEL_OVERFLOW`]; how a value says it failed: [`Outcome`],
//!   [`ClassifyOutcome`];
//! - reading it all: [`render()`] (text 0.0.4), [`registry()`], [`use_registry()`], and
//!   `prometheus` itself ([`prometheus`]), so versions never diverge;
//! - serving it: [`serve()`], [`Exporter`], [`ExporterBuilder`] (feature `exporter`);
//! - histogram kinds: [`Histograms`], [`set_default_histograms()`], [`default_histograms()`];
//! - exemplars: [`TraceContext`], [`ExemplarSource`], [`set_exemplar_source()`],
//!   [`clear_exemplar_source()`], and with `opentelemetry`, `opentelemetry_trace_context`;
//! - [`build_info!`], [`Error`].
//!
//! Modules:
//! - [`exposition`]: every format ([`exposition::render_openmetrics()`],
//!   [`exposition::render_protobuf()`]), content negotiation and gzip ([`exposition::scrape()`]);
//! - [`http`]: request metrics for whole services ([`http::layer()`], a tower layer; 5xx is
//!   `error`), and for the calls they make ([`http::client_layer()`] for tower clients,
//!   `http::ReqwestMetrics` for reqwest); [`axum`](mod@axum) and [`actix`](mod@actix): their
//!   `/metrics` and live-page handlers (and actix-web's middleware);
//! - [`live`]: the live page (rates, failures, latency quantiles over 1, 5 and 15 minutes)
//!   and its JSON, from snapshots taken off the callers' path;
//! - [`slo`]: objectives declared in code and the Prometheus rules and alerts they generate;
//! - [`testing`]: reading calls back in your own tests ([`testing::capture()`]), isolated from
//!   tests running in parallel;
//! - [`push`](mod@push): Pushgateway client for batch jobs;
//! - [`grpc`](mod@grpc): gRPC server and client layers for tonic, `tonic::Status` as an outcome;
//! - [`runtime`]: what the async runtime is doing: tokio runtimes' workers, tasks, queues and
//!   busy time ([`runtime::register_tokio()`]);
//! - [`alloc`](mod@alloc): [`alloc::Counting`], a global allocator wrapping any other, for the
//!   heap families `process_heap_allocated_bytes` and `process_heap_allocations_total` (no
//!   feature: it is `std` alone, and costs nothing until it is installed).
//!
//! Inside, by concern (data flows one way, from `record` outwards; no module imports this
//! file): `record` (the caller's side: call sites, clock, outcomes, labels, HTTP exchanges and
//! outbound calls, gRPC calls, the heap counts), `expose` (the scraper's side: one reading of every family, the
//! encoders, negotiation, the registry), then `serve`, `http`, `grpc`, `live`, `slo`, `push`;
//! `alloc` is the public face of the heap counts.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `exporter` | yes | [`serve()`]: a standalone `/metrics` endpoint on its own thread |
//! | `tokio` | with `exporter` | [`runtime::register_tokio()`]: a tokio runtime's workers, tasks, queue, busy time (more with `--cfg tokio_unstable`) |
//! | `process` | yes | process CPU, memory, fds, threads (Linux, from `/proc`) |
//! | (none) | | [`alloc::Counting`]: the heap families, once it is the `#[global_allocator]` (any platform) |
//! | `http` | with `tower`, `reqwest`, `axum`, `actix-web`, `tonic` | 5xx responses are `error`; [`http::HttpMetrics`] |
//! | `tower` | | [`http::layer()`]: RED metrics for every request of a tower/hyper service; [`http::client_layer()`]: for every call of a tower HTTP client (hyper-util's `Client`…) |
//! | `reqwest` | | `http::ReqwestMetrics`: the client metrics as a reqwest-middleware middleware (reqwest 0.13, no TLS) |
//! | `axum` | | `/metrics` handler for axum 0.8; the layer reads axum's route templates |
//! | `actix-web` | | `/metrics` handler and request middleware for actix-web 4 |
//! | `push` | | Pushgateway client |
//! | `tonic` | | [`grpc`](mod@grpc): gRPC server and client metrics (go-grpc-middleware's names), `tonic::Status` outcomes |
//! | `opentelemetry` | | exemplars from the current `tracing` span's OpenTelemetry context |
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod alloc;
mod error;
mod expose;
#[cfg(feature = "tonic")]
pub mod grpc;
#[cfg(feature = "http")]
pub mod http;
pub mod live;
mod record;

#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "exporter")]
mod serve;
pub mod slo;
pub mod testing;

// The framework glue lives with the HTTP code but has one public path each, at the root.
#[cfg(feature = "actix-web")]
#[path = "http/actix.rs"]
pub mod actix;
#[cfg(feature = "axum")]
#[path = "http/axum.rs"]
pub mod axum;

pub use expose::exposition;
#[cfg(feature = "tokio")]
pub use expose::runtime;

#[doc(hidden)]
pub mod __private;

/// Counts and times every call of a function, a method, or each method of an `impl` block.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// fn load(id: u32) -> Result<String, std::io::Error> {
///     if id == 0 {
///         return Err(std::io::Error::other("no such id"));
///     }
///     Ok(format!("user-{id}"))
/// }
///
/// #[instrument_metrics(name = "checkout", buckets = [0.01, 0.1, 1.0], in_flight, labels(team = "shop"))]
/// async fn handler(total: u64) -> Result<u64, String> {
///     Ok(total)
/// }
///
/// struct Cache;
///
/// #[instrument_metrics] // every method, labelled `Cache::get`, `Cache::put`…
/// impl Cache {
///     fn get(&self, key: &str) -> Option<usize> { Some(key.len()) }
///     #[instrument_metrics(skip)]
///     fn len(&self) -> usize { 0 }
/// }
///
/// load(1).unwrap();
/// load(0).unwrap_err();
/// Cache.get("k");
/// let text = instrument_metrics::render();
/// let line = |f: &str, r: &str| format!("function_calls_total{{function=\"{f}\",module=\"rust_out\",result=\"{r}\"}}");
/// assert!(text.contains(&format!("{} 1", line("load", "ok"))));
/// assert!(text.contains(&format!("{} 1", line("load", "error"))));
/// assert!(text.contains(&format!("{} 1", line("Cache::get", "ok"))));
/// // Never called, already there at 0.
/// assert!(text.contains("function_calls_total{function=\"checkout\",module=\"rust_out\",team=\"shop\",result=\"ok\"} 0"));
/// ```
///
/// Options (each at most once): `name = "…"`, `buckets = [f64, …]` or `linear(start, width,
/// count)` or `exponential(start, factor, count)`, `in_flight`, `ok_if = path_or_closure`,
/// `error_if = path_or_closure`, `labels(key = "value", …)`, `error_kind`, `objective = "…"`
/// (the [objective](slo) the function serves; no label is added), `polls` and `slow_poll =
/// "10ms"` (busy time and slow polls, below), `skip` (a method inside an instrumented impl
/// block), `crate = path` (for crates re-exporting this one).
///
/// **`polls`** (on an `async fn`, a fn returning the future its body ends in, or an impl
/// block, for its async methods) also records, per call, the time spent inside `poll`, summed
/// over the call's polls, in `function_calls_busy_seconds{function,module,…}` (a histogram
/// with the function's buckets, beside its wall-clock duration), and counts the polls longer
/// than a threshold in `function_slow_polls_total{function,module,…}`: each one held an
/// executor thread that long. `slow_poll = "…"` (a number and `ns`, `us`, `ms` or `s`) sets the
/// threshold and implies `polls`; the default is 10 ms, well above what a busy machine's
/// scheduler adds to a poll's wall-clock time, so a count is the function's doing; lower it
/// for a latency-sensitive service (tokio's guidance is tens to a hundred µs between
/// `.await`s). A cancelled call counts the polls it had, and a poll that panicked counts its
/// time. The polls are timed in the call's own future and written once when the call ends;
/// functions without the option pay nothing. Both families are classic (no native buckets,
/// no exemplars) and carry the constant labels, not the dynamic ones. On a sync fn, `polls`
/// is a compile error.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics(slow_poll = "5ms")]
/// async fn resize(pixels: u64) -> u64 {
///     // Blocking work on the executor: one slow poll.
///     std::thread::sleep(std::time::Duration::from_millis(20));
///     pixels / 2
/// }
///
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(waker);
/// # let mut call = std::pin::pin!(resize(64));
/// # let std::task::Poll::Ready(_) = std::future::Future::poll(call.as_mut(), &mut cx) else { panic!() };
/// let text = instrument_metrics::render();
/// assert!(text.contains("function_slow_polls_total{function=\"resize\",module=\"rust_out\"} 1\n"));
/// assert!(text.contains("function_calls_busy_seconds_count{function=\"resize\",module=\"rust_out\"} 1\n"));
/// ```
///
/// **Dynamic labels** are bounded, always; an unbounded one is a compile error. In
/// `labels(…)`, after `function`, `module` and the constant labels, in the order written:
/// - `key = "value"`: a constant;
/// - `key = expr`: computed from the arguments when the call starts, by reference (each
///   argument the expression names is a `&` to it, before the body takes it); its type must
///   implement [`LabelValue`] (an enum deriving it, `bool`, `io::ErrorKind`…): an index, no
///   hashing, no allocation, and every value is in the exposition at 0 from process start.
///   An expression that reads `self` or an argument of a generic type needs the type written:
///   `key: Type = self.tier`;
/// - `key = |r| expr`: computed from `&` the returned value; a call that panicked or was
///   cancelled has no value and gets [`LABEL_NONE`] (`_NONE`);
/// - `key = bounded(expr, N)` (or `bounded(|r| …, N)`): a string (`AsRef<str>`), N an integer
///   literal from 1 to 1000: the first N distinct values get a series each (shown once seen),
///   every further one is counted as [`LABEL_OVERFLOW`] (`_OTHER`) and in
///   `instrument_metrics_label_overflow_total{function,module,label}`.
///
/// The product of the labels' value counts (N + 1 for `bounded`) may be at most 1024, checked
/// at compile time. Each combination has its own histogram and counters, one unsharded cell
/// allocated at its first call: about 512 bytes with the default buckets (see the README).
/// Dynamic labels go on a fn or a method, not on a whole impl block (each method has its own
/// arguments).
///
/// **`error_kind`** refines `result="error"` with `error_kind`, the error's [`LabelValue`]
/// when the value is `Err(e)` (so `io::Result` gives `error_kind="NotFound"`…), and `_NONE`
/// for an error that is not an `Err` (judged by `error_if`/`ok_if` or [`ClassifyOutcome`]).
/// Every kind starts at 0; `ok`, `panic` and `cancelled` have no `error_kind`. On a fn whose
/// error type has no `LabelValue` it is a compile error; on an impl block, methods that do
/// not return such a `Result` simply get none.
///
/// ```
/// use instrument_metrics::{instrument_metrics, LabelValue};
///
/// #[derive(LabelValue, Clone, Copy)]
/// pub enum Tier { Free, Pro }
///
/// #[derive(LabelValue, Debug)]
/// pub enum PayError { Declined, #[label_value(rename = "timeout")] TimedOut { after_ms: u64 } }
///
/// pub struct Account { pub tier: Tier }
///
/// #[instrument_metrics(
///     labels(team = "shop", tier = account.tier, region = bounded(region, 20), big = |r| matches!(r, Ok(n) if *n > 100)),
///     error_kind,
/// )]
/// fn pay(account: &Account, region: &str, amount: u64) -> Result<u64, PayError> {
///     if amount == 0 { Err(PayError::Declined) } else { Ok(amount) }
/// }
///
/// pay(&Account { tier: Tier::Pro }, "eu-west", 250).unwrap();
/// pay(&Account { tier: Tier::Free }, "eu-west", 0).unwrap_err();
/// let text = instrument_metrics::render();
/// let line = |labels: &str| format!("function_calls_total{{function=\"pay\",module=\"rust_out\",team=\"shop\",{labels}}}");
/// assert!(text.contains(&format!("{} 1\n", line(r#"tier="Pro",region="eu-west",big="true",result="ok""#))));
/// assert!(text.contains(&format!("{} 1\n", line(r#"tier="Free",region="eu-west",big="false",result="error",error_kind="Declined""#))));
/// assert!(text.contains(&format!("{} 0\n", line(r#"tier="Free",region="eu-west",big="false",result="error",error_kind="timeout""#))));
/// ```
///
/// Labels: `function` is the fn name (`Type::method` when the attribute is on an impl block,
/// generics stripped), `module` is `module_path!()`. Two functions whose labels coincide (two
/// `new` methods annotated one by one in the same module) are merged into one series; if their
/// buckets differ they cannot be, and the later one is labelled `name@file:line`. Give one a
/// `name = "…"` to keep them apart.
///
/// Outcomes: `Result::Err` is `error`, everything else `ok`, unless `ok_if`/`error_if` or a
/// [`ClassifyOutcome`] impl says otherwise (and, with the `http` feature, 5xx statuses are
/// errors); a panic is `panic`; an async call whose future is dropped before it finishes is
/// `cancelled`.
pub use instrument_metrics_macros::instrument_metrics;
pub use prometheus;

pub use error::Error;
pub use expose::registry::{registry, use_registry};
pub use expose::scrape::render;
/// Derives [`LabelValue`](trait@LabelValue) for an enum, with or without fields: the values
/// are the variant names in declaration order, or `#[label_value(rename = "…")]`;
/// `#[label_value(crate = path)]` on the enum names a re-exported runtime.
///
/// ```
/// use instrument_metrics::LabelValue;
///
/// #[derive(LabelValue)]
/// enum Cache { Hit, #[label_value(rename = "miss")] Miss(u32), Stale { age: u64 } }
///
/// assert_eq!(Cache::VALUES, ["Hit", "miss", "Stale"]);
/// assert_eq!(Cache::Stale { age: 3 }.index(), 2);
/// ```
pub use instrument_metrics_macros::LabelValue;
pub use record::exemplar::{
    clear_exemplar_source, set_exemplar_source, ExemplarSource, TraceContext,
};
pub use record::labels::{LabelValue, NONE as LABEL_NONE, OVERFLOW as LABEL_OVERFLOW};
pub use record::native::{default_histograms, Histograms};
#[cfg(feature = "opentelemetry")]
pub use record::opentelemetry::opentelemetry_trace_context;
pub use record::outcome::{ClassifyOutcome, Outcome};
pub use record::site::set_default_histograms;
#[cfg(feature = "exporter")]
pub use serve::{serve, Exporter, ExporterBuilder};
