//! One request being measured: begun by its table, recorded once when it finishes (or, if it
//! never does, as cancelled when dropped), and the poll wrapper that tells a panic apart.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

use std::sync::atomic::Ordering;

use crate::record::busy::Busy;
use crate::record::capture;
use crate::record::clock;
use crate::record::exemplar::{self, ExemplarSource, TraceContext};
use crate::record::http::route::Route;
use crate::record::http::series::{Observation, Series};
use crate::record::http::table::Table;
use crate::record::http::vocabulary::{Ending, HEAD_METHOD, METHODS, OTHER_METHOD};
use crate::record::slots;

impl Table {
    /// Starts measuring one request of `method` (an index from [`method_index`]) on `route`.
    /// `request_bytes` is the body's length when known before the handler runs.
    #[inline]
    pub(crate) fn begin(
        &'static self,
        method: u8,
        route: &'static Route,
        request_bytes: Option<u64>,
    ) -> Exchange {
        let m = method.min(OTHER_METHOD);
        self.add_active(slots::current(), m, 1);
        let bit = 1u16 << m;
        if self.methods_seen.load(Ordering::Relaxed) & bit == 0 {
            self.methods_seen.fetch_or(bit, Ordering::Relaxed);
        }
        Exchange {
            table: self,
            route,
            start: clock::raw_now(),
            request_bytes: request_bytes.unwrap_or(0),
            response_bytes: 0,
            trace: exemplar::source().map_or(Trace::NONE, trace_context),
            status: 0,
            method: m,
            request_bytes_known: request_bytes.is_some(),
            slow_polls: 0,
            busy_nanos: 0,
        }
    }
}

/// Asks the exemplar source at the start of a request, where the request's own span is current
/// (a tracing layer outside this one has entered it), not where its body ends (polled by the
/// server, outside any span).
#[cold]
#[inline(never)]
fn trace_context(source: ExemplarSource) -> Trace {
    exemplar::current(source).map_or(Trace::NONE, |c| Trace {
        #[allow(clippy::cast_possible_truncation)] // halves of the u128, by design
        id: [(c.trace_id >> 64) as u64, c.trace_id as u64],
        span: c.span_id,
    })
}

/// A [`TraceContext`] kept in 8-byte words (the `u128` would align the whole exchange, and
/// every future and body carrying it, to 16 bytes); a zero trace id is none, as
/// [`exemplar::current`] never gives one.
#[derive(Clone, Copy)]
struct Trace {
    id: [u64; 2],
    span: u64,
}

impl Trace {
    const NONE: Trace = Trace {
        id: [0, 0],
        span: 0,
    };

    fn context(self) -> Option<TraceContext> {
        let [hi, lo] = self.id;
        (hi | lo != 0).then(|| TraceContext::new(u128::from(hi) << 64 | u128::from(lo), self.span))
    }
}

/// One request being measured. Recorded once, when [`Exchange::finish`] is called or, if it
/// never is, when it is dropped (as [`Ending::Cancelled`]).
///
/// Small (80 bytes, 8-aligned): it is moved with every future and body that carries it.
pub(crate) struct Exchange {
    table: &'static Table,
    route: &'static Route,
    start: u64,
    request_bytes: u64,
    response_bytes: u64,
    /// The trace the request started in, if an exemplar source knew one.
    trace: Trace,
    status: u16,
    method: u8,
    /// Whether the request body's length was known before the handler ran.
    request_bytes_known: bool,
    /// With `polls`: the polls so far longer than the table's threshold, and their total time.
    slow_polls: u32,
    busy_nanos: u64,
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

