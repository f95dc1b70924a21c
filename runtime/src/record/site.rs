//! One call site per instrumented function: its labels, bucket bounds and counters, found at
//! scrape time through a distributed slice.
//!
//! Each site has one shard per thread slot ([`slots`](super::slots)): a thread that owns its
//! slot counts with plain loads and stores, others with atomic adds on shared shards, so two
//! threads calling one function never write the same cache line. A shard counts calls per
//! (result, bucket) in one cell, so one write serves both `function_calls_total` and the
//! histogram, and `_count` always equals the `+Inf` bucket. The sum is integer nanoseconds.
//!
//! Memory: a shard is `(4 × buckets + 2) × 8` bytes rounded up to 128 (512 bytes with the 14
//! default bounds), and a site has `owned + shared` of them (6 on a 2-core machine: 3 KiB; 192
//! on a 64-core one: 96 KiB, of which only the pages of threads that call it are touched). They
//! are allocated before `main` for every site in the program, so a call never allocates (except
//! one made before that, from another constructor: it allocates its site's shards itself).

use std::sync::atomic::{
    AtomicI64, AtomicPtr, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

use crate::record::capture;
use crate::record::clock;
use crate::record::dynamic::Labelled;
use crate::record::exemplar::{self, keep_exemplars, ExemplarCells, ExemplarSource};
use crate::record::native::{self, Histograms, NativeCells, NativeReading};
use crate::record::outcome::Outcome;
use crate::record::reading::{add_exemplars, ReadingSlot};
use crate::record::slots::{self, Slot};

/// Every call site in the program, collected by the linker.
#[linkme::distributed_slice]
pub static SITES: [&'static dyn Site];

/// Prometheus' default histogram bounds, in seconds (the macro's default `buckets`).
pub const DEFAULT_BOUNDS_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The same bounds in nanoseconds, derived from the seconds at compile time.
pub const DEFAULT_BOUNDS_NANOS: &[u64] = &DEFAULT_NANOS;

const DEFAULT_NANOS: [u64; DEFAULT_BOUNDS_SECONDS.len()] = {
    let mut nanos = [0; DEFAULT_BOUNDS_SECONDS.len()];
    let mut i = 0;
    while i < nanos.len() {
        // Bounds here are small positive decimals: rounding to the nearest nanosecond is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        {
            nanos[i] = (DEFAULT_BOUNDS_SECONDS[i] * 1e9 + 0.5) as u64;
        }
        i += 1;
    }
    nanos
};

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
    /// `histogram = …`; `None` follows [`set_default_histograms`](crate::set_default_histograms).
    pub histograms: Option<Histograms>,
    /// Source file, to tell apart sites that cannot be merged.
    pub file: &'static str,
    /// Source line.
    pub line: u32,
}

impl SiteMeta {
    /// How this site's durations are exposed now.
    pub(crate) fn histograms(&self) -> Histograms {
        self.histograms.unwrap_or_else(native::default_histograms)
    }

    /// A site with every option at its default: default buckets, no extra labels, no in-flight
    /// gauge (fewer tokens for the macro to emit per function).
    #[must_use]
    pub const fn plain(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        SiteMeta {
            name,
            module,
            labels: &[],
            bounds_nanos: DEFAULT_BOUNDS_NANOS,
            bounds_seconds: DEFAULT_BOUNDS_SECONDS,
            in_flight: false,
            histograms: None,
            file,
            line,
        }
    }
}

#[repr(align(128))]
struct Shard<const B: usize> {
    counts: [[AtomicU64; B]; 4],
    /// Wraps at 2^64 ns (584 years of summed call time in one shard); read into a u128.
    sum_nanos: AtomicU64,
    in_flight: AtomicI64,
}

