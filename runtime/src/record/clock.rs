//! The clock behind every duration: the cheapest correct monotonic source on this machine, never
//! calibrated on a caller's path.
//!
//! On x86_64 with an invariant TSC (the CPU says so in CPUID leaf `0x8000_0007`), a reading is one
//! `rdtsc`, several times cheaper than `Instant::now()` (the call-overhead bench measures both).
//! The TSC's rate is learnt on a background thread started before `main`: two (TSC, `Instant`)
//! pairs some milliseconds apart. Until that is done, and on every other machine, readings come from the
//! OS monotonic clock and carry [`OS_TAG`], so the end of a call is always read from the same
//! clock as its start, even when calibration finishes in between.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Set on readings of the OS clock; TSC readings never have it (2^63 cycles is a century).
const OS_TAG: u64 = 1 << 63;

/// Nanoseconds per TSC tick in 32.32 fixed point; 0 until calibrated (or on a machine without
/// a usable TSC, forever).
static SCALE: AtomicU64 = AtomicU64::new(0);

/// The origin of OS clock readings.
static ANCHOR: OnceLock<Instant> = OnceLock::new();

/// How long calibration watches the TSC: long enough for 1e-5 precision, short enough that
/// only the first milliseconds of a process use the slower clock.
const CALIBRATION: Duration = Duration::from_millis(20);

/// A raw reading, meaningful only to [`nanos_since`].
#[inline]
pub(crate) fn raw_now() -> u64 {
    if SCALE.load(Relaxed) != 0 {
        tsc()
    } else {
        os_now()
    }
}

/// Nanoseconds from `start` (a [`raw_now`] reading) to now, read on the same clock as `start`.
#[inline]
pub(crate) fn nanos_since(start: u64) -> u64 {
    if start & OS_TAG != 0 {
        return os_now().saturating_sub(start);
    }
    let ticks = tsc().saturating_sub(start);
    let nanos = (u128::from(ticks) * u128::from(SCALE.load(Relaxed))) >> 32;
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

#[inline]
fn os_now() -> u64 {
    let anchor = ANCHOR.get_or_init(Instant::now);
    let nanos = u64::try_from(anchor.elapsed().as_nanos()).unwrap_or(u64::MAX >> 1);
    nanos | OS_TAG
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn tsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86_64 CPU and has no preconditions.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn tsc() -> u64 {
    os_now()
}

/// Whether the TSC runs at a constant rate through power states and frequency changes.
#[cfg(target_arch = "x86_64")]
fn tsc_is_invariant() -> bool {
    // SAFETY: `cpuid` exists on every x86_64 CPU; leaves above the maximum return zeros,
    // which is why the maximum is asked first.
    #[allow(unused_unsafe)] // safe to call since Rust 1.87's target-feature rules
    let (max, flags) = unsafe {
        let max = core::arch::x86_64::__cpuid(0x8000_0000).eax;
        (max, core::arch::x86_64::__cpuid(0x8000_0007).edx)
    };
    max >= 0x8000_0007 && flags & (1 << 8) != 0
}

#[cfg(not(target_arch = "x86_64"))]
fn tsc_is_invariant() -> bool {
    false
}

/// Starts the OS clock's anchor and, where the TSC can be used, its calibration on a thread of
/// its own. Called before `main`; calling it again does nothing.
pub(crate) fn start() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let _ = ANCHOR.get_or_init(Instant::now);
        if !tsc_is_invariant() {
            return;
        }
        let first = pair();
        // No thread (a restricted sandbox): stay on the OS clock, which is correct, only slower.
        let _ = std::thread::Builder::new()
            .name("instrument-metrics-clock".into())
            .spawn(move || {
                std::thread::sleep(CALIBRATION);
                let second = pair();
                if let Some(scale) = scale_between(first, second) {
                    SCALE.store(scale, Relaxed);
                }
            });
    });
}

/// Whether readings now come from the TSC.
pub(crate) fn calibrated() -> bool {
    SCALE.load(Relaxed) != 0
}

/// A TSC reading and an `Instant` taken as close together as this thread can manage: the
/// tightest of a few tries, the TSC value being the midpoint of two readings around `Instant`.
fn pair() -> (u64, Instant) {
    let mut best: Option<(u64, u64, Instant)> = None;
    for _ in 0..8 {
        let before = tsc();
        let now = Instant::now();
        let after = tsc();
        let width = after.saturating_sub(before);
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, before + width / 2, now));
        }
    }
    let (_, ticks, at) = best.unwrap_or((0, tsc(), Instant::now()));
    (ticks, at)
}

/// 32.32 nanoseconds per tick, if the two pairs make sense (time and ticks both went forward).
fn scale_between(first: (u64, Instant), second: (u64, Instant)) -> Option<u64> {
    let ticks = second.0.checked_sub(first.0).filter(|t| *t > 0)?;
    let nanos = second.1.checked_duration_since(first.1)?.as_nanos();
    let scale = (nanos << 32) / u128::from(ticks);
    u64::try_from(scale).ok().filter(|s| *s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_and_its_end_use_one_clock() {
        let os = os_now();
        assert_ne!(os & OS_TAG, 0);
        std::thread::sleep(Duration::from_millis(2));
        let elapsed = nanos_since(os);
        assert!((2_000_000..2_000_000_000).contains(&elapsed), "{elapsed}");
    }

    #[test]
    fn calibration_gives_the_tsc_rate() {
        start();
        // Wait for the background calibration; the OS clock serves until then.
        for _ in 0..500 {
            if calibrated() || !tsc_is_invariant() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if !tsc_is_invariant() {
            return;
        }
        assert!(calibrated());
        let start = raw_now();
        assert_eq!(start & OS_TAG, 0, "a TSC reading once calibrated");
        std::thread::sleep(Duration::from_millis(5));
        let elapsed = nanos_since(start);
        assert!((5_000_000..500_000_000).contains(&elapsed), "{elapsed}");
    }
}
