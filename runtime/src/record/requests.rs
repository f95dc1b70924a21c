//! HTTP exchanges on the caller's side: one series per (route, method, status), found without
//! hashing once seen and recorded with relaxed atomic adds.
//!
//! A [`Table`] holds everything one set of constant labels measures. Routes are interned once
//! (bounded: past the limit every new value shares [`OVERFLOW_ROUTE`]); a route holds its series
//! in a fixed array scanned by a `u32` key, so the common path is a pointer compare, a short
//! scan and a handful of atomic adds. Memory: a route is about 600 bytes, a series
//! `8 × (4 + duration buckets + 2 × size buckets)` bytes (about 400 with the defaults), plus
//! 4,120 bytes of native buckets when native histograms are on, plus 48 bytes per duration
//! bucket once an exemplar is kept.

// Without a middleware feature (`tower`, `actix-web`) nothing records requests: `HttpMetrics`
// still builds, its tables stay empty.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicU16, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use crate::record::clock;
use crate::record::exemplar::{
    self, Exemplar, ExemplarCell, ExemplarCells, ExemplarSource, TraceContext,
};
use crate::record::native::{self, Histograms, NativeBuckets};

/// The `http_request_method` values: the methods of RFC 9110 and PATCH, then `_OTHER` for
/// anything else, as OpenTelemetry's conventions say.
pub(crate) const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// Index in [`METHODS`] of `_OTHER`.
pub(crate) const OTHER_METHOD: u8 = 9;

/// The route of requests no route template matched (the fallback's 404, a scanner's probes).
pub(crate) const UNMATCHED_ROUTE: &str = "_unmatched";

/// The route of every distinct value past a table's route limit.
pub(crate) const OVERFLOW_ROUTE: &str = "_OTHER";

/// How an exchange ended when it did not end well; `None` for a response sent to its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The response body was sent to its last frame (or there was none to send).
    Complete,
    /// Dropped before the end: the client went away, or the server dropped the request.
    Cancelled,
    /// The handler (or the response body) panicked.
    Panic,
    /// The response body failed part way.
    BodyError,
    /// The service returned an error instead of a response.
    ServiceError,
}

impl Ending {
    const ALL: [Ending; 5] = [
        Ending::Complete,
        Ending::Cancelled,
        Ending::Panic,
        Ending::BodyError,
        Ending::ServiceError,
    ];

    /// The `error_type` label value; `None` for a complete exchange (no label).
    pub(crate) fn error_type(self) -> Option<&'static str> {
        match self {
            Ending::Complete => None,
            Ending::Cancelled => Some("cancelled"),
            Ending::Panic => Some("panic"),
            Ending::BodyError => Some("body_error"),
            Ending::ServiceError => Some("service_error"),
        }
    }

    fn code(self) -> u32 {
        self as u32
    }
}

/// The index of `method` in [`METHODS`].
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) fn method_index(method: &http::Method) -> u8 {
    use http::Method;
    // Standard methods compare by tag, no string compare.
    let known = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ];
    known
        .iter()
        .position(|m| m == method)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(OTHER_METHOD)
}

/// The index in [`METHODS`] of a method given by name (frameworks on `http` 0.2, such as
/// actix-web 4, whose `Method` is another type). Method names are case-sensitive.
#[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
pub(crate) fn method_index_str(method: &str) -> u8 {
    match method {
        "GET" => 0,
        "HEAD" => 1,
        "POST" => 2,
        "PUT" => 3,
        "DELETE" => 4,
        "CONNECT" => 5,
        "OPTIONS" => 6,
        "TRACE" => 7,
        "PATCH" => 8,
        _ => OTHER_METHOD,
    }
}

