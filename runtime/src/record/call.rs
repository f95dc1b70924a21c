//! One call, measured: the generic code every instrumented function calls into, so the macro
//! emits little more than a call site and a closure.
//!
//! - [`run`], [`run_unit`], [`run_never`]: a sync body, as a closure (so `return` and `?` keep
//!   their meaning). If the closure unwinds, the guard records `panic`.
//! - [`instrument`]: a future (an `async fn` body, or the future a function returns). Timing
//!   starts at its first poll. Dropped unfinished, it records `panic` if its own `poll` was
//!   unwinding, and `cancelled` otherwise, even while some other panic unwinds the thread (a
//!   sibling in `join!`, a runtime dropped during a panic).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::record::outcome::Outcome;
use crate::record::site::{CallSite, Guard};

/// Runs a sync body that returns a value, classified by `classify`.
#[inline(always)]
pub fn run<const B: usize, R>(
    site: &'static CallSite<B>,
    body: impl FnOnce() -> R,
    classify: impl FnOnce(&R) -> Outcome,
) -> R {
    let guard = site.enter();
    let value = body();
    guard.finish(classify(&value));
    value
}

/// Runs a sync body returning `()`: always `ok` unless it unwinds. The `FnOnce()` bound gives
/// a diverging body (`loop {}`, `panic!()`, `process::exit`) the type `()`, as rustc does for
/// the function itself.
#[inline(always)]
pub fn run_unit<const B: usize>(site: &'static CallSite<B>, body: impl FnOnce()) {
    let guard = site.enter();
    body();
    guard.finish(Outcome::Ok);
}

/// Runs a body that never returns (`-> !`): only unwinding ends it, and the guard records that.
#[inline(always)]
pub fn run_never<const B: usize>(
    site: &'static CallSite<B>,
    body: impl FnOnce() -> std::convert::Infallible,
) -> ! {
    let _guard = site.enter();
    match body() {}
}

/// Measures `future`: see [`Instrumented`].
#[inline(always)]
pub fn instrument<const B: usize, F: Future, C: FnOnce(&F::Output) -> Outcome>(
    site: &'static CallSite<B>,
    future: F,
    classify: C,
) -> Instrumented<B, F, C> {
    Instrumented {
        future,
        site,
        guard: None,
        classify: Some(classify),
        polling: false,
    }
}

/// A future measured from its first poll to its output, or to its drop.
#[must_use = "futures do nothing unless polled"]
pub struct Instrumented<const B: usize, F, C> {
    future: F,
    site: &'static CallSite<B>,
    /// Set at the first poll.
    guard: Option<Guard<B>>,
    classify: Option<C>,
    /// True while `future.poll` runs: still true at drop time only if that poll unwound.
    polling: bool,
}

impl<const B: usize, F: Future, C: FnOnce(&F::Output) -> Outcome> Future
    for Instrumented<B, F, C>
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and `Drop`
        // below does not move it; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if this.guard.is_none() {
            this.guard = Some(this.site.enter());
        }
        this.polling = true;
        // SAFETY: see above.
        let polled = unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx);
        this.polling = false;
        let value = match polled {
            Poll::Ready(value) => value,
            Poll::Pending => return Poll::Pending,
        };
        if let (Some(guard), Some(classify)) = (this.guard.take(), this.classify.take()) {
            guard.finish(classify(&value));
        }
        Poll::Ready(value)
    }
}

impl<const B: usize, F, C> Drop for Instrumented<B, F, C> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            if self.polling {
                // This future's own poll unwound: the guard's drop records `panic`.
                drop(guard);
            } else {
                guard.finish(Outcome::Cancelled);
            }
        }
    }
}
