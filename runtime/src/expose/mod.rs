//! The scraper's side: reads the call sites and writes them out.
//!
//! - `catalog`: the series, built once from the call sites (merging coinciding labels);
//! - `registry`: the registry everything is served from, and `render()`;
//! - `encode`: text 0.0.4 for the function families; [`exposition`]: OpenMetrics, content
//!   negotiation, gzip; `protobuf`: the protobuf exposition (prost types generated from
//!   client_model's `metrics.proto`);
//! - `collect`: the function families as a `prometheus` collector;
//! - `requests`: the HTTP server families (the tower layer's and actix middleware's);
//! - `self_metrics` (scrape counts), `process` (CPU, memory, fds), `build_info`;
//! - `off_thread`: runs the framework handlers' renders on a thread of their own.

pub(crate) mod build_info;
pub(crate) mod catalog;
pub(crate) mod collect;
pub(crate) mod encode;
pub mod exposition;
pub(crate) mod off_thread;
pub(crate) mod process;
pub(crate) mod protobuf;
pub(crate) mod registry;
#[cfg(feature = "http")]
pub(crate) mod requests;
pub(crate) mod self_metrics;
