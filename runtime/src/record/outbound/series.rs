//! One labelled series of an endpoint (its calls with one method, status and ending) and the
//! integer histograms it records durations and body sizes in.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::record::exemplar::{Exemplar, ExemplarCells};
use crate::record::http::METHODS;
use crate::record::native::{self, NativeBuckets};
use crate::record::outbound::vocabulary::CallEnd;

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
    pub(super) fn observe(&self, bounds: &[u64], value: u64) -> usize {
        let i = bounds.partition_point(|b| *b < value);
        if let Some(b) = self.buckets.get(i) {
            // Release: native buckets are counted first, read after (see `Histogram::new` of
            // the exposition).
            b.fetch_add(1, Ordering::Release);
        }
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

/// What a new series is made of: its table's bound counts, and whether its durations get
/// native buckets (the table's choice when the series is first seen).
pub(crate) struct Shape {
    pub duration_bounds: usize,
    pub size_bounds: usize,
    pub native: bool,
}

/// One labelled series: every call to one endpoint with one method, status and ending.
pub(crate) struct Series {
    pub(super) key: u32,
    pub duration_nanos: Histogram,
    /// Calls whose request body length was known.
    pub request_bytes: Histogram,
    /// Calls that received a response head: the body bytes received.
    pub response_bytes: Histogram,
    /// Native duration buckets, when the table's histograms are native when the series is made.
    pub native: Option<Box<NativeBuckets>>,
    /// The last exemplar of each duration bucket.
    pub exemplars: ExemplarCells,
}

impl Series {
    pub(super) fn new(key: u32, shape: &Shape) -> Self {
        Series {
            key,
            duration_nanos: Histogram::new(shape.duration_bounds),
            request_bytes: Histogram::new(shape.size_bounds),
            response_bytes: Histogram::new(shape.size_bounds),
            native: shape.native.then(native::boxed),
            exemplars: ExemplarCells::new(),
        }
    }

    /// The last exemplar of each duration bucket (`+Inf` last), if any was kept.
    pub(crate) fn exemplars(&self, buckets: usize) -> Vec<Option<Exemplar>> {
        self.exemplars.read_all(buckets)
    }

    /// Method index (4 bits), ending (4 bits), status (16 bits).
    pub(super) fn key(method: u8, status: u16, end: CallEnd) -> u32 {
        u32::from(method) | (end.code() << 4) | (u32::from(status) << 8)
    }

    /// The method index, the status (0 when no response head arrived) and how calls ended.
    pub(crate) fn labels(&self) -> (u8, u16, CallEnd) {
        let other = u8::try_from(METHODS.len() - 1).unwrap_or(0);
        let method = u8::try_from(self.key & 0xf).map_or(other, |m| m.min(other));
        let end = CallEnd::ALL
            .get(((self.key >> 4) & 0xf) as usize)
            .copied()
            .unwrap_or(CallEnd::Complete);
        let status = u16::try_from(self.key >> 8).unwrap_or(0);
        (method, status, end)
    }
}
