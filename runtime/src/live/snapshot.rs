//! One snapshot: every function series, HTTP route, gRPC method and outbound HTTP call (by
//! server address, port and method) read from the counters at one instant, with the process's
//! CPU time and resident memory and the tokio runtimes' busy time.

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
    /// Outbound HTTP calls by client table, server address, port and method, read as the HTTP
    /// client families are.
    pub outbound: BTreeMap<OutboundKey, OutboundCounts>,
    /// CPU seconds (user + system) and resident bytes, where known.
    pub process: Option<(f64, f64)>,
    /// Each registered tokio runtime's busy seconds, worker by worker.
    pub runtimes: Vec<RuntimeBusy>,
}

/// One tokio runtime's workers' busy time at a snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RuntimeBusy {
    pub name: Arc<str>,
    /// Seconds each worker spent running tasks since the runtime started.
    pub busy_seconds: Vec<f64>,
}

/// Reads every counter now; route names already held by `previous` are shared, not copied.
pub(crate) fn take(at: f64, previous: Option<&Snapshot>) -> Snapshot {
    Snapshot {
        at,
        functions: functions(),
        routes: routes(previous),
        grpc: grpc(),
        outbound: outbound(),
        process: crate::expose::catalog::process::cpu_and_resident(),
        runtimes: runtimes(),
    }
}

#[cfg(feature = "tokio")]
fn runtimes() -> Vec<RuntimeBusy> {
    catalog::tokio::readings()
        .into_iter()
        .map(|r| RuntimeBusy {
            name: r.name,
            busy_seconds: r.busy_seconds,
        })
        .collect()
}

#[cfg(not(feature = "tokio"))]
fn runtimes() -> Vec<RuntimeBusy> {
    Vec::new()
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

/// The calls of one method to one server address and port, made through one client table
/// (one set of constant labels), in the order the page lists them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OutboundKey {
    pub server_address: &'static str,
    /// `None`: the call's URI had neither port nor known scheme.
    pub server_port: Option<&'static str>,
    pub method: &'static str,
    /// Index in the order client tables were created (they are never removed).
    pub table: usize,
}

/// Counters of the calls of one [`OutboundKey`], as read at a snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OutboundCounts {
    /// The table's constant labels and duration bounds (seconds).
    pub labels: &'static [(String, String)],
    pub bounds: &'static [f64],
    /// Calls by (status received, 0 for none; `error_type`, `None` for a complete call).
    pub endings: BTreeMap<(u16, Option<&'static str>), u64>,
    /// Of those, the calls that failed: a 5xx or any error type (the catalog's
    /// `http_client::is_failure`).
    pub failed: u64,
    /// Per bucket, not cumulative; `+Inf` last.
    pub buckets: Vec<u64>,
    /// Calls that received a response head, and the response body bytes they received.
    pub responses: u64,
    pub response_bytes: u64,
}

impl OutboundCounts {
    pub(crate) fn total(&self) -> u64 {
        self.endings.values().fold(0, |a, n| a.wrapping_add(*n))
    }
}

/// Every (table, endpoint, method) with a call, through the catalog's reading of the HTTP
/// client families.
#[cfg(feature = "tower")]
fn outbound() -> BTreeMap<OutboundKey, OutboundCounts> {
    catalog::http_client::readings()
        .into_iter()
        .map(|r| {
            let failed = r
                .endings
                .iter()
                .filter(|((status, error_type), _)| {
                    catalog::http_client::is_failure(*status, *error_type)
                })
                .fold(0u64, |a, (_, n)| a.wrapping_add(*n));
            (
                OutboundKey {
                    server_address: r.server_address,
                    server_port: r.server_port,
                    method: r.method,
                    table: r.table,
                },
                OutboundCounts {
                    labels: r.labels,
                    bounds: r.bounds_seconds,
                    endings: r.endings.into_iter().collect(),
                    failed,
                    buckets: r.buckets,
                    responses: r.responses,
                    response_bytes: r.response_bytes,
                },
            )
        })
        .collect()
}

#[cfg(not(feature = "tower"))]
fn outbound() -> BTreeMap<OutboundKey, OutboundCounts> {
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

#[cfg(all(test, feature = "tower"))]
mod tests {
    use super::{outbound, OutboundKey};
    use crate::record::outbound::{client_table, CallEnd};

    #[test]
    fn outbound_calls_are_read_through_the_catalog_per_address_port_and_method() {
        let labels = vec![("live".to_owned(), "outbound".to_owned())];
        let t = client_table(labels, vec![0.1, 1.0], vec![10, 100], 10, None)
            .unwrap_or_else(|(_, why)| panic!("{why}"));
        let api = t.endpoint("API.example", 8443);
        let down = t.endpoint("down.example", 80);
        // GET: 200 x3 (20 bytes each), 404, 503, a 200 whose body broke after 5 bytes.
        for (status, bytes, end) in [
            (200, 20, CallEnd::Complete),
            (200, 20, CallEnd::Complete),
            (404, 9, CallEnd::Complete),
            (503, 0, CallEnd::Complete),
            (200, 20, CallEnd::Complete),
            (200, 5, CallEnd::BodyError),
        ] {
            let mut c = t.begin(0, api, None);
            c.responded(status);
            c.received(bytes);
            c.finish(end);
        }
        // POST to the same endpoint: one 201; GET to another: two refused connections.
        let mut c = t.begin(2, api, Some(3));
        c.responded(201);
        c.finish(CallEnd::Complete);
        t.begin(0, down, None).finish(CallEnd::Connect);
        t.begin(0, down, None).finish(CallEnd::Connect);

        let mine: Vec<_> = outbound()
            .into_iter()
            .filter(|(_, c)| c.labels == [("live".to_owned(), "outbound".to_owned())])
            .collect();
        let keys: Vec<(&str, Option<&str>, &str)> = mine
            .iter()
            .map(|(k, _)| (k.server_address, k.server_port, k.method))
            .collect();
        assert_eq!(
            keys,
            [
                ("api.example", Some("8443"), "GET"),
                ("api.example", Some("8443"), "POST"),
                ("down.example", Some("80"), "GET"),
            ]
        );
        let get = &mine[0].1;
        assert_eq!(
            get.endings
                .iter()
                .map(|(k, n)| (*k, *n))
                .collect::<Vec<_>>(),
            [
                ((200, None), 3),
                ((200, Some("body_error")), 1),
                ((404, None), 1),
                ((503, None), 1)
            ]
        );
        assert_eq!((get.total(), get.failed), (6, 2));
        assert_eq!((get.responses, get.response_bytes), (6, 74));
        assert_eq!(get.buckets.iter().sum::<u64>(), 6);
        assert_eq!(get.bounds, [0.1, 1.0]);
        let post = &mine[1].1;
        assert_eq!((post.total(), post.failed, post.responses), (1, 0, 1));
        let refused = &mine[2].1;
        assert_eq!(
            refused
                .endings
                .iter()
                .map(|(k, n)| (*k, *n))
                .collect::<Vec<_>>(),
            [((0, Some("connect")), 2)]
        );
        assert_eq!((refused.failed, refused.responses), (2, 0));
        let table = mine[0].0.table;
        assert!(mine.iter().all(|(k, _)| k.table == table));
        assert!(
            OutboundKey {
                server_address: "a",
                server_port: Some("80"),
                method: "GET",
                table: 9,
            } < OutboundKey {
                server_address: "a",
                server_port: Some("80"),
                method: "POST",
                table: 0,
            },
            "rows sort by address, port and method before the table"
        );
    }
}
