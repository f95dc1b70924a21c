//! Which shard of every call site a thread writes: its slot, taken once per thread.
//!
//! The first [`Layout::owned`] live threads each own a shard outright: only that thread writes
//! it, so it counts with a plain load and store, no locked instruction. A slot goes back to the
//! pool when its thread exits and the next new thread takes it over, counts included (they are
//! cumulative, and the exit happens-before the reuse through the pool's lock). Threads beyond
//! that many, and code running after this thread's slot was released (other thread-locals'
//! destructors), share [`Layout::shared`] shards with atomic adds.
//!
//! Sizing follows the machine: `owned` is twice the available parallelism (at least 4, at most
//! 256) so a runtime's workers plus a few helper threads each own one; `shared` is the
//! parallelism (at least 2, at most 64).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

/// How many shards every call site has, and which are owned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Shards `0..owned` belong to one thread each.
    pub owned: usize,
    /// Shards `owned..owned + shared` are written with atomic adds by everyone else.
    pub shared: usize,
}

impl Layout {
    pub(crate) const fn total(self) -> usize {
        self.owned + self.shared
    }

    fn for_parallelism(cores: usize) -> Layout {
        Layout {
            owned: (cores * 2).clamp(4, 256),
            shared: cores.clamp(2, 64),
        }
    }
}

/// The layout, decided once (before `main`, by the first call site allocation).
pub(crate) fn layout() -> Layout {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    *LAYOUT.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
        Layout::for_parallelism(cores)
    })
}

/// A thread's place: the shard index, and whether it owns that shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub index: usize,
    pub owned: bool,
}

/// `usize::MAX`: no slot yet. Owned slots are stored as `index << 1`, shared as `index << 1 | 1`.
const UNSET: usize = usize::MAX;

struct ThreadSlot(Cell<usize>);

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        let raw = self.0.get();
        if raw != UNSET && raw & 1 == 0 {
            release(raw >> 1);
        }
    }
}

thread_local! {
    static SLOT: ThreadSlot = const { ThreadSlot(Cell::new(UNSET)) };
}

/// Free owned indices, and the next never-used one.
static FREE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static NEXT_OWNED: AtomicUsize = AtomicUsize::new(0);
static NEXT_SHARED: AtomicUsize = AtomicUsize::new(0);

/// This thread's slot; taken on the thread's first call.
#[inline]
pub(crate) fn current() -> Slot {
    let raw = SLOT
        .try_with(|slot| {
            let raw = slot.0.get();
            if raw != UNSET {
                return raw;
            }
            let raw = take();
            slot.0.set(raw);
            raw
        })
        // This thread's slot is gone (we run in a later thread-local destructor): share.
        .unwrap_or_else(|_| shared_raw());
    Slot {
        index: raw >> 1,
        owned: raw & 1 == 0,
    }
}

#[cold]
fn take() -> usize {
    let owned = layout().owned;
    let reused = FREE.lock().ok().and_then(|mut free| free.pop());
    if let Some(index) = reused {
        return index << 1;
    }
    // Claim a new index only while there are any left, so that a released one is the only
    // way an index is ever handed out twice.
    let claimed = NEXT_OWNED.fetch_update(Relaxed, Relaxed, |n| (n < owned).then_some(n + 1));
    match claimed {
        Ok(index) => index << 1,
        Err(_) => shared_raw(),
    }
}

fn shared_raw() -> usize {
    let l = layout();
    let index = l.owned + NEXT_SHARED.fetch_add(1, Relaxed) % l.shared;
    index << 1 | 1
}

fn release(index: usize) {
    // A poisoned lock only means another thread panicked while pushing; the list is intact.
    let mut free = FREE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    free.push(index);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_machine() {
        for (cores, owned, shared) in [
            (1, 4, 2),
            (2, 4, 2),
            (16, 32, 16),
            (64, 128, 64),
            (512, 256, 64),
        ] {
            assert_eq!(
                Layout::for_parallelism(cores),
                Layout { owned, shared },
                "{cores} cores"
            );
        }
    }

    #[test]
    fn live_threads_never_share_an_owned_slot_and_exited_ones_give_theirs_back() {
        let mine = current();
        // Threads started one after another: each exits before the next starts.
        let sequential: Vec<Slot> = (0..3 * layout().owned)
            .map(|_| std::thread::spawn(current).join().unwrap())
            .collect();
        assert!(sequential.iter().all(|s| s.owned), "{sequential:?}");
        // Live at once: owned indices all distinct, the rest shared.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2 * layout().owned));
        let handles: Vec<_> = (0..2 * layout().owned)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || {
                    let s = current();
                    b.wait();
                    s
                })
            })
            .collect();
        let live: Vec<Slot> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut owned: Vec<usize> = live.iter().filter(|s| s.owned).map(|s| s.index).collect();
        if mine.owned {
            owned.push(mine.index);
        }
        let n = owned.len();
        owned.sort_unstable();
        owned.dedup();
        assert_eq!(
            owned.len(),
            n,
            "an owned slot was handed to two live threads"
        );
        assert!(live.iter().any(|s| !s.owned));
        let l = layout();
        assert!(live
            .iter()
            .filter(|s| !s.owned)
            .all(|s| (l.owned..l.total()).contains(&s.index)));
    }
}
