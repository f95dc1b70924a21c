//! Busy time and slow polls of the calls of a function with `#[instrument_metrics(polls)]`.
//!
//! [`Polled`] wraps the future a call is (inside [`Instrumented`](super::call::Instrumented),
//! so the call's own timing is unchanged) and times each of its polls on the crate's clock,
//! adding them up in its own fields: nothing shared is touched while the call runs. When the
//! call ends (its output, its drop if cancelled, or the drop after a poll unwound) the busy
//! time and the number of polls above the threshold are written once to the thread's shard of
//! the function's [`PollSite`], a static of its own beside the call site: functions without
//! the option keep their site and their code as they were.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Relaxed};
use std::task::{Context, Poll};

use crate::record::call::{Enter, Instrumented, OnSite};
use crate::record::clock;
use crate::record::site::{add, bucket_index, Cells, NewShard, Site};
use crate::record::slots;

/// The default threshold of a slow poll: 10 ms. A poll that long holds a worker thread away
/// from every other task queued on it for a time users see in their latencies; and it is well
/// above what the OS scheduler alone adds to a poll's wall-clock time on a busy machine (a
/// time slice is a few ms), so a count is the function's doing, not the machine's.
pub const DEFAULT_SLOW_POLL_NANOS: u64 = 10_000_000;

/// Every site with `polls` in the program, collected by the linker.
#[linkme::distributed_slice]
pub static POLL_SITES: [&'static dyn Polls];

#[repr(align(128))]
pub(crate) struct PollShard<const B: usize> {
    /// Calls per bucket of their busy time.
    buckets: [AtomicU64; B],
    /// Wraps at 2^64 ns, as a call site's sum; read into a u128.
    busy_nanos: AtomicU64,
    slow_polls: AtomicU64,
}

impl<const B: usize> NewShard for PollShard<B> {
    fn new_shard() -> Self {
        PollShard {
            buckets: [const { AtomicU64::new(0) }; B],
            busy_nanos: AtomicU64::new(0),
            slow_polls: AtomicU64::new(0),
        }
    }
}

/// The busy-time histogram and slow-poll counter of one function: the call site it belongs to
/// (whose labels and merged series it shares), that site's bucket bounds, and the threshold.
/// `B` is the number of buckets including `+Inf`.
pub struct PollSite<const B: usize> {
    site: &'static dyn Site,
    bounds_nanos: &'static [u64],
    slow_nanos: u64,
    cells: Cells<PollShard<B>>,
}

impl<const B: usize> PollSite<B> {
    /// The polls of `site`'s calls, in buckets of `bounds_nanos` (the site's), counting polls
    /// longer than `slow_nanos` as slow. A bucket count that disagrees fails at compile time.
    #[must_use]
    pub const fn new(
        site: &'static dyn Site,
        bounds_nanos: &'static [u64],
        slow_nanos: u64,
    ) -> Self {
        assert!(bounds_nanos.len() + 1 == B);
        PollSite {
            site,
            bounds_nanos,
            slow_nanos,
            cells: Cells::new(),
        }
    }

    /// One call's busy time and slow polls, written once when it ended.
    #[inline]
    fn record(&self, busy_nanos: u64, slow_polls: u64) {
        let bucket = bucket_index(self.bounds_nanos, busy_nanos);
        let (shard, owned) = self.cells.shard(slots::current());
        add(&shard.buckets[bucket], 1, owned);
        add(&shard.busy_nanos, busy_nanos, owned);
        if slow_polls != 0 {
            add(&shard.slow_polls, slow_polls, owned);
        }
    }
}

/// What a [`PollSite`] gives the scraper, added up across shards (and merged sites).
#[derive(Clone, Debug, Default)]
pub(crate) struct PollReading {
    /// Per bucket, not cumulative; the last one is `+Inf`.
    pub buckets: Vec<u64>,
    pub busy_nanos: u128,
    pub slow_polls: u64,
}

/// Opaque handle through which a poll site adds its counters.
#[doc(hidden)]
pub struct PollReadingSlot<'a>(pub(crate) &'a mut PollReading);

/// A poll site seen from the scraper, whatever its bucket count.
pub trait Polls: Sync {
    /// The call site whose calls these are.
    fn site(&self) -> &'static dyn Site;
    /// Adds this site's counters into `into`, which has room for its buckets.
    #[doc(hidden)]
    fn add_to(&self, into: &mut PollReadingSlot<'_>);
    /// Allocates the shards (before `main`).
    #[doc(hidden)]
    fn allocate(&self);
}

impl<const B: usize> Polls for PollSite<B> {
    fn site(&self) -> &'static dyn Site {
        self.site
    }

    fn add_to(&self, into: &mut PollReadingSlot<'_>) {
        let into = &mut *into.0;
        if into.buckets.len() < B {
            into.buckets.resize(B, 0);
        }
        self.cells.for_each_shard(|shard| {
            for (b, cell) in shard.buckets.iter().enumerate() {
                into.buckets[b] = into.buckets[b].wrapping_add(cell.load(Acquire));
            }
            into.busy_nanos += u128::from(shard.busy_nanos.load(Relaxed));
            into.slow_polls = into.slow_polls.wrapping_add(shard.slow_polls.load(Relaxed));
        });
    }

