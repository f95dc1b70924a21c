//! Exemplars: the trace a call ran in, kept beside the bucket and the counter it landed in.
//!
//! A source of trace context is one function pointer, null until set. A call reads it with one
//! relaxed load; only when a source is set does it ask the source, and only when the source has
//! a context does it store anything. Storing is a try-seqlock per cell: a writer that finds the
//! cell busy (another thread writing it) drops its exemplar rather than wait, so the caller never
//! blocks; the scraper retries a read that raced a writer. The last exemplar wins, as Prometheus
//! clients do: one per bucket and one per result.
//!
//! Cells are allocated per site (or HTTP series) by the first call that has an exemplar to
//! store, once; a site that never sees trace context never allocates them.

use std::sync::atomic::{
    fence, AtomicPtr, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::record::outcome::Outcome;

/// The trace and span a call ran in, as W3C trace context numbers them: the exemplar's labels
/// (`trace_id` in 32 and `span_id` in 16 lowercase hex digits, 70 characters of the 128
/// OpenMetrics allows).
///
/// ```
/// use instrument_metrics::TraceContext;
///
/// let ctx = TraceContext::new(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736, 0x00f0_67aa_0ba9_02b7);
/// assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(ctx.span_id_hex(), "00f067aa0ba902b7");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The 128-bit trace id; 0 is invalid and means "no trace".
    pub trace_id: u128,
    /// The 64-bit id of the span the call ran in.
    pub span_id: u64,
}

impl TraceContext {
    /// A context from its two ids.
    #[must_use]
    pub const fn new(trace_id: u128, span_id: u64) -> Self {
        TraceContext { trace_id, span_id }
    }

    /// The trace id as the `trace_id` label shows it.
    #[must_use]
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// The span id as the `span_id` label shows it.
    #[must_use]
    pub fn span_id_hex(&self) -> String {
        format!("{:016x}", self.span_id)
    }
}

/// Where exemplars come from: a function returning the current call's trace context, if any.
pub type ExemplarSource = fn() -> Option<TraceContext>;

/// The source, as a data pointer (null: none), so that the check on a call is one load.
static SOURCE: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// Takes exemplars from `source` from now on: every instrumented call (and HTTP request) asks
/// it for the trace context it ran in when it ends, and keeps the answer beside the bucket and
/// the counter it landed in. They appear in OpenMetrics and protobuf scrapes, never in text
/// 0.0.4.
///
/// With the `opentelemetry` feature, the current `tracing` span's OpenTelemetry context is the
/// source from the start; set your own to replace it.
///
/// ```
/// use instrument_metrics::{instrument_metrics, set_exemplar_source, TraceContext};
///
/// fn current_trace() -> Option<TraceContext> {
///     // Ask your tracer here; this one always answers the same ids.
///     Some(TraceContext::new(0xabc, 0xdef))
/// }
///
/// #[instrument_metrics]
/// fn traced() {}
///
/// set_exemplar_source(current_trace);
/// traced();
/// let om = instrument_metrics::exposition::render_openmetrics();
/// assert!(om.lines().any(|l| l.starts_with(r#"function_calls_total{function="traced",module="rust_out",result="ok"} 1 # {trace_id="00000000000000000000000000000abc",span_id="0000000000000def"} 1.0 "#)));
/// // Text 0.0.4 has no exemplars.
/// assert!(!instrument_metrics::render().contains("trace_id"));
/// ```
pub fn set_exemplar_source(source: ExemplarSource) {
    SOURCE.store(source as *mut (), Release);
}

/// Stops taking exemplars; those kept so far stay in the exposition.
///
/// ```
/// instrument_metrics::set_exemplar_source(|| None);
/// instrument_metrics::clear_exemplar_source();
/// ```
pub fn clear_exemplar_source() {
    SOURCE.store(std::ptr::null_mut(), Release);
}

/// The current source, if one is set: the only exemplar work a call does without one.
#[inline(always)]
pub(crate) fn source() -> Option<ExemplarSource> {
    let ptr = SOURCE.load(Relaxed);
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null `SOURCE` was stored by `set_exemplar_source` from a value of exactly
    // this fn pointer type; fn pointers and data pointers have one size on supported targets
    // (checked below at compile time).
    Some(unsafe { std::mem::transmute::<*mut (), ExemplarSource>(ptr) })
}

const _: () = assert!(std::mem::size_of::<ExemplarSource>() == std::mem::size_of::<*mut ()>());

