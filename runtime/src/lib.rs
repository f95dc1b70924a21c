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
//! Modules, one job each:
//! - call sites and recording: `site`, `clock`, `outcome`;
//! - what is exposed: `catalog` (series), `encode` (text 0.0.4), [`exposition`] (OpenMetrics,
//!   content negotiation, gzip), `collect` (the `prometheus` collector), `registry`;
//! - serving: [`serve`](mod@serve) (standalone exporter), [`axum`](mod@axum) and
//!   [`actix`](mod@actix) handlers, `self_metrics` (scrape counts), `build_info`, `process`;
//! - [`push`](mod@push): Pushgateway client for batch jobs.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod build_info;
mod catalog;
mod clock;
mod collect;
mod encode;
mod error;
pub mod exposition;
#[cfg(feature = "http")]
mod http_outcome;
mod outcome;
mod process;
mod registry;
mod self_metrics;
mod site;

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "exporter")]
pub mod serve;

#[doc(hidden)]
pub mod __private;

pub use instrument_metrics_macros::instrument_metrics;
pub use prometheus;

pub use error::Error;
pub use exposition::render_openmetrics;
pub use outcome::{ClassifyOutcome, Outcome};
pub use registry::{registry, render, use_registry};
#[cfg(feature = "exporter")]
pub use serve::{serve, Exporter};
