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
//! and, with `in_flight`, `function_calls_in_flight{function,module}`. See the README for the
//! options and how outcomes are decided.

mod catalog;
mod clock;
mod collect;
mod encode;
mod error;
mod outcome;
mod registry;
mod site;

#[doc(hidden)]
pub mod __private;

pub use instrument_metrics_macros::instrument_metrics;
pub use prometheus;

pub use error::Error;
pub use outcome::{ClassifyOutcome, Outcome};
pub use registry::{registry, render, use_registry};
