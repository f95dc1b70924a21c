//! One snapshot: every function series, HTTP route and gRPC method read from the counters at
//! one instant, with the process's CPU time and resident memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::expose::catalog::{self, catalog};
use crate::record::reading::Reading;

/// Counters of one function series or one HTTP route, as read at a snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Counts {
    /// Calls by result, in [`Outcome::ALL`](crate::Outcome::ALL) order (ok, error, panic, cancelled).
    pub results: [u64; 4],
    /// Per bucket, not cumulative; `+Inf` last.
    pub buckets: Vec<u64>,
    /// Calls running now, for the series that track it.
    pub in_flight: Option<i64>,
}

impl Counts {
    pub(crate) fn total(&self) -> u64 {
        self.results.iter().fold(0, |a, n| a.wrapping_add(*n))
    }

    fn add_reading(&mut self, r: &Reading) {
        for (a, b) in self.results.iter_mut().zip(r.results) {
            *a = a.wrapping_add(b);
        }
        add_buckets(&mut self.buckets, &r.buckets);
    }
}

fn add_buckets(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.wrapping_add(*b);
    }
}

/// An HTTP route of one table (one set of constant labels), with one method.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RouteKey {
    /// Index in the order tables were created (they are never removed).
    pub table: usize,
    pub route: Arc<str>,
    pub method: &'static str,
}

/// Everything read at one instant.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Seconds since the sampler's epoch.
    pub at: f64,
    /// One per catalog series, in catalog order.
    pub functions: Vec<Counts>,
    pub routes: BTreeMap<RouteKey, Counts>,
    /// Each side of each gRPC method the exposition shows, read as its families are.
    pub grpc: BTreeMap<GrpcKey, GrpcCounts>,
    /// CPU seconds (user + system) and resident bytes, where known.
    pub process: Option<(f64, f64)>,
}

/// Reads every counter now; route names already held by `previous` are shared, not copied.
pub(crate) fn take(at: f64, previous: Option<&Snapshot>) -> Snapshot {
    Snapshot {
        at,
        functions: functions(),
        routes: routes(previous),
        grpc: grpc(),
        process: crate::expose::catalog::process::cpu_and_resident(),
    }
}

/// Every series of the catalog, the rows of a labelled one summed.
fn functions() -> Vec<Counts> {
    let series = catalog();
    let rows = catalog::rows(series);
    let mut rows = rows.iter().peekable();
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let mut counts = Counts {
            buckets: vec![0; s.bounds_seconds.len() + 1],
            ..Counts::default()
        };
        let mut plain = None;
        while let Some(row) = rows.next_if(|r| std::ptr::eq(r.series, s)) {
            counts.add_reading(&row.reading);
            if s.labelled.is_empty() {
                plain = Some(&row.reading);
            }
        }
        if s.in_flight {
            counts.in_flight = Some(catalog::in_flight(s, plain).max(0));
        }
        out.push(counts);
    }
    out
}

#[cfg(feature = "http")]
fn routes(previous: Option<&Snapshot>) -> BTreeMap<RouteKey, Counts> {
    use crate::record::http::{tables, Ending, METHODS};
    use crate::record::outcome::Outcome;

    // The names the previous snapshot already holds, shared rather than copied again.
    let known: std::collections::HashMap<(usize, &str), &Arc<str>> = previous
        .map(|p| {
            p.routes
                .keys()
                .map(|k| ((k.table, &*k.route), &k.route))
                .collect()
        })
        .unwrap_or_default();
    let mut out: BTreeMap<RouteKey, Counts> = BTreeMap::new();
    for (table, t) in tables().iter().enumerate() {
        for route in t.routes() {
            let name: Arc<str> = known
                .get(&(table, &*route.name))
                .map_or_else(|| Arc::from(&*route.name), |k| Arc::clone(k));
            for s in route.all_series() {
                let (method, status, ending) = s.labels();
                let (buckets, _sum) = s.duration_nanos.read();
                let n = buckets.iter().fold(0u64, |a, b| a.wrapping_add(*b));
                if n == 0 {
                    continue;
                }
                let outcome = match ending {
                    Ending::Cancelled => Outcome::Cancelled,
                    Ending::Panic => Outcome::Panic,
                    Ending::BodyError | Ending::ServiceError => Outcome::Error,
                    Ending::Complete if status >= 500 => Outcome::Error,
                    Ending::Complete => Outcome::Ok,
                };
                let key = RouteKey {
                    table,
                    route: Arc::clone(&name),
                    method: METHODS
                        .get(usize::from(method))
                        .copied()
                        .unwrap_or("_OTHER"),
                };
                let counts = out.entry(key).or_default();
                counts.results[outcome.index()] = counts.results[outcome.index()].wrapping_add(n);
                add_buckets(&mut counts.buckets, &buckets);
            }
        }
    }
    out
}

