//! One labelled series (a route's exchanges with one method, status and ending) and the
//! integer histograms it records durations and body sizes in.
//!
//! A series' counters are sharded by thread slot ([`slots`](crate::record::slots)), as a call
//! site's are: a thread that owns its slot counts with plain loads and stores, others with
//! atomic adds on shared shards, so two threads recording into one series never write the same
//! cache line and the common path has no locked instruction. A shard holds the three
//! histograms of the series side by side (duration, request size, response size: buckets, then
//! the sum) and is allocated by the first exchange its slot records into the series.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;

use crate::record::exemplar::{Exemplar, ExemplarCells};
use crate::record::http::vocabulary::{Ending, OTHER_METHOD};
use crate::record::native::{self, NativeBuckets};
use crate::record::slots::{self, Slot};

/// Counters per 128 bytes: the two cache lines an adjacent-line prefetcher fetches together.
const PER_LINE: usize = 16;

/// Counters on whole cache lines, so that no two threads' shards share one.
#[repr(C, align(128))]
struct Line([AtomicU64; PER_LINE]);

impl Line {
    fn zero() -> Self {
        Line([const { AtomicU64::new(0) }; PER_LINE])
    }
}

/// A series' counters: one shard of `cells` counters (in whole lines) per thread slot.
struct Shards {
    slots: Box<[AtomicPtr<Line>]>,
    lines: usize,
}

impl Shards {
    fn new(cells: usize) -> Self {
        Shards {
            slots: (0..slots::layout().total())
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
            lines: cells.div_ceil(PER_LINE),
        }
    }

    /// The shard `slot` writes, allocated on its first use.
    #[inline]
    fn get(&self, slot: Slot) -> Option<Shard<'_>> {
        let cell = self.slots.get(slot.index)?;
        let mut ptr = cell.load(Ordering::Acquire);
        if ptr.is_null() {
            ptr = self.allocate(cell);
        }
        Some(Shard {
            cells: self.cells(ptr),
            owned: slot.owned,
        })
    }

    /// The counters of a published shard.
    #[inline]
    fn cells(&self, ptr: *mut Line) -> &[AtomicU64] {
        // SAFETY: a published shard is an allocation of `self.lines` lines (`PER_LINE`
        // counters each, nothing else), freed only with `self`.
        unsafe { std::slice::from_raw_parts(ptr.cast::<AtomicU64>(), self.lines * PER_LINE) }
    }

    #[cold]
    #[inline(never)]
    fn allocate(&self, cell: &AtomicPtr<Line>) -> *mut Line {
        let lines: Box<[Line]> = (0..self.lines).map(|_| Line::zero()).collect();
        let ptr = Box::into_raw(lines).cast::<Line>();
        match cell.compare_exchange(
            std::ptr::null_mut(),
            ptr,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => ptr,
            Err(theirs) => {
                // SAFETY: `ptr` came from `Box::into_raw` just above and was never shared.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, self.lines)) });
                theirs
            }
        }
    }

    /// Counter `i` summed over every shard, each read with `Acquire`.
    fn sum(&self, i: usize) -> u64 {
        self.slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .filter(|p| !p.is_null())
            .map(|p| {
                self.cells(p)
                    .get(i)
                    .map_or(0, |c| c.load(Ordering::Acquire))
            })
            .fold(0, u64::wrapping_add)
    }
}

impl Drop for Shards {
    fn drop(&mut self) {
        for s in &mut self.slots {
            let p = *s.get_mut();
            if !p.is_null() {
                // SAFETY: allocated in `allocate` with `self.lines` lines, published once.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, self.lines)) });
            }
        }
    }
}

/// One thread slot's shard of a series.
struct Shard<'a> {
    cells: &'a [AtomicU64],
    owned: bool,
}

impl Shard<'_> {
    /// Adds each `(counter, n)`; a counter past the shard's end is no counter (nothing to
    /// add). A plain read and write when this thread owns the shard, else atomic adds.
    /// Release (free on x86): a scrape that sees a count also sees the native bucket counted
    /// before it.
    #[inline(always)]
    fn add<const N: usize>(&self, adds: [(usize, u64); N]) {
        if !self.owned {
            return add_shared(self.cells, &adds);
        }
        for (i, n) in adds {
            if let Some(c) = self.cells.get(i) {
                c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Release);
            }
        }
    }
}

/// [`Shard::add`] on a shard other threads write too.
#[cold]
#[inline(never)]
fn add_shared(cells: &[AtomicU64], adds: &[(usize, u64)]) {
    for &(i, n) in adds {
        // Adding 0 changes nothing but would still cost a locked read-modify-write.
        if let Some(c) = cells.get(i).filter(|_| n != 0) {
            c.fetch_add(n, Ordering::Release);
        }
    }
}

/// Not a counter: what [`Shard::add`] skips.
const NOWHERE: usize = usize::MAX;