/// A histogram of `u64` observations against fixed inclusive upper bounds (`+Inf` last).
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Histogram {
    fn new(bounds: usize) -> Self {
        Histogram {
            buckets: (0..=bounds).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    /// Counts `value`; returns its bucket.
    #[inline]
    fn observe(&self, bounds: &[u64], value: u64) -> usize {
        let i = bounds.partition_point(|b| *b < value);
        if let Some(b) = self.buckets.get(i) {
            // Release: see `site::add` (native buckets are counted first).
            b.fetch_add(1, Ordering::Release);
        }
        // Adding 0 changes nothing but still costs a locked read-modify-write: every bodiless
        // request (a GET's request size, a 204's response size) would pay one for nothing.
        if value != 0 {
            self.sum.fetch_add(value, Ordering::Relaxed);
        }
        i
    }

    /// Per-bucket counts (not cumulative; `+Inf` last) and the sum.
    pub(crate) fn read(&self) -> (Vec<u64>, u64) {
        (
            self.buckets
                .iter()
                .map(|b| b.load(Ordering::Acquire))
                .collect(),
            self.sum.load(Ordering::Relaxed),
        )
    }
}

/// One labelled series: every exchange of one route with one method, status and ending.
pub(crate) struct Series {
    key: u32,
    pub duration_nanos: Histogram,
    pub request_bytes: Histogram,
    pub response_bytes: Histogram,
    /// Native duration buckets, when the table's histograms are native when the series is made.
    pub native: Option<Box<NativeBuckets>>,
    /// The last exemplar of each duration bucket.
    pub exemplars: ExemplarCells,
}

impl Series {
    fn new(key: u32, table: &Table) -> Self {
        Series {
            key,
            duration_nanos: Histogram::new(table.duration_bounds_nanos.len()),
            request_bytes: Histogram::new(table.size_bounds.len()),
            response_bytes: Histogram::new(table.size_bounds.len()),
            native: table.histograms().native().then(native::boxed),
            exemplars: ExemplarCells::new(),
        }
    }

    /// The last exemplar of each duration bucket (`+Inf` last), if any was kept.
    pub(crate) fn exemplars(&self, buckets: usize) -> Vec<Option<Exemplar>> {
        if self.exemplars.get(buckets, 0).is_none() {
            return Vec::new();
        }
        (0..buckets)
            .map(|i| self.exemplars.get(buckets, i).and_then(ExemplarCell::load))
            .collect()
    }

    fn key(method: u8, status: u16, ending: Ending) -> u32 {
        u32::from(method) | (ending.code() << 4) | (u32::from(status) << 8)
    }

    /// The method index, the status (0 when none was sent) and how exchanges ended.
    pub(crate) fn labels(&self) -> (u8, u16, Ending) {
        let method = u8::try_from(self.key & 0xf).unwrap_or(OTHER_METHOD);
        let ending = Ending::ALL
            .get(((self.key >> 4) & 0xf) as usize)
            .copied()
            .unwrap_or(Ending::Complete);
        let status = u16::try_from(self.key >> 8).unwrap_or(0);
        (method, status, ending)
    }
}

/// Series slots per route before the (locked) overflow list: methods × statuses × endings
/// seen on one route rarely pass a dozen.
const SLOTS: usize = 64;

/// One route value and its series.
pub(crate) struct Route {
    pub name: Box<str>,
    slots: [AtomicPtr<Series>; SLOTS],
    more: Mutex<Vec<&'static Series>>,
}

impl Route {
    fn new(name: &str) -> Self {
        Route {
            name: name.into(),
            slots: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            more: Mutex::new(Vec::new()),
        }
    }

    /// The series for `key`, created on first sight.
    #[inline]
    fn series(&self, key: u32, table: &Table) -> &'static Series {
        let mut spare: Option<Box<Series>> = None;
        for slot in &self.slots {
            let p = slot.load(Ordering::Acquire);
            if p.is_null() {
                let new = Box::into_raw(
                    spare
                        .take()
                        .unwrap_or_else(|| Box::new(Series::new(key, table))),
                );
                match slot.compare_exchange(
                    std::ptr::null_mut(),
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    // SAFETY: `new` came from `Box::into_raw` and now lives in the slot forever.
                    Ok(_) => return unsafe { &*new },
                    Err(other) => {
                        // SAFETY: `new` was not published; we still own it.
                        spare = Some(unsafe { Box::from_raw(new) });
                        // SAFETY: published pointers come from leaked boxes and are never freed.
                        let other = unsafe { &*other };
                        if other.key == key {
                            return other;
                        }
                    }
                }
            } else {
                // SAFETY: published pointers come from leaked boxes and are never freed.
                let s = unsafe { &*p };
                if s.key == key {
                    return s;
                }
            }
        }
        let mut more = self.more.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = more.iter().find(|s| s.key == key) {
            return s;
        }
        let s: &'static Series =
            Box::leak(spare.unwrap_or_else(|| Box::new(Series::new(key, table))));
        more.push(s);
        s
    }

    /// Every series of this route, in the order they were first seen.
    pub(crate) fn all_series(&self) -> Vec<&'static Series> {
        let mut out: Vec<&'static Series> = self
            .slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .take_while(|p| !p.is_null())
            // SAFETY: published pointers come from leaked boxes and are never freed.
            .map(|p| unsafe { &*p })
            .collect();
        out.extend(
            self.more
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter(),
        );
        out
    }
}

