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
//! Modules, by concern (data flows one way, from `record` outwards):
//! - `record`: the caller's side: call sites, clock, outcomes;
//! - `expose`: the scraper's side: series catalog, registry, encoders ([`exposition`]:
//!   OpenMetrics, content negotiation, gzip), self, process and build-info metrics;
//! - [`serve`](mod@serve): the standalone exporter;
//! - `http`: status outcomes, [`axum`](mod@axum) and [`actix`](mod@actix) handlers;
//! - [`push`](mod@push): Pushgateway client for batch jobs.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod expose;
mod http;
mod record;

#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "exporter")]
pub mod serve;

pub use expose::exposition;
#[cfg(feature = "actix-web")]
pub use http::actix;
#[cfg(feature = "axum")]
pub use http::axum;

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
/// `error_if = path_or_closure`, `labels(key = "value", …)`, `skip` (a method inside an
/// instrumented impl block), `crate = path` (for crates re-exporting this one).
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
pub use expose::registry::{registry, render, use_registry};
pub use exposition::render_openmetrics;
pub use instrument_metrics_macros::LabelValue;
pub use record::labels::{LabelValue, NONE as LABEL_NONE, OVERFLOW as LABEL_OVERFLOW};
pub use record::outcome::{ClassifyOutcome, Outcome};
#[cfg(feature = "exporter")]
pub use serve::{serve, Exporter};
