//! The scraper's side: reads what the callers recorded, once per scrape, and writes it out.
//!
//! - `snapshot`: one scrape's reading of a family (counts, buckets, sum, native buckets and
//!   exemplars together), what every encoder writes from;
//! - `families`: our families' names, help and types, and the registry's decorations;
//! - `catalog`: every family we own as rows (functions, HTTP, scrapes, process, build info);
//! - `encode`: text 0.0.4, OpenMetrics, protobuf, and the user's gathered families;
//! - `negotiate`: the format, escaping and `Content-Type` a scraper asked for;
//! - `scrape`: one scrape, rendered and gzipped ([`exposition`] is its public face);
//! - `registry`: the registry everything is served from;
//! - `collector`: our families as `prometheus` collectors, for outside gatherers;
//! - `created`: when our counters started;
//! - `self_metrics` and `build_info`: registering the scrape and build families;
//! - `runtime`: registering tokio runtimes, whose statistics the catalog reads;
//! - `off_thread`: runs the framework handlers' renders on a thread of their own.

pub(crate) mod build_info;
pub(crate) mod catalog;
pub(crate) mod collector;
pub(crate) mod created;
pub(crate) mod encode;
pub(crate) mod families;
pub(crate) mod negotiate;
pub(crate) mod off_thread;
pub(crate) mod registry;
#[cfg(feature = "tokio")]
pub mod runtime;
pub(crate) mod scrape;
pub(crate) mod self_metrics;
pub(crate) mod snapshot;

/// What a scrape gets: the format the scraper asked for (protobuf, OpenMetrics 1.0 or text
/// 0.0.4, by content negotiation on `Accept` as client_golang does it, for every header
/// Prometheus 2.x and 3.x sends), gzip when `Accept-Encoding` allows it, and the matching
/// `Content-Type` (with the OpenMetrics version and the `escaping=` scheme asked for). Every
/// handler (the standalone exporter, axum, actix-web) answers with [`scrape`](exposition::scrape);
/// use it to write a handler for another framework.
pub mod exposition {
    pub use super::negotiate::{
        accepts_gzip, negotiate, Escaping, Format, Negotiated, OPENMETRICS_CONTENT_TYPE,
        PROTOBUF_CONTENT_TYPE, TEXT_CONTENT_TYPE,
    };
    pub use super::scrape::{render_openmetrics, render_protobuf, scrape, Scrape};
}
