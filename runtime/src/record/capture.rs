//! Captures of the calls made on a thread, or while a future is polled, for
//! `instrument_metrics::testing`: each recorded call, HTTP exchange or gRPC call is also noted
//! in the capture open on the thread that records it. With no capture open anywhere, a
//! recorded call pays one load of [`ACTIVE`] and a branch.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::record::dynamic::DynMeta;
use crate::record::outcome::Outcome;
use crate::record::site::SiteMeta;

/// Captures open now, anywhere in the process: a count, so that the check is one load.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// What a capture saw: one call of an instrumented function, one HTTP exchange, or one gRPC call.
#[derive(Clone)]
pub(crate) enum Event {
    Call {
        site: &'static SiteMeta,
        outcome: Outcome,
        /// A labelled site's dynamic labels, the combination's index and the error kind's.
        labelled: Option<(&'static DynMeta, usize, Option<usize>)>,
    },
    Http {
        method: &'static str,
        route: Box<str>,
        /// 0 when no response head was sent.
        status: u16,
        error_type: Option<&'static str>,
    },
    Grpc {
        service: &'static str,
        method: &'static str,
        server: bool,
        code: &'static str,
    },
}

/// One capture's events so far.
#[derive(Default)]
pub(crate) struct Frame {
    events: RefCell<Vec<Event>>,
}

impl Frame {
    /// Everything noted so far, leaving the frame empty.
    pub(crate) fn take(&self) -> Vec<Event> {
        std::mem::take(&mut self.events.borrow_mut())
    }
}

thread_local! {
    /// The frame calls recorded on this thread go to; null outside any capture.
    static CURRENT: Cell<*const Frame> = const { Cell::new(std::ptr::null()) };
}

/// Whether any capture is open (the recording path's one check).
#[inline]
pub(crate) fn active() -> bool {
    ACTIVE.load(Relaxed) != 0
}

/// Notes `event` in the capture open on this thread, if there is one.
#[cold]
#[inline(never)]
pub(crate) fn note(event: impl FnOnce() -> Event) {
    let current = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    if current.is_null() {
        return;
    }
    // SAFETY: a frame is current only while the `Entered` guard that made it so lives, and
    // that guard borrows the frame.
    let frame = unsafe { &*current };
    if let Ok(mut events) = frame.events.try_borrow_mut() {
        events.push(event());
    }
}

/// `frame` is current on this thread until the guard drops, which makes the previous one
/// current again (also when a panic unwinds through it).
pub(crate) fn enter(frame: &Frame) -> Entered<'_> {
    ACTIVE.fetch_add(1, Relaxed);
    let previous = CURRENT.with(|c| c.replace(std::ptr::from_ref(frame)));
    Entered {
        previous,
        _frame: std::marker::PhantomData,
    }
}

/// See [`enter`].
pub(crate) struct Entered<'f> {
    previous: *const Frame,
    _frame: std::marker::PhantomData<&'f Frame>,
}

impl Entered<'_> {
    /// Leaves the frame, and notes its `events` in the capture around it, if any: an outer
    /// capture sees what the inner ones saw.
    pub(crate) fn leave(self, events: &[Event]) {
        let outer = self.previous;
        drop(self);
        if !outer.is_null() {
            // SAFETY: the outer frame is current again, so its guard lives (see `note`).
            let outer = unsafe { &*outer };
            if let Ok(mut all) = outer.events.try_borrow_mut() {
                all.extend_from_slice(events);
            }
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
        ACTIVE.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::{active, enter, note, Event, Frame};
    use crate::record::outcome::Outcome;

    fn http(status: u16) -> Event {
        Event::Http {
            method: "GET",
            route: "/".into(),
            status,
            error_type: None,
        }
    }

    #[test]
    fn notes_go_to_the_innermost_frame_and_then_outwards() {
        let outer = Frame::default();
        let entered = enter(&outer);
        assert!(active());
        note(|| http(200));
        let inner = Frame::default();
        let inner_entered = enter(&inner);
        note(|| http(500));
        let seen = inner.take();
        inner_entered.leave(&seen);
        assert_eq!(seen.len(), 1);
        let all = outer.take();
        entered.leave(&all);
        assert_eq!(all.len(), 2);
        // Nothing open on this thread: a note goes nowhere.
        note(|| http(404));
        let _ = Outcome::Ok;
    }
}
