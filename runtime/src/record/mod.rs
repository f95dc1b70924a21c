//! The caller's side: what one instrumented call touches.
//!
//! - `site`: one static call site per function, its sharded counters and the guard that records;
//! - `call`: the generic code a call runs through (sync bodies, futures);
//! - `capture`: the calls a test's capture sees (`testing`), noted as they are recorded;
//! - `slots`: which shard a thread writes;
//! - `clock`: the raw clock read at both ends of a call;
//! - `native`: native (exponential) histogram buckets, and the global classic/native choice;
//! - `exemplar`: the trace context of calls, kept per bucket and per result (`opentelemetry`:
//!   the default source, with the feature);
//! - `outcome`: how a call ended, and how a returned value says so;
//! - `labels`: bounded label values ([`LabelValue`](crate::LabelValue), `bounded(expr, N)`),
//!   error kinds;
//! - `dynamic`: dynamic labels as the macro describes them, and what a labelled site shows;
//! - `labelled`: call sites with dynamic labels or error kinds, one cell per combination;
//! - `polls`: busy time and slow polls of the calls of functions with `polls`;
//! - `reading`: a site's counters added up for the scraper;
//! - `objective`: which call sites serve which objective (a side table, no label);
//! - `http`: HTTP exchanges: vocabulary, series, routes, tables, one exchange;
//! - `grpc`: gRPC calls: methods declared or seen, each side's counts, one call, message framing;
//! - `outbound`: outbound HTTP calls (the client layer's and reqwest middleware's): endpoints
//!   (bounded), series, one call;
//! - `scrapes`: scrapes of the metrics endpoint, by status code;
//! - `busy`: busy time and slow polls of requests, for layers with `polls` on;
//! - `builds`: the application builds registered with `build_info!`;
//! - `runtimes`: the tokio runtimes registered by name (read at scrape time, not recorded);
//! - `heap`: live bytes and allocations counted by `alloc::Counting`, in per-thread shards.
//!
//! Nothing here knows about exposition or serving: data flows out of this module only.

pub(crate) mod builds;
#[cfg(feature = "http")]
pub(crate) mod busy;
pub(crate) mod call;
pub(crate) mod capture;
pub(crate) mod clock;
pub(crate) mod dynamic;
pub(crate) mod exemplar;
#[cfg(feature = "tonic")]
pub(crate) mod grpc;
pub(crate) mod heap;
#[cfg(feature = "http")]
pub(crate) mod http;
pub(crate) mod labelled;
pub(crate) mod labels;
pub(crate) mod native;
pub(crate) mod objective;
#[cfg(feature = "opentelemetry")]
pub(crate) mod opentelemetry;
#[cfg(feature = "tower")]
pub(crate) mod outbound;
pub(crate) mod outcome;
pub(crate) mod polls;
pub(crate) mod reading;
#[cfg(feature = "tokio")]
pub(crate) mod runtimes;
pub(crate) mod scrapes;
pub(crate) mod site;
pub(crate) mod slots;

// Before `main`: start the clock's calibration on its own thread and allocate every call
// site's shards, so that no call waits for either.
#[ctor::ctor(unsafe)]
fn prepare() {
    clock::start();
    native::default_from_env();
    #[cfg(feature = "opentelemetry")]
    exemplar::set_exemplar_source(opentelemetry::opentelemetry_trace_context);
    site::allocate_all();
    polls::allocate_all();
}