impl<const B: usize> NewShard for Shard<B> {
    fn new_shard() -> Self {
        Shard {
            counts: [const { [const { AtomicU64::new(0) }; B] }; 4],
            sum_nanos: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }
}

/// A shard's zeroed counters, for [`Cells`] to allocate.
pub(crate) trait NewShard {
    fn new_shard() -> Self;
}

/// Adds `n` to a cell: a plain read and write when this thread owns the shard, else atomic.
/// Release (free on x86): a scrape that sees this count also sees the native bucket counted
/// before it, so a histogram's native count is never below its classic one.
#[inline(always)]
pub(crate) fn add(cell: &AtomicU64, n: u64, owned: bool) {
    if owned {
        cell.store(cell.load(Relaxed).wrapping_add(n), Release);
    } else {
        cell.fetch_add(n, Release);
    }
}

#[inline(always)]
fn add_signed(cell: &AtomicI64, n: i64, owned: bool) {
    if owned {
        cell.store(cell.load(Relaxed).wrapping_add(n), Relaxed);
    } else {
        cell.fetch_add(n, Relaxed);
    }
}

/// The counters of one site: `slots::layout().total()` shards, allocated before `main` (or by
/// the first call, for a call from another constructor that runs earlier). Shards of
/// `Shard<B>` for calls (`B` is the number of buckets including `+Inf`), of the busy time's
/// own shard for a site with `polls`.
pub(crate) struct Cells<T> {
    shards: AtomicPtr<T>,
}

impl<T: NewShard> Cells<T> {
    pub(crate) const fn new() -> Self {
        Cells {
            shards: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The shard this thread writes, and whether it owns it.
    #[inline(always)]
    pub(crate) fn shard(&self, slot: Slot) -> (&T, bool) {
        let mut shards = self.shards.load(Acquire);
        if shards.is_null() {
            shards = self.allocate();
        }
        // SAFETY: a non-null pointer is an allocation of `layout().total()` shards that is never
        // freed, and `slot.index` is below that total.
        (unsafe { &*shards.add(slot.index) }, slot.owned)
    }

    #[cold]
    pub(crate) fn allocate(&self) -> *mut T {
        let current = self.shards.load(Acquire);
        if !current.is_null() {
            return current;
        }
        let shards: Box<[T]> = (0..slots::layout().total())
            .map(|_| T::new_shard())
            .collect();
        let ptr = Box::into_raw(shards).cast::<T>();
        match self
            .shards
            .compare_exchange(std::ptr::null_mut(), ptr, Release, Acquire)
        {
            Ok(_) => ptr,
            Err(theirs) => {
                // SAFETY: `ptr` came from `Box::into_raw` just above and was never shared.
                drop(unsafe {
                    Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                        ptr,
                        slots::layout().total(),
                    ))
                });
                theirs
            }
        }
    }

    pub(crate) fn for_each_shard(&self, f: impl FnMut(&T)) {
        let shards = self.shards.load(Acquire);
        if !shards.is_null() {
            // SAFETY: as in `shard`: a live, never-freed allocation of `total()` shards.
            let all = unsafe { std::slice::from_raw_parts(shards, slots::layout().total()) };
            all.iter().for_each(f);
        }
    }
}

/// An instrumented function: its labels and its counters.
pub struct CallSite<const B: usize> {
    meta: SiteMeta,
    cells: Cells<Shard<B>>,
    native: NativeCells,
    /// One per bucket, then one per result (`B + 4`).
    exemplars: ExemplarCells,
}

impl<const B: usize> CallSite<B> {
    /// Ties labels to counters. A bucket count that disagrees with `B` fails at compile time.
    #[must_use]
    pub const fn new(meta: SiteMeta) -> Self {
        assert!(meta.bounds_nanos.len() + 1 == B);
        assert!(meta.bounds_seconds.len() + 1 == B);
        CallSite {
            meta,
            cells: Cells::new(),
            native: NativeCells::new(),
            exemplars: ExemplarCells::new(),
        }
    }

    /// Starts one call: reads the clock and, if asked, counts it in flight.
    #[inline]
    pub fn enter(&'static self) -> Guard<B> {
        if self.meta.in_flight {
            let (shard, owned) = self.cells.shard(slots::current());
            add_signed(&shard.in_flight, 1, owned);
        }
        Guard {
            site: self,
            start: clock::raw_now(),
        }
    }

    /// Starts one call measured in place, without its value: see [`Scope`].
    #[inline]
    pub fn scope(&'static self) -> Scope<B> {
        let guard = self.enter();
        let scope = Scope {
            site: guard.site,
            start: guard.start,
        };
        std::mem::forget(guard);
        scope
    }