/// A remembered (address, length) of a route string whose storage outlives requests (axum's
/// matched path), so the next request with it skips the interning map.
struct Remembered {
    addr: usize,
    route: &'static Route,
}

const REMEMBERED: usize = 256;

/// What a set of constant labels measures: bounds, routes and the in-flight gauge.
pub(crate) struct Table {
    /// Constant labels, in the order given.
    pub labels: Vec<(String, String)>,
    pub duration_bounds_seconds: Vec<f64>,
    duration_bounds_nanos: Vec<u64>,
    pub size_bounds: Vec<u64>,
    route_limit: usize,
    /// The builder's `histograms(…)`; `None` follows [`set_histograms`](crate::set_histograms).
    pub histograms: Option<Histograms>,
    remembered: Box<[AtomicPtr<Remembered>]>,
    by_name: RwLock<HashMap<Box<str>, &'static Route>>,
    /// Every route, in the order first seen (the overflow route first, unused until needed).
    order: Mutex<Vec<&'static Route>>,
    overflow: &'static Route,
    /// The route of requests without a template; outside the map, never counted against the limit.
    unmatched: &'static Route,
    /// Requests whose route value came past the limit (counted per request).
    pub route_overflows: AtomicU64,
    active: [AtomicI64; METHODS.len()],
    /// Bit `i` set once method `i` was seen, so idle methods are not exposed.
    methods_seen: AtomicU16,
}

/// Every table, in the order created; what the exposition reads.
static TABLES: Mutex<Vec<&'static Table>> = Mutex::new(Vec::new());

/// Every table created so far.
pub(crate) fn tables() -> Vec<&'static Table> {
    TABLES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// The table for these constant labels: the existing one (whose bounds then apply) or a new one.