    fn allocate(&self) {
        self.cells.allocate();
    }
}

/// Allocates every poll site's shards; before `main`, so that no call allocates.
pub(crate) fn allocate_all() {
    for site in POLL_SITES {
        site.allocate();
    }
}

/// `future` with its polls timed for `site`: see the module docs.
#[must_use = "futures do nothing unless polled"]
pub struct Polled<const B: usize, F> {
    future: F,
    site: &'static PollSite<B>,
    busy_nanos: u64,
    slow_polls: u64,
    /// Polled at least once and not written yet: a future never polled is not a call.
    open: bool,
}

/// `future`, its polls timed for `site`.
#[inline(always)]
pub fn polled<const B: usize, F: Future>(site: &'static PollSite<B>, future: F) -> Polled<B, F> {
    Polled {
        future,
        site,
        busy_nanos: 0,
        slow_polls: 0,
        open: false,
    }
}

/// Measures `future` on a call site (as [`instrument`](super::call::instrument)) with its
/// polls timed for the site's poll site: the pair a function with `polls` has.
#[inline(always)]
pub fn instrument_polled<S: Enter, const B: usize, F: Future>(
    sites: (&'static S, &'static PollSite<B>),
    future: F,
) -> Instrumented<OnSite<S>, Polled<B, F>> {
    crate::record::call::instrument(sites.0, polled(sites.1, future))
}

/// Adds one poll's time when dropped: after the poll returns, or while it unwinds, so the poll
/// that panicked counts too.
struct PollTimer<'a> {
    start: u64,
    slow_nanos: u64,
    busy_nanos: &'a mut u64,
    slow_polls: &'a mut u64,
}

impl Drop for PollTimer<'_> {
    #[inline]
    fn drop(&mut self) {
        let nanos = clock::nanos_since(self.start);
        *self.busy_nanos = self.busy_nanos.saturating_add(nanos);
        if nanos > self.slow_nanos {
            *self.slow_polls += 1;
        }
    }
}

impl<const B: usize, F: Future> Future for Polled<B, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and `Drop`
        // below does not move it; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        this.open = true;
        let timer = PollTimer {
            slow_nanos: this.site.slow_nanos,
            busy_nanos: &mut this.busy_nanos,
            slow_polls: &mut this.slow_polls,
            start: clock::raw_now(),
        };
        // SAFETY: see above.
        let polled = unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx);
        drop(timer);
        if polled.is_ready() {
            this.close();
        }
        polled
    }
}

impl<const B: usize, F> Polled<B, F> {
    /// Writes the call's polls, once.
    #[inline]
    fn close(&mut self) {
        if self.open {
            self.open = false;
            self.site.record(self.busy_nanos, self.slow_polls);
            self.busy_nanos = 0;
            self.slow_polls = 0;
        }
    }
}

impl<const B: usize, F> Drop for Polled<B, F> {
    fn drop(&mut self) {
        // Cancelled, or dropped after a poll unwound: the polls it had still count.
        self.close();
    }
}

/// Registers a poll site static in [`POLL_SITES`] (through linkme: only functions with
/// `polls` have one, so the cost of its attribute is no concern).
#[doc(hidden)]
#[macro_export]
macro_rules! __instrument_metrics_register_polls {
    ($site:ident) => {
        #[$crate::__private::linkme::distributed_slice($crate::__private::POLL_SITES)]
        #[linkme(crate = $crate::__private::linkme)]
        static __IM_POLLS_REGISTERED: &'static dyn $crate::__private::Polls = &$site;
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::call::PlainSite;
    use crate::record::site::DEFAULT_BOUNDS_NANOS;
    use std::task::Waker;

    static SITE: PlainSite = PlainSite::plain("polls_unit", "tests", "polls.rs", 1);
    static POLLS: PollSite<15> = PollSite::new(&SITE, DEFAULT_BOUNDS_NANOS, 1_000_000);

    fn read() -> PollReading {
        let mut r = PollReading::default();
        POLLS.add_to(&mut PollReadingSlot(&mut r));
        r
    }

    #[test]
    fn one_write_per_call_and_nothing_for_a_future_never_polled() {
        drop(polled(&POLLS, async {}));
        assert_eq!(read().buckets.iter().sum::<u64>(), 0);
        let mut cx = Context::from_waker(Waker::noop());
        let mut fut = Box::pin(polled(&POLLS, async {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }));
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        // Written when ready; the drop after it writes nothing more.
        drop(fut);
        let r = read();
        assert_eq!(r.buckets.iter().sum::<u64>(), 1);
        assert_eq!(r.slow_polls, 1);
        assert!(r.busy_nanos >= 2_000_000, "{}", r.busy_nanos);
    }
}
