//! One gRPC method and what each side (server, client) counted of its calls: fixed arrays of
//! atomics, one per code and bucket, so a call finds its series by index, never by hashing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::record::exemplar::ExemplarCells;
use crate::record::grpc::vocabulary::{MethodType, CODES};
use crate::record::native::NativeCells;

/// `grpc_*_handling_seconds` bounds in seconds: OpenTelemetry's advice for RPC durations (the
/// HTTP layer's defaults), a superset of go-grpc-middleware's defaults.
pub(crate) const DURATION_BOUNDS_SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The same bounds in nanoseconds, compared with integer durations on the caller's path.
pub(crate) const DURATION_BOUNDS_NANOS: [u64; 14] = [
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    75_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    750_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    7_500_000_000,
    10_000_000_000,
];

/// Buckets with `+Inf`.
pub(crate) const BUCKETS: usize = DURATION_BOUNDS_NANOS.len() + 1;

/// Which end of a call a layer measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Server = 0,
    Client = 1,
}

/// What one side counted of one method's calls.
pub(crate) struct Counts {
    pub started: AtomicU64,
    /// Messages this side received (the server: requests; the client: responses).
    pub received: AtomicU64,
    /// Messages this side sent.
    pub sent: AtomicU64,
    /// Calls ended, by code.
    pub handled: [AtomicU64; CODES.len()],
    /// Calls that ended by a transport failure (also in `handled`, by the code the caller saw).
    pub transport_errors: AtomicU64,
    /// Durations per bucket (not cumulative; `+Inf` last) and their sum.
    pub buckets: [AtomicU64; BUCKETS],
    pub sum_nanos: AtomicU64,
    pub native: NativeCells,
    /// The last exemplar of each duration bucket.
    pub exemplars: ExemplarCells,
    /// Set at the first call: a method is exposed on a side once called there (and, on the
    /// server, from the start when declared).
    pub seen: AtomicBool,
    /// With `polls` on the server layer: busy time per call, made at the first such call.
    pub busy: std::sync::OnceLock<Box<crate::record::busy::BusyCells>>,
}

impl Counts {
    const fn new() -> Self {
        Counts {
            started: AtomicU64::new(0),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            handled: [const { AtomicU64::new(0) }; CODES.len()],
            transport_errors: AtomicU64::new(0),
            buckets: [const { AtomicU64::new(0) }; BUCKETS],
            sum_nanos: AtomicU64::new(0),
            native: NativeCells::new(),
            exemplars: ExemplarCells::new(),
            seen: AtomicBool::new(false),
            busy: std::sync::OnceLock::new(),
        }
    }

    /// Per-bucket counts and the sum, read so that the buckets never count fewer calls than
    /// the handled counters read before them did not already include (buckets read last).
    pub(crate) fn read_durations(&self) -> (Vec<u64>, u64) {
        (
            self.buckets
                .iter()
                .map(|b| b.load(Ordering::Acquire))
                .collect(),
            self.sum_nanos.load(Ordering::Relaxed),
        )
    }

    /// The last exemplar of each bucket, if any was kept.
    pub(crate) fn exemplars(&self) -> Vec<Option<crate::record::exemplar::Exemplar>> {
        self.exemplars.read_all(BUCKETS)
    }
}

/// One method: its names, its kind, and each side's counts.
pub(crate) struct Method {
    pub service: &'static str,
    pub name: &'static str,
    pub kind: MethodType,
    /// Declared by a registered descriptor (then exposed on the server from the start).
    pub declared: bool,
    sides: [Counts; 2],
}

impl Method {
    pub(crate) const fn new(
        service: &'static str,
        name: &'static str,
        kind: MethodType,
        declared: bool,
    ) -> Self {
        Method {
            service,
            name,
            kind,
            declared,
            sides: [Counts::new(), Counts::new()],
        }
    }

    #[inline]
    pub(crate) fn counts(&self, side: Side) -> &Counts {
        &self.sides[side as usize]
    }
}
