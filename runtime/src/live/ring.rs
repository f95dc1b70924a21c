//! The bounded ring of snapshots and the background thread that fills it.
//!
//! One sampler per process, started by the exporter (when its live page is on), by the first
//! use of a live handler, or by [`start`](super::start); never on an instrumented call's path.
//! Each tick reads every series (what a scrape reads) and pushes one snapshot; the oldest
//! goes once the ring covers [`HISTORY`].

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::snapshot::{self, Snapshot};

/// How far back the ring reaches.
pub(crate) const HISTORY: Duration = Duration::from_secs(15 * 60);
/// The sampling interval when none is given.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Interval bounds: finer than 100 ms is pointless, coarser than a minute leaves the 1 m
/// window empty.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// At most this many snapshots, whatever the interval (below 0.9 s the ring covers less than
/// 15 minutes).
const MAX_SNAPSHOTS: usize = 1000;

pub(crate) struct Ring {
    pub interval: Duration,
    capacity: usize,
    snapshots: VecDeque<Arc<Snapshot>>,
}

impl Ring {
    fn new(interval: Duration) -> Self {
        let per_history = HISTORY.as_secs_f64() / interval.as_secs_f64();
        // Enough for the whole history plus the snapshot it starts from.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1..=9001
        let capacity = (per_history.ceil() as usize + 1).min(MAX_SNAPSHOTS);
        Ring {
            interval,
            capacity,
            snapshots: VecDeque::with_capacity(capacity),
        }
    }

    fn push(&mut self, snapshot: Snapshot) {
        while self.snapshots.len() >= self.capacity {
            self.snapshots.pop_front();
        }
        self.snapshots.push_back(Arc::new(snapshot));
    }
}

struct Sampler {
    epoch: Instant,
    ring: Mutex<Ring>,
}

static SAMPLER: OnceLock<Sampler> = OnceLock::new();
/// Set by `sample_at`: snapshots come only from the caller, with the caller's times.
static MANUAL: AtomicBool = AtomicBool::new(false);
/// Set when the thread could not be started: each read then takes a snapshot itself, at most
/// one per interval.
static THREADLESS: AtomicBool = AtomicBool::new(false);

fn clamp(interval: Duration) -> Duration {
    interval.clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Starts the sampler if it is not running; returns the interval it runs at (the first
/// caller's). If the thread cannot be started, snapshots are taken on each read instead.
pub(crate) fn start(interval: Duration) -> Duration {
    let mut started_here = false;
    let sampler = SAMPLER.get_or_init(|| {
        started_here = true;
        Sampler {
            epoch: Instant::now(),
            ring: Mutex::new(Ring::new(clamp(interval))),
        }
    });
    let interval = lock(sampler).interval;
    if started_here {
        // The first snapshot now, so that the windows start from here.
        sample(sampler);
        let spawned = std::thread::Builder::new()
            .name("instrument-metrics-live".into())
            .spawn(move || run(sampler, interval));
        if spawned.is_err() {
            THREADLESS.store(true, Ordering::Relaxed);
        }
    }
    interval
}

fn lock(sampler: &Sampler) -> std::sync::MutexGuard<'_, Ring> {
    sampler.ring.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run(sampler: &'static Sampler, interval: Duration) {
    let mut next = Instant::now() + interval;
    loop {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        next += interval;
        // Far behind (the machine was suspended): start counting again from now.
        if next < Instant::now() {
            next = Instant::now() + interval;
        }
        if !MANUAL.load(Ordering::Relaxed) {
            sample(sampler);
        }
    }
}

/// Reads every series and pushes the snapshot. A panic while reading (a collector's bug)
/// loses that snapshot only.
fn sample(sampler: &Sampler) {
    if MANUAL.load(Ordering::Relaxed) {
        return;
    }
    let at = sampler.epoch.elapsed().as_secs_f64();
    push_at(sampler, at, false);
}

fn push_at(sampler: &Sampler, at: f64, manual: bool) {
    let previous = lock(sampler).snapshots.back().cloned();
    let taken = catch_unwind(AssertUnwindSafe(|| snapshot::take(at, previous.as_deref())));
    if let Ok(snapshot) = taken {
        let mut ring = lock(sampler);
        // An automatic snapshot read while `sample_at` took over is dropped, not pushed
        // among the caller's.
        if manual || !MANUAL.load(Ordering::Relaxed) {
            ring.push(snapshot);
        }
    }
}

/// The snapshots, oldest first, and the interval; starts the sampler with the default
/// interval if needed.
pub(crate) fn snapshots() -> (Vec<Arc<Snapshot>>, Duration) {
    start(DEFAULT_INTERVAL);
    let Some(sampler) = SAMPLER.get() else {
        return (Vec::new(), DEFAULT_INTERVAL);
    };
    if THREADLESS.load(Ordering::Relaxed) {
        let (last, interval) = {
            let ring = lock(sampler);
            (ring.snapshots.back().map(|s| s.at), ring.interval)
        };
        let now = sampler.epoch.elapsed().as_secs_f64();
        if last.is_none_or(|at| now - at >= interval.as_secs_f64()) {
            sample(sampler);
        }
    }
    let ring = lock(sampler);
    (ring.snapshots.iter().cloned().collect(), ring.interval)
}

/// Test hook: stop the background snapshots and push one taken now, stamped `at` seconds.
pub(crate) fn sample_at(at: f64) {
    MANUAL.store(true, Ordering::Relaxed);
    let sampler = SAMPLER.get_or_init(|| Sampler {
        epoch: Instant::now(),
        ring: Mutex::new(Ring::new(DEFAULT_INTERVAL)),
    });
    {
        let mut ring = lock(sampler);
        // The automatic snapshots came from another clock: start afresh.
        if ring.snapshots.back().is_some_and(|s| s.at > at) {
            ring.snapshots.clear();
        }
    }
    push_at(sampler, at, true);
}

#[cfg(test)]
mod tests {
    use super::{Ring, HISTORY};
    use std::time::Duration;

    #[test]
    fn the_ring_covers_fifteen_minutes() {
        let mut ring = Ring::new(Duration::from_secs(5));
        assert_eq!(ring.capacity, 181);
        for i in 0..400 {
            ring.push(super::Snapshot {
                at: f64::from(i) * 5.0,
                ..Default::default()
            });
        }
        assert_eq!(ring.snapshots.len(), 181);
        let span = ring.snapshots.back().unwrap().at - ring.snapshots.front().unwrap().at;
        assert_eq!(span, HISTORY.as_secs_f64());
        assert_eq!(Ring::new(Duration::from_millis(100)).capacity, 1000);
    }
}
