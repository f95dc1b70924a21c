//! One call site per instrumented function: its labels, bucket bounds and counters, in statics
//! the macro emits, found at scrape time through a distributed slice.
//!
//! Recording touches one shard chosen by the calling thread, so two threads calling the same
//! function write different cache lines. Each shard counts calls per (result, bucket) in a single
//! cell, so one increment serves both `function_calls_total` and the histogram, and `_count`
//! always equals the `+Inf` bucket. The sum is kept in integer nanoseconds.

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

use crate::record::clock;
use crate::record::outcome::Outcome;

/// Shards per site. A power of two at least as large as the core counts that matter here;
/// threads beyond it share shards, which stays correct (every write is an atomic add).
pub(crate) const SHARDS: usize = 8;

/// Every call site in the program, collected by the linker.
#[linkme::distributed_slice]
pub static SITES: [&'static dyn Site];

/// What the macro knows about a call site at compile time.
#[derive(Debug)]
pub struct SiteMeta {
    /// The `function` label.
    pub name: &'static str,
    /// The `module` label (`module_path!()`).
    pub module: &'static str,
    /// Constant extra labels from `labels(…)`.
    pub labels: &'static [(&'static str, &'static str)],
    /// Bucket upper bounds in nanoseconds (inclusive), checked by the macro.
    pub bounds_nanos: &'static [u64],
    /// The same bounds in seconds, for the `le` label.
    pub bounds_seconds: &'static [f64],
    /// Whether `function_calls_in_flight` is kept.
    pub in_flight: bool,
    /// Source file, to tell apart sites that cannot be merged.
    pub file: &'static str,
    /// Source line.
    pub line: u32,
}

#[repr(align(128))]
struct Shard<const B: usize> {
    counts: [[AtomicU64; B]; 4],
    sum_nanos: AtomicU64,
    in_flight: AtomicI64,
}

impl<const B: usize> Shard<B> {
    const fn new() -> Self {
        Shard {
            counts: [const { [const { AtomicU64::new(0) }; B] }; 4],
            sum_nanos: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }
}

/// The counters of one site; all zero, so the static lands in `.bss` and costs no memory
/// until the function runs. `B` is the number of buckets including `+Inf`.
pub struct Cells<const B: usize> {
    shards: [Shard<B>; SHARDS],
}

impl<const B: usize> Cells<B> {
    /// Zeroed counters.
    #[must_use]
    pub const fn new() -> Self {
        Cells {
            shards: [const { Shard::new() }; SHARDS],
        }
    }
}

impl<const B: usize> Default for Cells<B> {
    fn default() -> Self {
        Self::new()
    }
}

/// An instrumented function: its labels and its counters.
pub struct CallSite<const B: usize> {
    meta: SiteMeta,
    cells: &'static Cells<B>,
}

impl<const B: usize> CallSite<B> {
    /// Ties labels to counters. A bucket count that disagrees with `B` fails at compile time.
    #[must_use]
    pub const fn new(meta: SiteMeta, cells: &'static Cells<B>) -> Self {
        assert!(meta.bounds_nanos.len() + 1 == B);
        assert!(meta.bounds_seconds.len() + 1 == B);
        CallSite { meta, cells }
    }

    /// Starts one call: reads the clock and, if asked, counts it in flight.
    #[inline]
    pub fn enter(&'static self) -> Guard<B> {
        if self.meta.in_flight {
            self.cells.shards[shard_index()]
                .in_flight
                .fetch_add(1, Relaxed);
        }
        Guard {
            site: self,
            start: clock::raw_now(),
        }
    }

    #[inline]
    fn record(&self, outcome: Outcome, start: u64) {
        let nanos = clock::nanos_between(start, clock::raw_now());
        let bucket = bucket_index(self.meta.bounds_nanos, nanos);
        let shard = &self.cells.shards[shard_index()];
        shard.counts[outcome.index()][bucket].fetch_add(1, Relaxed);
        shard.sum_nanos.fetch_add(nanos, Relaxed);
        if self.meta.in_flight {
            shard.in_flight.fetch_sub(1, Relaxed);
        }
    }
}

#[inline]
fn bucket_index(bounds: &[u64], nanos: u64) -> usize {
    // Linear: most calls land in the first buckets, and the list is short.
    let mut i = 0;
    while i < bounds.len() && nanos > bounds[i] {
        i += 1;
    }
    i
}

/// Records the outcome of one call when finished, or `panic` / `cancelled` when dropped.
#[must_use = "a guard records the call when finished or dropped"]
pub struct Guard<const B: usize> {
    site: &'static CallSite<B>,
    start: u64,
}

impl<const B: usize> Guard<B> {
    /// The body returned: record how it went.
    #[inline]
    pub fn finish(self, outcome: Outcome) {
        self.site.record(outcome, self.start);
        std::mem::forget(self);
    }
}

impl<const B: usize> Drop for Guard<B> {
    fn drop(&mut self) {
        // Not finished: either the body is unwinding, or its future was dropped mid-way.
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Cancelled
        };
        self.site.record(outcome, self.start);
    }
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn shard_index() -> usize {
    SHARD.with(|slot| {
        let index = slot.get();
        if index < SHARDS {
            index
        } else {
            let index = NEXT_SHARD.fetch_add(1, Relaxed) % SHARDS;
            slot.set(index);
            index
        }
    })
}

/// The counters of a site (or of several merged ones), added up across shards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reading {
    pub results: [u64; 4],
    /// Per bucket, not cumulative; the last one is `+Inf`.
    pub buckets: Vec<u64>,
    pub sum_nanos: u64,
    pub in_flight: i64,
}

impl Reading {
    pub(crate) fn for_buckets(bounds: usize) -> Self {
        Reading {
            buckets: vec![0; bounds + 1],
            ..Reading::default()
        }
    }

    pub(crate) fn clear(&mut self) {
        self.results = [0; 4];
        self.buckets.iter_mut().for_each(|b| *b = 0);
        self.sum_nanos = 0;
        self.in_flight = 0;
    }

    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// A call site seen from the scraper, whatever its bucket count.
pub trait Site: Sync {
    /// Labels and bounds.
    fn meta(&self) -> &SiteMeta;
    /// Adds this site's counters into `into`, which has room for its buckets.
    #[doc(hidden)]
    fn add_to(&self, into: &mut ReadingSlot<'_>);
}

/// Opaque handle through which a site adds its counters (keeps `Reading` private).
#[doc(hidden)]
pub struct ReadingSlot<'a>(pub(crate) &'a mut Reading);

impl<const B: usize> Site for CallSite<B> {
    fn meta(&self) -> &SiteMeta {
        &self.meta
    }

    fn add_to(&self, into: &mut ReadingSlot<'_>) {
        let into = &mut *into.0;
        for shard in &self.cells.shards {
            for (r, per_bucket) in shard.counts.iter().enumerate() {
                for (b, cell) in per_bucket.iter().enumerate() {
                    let n = cell.load(Relaxed);
                    into.results[r] += n;
                    into.buckets[b] += n;
                }
            }
            into.sum_nanos += shard.sum_nanos.load(Relaxed);
            into.in_flight += shard.in_flight.load(Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bucket_index;

    #[test]
    fn bounds_are_inclusive_upper_limits() {
        let bounds = [10, 20, 30];
        assert_eq!(bucket_index(&bounds, 0), 0);
        assert_eq!(bucket_index(&bounds, 10), 0);
        assert_eq!(bucket_index(&bounds, 11), 1);
        assert_eq!(bucket_index(&bounds, 30), 2);
        assert_eq!(bucket_index(&bounds, 31), 3);
    }
}
