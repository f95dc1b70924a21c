//! One outbound call being measured: begun by its table, recorded once when it ends (or, if it
//! never does, as cancelled when dropped), and the poll wrapper that tells a panic apart.

use crate::record::clock;
use crate::record::exemplar::{self, ExemplarSource, TraceContext};
use crate::record::http::METHODS;
use crate::record::outbound::endpoint::Endpoint;
use crate::record::outbound::series::Series;
use crate::record::outbound::table::ClientTable;
use crate::record::outbound::vocabulary::CallEnd;

impl ClientTable {
    /// Starts measuring one call of `method` (an index in the server's method list) to
    /// `endpoint`. `request_bytes` is the request body's length when known before it is sent.
    #[inline]
    pub(crate) fn begin(
        &'static self,
        method: u8,
        endpoint: &'static Endpoint,
        request_bytes: Option<u64>,
    ) -> Call {
        let method = method.min(u8::try_from(METHODS.len() - 1).unwrap_or(0));
        endpoint.started(usize::from(method));
        Call {
            table: self,
            endpoint,
            method,
            start: clock::raw_now(),
            request_bytes,
            status: 0,
            response_bytes: 0,
            done: false,
            trace: exemplar::source().and_then(trace_context),
        }
    }
}

/// Asks the exemplar source when the call starts, where the caller's span is current (the
/// response body may be read anywhere).
#[cold]
#[inline(never)]
fn trace_context(source: ExemplarSource) -> Option<TraceContext> {
    exemplar::current(source)
}

/// One call being measured. Recorded once, when [`Call::finish`] is called or, if it never is,
/// when it is dropped (as [`CallEnd::Cancelled`]).
pub(crate) struct Call {
    table: &'static ClientTable,
    endpoint: &'static Endpoint,
    method: u8,
    start: u64,
    request_bytes: Option<u64>,
    status: u16,
    response_bytes: u64,
    done: bool,
    /// The trace the call started in, if an exemplar source knew one.
    trace: Option<TraceContext>,
}

impl Call {
    /// The response head arrived with `status`.
    #[inline]
    pub(crate) fn responded(&mut self, status: u16) {
        self.status = status;
    }

    /// `bytes` more of the response body arrived.
    #[inline]
    pub(crate) fn received(&mut self, bytes: u64) {
        self.response_bytes = self.response_bytes.saturating_add(bytes);
    }

    /// Records the call as ended by `end`.
    #[inline]
    pub(crate) fn finish(mut self, end: CallEnd) {
        self.record(end);
    }

    fn record(&mut self, end: CallEnd) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let nanos = clock::nanos_since(self.start);
        let t = self.table;
        let series = self
            .endpoint
            .series(Series::key(self.method, self.status, end), &t.shape());
        if let Some(native) = &series.native {
            native.observe(nanos);
        }
        let bucket = series
            .duration_nanos
            .observe(&t.duration_bounds_nanos, nanos);
        if let Some(context) = self.trace {
            series.exemplars.keep_duration(
                t.duration_bounds_nanos.len() + 1,
                bucket,
                context,
                nanos,
            );
        }
        if let Some(n) = self.request_bytes {
            series.request_bytes.observe(&t.size_bounds, n);
        }
        if self.status != 0 {
            series
                .response_bytes
                .observe(&t.size_bounds, self.response_bytes);
        }
        self.endpoint.ended(usize::from(self.method));
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.record(CallEnd::Cancelled);
    }
}

/// Runs one poll (the client's future, or a response body's) so that a panic in it is recorded
/// as [`CallEnd::Panic`], not as the cancellation its unwinding drop would otherwise record.
#[inline]
pub(crate) fn watch_panics<T>(call: &mut Option<Call>, poll: impl FnOnce() -> T) -> T {
    struct Watch<'a>(&'a mut Option<Call>);
    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            if let Some(c) = self.0.take() {
                c.finish(CallEnd::Panic);
            }
        }
    }
    let watch = Watch(call);
    let polled = poll();
    std::mem::forget(watch);
    polled
}
