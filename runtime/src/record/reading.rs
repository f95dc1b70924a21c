//! What a call site gives the scraper: its counters added up across shards (or
//! combinations), with native buckets and exemplars, read in one pass.

use crate::record::exemplar::{self, Exemplar, ExemplarCells};
use crate::record::native::NativeReading;
use crate::record::outcome::Outcome;

/// The counters of a site (or of several merged ones), added up across shards.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Reading {
    pub results: [u64; 4],
    /// Per bucket, not cumulative; the last one is `+Inf`.
    pub buckets: Vec<u64>,
    /// A u128: the shards' u64 sums added up never overflow.
    pub sum_nanos: u128,
    pub in_flight: i64,
    /// The native buckets, if any site of the series keeps them.
    pub native: Option<NativeReading>,
    /// The last exemplar per bucket, then per result; empty if none was ever kept.
    pub exemplars: Vec<Option<Exemplar>>,
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
        self.native = None;
        self.exemplars.clear();
    }

    pub(crate) fn count(&self) -> u64 {
        // Wrapping, like the cells: a scrape never panics.
        self.buckets.iter().fold(0, |a, b| a.wrapping_add(*b))
    }
}

/// Opaque handle through which a site adds its counters (keeps `Reading` private).
#[doc(hidden)]
pub struct ReadingSlot<'a>(pub(crate) &'a mut Reading);

/// Adds the exemplars of `cells` into a reading's, keeping the newer of each.
pub(crate) fn add_exemplars(cells: &ExemplarCells, buckets: usize, into: &mut Reading) {
    let len = buckets + Outcome::ALL.len();
    if cells.get(len, 0).is_none() {
        return;
    }
    if into.exemplars.len() != len {
        into.exemplars = vec![None; len];
    }
    for (i, slot) in into.exemplars.iter_mut().enumerate() {
        if let Some(cell) = cells.get(len, i) {
            *slot = exemplar::newer(*slot, cell.load());
        }
    }
}
