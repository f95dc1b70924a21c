//! The clock behind every duration: the cheapest correct monotonic source on this machine.
//!
//! `quanta` reads the TSC when the CPU says it is invariant (about 10 ns on a KVM guest, against
//! about 32 ns for `std::time::Instant::now()`), and falls back to the OS monotonic clock. Raw
//! readings are taken at both ends of a call and scaled to nanoseconds once.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

#[inline]
pub(crate) fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A raw reading, meaningful only to [`nanos_between`].
#[inline]
pub(crate) fn raw_now() -> u64 {
    clock().raw()
}

#[inline]
pub(crate) fn nanos_between(start: u64, end: u64) -> u64 {
    clock().delta_as_nanos(start, end)
}

/// Calibrating the TSC takes a few milliseconds; pay it before the first call, not during it.
pub(crate) fn warm_up() {
    let _ = clock();
}