    /// Whether the request is a HEAD (its response has no body to wait for).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn is_head(&self) -> bool {
        self.method == HEAD_METHOD
    }

    /// Records the exchange as ended by `ending`.
    #[inline]
    pub(crate) fn finish(self, ending: Ending) {
        // Recorded here, never again by `Drop` (not even if recording unwinds).
        std::mem::ManuallyDrop::new(self).record(ending);
    }

    /// Records the exchange in `slot`, if any, as ended by `ending`, and leaves `None` there:
    /// [`finish`](Self::finish) without moving the exchange out first.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn finish_in(slot: &mut Option<Exchange>, ending: Ending) {
        if let Some(x) = slot.as_ref() {
            x.record(ending);
            // Recorded: not again when dropped.
            std::mem::forget(slot.take());
        }
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
    pub(crate) fn abandon(self) {
        let this = std::mem::ManuallyDrop::new(self);
        this.table.add_active(slots::current(), this.method, -1);
    }

    /// Whether the table keeps busy time (`polls`).
    #[inline]
    fn keeps_busy(&self) -> bool {
        self.table.slow_poll_nanos.is_some()
    }

    /// Adds the poll that started at `start` (a [`clock::raw_now`] reading).
    #[inline]
    fn add_poll(&mut self, start: u64) {
        if let Some(slow) = self.table.slow_poll_nanos {
            let mut busy = Busy {
                nanos: self.busy_nanos,
                slow: self.slow_polls,
            };
            busy.add_poll_since(start, slow);
            self.busy_nanos = busy.nanos;
            self.slow_polls = busy.slow;
        }
    }

    #[inline]
    fn record(&self, ending: Ending) {
        let nanos = clock::nanos_since(self.start);
        let t = self.table;
        let series = self
            .route
            .series(Series::key(self.method, self.status, ending), || t.shape());
        let slot = slots::current();
        let bucket = series.observe(
            slot,
            &Observation {
                duration_bounds: &t.duration_bounds_nanos,
                size_bounds: &t.size_bounds,
                nanos,
                request_bytes: self.request_bytes_known.then_some(self.request_bytes),
                response_bytes: self.response_bytes,
            },
        );
        if let Some(context) = self.trace.context() {
            series.exemplars.keep_duration(
                t.duration_bounds_nanos.len() + 1,
                bucket,
                context,
                nanos,
            );
        }
        if t.slow_poll_nanos.is_some() {
            self.record_busy();
        }
        t.add_active(slot, self.method, -1);
        if capture::active() {
            capture::note(|| capture::Event::Http {
                method: METHODS[usize::from(self.method)],
                route: self.route.name.clone(),
                status: self.status,
                error_type: ending.error_type(),
            });
        }
    }

    #[cold]
    #[inline(never)]
    fn record_busy(&self) {
        let bounds = &self.table.duration_bounds_nanos;
        self.route.busy_cells(self.method, bounds.len()).record(
            bounds,
            Busy {
                nanos: self.busy_nanos,
                slow: self.slow_polls,
            },
        );
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.record(Ending::Cancelled);
    }
}

/// Runs one poll (the handler's, or a body's) so that a panic in it is recorded as
/// [`Ending::Panic`], not as the cancellation its unwinding drop would otherwise record; with
/// `polls`, the poll's time is added to the exchange's busy time (a panicking one's too).
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
    // Busy time on its own path, out of line: without `polls`, this one stays as it was.
    if exchange.as_ref().is_some_and(Exchange::keeps_busy) {
        return poll_timed(exchange, poll);
    }
    let watch = Watch(exchange);
    let polled = poll();
    std::mem::forget(watch);
    polled
}

/// [`poll_watching_panics`] for an exchange that keeps its busy time.
#[cold]
#[inline(never)]
fn poll_timed<T>(exchange: &mut Option<Exchange>, poll: impl FnOnce() -> T) -> T {
    let start = clock::raw_now();
    struct Watch<'a>(&'a mut Option<Exchange>, u64);
    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            if let Some(mut x) = self.0.take() {
                x.add_poll(self.1);
                x.finish(Ending::Panic);
            }
        }
    }
    let watch = Watch(exchange, start);
    let polled = poll();
    if let Some(x) = watch.0.as_mut() {
        x.add_poll(start);
    }
    // Not unwinding: nothing to record here.
    std::mem::forget(watch);
    polled
}
