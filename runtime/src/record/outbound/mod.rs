//! Outbound HTTP calls on the caller's side: what the client layer and the reqwest middleware
//! record into. One series per (server address and port, method, status, how the call ended),
//! found without hashing once the endpoint is known, recorded with relaxed atomic adds.
//!
//! A [`ClientTable`] holds everything one set of constant labels measures. Endpoints (an
//! address and a port) are interned once, bounded: past the table's limit every new one shares
//! the `_OTHER` endpoint. Finding an endpoint is the one string lookup of a call; an endpoint
//! holds its series in a fixed array scanned by a `u32` key. Memory: an endpoint is about 400
//! bytes, a series `8 × (4 + duration buckets + 2 × size buckets)` bytes (about 400 with the
//! defaults), plus 4,120 bytes of native buckets when native histograms are on, plus 48 bytes
//! per duration bucket once an exemplar is kept.
//!
//! - `vocabulary`: how a call ended (the `error_type` values), the shared address values;
//! - `series`: one labelled series and its histograms;
//! - `endpoint`: one address and port, its series and its calls in flight;
//! - `table`: what one set of constant labels measures: endpoints interned (bounded);
//! - `call`: one call being measured, recorded once.
//!
//! Methods are the server's vocabulary (`record::http`): one list of `http_request_method`
//! values for both sides.

mod call;
mod endpoint;
mod series;
mod table;
mod vocabulary;

pub(crate) use call::{watch_panics, Call};
pub(crate) use endpoint::Endpoint;
pub(crate) use series::Series;
pub(crate) use table::{client_table, client_tables, ClientTable};
pub(crate) use vocabulary::CallEnd;

#[cfg(test)]
mod tests;
