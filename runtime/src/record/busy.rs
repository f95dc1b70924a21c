//! Busy time of the requests and calls a layer measures with `polls` on (the HTTP server
//! layer's `HttpMetrics::builder().polls(…)`, the gRPC server layer's `polls(…)`): the time
//! spent inside `poll` of the request's future and body, summed per request, beside its
//! wall-clock duration; and its polls longer than a threshold (the executor was blocked).
//!
//! Each request adds up its own polls in its own fields ([`Busy`]), then writes once, when it
//! ends, to the cells of its series ([`BusyCells`]): shared atomics, allocated at the first
//! request of the series. Off, a layer pays one branch per poll.
#![cfg_attr(not(feature = "tower"), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::record::clock;
use crate::record::site::bucket_index;

/// One request's polls so far: their time and how many were slow.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Busy {
    pub nanos: u64,
    pub slow: u32,
}

impl Busy {
    /// Adds the poll that started at `start` (a [`clock::raw_now`] reading) and ends now.
    #[inline]
    pub(crate) fn add_poll_since(&mut self, start: u64, slow_nanos: u64) {
        let nanos = clock::nanos_since(start);
        self.nanos = self.nanos.saturating_add(nanos);
        if nanos > slow_nanos {
            self.slow = self.slow.saturating_add(1);
        }
    }
}

/// A histogram of busy time per request (buckets of the series' duration bounds, `+Inf` last),
/// its sum, and the slow polls.
pub(crate) struct BusyCells {
    buckets: Box<[AtomicU64]>,
    nanos: AtomicU64,
    slow: AtomicU64,
}

/// What [`BusyCells`] hold, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BusyReading {
    /// Per bucket, not cumulative, `+Inf` last.
    pub buckets: Vec<u64>,
    pub nanos: u64,
    pub slow: u64,
}

impl BusyReading {
    /// Requests recorded.
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().fold(0, |a, n| a.wrapping_add(*n))
    }
}

impl BusyCells {
    /// Empty cells for `bounds` buckets (plus `+Inf`).
    pub(crate) fn new(bounds: usize) -> Self {
        BusyCells {
            buckets: (0..=bounds).map(|_| AtomicU64::new(0)).collect(),
            nanos: AtomicU64::new(0),
            slow: AtomicU64::new(0),
        }
    }

    /// One request's busy time, in buckets of `bounds_nanos` (the ones these cells were made for).
    #[inline]
    pub(crate) fn record(&self, bounds_nanos: &[u64], busy: Busy) {
        let bucket = bucket_index(bounds_nanos, busy.nanos).min(self.buckets.len() - 1);
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.nanos.fetch_add(busy.nanos, Relaxed);
        if busy.slow != 0 {
            self.slow.fetch_add(u64::from(busy.slow), Relaxed);
        }
    }

    /// The counts now. The sum is read after the buckets, so it never lags the count by less
    /// than the requests that have been counted.
    pub(crate) fn read(&self) -> BusyReading {
        let buckets = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        BusyReading {
            buckets,
            nanos: self.nanos.load(Relaxed),
            slow: self.slow.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Busy, BusyCells};

    #[test]
    fn a_request_lands_in_its_bucket_with_its_sum_and_slow_polls() {
        let cells = BusyCells::new(2);
        let bounds = [1_000, 10_000];
        cells.record(
            &bounds,
            Busy {
                nanos: 500,
                slow: 0,
            },
        );
        cells.record(
            &bounds,
            Busy {
                nanos: 5_000,
                slow: 2,
            },
        );
        cells.record(
            &bounds,
            Busy {
                nanos: 50_000,
                slow: 1,
            },
        );
        let r = cells.read();
        assert_eq!(r.buckets, vec![1, 1, 1]);
        assert_eq!((r.nanos, r.slow, r.count()), (55_500, 3, 3));
    }

    #[test]
    fn a_poll_longer_than_the_threshold_is_slow() {
        let mut busy = Busy::default();
        let start = crate::record::clock::raw_now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        busy.add_poll_since(start, 1_000_000);
        busy.add_poll_since(crate::record::clock::raw_now(), u64::MAX);
        assert!(busy.nanos >= 2_000_000, "{busy:?}");
        assert_eq!(busy.slow, 1);
    }
}
