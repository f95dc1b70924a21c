//! HTTP exchanges on the caller's side: one series per (route, method, status), found without
//! hashing once seen and recorded, as call sites are, in a shard of this thread's own.
//!
//! A [`Table`] holds everything one set of constant labels measures. Routes are interned once
//! (bounded: past the limit every new value shares [`OVERFLOW_ROUTE`]); a route holds its series
//! in a fixed array scanned by a `u32` key, so the common path is a pointer compare, a short
//! scan and a handful of plain adds to this thread's shard (atomic adds for a thread past the
//! owned slots; see [`slots`](crate::record::slots)). Memory: a route is about 600 bytes; a
//! series about 150 bytes plus 8 per thread slot (6 slots on a 2-core machine, 320 at most),
//! plus, for each slot that recorded into it, a shard of `8 × (6 + duration buckets + 2 × size
//! buckets)` bytes in whole 128-byte lines (384 with the defaults); plus 4,120 bytes of native
//! buckets when native histograms are on, plus 48 bytes per duration bucket once an exemplar
//! is kept. A table keeps its requests in flight in 128 bytes per thread slot.
//!
//! - `vocabulary`: methods, the shared route values, how an exchange ended;
//! - `series`: one labelled series and its histograms;
//! - `route`: one route value and its series, found by key without hashing;
//! - `table`: what one set of constant labels measures: routes interned (bounded), in flight;
//! - `exchange`: one request being measured, recorded once.

// Without a middleware feature (`tower`, `actix-web`) nothing records requests: `HttpMetrics`
// still builds, its tables stay empty.
#![cfg_attr(
    not(any(feature = "tower", feature = "actix-web")),
    allow(dead_code, unused_imports)
)]

mod exchange;
mod route;
mod series;
mod table;
mod vocabulary;

pub(crate) use exchange::{poll_watching_panics, Exchange};
pub(crate) use route::Route;
pub(crate) use series::Series;
pub(crate) use table::{table, tables, Table};
#[cfg(feature = "tower")]
pub(crate) use vocabulary::method_index;
#[cfg(feature = "actix-web")]
pub(crate) use vocabulary::method_index_str;
pub(crate) use vocabulary::{Ending, METHODS};

#[cfg(test)]
mod tests;
