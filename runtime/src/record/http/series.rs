//! One labelled series (a route's exchanges with one method, status and ending) and the
//! integer histograms it records durations and body sizes in.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering};

use crate::record::exemplar::{Exemplar, ExemplarCell, ExemplarCells};
use crate::record::http::vocabulary::{Ending, OTHER_METHOD};
use crate::record::native::{self, NativeBuckets};

/// A histogram of `u64` observations against fixed inclusive upper bounds (`+Inf` last).
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Histogram {
    pub(super) fn new(bounds: usize) -> Self {
        Histogram {
            buckets: (0..=bounds).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    /// Counts `value`; returns its bucket.
    #[inline]
    pub(super) fn observe(&self, bounds: &[u64], value: u64) -> usize {
        let i = bucket_of(bounds, value);
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

/// The bucket of `value`: the first bound at or above it, `bounds.len()` (`+Inf`) if none.
/// Most values land in the first buckets (quick requests, small bodies), so the first few
/// bounds are looked at in turn, the rest searched by halves.
#[inline]
fn bucket_of(bounds: &[u64], value: u64) -> usize {
    const IN_TURN: usize = 4;
    let (first, rest) = bounds.split_at(bounds.len().min(IN_TURN));
    match first.iter().position(|b| value <= *b) {
        Some(i) => i,
        None => first.len() + rest.partition_point(|b| *b < value),
    }
}

/// What a new series is made of: its table's bound counts, and whether its durations get
/// native buckets (the table's choice when the series is first seen).
pub(crate) struct Shape {
    pub duration_bounds: usize,
    pub size_bounds: usize,
    pub native: bool,
}

/// One labelled series: every exchange of one route with one method, status and ending.
pub(crate) struct Series {
    pub(super) key: u32,
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
        if self.exemplars.get(buckets, 0).is_none() {
            return Vec::new();
        }
        (0..buckets)
            .map(|i| self.exemplars.get(buckets, i).and_then(ExemplarCell::load))
            .collect()
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