/// Asks the source for the current context; a zero trace id is no context.
#[inline]
pub(crate) fn current(ask: ExemplarSource) -> Option<TraceContext> {
    ask().filter(|c| c.trace_id != 0)
}

/// Wall-clock time now, in nanoseconds since the Unix epoch (the exemplar's timestamp).
pub(crate) fn unix_nanos_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One exemplar as read back: its context, the observed value and when it was taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Exemplar {
    pub context: TraceContext,
    /// Seconds for durations, 1 for counter increments.
    pub value: f64,
    pub unix_nanos: u64,
}

/// The last exemplar of one bucket or counter.
#[derive(Default)]
pub(crate) struct ExemplarCell {
    /// Even: stable (0: never written); odd: a writer is in.
    seq: AtomicU64,
    trace_hi: AtomicU64,
    trace_lo: AtomicU64,
    span: AtomicU64,
    value_bits: AtomicU64,
    unix_nanos: AtomicU64,
}

impl ExemplarCell {
    /// Keeps this exemplar unless another writer holds the cell right now (then it is dropped:
    /// the caller never waits).
    pub(crate) fn store(&self, e: &Exemplar) {
        let seq = self.seq.load(Relaxed);
        if seq & 1 == 1
            || self
                .seq
                .compare_exchange(seq, seq.wrapping_add(1), Acquire, Relaxed)
                .is_err()
        {
            return;
        }
        // Readers that see any of the stores below also see the odd sequence number.
        fence(Release);
        #[allow(clippy::cast_possible_truncation)] // halves of the u128, by design
        {
            self.trace_hi
                .store((e.context.trace_id >> 64) as u64, Relaxed);
            self.trace_lo.store(e.context.trace_id as u64, Relaxed);
        }
        self.span.store(e.context.span_id, Relaxed);
        self.value_bits.store(e.value.to_bits(), Relaxed);
        self.unix_nanos.store(e.unix_nanos, Relaxed);
        self.seq.store(seq.wrapping_add(2), Release);
    }