/// The bucket of `value`: the first bound at or above it, `bounds.len()` (`+Inf`) if none.
/// Most values land in the first buckets (quick requests, small bodies), so the first few
/// bounds are looked at in turn, the rest searched by halves.
#[inline]
fn bucket_of(bounds: &[u64], value: u64) -> usize {
    for (i, b) in bounds.iter().take(IN_TURN).enumerate() {
        if value <= *b {
            return i;
        }
    }
    bucket_past_the_first(bounds, value)
}

const IN_TURN: usize = 4;

/// [`bucket_of`] for a value above the first [`IN_TURN`] bounds.
#[inline(never)]
fn bucket_past_the_first(bounds: &[u64], value: u64) -> usize {
    let first = bounds.len().min(IN_TURN);
    first + bounds[first..].partition_point(|b| *b < value)
}

/// A histogram of `u64` observations against fixed inclusive upper bounds (`+Inf` last): its
/// place in its series' shards.
pub(crate) struct Histogram {
    shards: Arc<Shards>,
    /// The first bucket's counter; the sum follows the last (`+Inf`) bucket.
    at: usize,
    /// Buckets, `+Inf` included.
    buckets: usize,
}

impl Histogram {
    /// Per-bucket counts (not cumulative; `+Inf` last) and the sum.
    pub(crate) fn read(&self) -> (Vec<u64>, u64) {
        (
            (self.at..self.at + self.buckets)
                .map(|i| self.shards.sum(i))
                .collect(),
            self.shards.sum(self.at + self.buckets),
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

/// What one exchange adds to its series.
pub(super) struct Observation<'a> {
    pub duration_bounds: &'a [u64],
    pub size_bounds: &'a [u64],
    pub nanos: u64,
    pub request_bytes: Option<u64>,
    pub response_bytes: u64,
}

/// One labelled series: every exchange of one route with one method, status and ending.
pub(crate) struct Series {
    pub(super) key: u32,
    shards: Arc<Shards>,
    pub duration_nanos: Histogram,
    pub request_bytes: Histogram,
    pub response_bytes: Histogram,
    /// Native duration buckets, when the table's histograms are native when the series is made.
    pub native: Option<Box<NativeBuckets>>,
    /// The last exemplar of each duration bucket.
    pub exemplars: ExemplarCells,
}

impl Series {
    pub(super) fn new(key: u32, shape: &Shape) -> Self {
        let (duration, size) = (shape.duration_bounds + 1, shape.size_bounds + 1);
        // Each histogram: its buckets, then its sum.
        let shards = Arc::new(Shards::new(duration + 1 + 2 * (size + 1)));
        let histogram = |at, buckets| Histogram {
            shards: Arc::clone(&shards),
            at,
            buckets,
        };
        Series {
            key,
            duration_nanos: histogram(0, duration),
            request_bytes: histogram(duration + 1, size),
            response_bytes: histogram(duration + 1 + size + 1, size),
            shards,
            native: shape.native.then(native::boxed),
            exemplars: ExemplarCells::new(),
        }
    }

    /// Counts one exchange in this thread's shard; returns its duration bucket.
    #[inline]
    pub(super) fn observe(&self, slot: Slot, o: &Observation<'_>) -> usize {
        // Native first: see `Shard::add`.
        if let Some(native) = &self.native {
            native.observe(o.nanos);
        }
        let (duration, request, response) = (
            &self.duration_nanos,
            &self.request_bytes,
            &self.response_bytes,
        );
        let bucket = bucket_of(o.duration_bounds, o.nanos);
        let (request_bucket, request_sum) = match o.request_bytes {
            Some(n) => (request.at + bucket_of(o.size_bounds, n), n),
            None => (NOWHERE, 0),
        };
        let response_bucket = response.at + bucket_of(o.size_bounds, o.response_bytes);
        if let Some(shard) = self.shards.get(slot) {
            // Each histogram's sum follows its `+Inf` bucket.
            shard.add([
                (duration.at + bucket, 1),
                (duration.at + duration.buckets, o.nanos),
                (request_bucket, 1),
                (request.at + request.buckets, request_sum),
                (response_bucket, 1),
                (response.at + response.buckets, o.response_bytes),
            ]);
        }
        bucket
    }

    /// The last exemplar of each duration bucket (`+Inf` last), if any was kept.
    pub(crate) fn exemplars(&self, buckets: usize) -> Vec<Option<Exemplar>> {
        self.exemplars.read_all(buckets)
    }

    pub(super) fn key(method: u8, status: u16, ending: Ending) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::bucket_of;

    #[test]
    fn the_bucket_is_the_first_bound_at_or_above_the_value() {
        let bounds: Vec<u64> = (1..=12).map(|i| i * i * 10).collect();
        for short in 0..=bounds.len() {
            let bounds = &bounds[..short];
            for value in (0..1500).chain([u64::MAX]) {
                let expected = bounds.partition_point(|b| *b < value);
                assert_eq!(bucket_of(bounds, value), expected, "{value} in {bounds:?}");
            }
        }
    }
}
