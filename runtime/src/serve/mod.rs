//! A standalone `/metrics` endpoint: [`serve`] with the defaults, [`Exporter::builder`] for the
//! rest.
//!
//! The exporter runs [hyper](https://docs.rs/hyper) on a small current-thread tokio runtime on a
//! thread of its own, so Prometheus can scrape even while the application's executor is
//! saturated (or when the application has no executor at all). Rendering happens on that
//! runtime's blocking pool, so a slow collector holds up only its own scrape.
//!
//! What it answers, on the configured path (default `/metrics`):
//!
//! | request | response |
//! |---|---|
//! | `GET` | 200, the registry in `OpenMetrics` 1.0 or text 0.0.4 (by `Accept`), gzip if `Accept-Encoding` allows |
//! | `HEAD` | the same headers, no body |
//! | another method | 405 with `Allow: GET, HEAD` |
//! | missing or wrong credentials (when configured) | 401 with `WWW-Authenticate` |
//! | more than [`max_concurrent_scrapes`](ExporterBuilder::max_concurrent_scrapes) at once | 503 |
//! | `GET`/`HEAD` on `/` and `/api/functions` | the [live page](crate::live) and its JSON ([`live_page`](ExporterBuilder::live_page) moves them, [`without_live_page`](ExporterBuilder::without_live_page) turns them off); the same credentials and limit |
//! | another path | 404 |
//!
//! Every request to the metrics path, refused or not, is counted in
//! `instrument_metrics_scrapes_total{code}`.
//!
//! Limits that keep a misbehaving client from hurting the exporter: a
//! [header read timeout](ExporterBuilder::header_read_timeout) (also closing idle keep-alive
//! connections), request heads of at most 32 KiB (larger ones get 431), and at most
//! [`max_connections`](ExporterBuilder::max_connections) open connections; beyond that the
//! oldest connection that is not being answered is closed to make room for the new one.
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let exporter = instrument_metrics::serve("127.0.0.1:0")?;
//!
//! let mut conn = std::net::TcpStream::connect(exporter.local_addr())?;
//! conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
//! let mut response = String::new();
//! conn.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.contains("content-type: text/plain; version=0.0.4; charset=utf-8; escaping=underscores\r\n"));
//!
//! exporter.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod auth;
mod body;
mod builder;
mod config;
mod conn_state;
mod exporter;
mod handler;
mod live;
mod server;

use std::net::ToSocketAddrs;

use crate::error::Error;

pub use builder::ExporterBuilder;
pub use exporter::Exporter;

/// Serves the registry on `addr` at `/metrics` with the default settings of
/// [`ExporterBuilder`], from a background thread, until the returned [`Exporter`] is shut
/// down or dropped.
///
/// `addr` is anything [`ToSocketAddrs`]: `"0.0.0.0:9898"`, `"[::]:9898"`, a
/// [`SocketAddr`](std::net::SocketAddr), `("localhost", 9898)`. Port 0 picks a free port;
/// [`Exporter::local_addr`] tells which.
///
/// ```
/// let exporter = instrument_metrics::serve("127.0.0.1:0")?;
/// println!("metrics on http://{}/metrics", exporter.local_addr());
/// // ... the application runs; the exporter stops when `exporter` is dropped.
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::Bind`] when the address cannot be bound (in use, not an address of this host, a
/// privileged port); [`Error::Io`] when it does not resolve, or the exporter's thread or
/// runtime cannot be started.
pub fn serve(addr: impl ToSocketAddrs) -> Result<Exporter, Error> {
    ExporterBuilder::new().addr(addr).serve()
}
