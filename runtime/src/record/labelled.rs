//! Call sites with dynamic labels (`labels(tier = account.tier)`, `bounded(…)`, result
//! closures) or `error_kind`: a type of their own, so the plain [`CallSite`](super::site::CallSite)
//! path stays as it is.
//!
//! Every combination of the dynamic labels' values has one index (mixed radix over the labels
//! in declaration order) and one cell, allocated at its first call and never freed, unsharded:
//! calls with the same combination on different threads add atomically to the same cache
//! lines. A cell is `(4 × buckets + 1) × 8` bytes rounded up to 128 (512 B with the 14 default
//! buckets), plus `(kinds + 1) × 8` bytes with `error_kind`, 4,120 with native histograms, 48
//! per bucket and result once an exemplar is kept; the site holds one pointer per
//! combination (8 B each, at most [`MAX_COMBINATIONS`](super::labels::MAX_COMBINATIONS)).

use std::future::Future;
use std::sync::atomic::{
    AtomicI64, AtomicPtr, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

use crate::record::call::{Finish, Instrumented, Start};
use crate::record::capture;
use crate::record::clock;
use crate::record::dynamic::{DynMeta, Labelled};
use crate::record::exemplar::{self, keep_exemplars, ExemplarCells};
use crate::record::labels::BoundedStrings;
use crate::record::native::{self, NativeBuckets, NativeReading};
use crate::record::outcome::Outcome;
use crate::record::reading::{add_exemplars, Reading, ReadingSlot};
use crate::record::site::{Site, SiteMeta};

#[repr(align(128))]
struct Combo<const B: usize> {
    counts: [[AtomicU64; B]; 4],
    sum_nanos: AtomicU64,
    /// Per error kind, then `_NONE`; empty without `error_kind`.
    kinds: Box<[AtomicU64]>,
    /// Native buckets, when the site's histograms were native as the combination was first
    /// called (4,120 bytes more).
    native: Option<Box<NativeBuckets>>,
    /// The last exemplar per bucket, then per result.
    exemplars: ExemplarCells,
}

/// A function with dynamic labels or `error_kind`: `C` combinations of `B` buckets.
pub struct LabelledSite<const B: usize, const C: usize> {
    meta: SiteMeta,
    dynamic: DynMeta,
    combos: [AtomicPtr<Combo<B>>; C],
    in_flight: AtomicI64,
}

impl<const B: usize, const C: usize> LabelledSite<B, C> {
    /// Ties labels to counters; a bucket or combination count that disagrees fails at
    /// compile time.
    #[must_use]
    pub const fn new(meta: SiteMeta, dynamic: DynMeta) -> Self {
        assert!(meta.bounds_nanos.len() + 1 == B);
        assert!(meta.bounds_seconds.len() + 1 == B);
        assert!(DynMeta::combinations(dynamic.labels) == C);
        LabelledSite {
            meta,
            dynamic,
            combos: [const { AtomicPtr::new(std::ptr::null_mut()) }; C],
            in_flight: AtomicI64::new(0),
        }
    }

    /// The index of a `bounded` label's string (`label` is its position among the dynamic
    /// labels).
    #[inline]
    pub fn bounded_index(&'static self, label: usize, value: &str) -> usize {
        self.bounded(label).map_or(0, |b| b.index(value))
    }

    /// The strings of a `bounded` label.
    #[inline]
    pub fn bounded(&'static self, label: usize) -> Option<&'static BoundedStrings> {
        self.dynamic
            .labels
            .get(label)
            .and_then(|l| l.values.bounded())
    }

    /// The combination part of the argument labels' indices (in declaration order).
    #[inline]
    pub fn arguments(&'static self, indices: &[usize]) -> usize {
        self.dynamic.part(indices, false, false)
    }

    /// Starts one call with the argument labels' indices (in declaration order).
    #[inline]
    pub fn enter(&'static self, indices: &[usize]) -> LabelledGuard<B, C> {
        self.enter_at(self.arguments(indices))
    }

    /// Starts one call whose argument part is already computed.
    #[inline]
    pub fn enter_at(&'static self, arguments: usize) -> LabelledGuard<B, C> {
        if self.meta.in_flight {
            self.in_flight.fetch_add(1, Relaxed);
        }
        LabelledGuard {
            site: self,
            start: clock::raw_now(),
            arguments,
        }
    }

    #[inline]
    fn combo(&self, index: usize) -> Option<&Combo<B>> {
        let slot = self.combos.get(index)?;
        let mut ptr = slot.load(Acquire);
        if ptr.is_null() {
            ptr = self.allocate(slot);
        }
        // SAFETY: a non-null pointer is a leaked `Box<Combo>`, never freed.
        Some(unsafe { &*ptr })
    }

    #[cold]
    fn allocate(&self, slot: &AtomicPtr<Combo<B>>) -> *mut Combo<B> {
        let kinds = self.dynamic.kinds.map_or(0, |k| k.len() + 1);
        let ptr = Box::into_raw(Box::new(Combo {
            counts: [const { [const { AtomicU64::new(0) }; B] }; 4],
            sum_nanos: AtomicU64::new(0),
            kinds: (0..kinds).map(|_| AtomicU64::new(0)).collect(),
            native: self.meta.histograms().native().then(native::boxed),
            exemplars: ExemplarCells::new(),
        }));
        match slot.compare_exchange(std::ptr::null_mut(), ptr, Release, Acquire) {
            Ok(_) => ptr,
            Err(theirs) => {
                // SAFETY: `ptr` came from `Box::into_raw` just above and was never shared.
                drop(unsafe { Box::from_raw(ptr) });
                theirs
            }
        }
    }

    fn record(&'static self, outcome: Outcome, start: u64, combo: usize, kind: Option<usize>) {
        let nanos = clock::nanos_since(start);
        let mut bucket = 0;
        while bucket < self.meta.bounds_nanos.len() && nanos > self.meta.bounds_nanos[bucket] {
            bucket += 1;
        }
        if let Some(cell) = self.combo(combo) {
            // Native first, classic with release: see `site::add`.
            if let Some(native) = &cell.native {
                native.observe(nanos);
            }
            cell.counts[outcome.index()][bucket].fetch_add(1, Release);
            cell.sum_nanos.fetch_add(nanos, Relaxed);
            if outcome == Outcome::Error && !cell.kinds.is_empty() {
                let none = cell.kinds.len() - 1;
                let k = kind.map_or(none, |k| k.min(none.saturating_sub(1)));
                cell.kinds[k].fetch_add(1, Relaxed);
            }
        }
        if self.meta.in_flight {
            self.in_flight.fetch_sub(1, Relaxed);
        }
        if let Some(source) = exemplar::source() {
            if let Some(cell) = self.combo(combo) {
                keep_exemplars(&cell.exemplars, B, source, outcome, bucket, nanos);
            }
        }
        if capture::active() {
            capture::note(|| capture::Event::Call {
                site: &self.meta,
                outcome,
                labelled: Some((&self.dynamic, combo, kind)),
            });
        }
    }
}

/// Records one call of a [`LabelledSite`] when finished, or `panic` when dropped unfinished
/// (result labels then `_NONE`).
#[must_use = "a guard records the call when finished or dropped"]
pub struct LabelledGuard<const B: usize, const C: usize> {
    site: &'static LabelledSite<B, C>,
    start: u64,
    arguments: usize,
}

impl<const B: usize, const C: usize> LabelledGuard<B, C> {
    /// The body returned: the outcome, the result labels' indices and the error's kind.
    #[inline]
    pub fn finish(self, outcome: Outcome, results: &[usize], kind: Option<usize>) {
        let combo = self.arguments + self.site.dynamic.part(results, true, false);
        self.site.record(outcome, self.start, combo, kind);
        std::mem::forget(self);
    }

    /// Ended without a value (cancelled): result labels at `_NONE`.
    fn finish_without_value(self, outcome: Outcome) {
        let combo = self.arguments + self.site.dynamic.part(&[], true, true);
        self.site.record(outcome, self.start, combo, None);
        std::mem::forget(self);
    }
}

impl<const B: usize, const C: usize> Drop for LabelledGuard<B, C> {
    fn drop(&mut self) {
        let combo = self.arguments + self.site.dynamic.part(&[], true, true);
        self.site.record(Outcome::Panic, self.start, combo, None);
    }
}

/// A labelled site and the label indices its call's arguments gave.
pub struct LabelledStart<const B: usize, const C: usize> {
    site: &'static LabelledSite<B, C>,
    arguments: usize,
}

impl<const B: usize, const C: usize> Start for LabelledStart<B, C> {
    type Guard = LabelledGuard<B, C>;

    #[inline(always)]
    fn start(&self) -> LabelledGuard<B, C> {
        self.site.enter_at(self.arguments)
    }
}

impl<const B: usize, const C: usize> Finish for LabelledGuard<B, C> {
    #[inline]
    fn finish_call(self, outcome: Outcome) {
        self.finish_without_value(outcome);
    }
}

/// Measures `future` on a labelled site: see [`Instrumented`].
#[inline(always)]
pub fn instrument_labelled<const B: usize, const C: usize, F: Future>(
    site: &'static LabelledSite<B, C>,
    arguments: usize,
    future: F,
) -> Instrumented<LabelledStart<B, C>, F> {
    Instrumented::new(LabelledStart { site, arguments }, future)
}

impl<const B: usize, const C: usize> Labelled for LabelledSite<B, C> {
    fn dynamic(&self) -> &DynMeta {
        &self.dynamic
    }

    fn combinations(&self) -> usize {
        C
    }

    fn add_combo(&self, combo: usize, into: &mut ReadingSlot<'_>, kinds: &mut [u64]) -> bool {
        let Some(slot) = self.combos.get(combo) else {
            return false;
        };
        let ptr = slot.load(Acquire);
        if ptr.is_null() {
            return false;
        }
        // SAFETY: as in `combo`.
        let cell = unsafe { &*ptr };
        add_cell(cell, into.0);
        for (k, n) in kinds.iter_mut().zip(cell.kinds.iter()) {
            *k = k.wrapping_add(n.load(Relaxed));
        }
        true
    }

    fn in_flight(&self) -> i64 {
        self.in_flight.load(Relaxed)
    }
}

fn add_cell<const B: usize>(cell: &Combo<B>, into: &mut Reading) {
    for (r, per_bucket) in cell.counts.iter().enumerate() {
        for (b, n) in per_bucket.iter().enumerate() {
            let n = n.load(Acquire);
            into.results[r] = into.results[r].wrapping_add(n);
            into.buckets[b] = into.buckets[b].wrapping_add(n);
        }
    }
    into.sum_nanos += u128::from(cell.sum_nanos.load(Relaxed));
    if let Some(native) = &cell.native {
        native.add_to(into.native.get_or_insert_with(NativeReading::default));
    }
    add_exemplars(&cell.exemplars, B, into);
}

impl<const B: usize, const C: usize> Site for LabelledSite<B, C> {
    fn meta(&self) -> &SiteMeta {
        &self.meta
    }

    /// Every combination added up.
    fn add_to(&self, into: &mut ReadingSlot<'_>) {
        for slot in &self.combos {
            let ptr = slot.load(Acquire);
            if !ptr.is_null() {
                // SAFETY: as in `combo`.
                add_cell(unsafe { &*ptr }, into.0);
            }
        }
        into.0.in_flight = into.0.in_flight.wrapping_add(self.in_flight.load(Relaxed));
    }

    fn allocate(&self) {}

    fn labelled(&self) -> Option<&dyn Labelled> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use crate::record::dynamic::{DynLabel, DynMeta, Values};

    #[test]
    fn combinations_are_mixed_radix_in_declaration_order() {
        static LABELS: [DynLabel; 3] = [
            DynLabel {
                key: "a",
                values: Values::Fixed(&["x", "y"]),
            },
            DynLabel {
                key: "r",
                values: Values::Result(&["p", "q", "s"]),
            },
            DynLabel {
                key: "b",
                values: Values::Fixed(&["u", "v", "w"]),
            },
        ];
        let meta = DynMeta {
            labels: &LABELS,
            kinds: None,
        };
        assert_eq!(DynMeta::combinations(&LABELS), 2 * 4 * 3);
        // a=y, b=w: 1*12 + 2; r=q: 1*3.
        assert_eq!(meta.part(&[1, 2], false, false), 14);
        assert_eq!(meta.part(&[1], true, false), 3);
        assert_eq!(meta.part(&[], true, true), 9); // r=_NONE
                                                   // Out of range indices are clamped, never a panic.
        assert_eq!(meta.part(&[7, 7], false, false), 14);
    }
}