    #[inline]
    fn record(&'static self, outcome: Outcome, start: u64) {
        let nanos = clock::nanos_since(start);
        let bucket = bucket_index(self.meta.bounds_nanos, nanos);
        // Native first: see `add`.
        if let Some(native) = self.native.get() {
            native.observe(nanos);
        }
        let (shard, owned) = self.cells.shard(slots::current());
        add(&shard.counts[outcome.index()][bucket], 1, owned);
        add(&shard.sum_nanos, nanos, owned);
        if self.meta.in_flight {
            add_signed(&shard.in_flight, -1, owned);
        }
        if let Some(source) = exemplar::source() {
            self.keep_exemplar(source, outcome, bucket, nanos);
        }
        if capture::active() {
            capture::note(|| capture::Event::Call {
                site: &self.meta,
                outcome,
                labelled: None,
            });
        }
    }

    #[cold]
    #[inline(never)]
    fn keep_exemplar(&self, source: ExemplarSource, outcome: Outcome, bucket: usize, nanos: u64) {
        keep_exemplars(&self.exemplars, B, source, outcome, bucket, nanos);
    }
}

#[inline]
pub(crate) fn bucket_index(bounds: &[u64], nanos: u64) -> usize {
    // Linear: most calls land in the first buckets, and the list is short.
    let mut i = 0;
    while i < bounds.len() && nanos > bounds[i] {
        i += 1;
    }
    i
}

/// Records the outcome of one call when finished, or `panic` when dropped unfinished (its body
/// unwound). Futures record `cancelled` themselves; see [`Instrumented`](super::call::Instrumented).
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
        // Only the unwinding of this call's own body drops a guard unfinished.
        self.site.record(Outcome::Panic, self.start);
    }
}

/// A call measured in place, for a body that cannot move into a closure: a fn returning
/// `impl Fn…`, whose closure gets its signature only from that return type. The value is not
/// seen, so the call is `ok` unless it unwinds (told by `std::thread::panicking()`, the one
/// signal left when the body is not wrapped).
#[must_use = "a scope records the call when dropped"]
pub struct Scope<const B: usize> {
    site: &'static CallSite<B>,
    start: u64,
}

impl<const B: usize> Drop for Scope<B> {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Ok
        };
        self.site.record(outcome, self.start);
    }
}

/// Registers a call site static in [`SITES`]. On ELF targets the element is placed in the
/// slice's link section directly, which is what linkme's element attribute expands to, without
/// running that proc macro once per instrumented function (a third of the attribute's build
/// time); elsewhere it goes through linkme. The section name is linkme's (`linkme_` + the slice
/// name); every test that finds a function in the exposition checks it still is.
#[doc(hidden)]
#[macro_export]
macro_rules! __instrument_metrics_register_site {
    ($site:ident) => {
        #[cfg_attr(
            any(target_os = "linux", target_os = "android", target_os = "fuchsia", target_os = "none", target_os = "psp"),
            used,
            unsafe(link_section = "linkme_SITES")
        )]
        #[cfg_attr(
            not(any(target_os = "linux", target_os = "android", target_os = "fuchsia", target_os = "none", target_os = "psp")),
            $crate::__private::linkme::distributed_slice($crate::__private::SITES),
            linkme(crate = $crate::__private::linkme)
        )]
        static __IM_REGISTERED: &'static dyn $crate::__private::Site = &$site;
    };
}

/// Allocates every site's shards; before `main`, so that no call allocates.
pub(crate) fn allocate_all() {
    for site in SITES {
        site.allocate();
    }
}

/// Sets how functions without a `histogram = …` option (and HTTP layers without their own
/// choice) expose durations. Call it at the start of `main`: native buckets count calls from
/// then on, so a function already called has fewer native observations than classic ones.
///
/// ```
/// use instrument_metrics::{instrument_metrics, set_default_histograms, Histograms};
///
/// #[instrument_metrics]
/// fn step() {}
///
/// set_default_histograms(Histograms::Both);
/// assert_eq!(instrument_metrics::default_histograms(), Histograms::Both);
/// step();
/// // Text still has the classic buckets; a protobuf scrape has native ones too.
/// assert!(instrument_metrics::render().contains(r#"function_calls_duration_seconds_bucket{function="step",module="rust_out",le="0.005"} 1"#));
/// ```
pub fn set_default_histograms(kind: Histograms) {
    native::choose(kind);
    if kind.native() {
        allocate_native_for_default_sites();
    }
}

/// Allocates the native buckets of every site that follows the global choice (called when
/// [`set_default_histograms`](crate::set_default_histograms) turns them on).
pub(crate) fn allocate_native_for_default_sites() {
    for site in SITES {
        if site.meta().histograms.is_none() {
            site.allocate_native();
        }
    }
}