/// `Err` gives that table and what differs when it has other bounds.
pub(crate) fn table(
    labels: Vec<(String, String)>,
    duration_bounds_seconds: Vec<f64>,
    size_bounds: Vec<u64>,
    route_limit: usize,
    histograms: Option<Histograms>,
) -> Result<&'static Table, (&'static Table, String)> {
    let mut all = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    let mut sorted = labels.clone();
    sorted.sort();
    for t in all.iter() {
        let mut theirs = t.labels.clone();
        theirs.sort();
        if theirs == sorted {
            if t.duration_bounds_seconds != duration_bounds_seconds
                || t.size_bounds != size_bounds
                || t.route_limit != route_limit
                || t.histograms != histograms
            {
                return Err((
                    t,
                    "HTTP metrics with these constant labels already exist with other buckets, route limit or histogram kind; \
                     give this one a distinguishing label"
                        .to_owned(),
                ));
            }
            return Ok(t);
        }
    }
    let overflow: &'static Route = Box::leak(Box::new(Route::new(OVERFLOW_ROUTE)));
    let unmatched: &'static Route = Box::leak(Box::new(Route::new(UNMATCHED_ROUTE)));
    let table: &'static Table = Box::leak(Box::new(Table {
        labels,
        duration_bounds_nanos: duration_bounds_seconds
            .iter()
            .map(|s| seconds_to_nanos(*s))
            .collect(),
        duration_bounds_seconds,
        size_bounds,
        route_limit,
        histograms,
        remembered: (0..REMEMBERED)
            .map(|_| AtomicPtr::new(std::ptr::null_mut()))
            .collect(),
        by_name: RwLock::new(HashMap::new()),
        order: Mutex::new(vec![overflow, unmatched]),
        overflow,
        unmatched,
        route_overflows: AtomicU64::new(0),
        active: std::array::from_fn(|_| AtomicI64::new(0)),
        methods_seen: AtomicU16::new(0),
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

impl Table {
    /// How this table's durations are exposed now.
    pub(crate) fn histograms(&self) -> Histograms {
        self.histograms.unwrap_or_else(native::histograms)
    }

    /// The route for `name`. With `stable`, the caller promises that `name`'s storage lives
    /// across requests (axum's matched path), which lets the lookup skip the map: the
    /// remembered entry is still checked by content, so reused memory can never mislabel.
    #[inline]
    pub(crate) fn route(&self, name: &str, stable: bool) -> &'static Route {
        if stable {
            let addr = name.as_ptr() as usize;
            // Fibonacci hashing of an address: a multiply and a shift, not a hash of the text.
            let i = (addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize)
                >> (usize::BITS - REMEMBERED.trailing_zeros());
            if let Some(slot) = self.remembered.get(i) {
                let p = slot.load(Ordering::Acquire);
                if !p.is_null() {
                    // SAFETY: remembered entries are leaked boxes, never freed.
                    let r = unsafe { &*p };
                    if r.addr == addr && *r.route.name == *name {
                        return r.route;
                    }
                }
                let route = self.intern(name);
                // The overflow route's name never equals the text: remembering it would only
                // waste the slot.
                if p.is_null() && !std::ptr::eq(route, self.overflow) {
                    let entry = Box::into_raw(Box::new(Remembered { addr, route }));
                    if slot
                        .compare_exchange(
                            std::ptr::null_mut(),
                            entry,
                            Ordering::AcqRel,
                            Ordering::Relaxed,
                        )
                        .is_err()
                    {
                        // SAFETY: not published; still ours.
                        drop(unsafe { Box::from_raw(entry) });
                    }
                }
                return route;
            }
        }
        self.intern(name)
    }

    /// The route of requests without a template.
    #[inline]
    pub(crate) fn unmatched(&self) -> &'static Route {
        self.unmatched
    }

    fn intern(&self, name: &str) -> &'static Route {
        // The two shared values are one route each, whoever names them (a custom extraction
        // returning "_unmatched" must not make a second series of that name).
        match name {
            UNMATCHED_ROUTE => return self.unmatched,
            OVERFLOW_ROUTE => return self.overflow,
            _ => {}
        }
        {
            let map = self.by_name.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = map.get(name) {
                return r;
            }
            // The map only grows: full under the read lock stays full, no write lock needed.
            if map.len() >= self.route_limit {
                self.route_overflows.fetch_add(1, Ordering::Relaxed);
                return self.overflow;
            }
        }
        let mut map = self.by_name.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = map.get(name) {
            return r;
        }
        if map.len() >= self.route_limit {
            self.route_overflows.fetch_add(1, Ordering::Relaxed);
            return self.overflow;
        }
        let route: &'static Route = Box::leak(Box::new(Route::new(name)));
        map.insert(name.into(), route);
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(route);
        route
    }

    /// Every route, in the order first seen.
    pub(crate) fn routes(&self) -> Vec<&'static Route> {
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests in flight by method index, for the methods seen so far.
    pub(crate) fn active(&self) -> Vec<(u8, i64)> {
        let seen = self.methods_seen.load(Ordering::Relaxed);
        (0..METHODS.len())
            .filter(|i| seen & (1 << i) != 0)
            .filter_map(|i| {
                Some((
                    u8::try_from(i).ok()?,
                    self.active[i].load(Ordering::Relaxed),
                ))
            })
            .collect()
    }

    /// Starts measuring one request of `method` (an index from [`method_index`]) on `route`.
    /// `request_bytes` is the body's length when known before the handler runs.
    #[inline]
    pub(crate) fn begin(
        &'static self,
        method: u8,
        route: &'static Route,
        request_bytes: Option<u64>,
    ) -> Exchange {
        let m = usize::from(method.min(OTHER_METHOD));
        if let Some(a) = self.active.get(m) {
            a.fetch_add(1, Ordering::Relaxed);
        }
        let bit = 1u16 << m;
        if self.methods_seen.load(Ordering::Relaxed) & bit == 0 {
            self.methods_seen.fetch_or(bit, Ordering::Relaxed);
        }
        Exchange {
            table: self,
            route,
            method: method.min(OTHER_METHOD),
            start: clock::raw_now(),
            request_bytes,
            status: 0,
            response_bytes: 0,
            done: false,
            trace: exemplar::source().and_then(trace_context),
        }
    }
}