    /// The last exemplar kept, if any (`None` also when writers kept the cell busy through
    /// every retry, which only a scrape racing a tight loop of traced calls sees).
    pub(crate) fn load(&self) -> Option<Exemplar> {
        for _ in 0..64 {
            let before = self.seq.load(Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let hi = self.trace_hi.load(Relaxed);
            let lo = self.trace_lo.load(Relaxed);
            let span = self.span.load(Relaxed);
            let value = f64::from_bits(self.value_bits.load(Relaxed));
            let unix_nanos = self.unix_nanos.load(Relaxed);
            fence(Acquire);
            if self.seq.load(Relaxed) == before {
                return Some(Exemplar {
                    context: TraceContext::new(u128::from(hi) << 64 | u128::from(lo), span),
                    value,
                    unix_nanos,
                });
            }
        }
        None
    }
}

/// The cells of one site or series: `len` of them, allocated by the first exemplar stored.
pub(crate) struct ExemplarCells {
    cells: AtomicPtr<ExemplarCell>,
}

impl ExemplarCells {
    pub(crate) const fn new() -> Self {
        ExemplarCells {
            cells: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Cell `i` of `len`, allocating all of them on first use (once per site).
    pub(crate) fn get_or_allocate(&self, len: usize, i: usize) -> Option<&ExemplarCell> {
        let mut ptr = self.cells.load(Acquire);
        if ptr.is_null() {
            ptr = self.allocate(len);
        }
        if i >= len {
            return None;
        }
        // SAFETY: a non-null pointer is a leaked allocation of `len` cells (every caller of one
        // `ExemplarCells` passes the same `len`: its site's bucket count), never freed.
        Some(unsafe { &*ptr.add(i) })
    }

    /// Cell `i` of `len`, if any exemplar was ever stored.
    pub(crate) fn get(&self, len: usize, i: usize) -> Option<&ExemplarCell> {
        let ptr = self.cells.load(Acquire);
        if ptr.is_null() || i >= len {
            return None;
        }
        // SAFETY: as in `get_or_allocate`.
        Some(unsafe { &*ptr.add(i) })
    }

    /// Keeps `context` as the exemplar of duration bucket `bucket` of `len` (an HTTP series', an
    /// outbound call's, a gRPC method's), valued at the call's duration in seconds.
    #[cfg(any(feature = "http", feature = "tonic"))]
    #[cold]
    #[inline(never)]
    pub(crate) fn keep_duration(
        &self,
        len: usize,
        bucket: usize,
        context: TraceContext,
        nanos: u64,
    ) {
        if let Some(cell) = self.get_or_allocate(len, bucket) {
            #[allow(clippy::cast_precision_loss)] // an exemplar's value is for show
            cell.store(&Exemplar {
                context,
                value: nanos as f64 / 1e9,
                unix_nanos: unix_nanos_now(),
            });
        }
    }

    /// The last exemplar of each of `len` cells, or nothing if none was ever kept.
    #[cfg(any(feature = "http", feature = "tonic"))]
    pub(crate) fn read_all(&self, len: usize) -> Vec<Option<Exemplar>> {
        if self.get(len, 0).is_none() {
            return Vec::new();
        }
        (0..len)
            .map(|i| self.get(len, i).and_then(ExemplarCell::load))
            .collect()
    }

    #[cold]
    fn allocate(&self, len: usize) -> *mut ExemplarCell {
        let cells: Box<[ExemplarCell]> = (0..len).map(|_| ExemplarCell::default()).collect();
        let ptr = Box::into_raw(cells).cast::<ExemplarCell>();
        match self
            .cells
            .compare_exchange(std::ptr::null_mut(), ptr, Release, Acquire)
        {
            Ok(_) => ptr,
            Err(theirs) => {
                // SAFETY: `ptr` came from `Box::into_raw` just above and was never shared.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
                theirs
            }
        }
    }
}

/// The newer of two exemplars (merged series keep the latest of their sites').
pub(crate) fn newer(a: Option<Exemplar>, b: Option<Exemplar>) -> Option<Exemplar> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.unix_nanos > x.unix_nanos { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Asks `source` for the call's trace context and, if it has one, keeps it as the exemplar of
/// the call's bucket (cell `bucket`) and of its result's counter (cell `buckets + result`).
pub(crate) fn keep_exemplars(
    cells: &ExemplarCells,
    buckets: usize,
    source: ExemplarSource,
    outcome: Outcome,
    bucket: usize,
    nanos: u64,
) {
    let Some(context) = current(source) else {
        return;
    };
    let len = buckets + Outcome::ALL.len();
    let unix_nanos = unix_nanos_now();
    if let Some(cell) = cells.get_or_allocate(len, bucket) {
        #[allow(clippy::cast_precision_loss)] // an exemplar's value is for show
        cell.store(&Exemplar {
            context,
            value: nanos as f64 / 1e9,
            unix_nanos,
        });
    }
    if let Some(cell) = cells.get_or_allocate(len, buckets + outcome.index()) {
        cell.store(&Exemplar {
            context,
            value: 1.0,
            unix_nanos,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{Exemplar, ExemplarCell, ExemplarCells, TraceContext};

    fn exemplar(n: u64) -> Exemplar {
        Exemplar {
            context: TraceContext::new(u128::from(n) << 64 | u128::from(n), n),
            value: n as f64,
            unix_nanos: n,
        }
    }

    #[test]
    fn a_cell_gives_back_the_last_exemplar() {
        let cell = ExemplarCell::default();
        assert_eq!(cell.load(), None);
        cell.store(&exemplar(1));
        cell.store(&exemplar(2));
        assert_eq!(cell.load(), Some(exemplar(2)));
    }

    #[test]
    fn readers_never_see_a_torn_exemplar() {
        // Every field of exemplar(n) is derived from n: a mix of two writes would show.
        let cells = ExemplarCells::new();
        let cell: &'static ExemplarCell = Box::leak(Box::new(cells)).get_or_allocate(1, 0).unwrap();
        std::thread::scope(|s| {
            for t in 0..2u64 {
                s.spawn(move || {
                    for n in 1..200_000u64 {
                        cell.store(&exemplar(n * 2 + t));
                    }
                });
            }
            s.spawn(move || {
                let mut seen = 0;
                for _ in 0..200_000 {
                    if let Some(e) = cell.load() {
                        let n = e.unix_nanos;
                        assert_eq!(e, exemplar(n));
                        seen += 1;
                    }
                }
                assert!(seen > 0);
            });
        });
    }

    #[test]
    fn cells_are_allocated_once_and_bounded() {
        let cells = ExemplarCells::new();
        assert!(cells.get(3, 0).is_none());
        let a = std::ptr::from_ref(cells.get_or_allocate(3, 2).unwrap());
        let b = std::ptr::from_ref(cells.get(3, 2).unwrap());
        assert_eq!(a, b);
        assert!(cells.get_or_allocate(3, 3).is_none());
    }
}