#[cfg(not(feature = "http"))]
fn routes(_previous: Option<&Snapshot>) -> BTreeMap<RouteKey, Counts> {
    BTreeMap::new()
}

/// One side (`server`, `client`) of one gRPC method, in the order the page lists them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GrpcKey {
    pub service: &'static str,
    pub method: &'static str,
    pub side: &'static str,
    /// The `grpc_type` value.
    pub kind: &'static str,
}

/// Counters of one side of one gRPC method, as read at a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GrpcCounts {
    pub started: u64,
    pub received: u64,
    pub sent: u64,
    /// Calls ended, by code number (0 `OK` … 16 `Unauthenticated`).
    pub handled: [u64; 17],
    /// Per bucket, not cumulative; `+Inf` last.
    pub buckets: Vec<u64>,
}

impl GrpcCounts {
    pub(crate) fn total(&self) -> u64 {
        self.handled.iter().fold(0, |a, n| a.wrapping_add(*n))
    }
}

/// The gRPC vocabulary the page needs: code names by number, the codes that say the server
/// failed, and the duration bucket bounds in seconds.
#[cfg(feature = "tonic")]
pub(crate) const GRPC_VOCABULARY: (&[&str], &[usize], &[f64]) = (
    catalog::grpc::CODE_NAMES,
    &catalog::grpc::SERVER_FAILURE_CODES,
    catalog::grpc::BOUNDS_SECONDS,
);

#[cfg(not(feature = "tonic"))]
pub(crate) const GRPC_VOCABULARY: (&[&str], &[usize], &[f64]) = (&[], &[], &[]);

/// Every (method, side) of the gRPC families, through the catalog's reading of them.
#[cfg(feature = "tonic")]
fn grpc() -> BTreeMap<GrpcKey, GrpcCounts> {
    catalog::grpc::readings()
        .into_iter()
        .map(|r| {
            (
                GrpcKey {
                    service: r.service,
                    method: r.method,
                    side: r.side,
                    kind: r.kind,
                },
                GrpcCounts {
                    started: r.started,
                    received: r.received,
                    sent: r.sent,
                    handled: r.handled,
                    buckets: r.buckets,
                },
            )
        })
        .collect()
}

#[cfg(not(feature = "tonic"))]
fn grpc() -> BTreeMap<GrpcKey, GrpcCounts> {
    BTreeMap::new()
}

/// What the JSON shows of an HTTP table.
pub(crate) struct TableMeta {
    /// Duration bounds, in seconds.
    pub bounds: Vec<f64>,
    /// Constant labels, in the order given.
    pub labels: Vec<(String, String)>,
}

/// The table at `index` (in creation order).
#[cfg(feature = "http")]
pub(crate) fn table_meta(index: usize) -> Option<TableMeta> {
    let tables = crate::record::http::tables();
    let t = tables.get(index)?;
    Some(TableMeta {
        bounds: t.duration_bounds_seconds.clone(),
        labels: t.labels.clone(),
    })
}

#[cfg(not(feature = "http"))]
pub(crate) fn table_meta(_index: usize) -> Option<TableMeta> {
    None
}