/// Asks the exemplar source at the start of a request, where the request's own span is current
/// (a tracing layer outside this one has entered it), not where its body ends (polled by the
/// server, outside any span).
#[cold]
#[inline(never)]
fn trace_context(source: ExemplarSource) -> Option<TraceContext> {
    exemplar::current(source)
}

/// One request being measured. Recorded once, when [`Exchange::finish`] is called or, if it
/// never is, when it is dropped (as [`Ending::Cancelled`]).
pub(crate) struct Exchange {
    table: &'static Table,
    route: &'static Route,
    method: u8,
    start: u64,
    request_bytes: Option<u64>,
    status: u16,
    response_bytes: u64,
    done: bool,
    /// The trace the request started in, if an exemplar source knew one.
    trace: Option<TraceContext>,
}

impl Exchange {
    /// The response head went out with `status`.
    #[inline]
    pub(crate) fn responded(&mut self, status: u16) {
        self.status = status;
    }

    /// `bytes` more of the response body went out.
    #[inline]
    pub(crate) fn sent(&mut self, bytes: u64) {
        self.response_bytes = self.response_bytes.saturating_add(bytes);
    }

    /// Records the exchange as ended by `ending`.
    #[inline]
    pub(crate) fn finish(mut self, ending: Ending) {
        self.record(ending);
    }

    /// The route, once known: a framework that routes after the middleware ran (actix-web)
    /// tells it with the response.
    #[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
    #[inline]
    pub(crate) fn reroute(&mut self, route: &'static Route) {
        self.route = route;
    }

