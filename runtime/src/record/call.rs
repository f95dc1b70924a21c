//! One call, measured: the code every instrumented function calls into, so the macro emits
//! little more than a call site and a closure.
//!
//! - [`call_once`], [`call_unit`]: a sync body, as a closure (so `return` and `?` keep their
//!   meaning), between a site's `enter` and its guard's `finish`. If the closure unwinds, the
//!   guard records `panic`.
//! - [`instrument`]: a future (an `async fn` body, or the future a function returns). Timing
//!   starts at its first poll. Dropped unfinished, it records `panic` if its own `poll` was
//!   unwinding, and `cancelled` otherwise, even while some other panic unwinds the thread (a
//!   sibling in `join!`, a runtime dropped during a panic).
//! - [`PlainSite`]: the call site of a function with the default buckets, whose recording is
//!   compiled once, in this crate. A generic [`CallSite<B>`] has its recording path (clock,
//!   slots, buckets, native buckets, exemplars, the scrape side of [`Site`]) monomorphized in
//!   every crate that instruments a function, which was most of what the attribute added to an
//!   optimized build; `PlainSite` is not generic, so a crate only calls it.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::record::outcome::Outcome;
use crate::record::site::{CallSite, Guard, ReadingSlot, Scope, Site, SiteMeta};

/// Runs a sync body as a closure, so `return` and `?` keep meaning what they meant.
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// The same for a body of a unit fn: the `FnOnce()` bound gives a diverging body (`loop {}`,
/// `panic!()`, `process::exit`) the type `()`, as rustc does for the function itself.
#[inline(always)]
pub fn call_unit(body: impl FnOnce()) {
    body();
}

/// A call site a future can be measured on: [`CallSite<B>`] and [`PlainSite`].
pub trait Enter: Sync + 'static {
    /// What ends the call.
    type Guard: Finish;
    /// Starts one call: reads the clock.
    fn enter_call(&'static self) -> Self::Guard;
}

/// Ends one call with its outcome.
pub trait Finish {
    /// Records the call.
    fn finish_call(self, outcome: Outcome);
}

impl<const B: usize> Enter for CallSite<B> {
    type Guard = Guard<B>;
    #[inline]
    fn enter_call(&'static self) -> Guard<B> {
        self.enter()
    }
}

impl<const B: usize> Finish for Guard<B> {
    #[inline]
    fn finish_call(self, outcome: Outcome) {
        self.finish(outcome);
    }
}

/// Measures `future`: see [`Instrumented`].
#[inline(always)]
pub fn instrument<S: Enter, F: Future>(site: &'static S, future: F) -> Instrumented<S, F> {
    Instrumented {
        future,
        site,
        guard: None,
        polling: false,
    }
}

/// A future measured from its first poll to its output, or to its drop. Its output is the
/// inner future's, with the guard: the caller classifies the value (on its concrete type) and
/// finishes the guard at once.
#[must_use = "futures do nothing unless polled"]
pub struct Instrumented<S: Enter, F> {
    future: F,
    site: &'static S,
    /// Set at the first poll.
    guard: Option<S::Guard>,
    /// True while `future.poll` runs: still true at drop time only if that poll unwound.
    polling: bool,
}

impl<S: Enter, F: Future> Future for Instrumented<S, F> {
    type Output = (S::Guard, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and `Drop`
        // below does not move it; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let guard = match this.guard.take() {
            Some(guard) => guard,
            None => this.site.enter_call(),
        };
        this.polling = true;
        this.guard = Some(guard);
        // SAFETY: see above.
        let polled = unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx);
        this.polling = false;
        match polled {
            Poll::Ready(value) => match this.guard.take() {
                Some(guard) => Poll::Ready((guard, value)),
                // Polled again after it finished: a fresh guard, the inner future decides.
                None => Poll::Ready((this.site.enter_call(), value)),
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: Enter, F> Drop for Instrumented<S, F> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            if self.polling {
                // This future's own poll unwound: the guard's drop records `panic`.
                drop(guard);
            } else {
                guard.finish_call(Outcome::Cancelled);
            }
        }
    }
}

/// Buckets of the default bounds, `+Inf` included.
const DEFAULT_B: usize = crate::__private::DEFAULT_BOUNDS_SECONDS.len() + 1;

/// The call site of a function with the default buckets (any other option allowed): a
/// [`CallSite`] whose recording is compiled here once, not in each crate that calls it (see the
/// module docs). Its methods are not inlined into callers: a call into this crate instead of a
/// call into the caller's own copy.
pub struct PlainSite(CallSite<DEFAULT_B>);

impl PlainSite {
    /// Ties labels to counters; bounds that are not the default ones fail at compile time.
    #[must_use]
    pub const fn new(meta: SiteMeta) -> Self {
        PlainSite(CallSite::new(meta))
    }

    /// A site with every option at its default (fewer tokens and less constant evaluation
    /// per function than `new(SiteMeta::plain(…))`).
    #[must_use]
    pub const fn plain(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        PlainSite(CallSite::new(SiteMeta::plain(name, module, file, line)))
    }

    /// Starts one call: reads the clock and, if asked, counts it in flight.
    #[inline(never)]
    pub fn enter(&'static self) -> PlainGuard {
        PlainGuard(ManuallyDrop::new(self.0.enter()))
    }

    /// Starts one call measured in place, without its value: see [`Scope`].
    #[inline]
    pub fn scope(&'static self) -> Scope<DEFAULT_B> {
        self.0.scope()
    }
}

impl Enter for PlainSite {
    type Guard = PlainGuard;
    #[inline]
    fn enter_call(&'static self) -> PlainGuard {
        self.enter()
    }
}

impl Site for PlainSite {
    fn meta(&self) -> &SiteMeta {
        self.0.meta()
    }

    fn add_to(&self, into: &mut ReadingSlot<'_>) {
        self.0.add_to(into);
    }

    fn allocate(&self) {
        self.0.allocate();
    }

    fn allocate_native(&self) {
        self.0.allocate_native();
    }
}

/// The [`Guard`] of a [`PlainSite`]: ends the call here, and records `panic` when dropped
/// unfinished, without the caller's crate holding a copy of the recording path (a
/// `ManuallyDrop` field has no drop glue to instantiate there).
#[must_use = "a guard records the call when finished or dropped"]
pub struct PlainGuard(ManuallyDrop<Guard<DEFAULT_B>>);

impl PlainGuard {
    /// The body returned: record how it went.
    #[inline(never)]
    pub fn finish(self, outcome: Outcome) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the guard is taken exactly once.
        let guard = unsafe { ManuallyDrop::take(&mut this.0) };
        guard.finish(outcome);
    }
}

impl Finish for PlainGuard {
    #[inline]
    fn finish_call(self, outcome: Outcome) {
        self.finish(outcome);
    }
}

impl Drop for PlainGuard {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once, and `finish` forgets the guard it takes.
        // The guard's own drop records `panic`: only an unwinding body drops it unfinished.
        drop(unsafe { ManuallyDrop::take(&mut self.0) });
    }
}
