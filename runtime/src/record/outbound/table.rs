//! What one set of constant labels measures: bounds, and endpoints interned once (bounded:
//! past the limit every new one shares the `_OTHER` endpoint).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use crate::record::native::{self, Histograms};
use crate::record::outbound::endpoint::Endpoint;
use crate::record::outbound::series::Shape;
use crate::record::outbound::vocabulary::OVERFLOW_ADDRESS;

/// Host names are at most 253 bytes; longer text is looked up as it is.
const MAX_HOST: usize = 256;

/// The endpoints known, by address, each address with its ports (usually one).
#[derive(Default)]
struct Endpoints {
    by_address: HashMap<Box<str>, Vec<&'static Endpoint>>,
    /// Endpoints in the map: what the limit counts.
    count: usize,
}

impl Endpoints {
    fn get(&self, address: &str, port: u16) -> Option<&'static Endpoint> {
        self.by_address
            .get(address)?
            .iter()
            .find(|e| e.port == port)
            .copied()
    }
}

/// What a set of constant labels measures: bounds and endpoints.
pub(crate) struct ClientTable {
    /// Constant labels, in the order given.
    pub labels: Vec<(String, String)>,
    pub duration_bounds_seconds: Vec<f64>,
    pub(super) duration_bounds_nanos: Vec<u64>,
    pub size_bounds: Vec<u64>,
    address_limit: usize,
    /// The builder's `histograms(…)`; `None` follows [`set_default_histograms`](crate::set_default_histograms).
    pub histograms: Option<Histograms>,
    endpoints: RwLock<Endpoints>,
    /// Every endpoint, in the order first seen (the overflow endpoint first, unused until needed).
    order: Mutex<Vec<&'static Endpoint>>,
    pub(super) overflow: &'static Endpoint,
    /// Calls whose endpoint came past the limit (counted per call).
    pub address_overflows: AtomicU64,
}

/// Every table, in the order created; what the exposition reads.
static TABLES: Mutex<Vec<&'static ClientTable>> = Mutex::new(Vec::new());

/// Every table created so far.
pub(crate) fn client_tables() -> Vec<&'static ClientTable> {
    TABLES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// The table for these constant labels: the existing one (whose bounds then apply) or a new
/// one. `Err` gives that table and what differs when it has other bounds.
pub(crate) fn client_table(
    labels: Vec<(String, String)>,
    duration_bounds_seconds: Vec<f64>,
    size_bounds: Vec<u64>,
    address_limit: usize,
    histograms: Option<Histograms>,
) -> Result<&'static ClientTable, (&'static ClientTable, String)> {
    let mut all = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    let mut sorted = labels.clone();
    sorted.sort();
    for t in all.iter() {
        let mut theirs = t.labels.clone();
        theirs.sort();
        if theirs == sorted {
            if t.duration_bounds_seconds != duration_bounds_seconds
                || t.size_bounds != size_bounds
                || t.address_limit != address_limit
                || t.histograms != histograms
            {
                return Err((
                    t,
                    "HTTP client metrics with these constant labels already exist with other buckets, address limit or histogram kind; \
                     give this one a distinguishing label"
                        .to_owned(),
                ));
            }
            return Ok(t);
        }
    }
    let overflow: &'static Endpoint = Box::leak(Box::new(Endpoint::overflow(OVERFLOW_ADDRESS)));
    let table: &'static ClientTable = Box::leak(Box::new(ClientTable {
        labels,
        duration_bounds_nanos: duration_bounds_seconds
            .iter()
            .map(|s| seconds_to_nanos(*s))
            .collect(),
        duration_bounds_seconds,
        size_bounds,
        address_limit,
        histograms,
        endpoints: RwLock::new(Endpoints::default()),
        order: Mutex::new(vec![overflow]),
        overflow,
        address_overflows: AtomicU64::new(0),
    }));
    all.push(table);
    Ok(table)
}

fn seconds_to_nanos(s: f64) -> u64 {
    // Bounds are validated finite and positive; the cast saturates beyond u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (s * 1e9).round() as u64;
    n
}

/// `host` as a `server_address`: without the brackets of an IPv6 literal, ASCII letters in
/// lower case (host names are case-insensitive), written into `buf` only when it must change.
fn normalize<'a>(host: &'a str, buf: &'a mut [u8; MAX_HOST]) -> &'a str {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if !host.bytes().any(|b| b.is_ascii_uppercase()) || host.len() > MAX_HOST {
        return host;
    }
    let out = &mut buf[..host.len()];
    out.copy_from_slice(host.as_bytes());
    out.make_ascii_lowercase();
    // Lower-casing ASCII letters keeps UTF-8 valid; the fallback is never taken.
    std::str::from_utf8(out).unwrap_or(host)
}

impl ClientTable {
    /// How this table's durations are exposed now.
    pub(crate) fn histograms(&self) -> Histograms {
        self.histograms.unwrap_or_else(native::default_histograms)
    }

    /// The endpoint of `host` and `port` (0: none known): the one lookup of a call. Past the
    /// limit, a new one is the shared `_OTHER` endpoint (and counted).
    #[inline]
    pub(crate) fn endpoint(&self, host: &str, port: u16) -> &'static Endpoint {
        let mut buf = [0u8; MAX_HOST];
        let address = normalize(host, &mut buf);
        {
            let known = self
                .endpoints
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(e) = known.get(address, port) {
                return e;
            }
            // The map only grows: full under the read lock stays full, no write lock needed.
            if known.count >= self.address_limit {
                self.address_overflows.fetch_add(1, Ordering::Relaxed);
                return self.overflow;
            }
        }
        self.intern(address, port)
    }

    #[cold]
    #[inline(never)]
    fn intern(&self, address: &str, port: u16) -> &'static Endpoint {
        let mut known = self
            .endpoints
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = known.get(address, port) {
            return e;
        }
        if known.count >= self.address_limit {
            self.address_overflows.fetch_add(1, Ordering::Relaxed);
            return self.overflow;
        }
        let endpoint: &'static Endpoint = Box::leak(Box::new(Endpoint::new(address, port)));
        known
            .by_address
            .entry(address.into())
            .or_default()
            .push(endpoint);
        known.count += 1;
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(endpoint);
        endpoint
    }

    /// Every endpoint, in the order first seen (the overflow endpoint first).
    pub(crate) fn all_endpoints(&self) -> Vec<&'static Endpoint> {
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What a series of this table is made of now.
    pub(super) fn shape(&self) -> Shape {
        Shape {
            duration_bounds: self.duration_bounds_nanos.len(),
            size_bounds: self.size_bounds.len(),
            native: self.histograms().native(),
        }
    }
}