    /// Ends the exchange unrecorded, giving back its place in the in-flight gauge: a request
    /// whose route, known only at the response, is one to skip.
    #[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
    pub(crate) fn abandon(mut self) {
        self.done = true;
        if let Some(a) = self.table.active.get(usize::from(self.method)) {
            a.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn record(&mut self, ending: Ending) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let nanos = clock::nanos_since(self.start);
        let t = self.table;
        let series = self
            .route
            .series(Series::key(self.method, self.status, ending), t);
        if let Some(native) = &series.native {
            native.observe(nanos);
        }
        let bucket = series
            .duration_nanos
            .observe(&t.duration_bounds_nanos, nanos);
        if let Some(context) = self.trace {
            keep_exemplar(series, t, context, bucket, nanos);
        }
        if let Some(n) = self.request_bytes {
            series.request_bytes.observe(&t.size_bounds, n);
        }
        series
            .response_bytes
            .observe(&t.size_bounds, self.response_bytes);
        if let Some(a) = t.active.get(usize::from(self.method)) {
            a.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cold]
#[inline(never)]
fn keep_exemplar(series: &Series, t: &Table, context: TraceContext, bucket: usize, nanos: u64) {
    let buckets = t.duration_bounds_nanos.len() + 1;
    if let Some(cell) = series.exemplars.get_or_allocate(buckets, bucket) {
        #[allow(clippy::cast_precision_loss)] // an exemplar's value is for show
        cell.store(&Exemplar {
            context,
            value: nanos as f64 / 1e9,
            unix_nanos: exemplar::unix_nanos_now(),
        });
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.record(Ending::Cancelled);
    }
}

/// Runs one poll (the handler's, or a body's) so that a panic in it is recorded as
/// [`Ending::Panic`], not as the cancellation its unwinding drop would otherwise record.
#[inline]
pub(crate) fn poll_watching_panics<T>(
    exchange: &mut Option<Exchange>,
    poll: impl FnOnce() -> T,
) -> T {
    struct Watch<'a>(&'a mut Option<Exchange>);
    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            if let Some(x) = self.0.take() {
                x.finish(Ending::Panic);
            }
        }
    }
    let watch = Watch(exchange);
    let polled = poll();
    std::mem::forget(watch);
    polled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(labels: &[(&str, &str)], limit: usize) -> &'static Table {
        table(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            vec![0.1, 1.0],
            vec![10, 100],
            limit,
            None,
        )
        .unwrap_or_else(|(_, why)| panic!("{why}"))
    }

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        assert_eq!(
            METHODS[usize::from(method_index(&http::Method::GET))],
            "GET"
        );
        assert_eq!(
            METHODS[usize::from(method_index(&http::Method::PATCH))],
            "PATCH"
        );
        let odd = http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(METHODS[usize::from(method_index(&odd))], "_OTHER");
    }

    #[test]
    fn methods_by_name_agree_with_methods_by_type() {
        for name in METHODS.iter().take(usize::from(OTHER_METHOD)) {
            let typed = http::Method::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(method_index_str(name), method_index(&typed), "{name}");
            assert_eq!(METHODS[usize::from(method_index_str(name))], *name);
        }
        for odd in ["BREW", "get", "PROPFIND", ""] {
            assert_eq!(method_index_str(odd), OTHER_METHOD, "{odd:?}");
        }
    }

    #[test]
    fn a_series_is_found_again_by_its_labels() {
        let t = fresh(&[("unit", "series")], 10);
        let r = t.route("/a", false);
        for status in [200, 404, 200, 500, 200] {
            let mut x = t.begin(0, r, Some(5));
            x.responded(status);
            x.sent(50);
            x.finish(Ending::Complete);
        }
        let all = r.all_series();
        assert_eq!(all.len(), 3);
        let ok = all
            .iter()
            .find(|s| s.labels() == (0, 200, Ending::Complete))
            .unwrap();
        let (buckets, sum) = ok.response_bytes.read();
        assert_eq!((buckets, sum), (vec![0, 3, 0], 150));
        let (req, req_sum) = ok.request_bytes.read();
        assert_eq!((req, req_sum), (vec![3, 0, 0], 15));
        assert_eq!(t.active(), vec![(0, 0)]);
    }

    #[test]
    fn a_dropped_exchange_is_cancelled_and_keeps_its_status() {
        let t = fresh(&[("unit", "drop")], 10);
        let r = t.route("/b", false);
        let mut x = t.begin(2, r, None);
        x.responded(200);
        drop(x);
        let all = r.all_series();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].labels(), (2, 200, Ending::Cancelled));
        assert_eq!(all[0].request_bytes.read().0, vec![0, 0, 0]);
    }

    #[test]
    fn a_rerouted_exchange_is_recorded_on_its_new_route_and_an_abandoned_one_not_at_all() {
        let t = fresh(&[("unit", "reroute")], 10);
        let (first, second) = (t.unmatched(), t.route("/d", false));
        let mut x = t.begin(0, first, None);
        x.reroute(second);
        x.responded(200);
        x.finish(Ending::Complete);
        assert!(first.all_series().is_empty());
        assert_eq!(second.all_series().len(), 1);
        let x = t.begin(0, first, None);
        assert_eq!(t.active(), vec![(0, 1)]);
        x.abandon();
        assert_eq!(t.active(), vec![(0, 0)]);
        assert!(first.all_series().is_empty());
        assert_eq!(second.all_series().len(), 1);
    }

    #[test]
    fn routes_past_the_limit_share_one_value() {
        let t = fresh(&[("unit", "limit")], 3);
        let names: Vec<String> = (0..10).map(|i| format!("/r{i}")).collect();
        let routes: Vec<&str> = names.iter().map(|n| &*t.route(n, false).name).collect();
        assert_eq!(routes[..3], ["/r0", "/r1", "/r2"]);
        assert!(routes[3..].iter().all(|r| *r == OVERFLOW_ROUTE));
        assert_eq!(t.route_overflows.load(Ordering::Relaxed), 7);
        assert_eq!(&*t.unmatched().name, UNMATCHED_ROUTE);
        assert_eq!(&*t.route("/r1", true).name, "/r1");
    }

    #[test]
    fn the_unmatched_route_takes_no_place_under_the_limit() {
        let t = fresh(&[("unit", "limit_unmatched")], 2);
        assert_eq!(&*t.unmatched().name, UNMATCHED_ROUTE);
        assert_eq!(&*t.route("/a", false).name, "/a");
        assert_eq!(&*t.route("/b", false).name, "/b");
        assert_eq!(&*t.route("/c", false).name, OVERFLOW_ROUTE);
        assert_eq!(t.route_overflows.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_remembered_address_is_checked_by_content() {
        let t = fresh(&[("unit", "remember")], 10);
        let mut buf = String::from("/first");
        assert_eq!(&*t.route(&buf, true).name, "/first");
        // Same address, same length, other text: as if a router was dropped and its memory reused.
        buf.replace_range(.., "/other");
        assert_eq!(&*t.route(&buf, true).name, "/other");
        assert_eq!(&*t.route(&buf, true).name, "/other");
    }

    #[test]
    fn same_labels_other_buckets_is_an_error() {
        let _ = fresh(&[("unit", "clash")], 10);
        let other = table(
            vec![("unit".into(), "clash".into())],
            vec![2.0],
            vec![10, 100],
            10,
            None,
        );
        assert!(other.is_err_and(|(t, _)| t.duration_bounds_seconds == [0.1, 1.0]));
        let same = table(
            vec![("unit".into(), "clash".into())],
            vec![0.1, 1.0],
            vec![10, 100],
            10,
            None,
        );
        assert!(same.is_ok());
    }

    #[test]
    fn many_threads_count_exactly() {
        let t = fresh(&[("unit", "threads")], 10);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let r = t.route("/c", false);
                    for i in 0..1000u16 {
                        let mut x = t.begin(0, r, None);
                        x.responded(200 + (i % 3));
                        x.finish(Ending::Complete);
                    }
                });
            }
        });
        let all = t.route("/c", false).all_series();
        assert_eq!(all.len(), 3);
        let total: u64 = all
            .iter()
            .map(|s| s.duration_nanos.read().0.iter().sum::<u64>())
            .sum();
        assert_eq!(total, 4000);
    }
}
