//! One call, measured: the generic code every instrumented function calls into, so the macro
//! emits little more than a call site and a closure.
//!
//! - [`call_once`], [`call_unit`]: a sync body, as a closure (so `return` and `?` keep their
//!   meaning), between [`CallSite::enter`] and [`Guard::finish`]. If the closure unwinds, the
//!   guard records `panic`.
//! - [`instrument`]: a future (an `async fn` body, or the future a function returns). Timing
//!   starts at its first poll. Dropped unfinished, it records `panic` if its own `poll` was
//!   unwinding, and `cancelled` otherwise, even while some other panic unwinds the thread (a
//!   sibling in `join!`, a runtime dropped during a panic).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::record::outcome::Outcome;
use crate::record::site::{CallSite, Guard};

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

/// Where a measured future gets its guard at its first poll: a call site, or a labelled site
/// with the arguments' label indices.
pub trait Enter {
    /// What records the call.
    type Guard: Cancel;
    /// Starts one call.
    fn enter(&self) -> Self::Guard;
}

/// How a guard records a future dropped before it finished.
pub trait Cancel {
    /// Records `cancelled`.
    fn cancelled(self);
}

/// A plain call site. A struct, not `&'static CallSite<B>` itself: an `async` body holding a
/// reference type in its state makes `Send` checks ask for the impl at every lifetime.
pub struct PlainStart<const B: usize>(&'static CallSite<B>);

impl<const B: usize> Enter for PlainStart<B> {
    type Guard = Guard<B>;

    #[inline(always)]
    fn enter(&self) -> Guard<B> {
        self.0.enter()
    }
}

impl<const B: usize> Cancel for Guard<B> {
    #[inline]
    fn cancelled(self) {
        self.finish(Outcome::Cancelled);
    }
}

/// Measures `future`: see [`Instrumented`].
#[inline(always)]
pub fn instrument<const B: usize, F: Future>(
    site: &'static CallSite<B>,
    future: F,
) -> Instrumented<PlainStart<B>, F> {
    Instrumented::new(PlainStart(site), future)
}

/// A future measured from its first poll to its output, or to its drop, whatever kind of site
/// it records on. Its output is the inner future's, with the guard: the caller classifies the
/// value (on its concrete type) and finishes the guard at once.
#[must_use = "futures do nothing unless polled"]
pub struct Instrumented<S: Enter, F> {
    future: F,
    site: S,
    /// Set at the first poll.
    guard: Option<S::Guard>,
    /// True while `future.poll` runs: still true at drop time only if that poll unwound.
    polling: bool,
}

impl<S: Enter, F> Instrumented<S, F> {
    /// `future`, to be measured on `site`.
    #[inline(always)]
    pub fn new(site: S, future: F) -> Self {
        Instrumented {
            future,
            site,
            guard: None,
            polling: false,
        }
    }
}

impl<S: Enter, F: Future> Future for Instrumented<S, F> {
    type Output = (S::Guard, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and `Drop`
        // below does not move it; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let guard = match this.guard.take() {
            Some(guard) => guard,
            None => this.site.enter(),
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
                None => Poll::Ready((this.site.enter(), value)),
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
                guard.cancelled();
            }
        }
    }
}