/// A call site seen from the scraper, whatever its bucket count.
pub trait Site: Sync {
    /// Labels and bounds.
    fn meta(&self) -> &SiteMeta;
    /// Adds this site's counters into `into`, which has room for its buckets.
    #[doc(hidden)]
    fn add_to(&self, into: &mut ReadingSlot<'_>);
    /// Allocates the shards (before `main`), and the native buckets if the site keeps them.
    #[doc(hidden)]
    fn allocate(&self);
    /// Allocates the native buckets (`set_default_histograms` turned them on).
    #[doc(hidden)]
    fn allocate_native(&self) {}
    /// The dynamic labels' side, for a labelled site.
    #[doc(hidden)]
    fn labelled(&self) -> Option<&dyn Labelled> {
        None
    }
}

impl<const B: usize> Site for CallSite<B> {
    fn meta(&self) -> &SiteMeta {
        &self.meta
    }

    fn add_to(&self, into: &mut ReadingSlot<'_>) {
        let into = &mut *into.0;
        self.cells.for_each_shard(|shard| {
            for (r, per_bucket) in shard.counts.iter().enumerate() {
                for (b, cell) in per_bucket.iter().enumerate() {
                    let n = cell.load(Acquire);
                    into.results[r] = into.results[r].wrapping_add(n);
                    into.buckets[b] = into.buckets[b].wrapping_add(n);
                }
            }
            into.sum_nanos += u128::from(shard.sum_nanos.load(Relaxed));
            into.in_flight = into.in_flight.wrapping_add(shard.in_flight.load(Relaxed));
        });
        // After the classic counts: see `add`.
        if let Some(native) = self.native.get() {
            native.add_to(into.native.get_or_insert_with(NativeReading::default));
        }
        add_exemplars(&self.exemplars, B, into);
    }

    fn allocate(&self) {
        self.cells.allocate();
        if self.meta.histograms().native() {
            self.native.allocate();
        }
    }

    fn allocate_native(&self) {
        self.native.allocate();
    }
}

#[cfg(test)]
mod tests {
    use super::bucket_index;

    #[test]
    fn summed_nanoseconds_past_u64_never_panic_a_scrape() {
        use super::{CallSite, Site, SiteMeta};
        use crate::record::reading::{Reading, ReadingSlot};
        use std::sync::atomic::Ordering::Relaxed;
        static SITE: CallSite<2> = CallSite::new(SiteMeta {
            name: "overflow",
            module: "tests",
            labels: &[],
            bounds_nanos: &[1],
            bounds_seconds: &[1e-9],
            in_flight: false,
            histograms: None,
            file: "site.rs",
            line: 1,
        });
        // Two threads' worth of time, each close to what one u64 of nanoseconds holds.
        SITE.cells
            .for_each_shard(|_| unreachable!("not allocated yet"));
        let (mine, _) = SITE.cells.shard(crate::record::slots::current());
        mine.sum_nanos.store(u64::MAX - 1, Relaxed);
        let shared = crate::record::slots::layout().owned;
        let (other, _) = SITE.cells.shard(crate::record::slots::Slot {
            index: shared,
            owned: false,
        });
        other.sum_nanos.store(u64::MAX - 1, Relaxed);
        let mut reading = Reading::for_buckets(1);
        SITE.add_to(&mut ReadingSlot(&mut reading));
        assert_eq!(reading.sum_nanos, 2 * (u128::from(u64::MAX) - 1));
    }

    #[test]
    fn bounds_are_inclusive_upper_limits() {
        let bounds = [10, 20, 30];
        assert_eq!(bucket_index(&bounds, 0), 0);
        assert_eq!(bucket_index(&bounds, 10), 0);
        assert_eq!(bucket_index(&bounds, 11), 1);
        assert_eq!(bucket_index(&bounds, 30), 2);
        assert_eq!(bucket_index(&bounds, 31), 3);
    }
    #[test]
    fn default_bounds_agree_in_both_units() {
        assert_eq!(
            super::DEFAULT_BOUNDS_SECONDS.len(),
            super::DEFAULT_BOUNDS_NANOS.len()
        );
        for (s, n) in super::DEFAULT_BOUNDS_SECONDS
            .iter()
            .zip(super::DEFAULT_BOUNDS_NANOS)
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let from_seconds = (s * 1e9).round() as u64;
            assert_eq!(from_seconds, *n);
        }
    }
}
