//! What the counting allocator ([`Counting`](crate::alloc::Counting)) records: live heap bytes
//! and allocations made, in shards summed at scrape time.
//!
//! Everything here runs inside the global allocator, so nothing here allocates, locks, or
//! panics, and nothing needs a thread-local with a lazy initializer:
//! - The first [`OWNED`] threads that allocate each own a shard outright (a bit in
//!   `claimed`): only that thread writes it, with a plain load and store of its atomics, no
//!   locked instruction and no cache line shared with another writer. A thread finds its shard
//!   through a `const`-initialized thread-local index (no destructor, no allocation).
//! - A thread gives its shard back when it exits, through a second thread-local whose only job
//!   is its destructor. Counts stay in the shard (they are cumulative: bytes may go negative in
//!   the shard of a thread that frees what others allocated), and the next thread to claim it
//!   carries on from them; the release happens-before the claim (release/acquire on the bit),
//!   so nothing is lost and the sum is exact once the threads are at rest.
//! - Threads beyond [`OWNED`] live ones share [`SHARED`] shards with atomic adds, and so does
//!   an allocation made while a thread claims its shard (registering the destructor may
//!   allocate), after its shard was given back (later thread-local destructors), or while it
//!   probes whether this is the global allocator.
//!
//! Nothing here knows about the exposition: `expose::catalog::heap` reads [`totals`] when a
//! probe says a `Counting` is the global allocator ([`installed`]).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// Shards owned by one thread each. Fixed: sizing them from the machine
/// (`available_parallelism`) would allocate, and an unused shard costs a zeroed page's share.
pub(crate) const OWNED: usize = 128;
/// Shards written with atomic adds, by threads beyond [`OWNED`] and the odd allocation above.
pub(crate) const SHARED: usize = 16;

/// One thread's (or a few threads') counts, alone on its cache lines.
#[repr(align(128))]
struct Shard {
    /// Bytes allocated minus bytes freed through this shard: negative when its threads freed
    /// more than they allocated.
    bytes: AtomicI64,
    /// Allocations made through this shard (reallocations included).
    allocations: AtomicU64,
}

impl Shard {
    const fn zero() -> Shard {
        Shard {
            bytes: AtomicI64::new(0),
            allocations: AtomicU64::new(0),
        }
    }

    /// Only the owner writes an owned shard: a load and a store, no locked instruction.
    #[inline]
    fn add_owned(&self, bytes: i64, allocations: u64) {
        let b = self.bytes.load(Ordering::Relaxed);
        self.bytes.store(b.wrapping_add(bytes), Ordering::Relaxed);
        // A constant after inlining: a free writes one counter, not two.
        if allocations != 0 {
            let a = self.allocations.load(Ordering::Relaxed);
            self.allocations
                .store(a.wrapping_add(allocations), Ordering::Relaxed);
        }
    }

    fn add_shared(&self, bytes: i64, allocations: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if allocations != 0 {
            self.allocations.fetch_add(allocations, Ordering::Relaxed);
        }
    }
}

/// Live bytes and allocations made, summed over every shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Bytes allocated and not yet freed. Exact at rest; while threads allocate, a reading may
    /// be off by what moved during it (even below 0, which the exposition shows as 0).
    pub bytes: i64,
    pub allocations: u64,
}

/// The shards and who owns which.
pub(crate) struct Tally {
    /// `0..OWNED` owned, `OWNED..OWNED + SHARED` shared.
    shards: [Shard; OWNED + SHARED],
    /// Bit `i % 64` of word `i / 64`: owned shard `i` has a live owner.
    claimed: [AtomicU64; OWNED / 64],
    /// Hands out shared shards to threads beyond [`OWNED`], in turn.
    next_shared: AtomicUsize,
}

impl Tally {
    // 18 KiB: evaluated at compile time for the static (the tests box theirs).
    #[allow(clippy::large_stack_arrays)]
    pub(crate) const fn new() -> Tally {
        Tally {
            shards: [const { Shard::zero() }; OWNED + SHARED],
            claimed: [const { AtomicU64::new(0) }; OWNED / 64],
            next_shared: AtomicUsize::new(0),
        }
    }

    /// A free owned shard, now this caller's; `None` when all have owners.
    fn claim(&self) -> Option<usize> {
        for (w, word) in self.claimed.iter().enumerate() {
            let mut bits = word.load(Ordering::Relaxed);
            while bits != u64::MAX {
                let bit = bits.trailing_ones();
                // Acquire: the previous owner's counts, stored before its release, are seen.
                match word.compare_exchange_weak(
                    bits,
                    bits | 1 << bit,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Some(w * 64 + bit as usize),
                    Err(now) => bits = now,
                }
            }
        }
        None
    }

    /// Gives owned shard `index` back; its counts stay for the next owner.
    fn release(&self, index: usize) {
        // Release: this owner's last stores happen-before the next claim.
        self.claimed[index / 64].fetch_and(!(1 << (index % 64)), Ordering::Release);
    }

    /// The next shared shard, for a thread that found no owned one free.
    fn next_shared(&self) -> usize {
        OWNED + self.next_shared.fetch_add(1, Ordering::Relaxed) % SHARED
    }

    /// Counts into shard `index`: owned (`< OWNED`, by its owner only) or shared.
    #[inline]
    fn add(&self, index: usize, bytes: i64, allocations: u64) {
        if index < OWNED {
            self.shards[index].add_owned(bytes, allocations);
        } else {
            self.shards[index].add_shared(bytes, allocations);
        }
    }

    pub(crate) fn totals(&self) -> Totals {
        self.shards.iter().fold(Totals::default(), |t, s| Totals {
            bytes: t.bytes.wrapping_add(s.bytes.load(Ordering::Relaxed)),
            allocations: t
                .allocations
                .wrapping_add(s.allocations.load(Ordering::Relaxed)),
        })
    }
}

/// Every `Counting` counts here: one tally per process.
static TALLY: Tally = Tally::new();

/// Set by the first allocation any `Counting` counts (a plain store, once per thread).
static COUNTED: AtomicBool = AtomicBool::new(false);

// What a thread's `SLOT` holds besides a shard index.
/// No shard yet: the next allocation claims one.
const UNSET: usize = usize::MAX;
/// Claiming right now: a nested allocation counts in a shared shard.
const CLAIMING: usize = usize::MAX - 1;
/// The thread gave its shard back (it is exiting): shared shards.
const GONE: usize = usize::MAX - 2;
/// [`probe`] is asking whether the global allocator counts; the allocator answers by moving
/// the slot to [`PROBED`].
const PROBE: usize = usize::MAX - 3;
const PROBED: usize = usize::MAX - 4;

thread_local! {
    /// This thread's shard index, or one of the states above. `const`, no destructor: never
    /// allocates, never goes away.
    static SLOT: Cell<usize> = const { Cell::new(UNSET) };
    /// Touched once a thread owns a shard, so that its destructor gives the shard back.
    static OWNER: Owner = const { Owner };
}

struct Owner;

impl Drop for Owner {
    fn drop(&mut self) {
        let index = SLOT.with(|slot| slot.replace(GONE));
        if index < OWNED {
            TALLY.release(index);
        }
    }
}

/// `layout.size()` bytes allocated (by `alloc` or `alloc_zeroed`).
#[inline]
pub(crate) fn allocated(size: usize) {
    record(to_i64(size), 1);
}

/// `size` bytes freed.
#[inline]
pub(crate) fn freed(size: usize) {
    record(to_i64(size).wrapping_neg(), 0);
}

/// A block resized from `old` to `new` bytes: one allocation, the difference in bytes.
#[inline]
pub(crate) fn resized(old: usize, new: usize) {
    record(to_i64(new).wrapping_sub(to_i64(old)), 1);
}

/// A `Layout`'s size is at most `isize::MAX`: it fits.
#[inline]
#[allow(clippy::cast_possible_wrap)]
fn to_i64(size: usize) -> i64 {
    size as i64
}

#[inline]
fn record(bytes: i64, allocations: u64) {
    let slot = SLOT.try_with(Cell::get).unwrap_or(GONE);
    if slot < OWNED {
        TALLY.shards[slot].add_owned(bytes, allocations);
    } else {
        record_elsewhere(slot, bytes, allocations);
    }
}

/// A thread without an owned shard: its first allocation, a thread beyond [`OWNED`], or one
/// of the rare states.
#[inline(never)]
fn record_elsewhere(slot: usize, bytes: i64, allocations: u64) {
    let index = match slot {
        UNSET => claim_for_this_thread(),
        PROBE => {
            SLOT.with(|s| s.set(PROBED));
            fallback()
        }
        shared if shared < OWNED + SHARED => shared,
        _ => fallback(),
    };
    TALLY.add(index, bytes, allocations);
}

/// Takes an owned shard for this thread, or a shared one when none is free.
#[cold]
fn claim_for_this_thread() -> usize {
    SLOT.with(|s| s.set(CLAIMING));
    COUNTED.store(true, Ordering::Relaxed);
    let index = match TALLY.claim() {
        // Registering `OWNER`'s destructor may allocate (std's fallback list, on platforms
        // without `__cxa_thread_atexit_impl`): that allocation finds `CLAIMING`.
        Some(owned) if OWNER.try_with(|_| ()).is_ok() => owned,
        Some(owned) => {
            TALLY.release(owned);
            TALLY.next_shared()
        }
        None => TALLY.next_shared(),
    };
    SLOT.with(|s| s.set(index));
    index
}

/// A shared shard picked without writing anything shared: by where this thread's stack is.
fn fallback() -> usize {
    let marker = 0u8;
    let at = std::ptr::addr_of!(marker) as usize;
    OWNED + (at >> 16) % SHARED
}

/// Live bytes and allocations made through every `Counting`, now.
pub(crate) fn totals() -> Totals {
    TALLY.totals()
}

/// Whether a `Counting` is the global allocator: something was counted, and a probe
/// allocation made on this thread through the global allocator was counted. The answer cannot
/// change once known (the global allocator is chosen at link time), so the probe runs once.
pub(crate) fn installed() -> bool {
    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;
    static VERDICT: AtomicU8 = AtomicU8::new(UNKNOWN);
    match VERDICT.load(Ordering::Relaxed) {
        YES => true,
        NO => false,
        _ => {
            // Nothing counted: no `Counting` at all (the common case), no probe needed.
            if !COUNTED.load(Ordering::Relaxed) {
                return false;
            }
            let Some(counted) = probe() else {
                return false;
            };
            VERDICT.store(if counted { YES } else { NO }, Ordering::Relaxed);
            counted
        }
    }
}

/// Allocates and frees one byte through the global allocator with this thread's slot at
/// [`PROBE`]: a `Counting` in that place moves it to [`PROBED`]. `None` if this thread's
/// locals are gone.
fn probe() -> Option<bool> {
    let saved = SLOT.try_with(|s| s.replace(PROBE)).ok()?;
    drop(std::hint::black_box(Box::new(0u8)));
    Some(SLOT.with(|s| s.replace(saved)) == PROBED)
}

/// Held by the tests that count into the process-wide tally and check exact differences.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn more_threads_than_owned_shards_at_once_and_nothing_lost_when_they_exit() {
        let _serial = TEST_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = totals();
        let threads = OWNED + 3 * SHARED;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    allocated(1000 + t);
                    allocated(24);
                    freed(24);
                    resized(10, 30);
                    let slot = SLOT.with(Cell::get);
                    // Everyone has a slot before anyone exits.
                    barrier.wait();
                    slot
                })
            })
            .collect();
        let slots: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut owned: Vec<usize> = slots.iter().copied().filter(|&s| s < OWNED).collect();
        let n = owned.len();
        owned.sort_unstable();
        owned.dedup();
        assert_eq!(owned.len(), n, "an owned shard had two live owners");
        assert!(
            slots.iter().filter(|&&s| s >= OWNED).count() >= threads - OWNED,
            "{slots:?}"
        );
        assert!(slots.iter().all(|&s| s < OWNED + SHARED), "{slots:?}");
        // What those threads allocated is freed here, on another thread.
        for t in 0..threads {
            freed(1000 + t);
        }
        let after = totals();
        assert_eq!(
            after.bytes - before.bytes,
            20 * i64::try_from(threads).unwrap()
        );
        assert_eq!(after.allocations - before.allocations, 3 * threads as u64);
        // The owned shards were given back: a new thread owns one again.
        let again = std::thread::spawn(|| {
            allocated(1);
            freed(1);
            SLOT.with(Cell::get)
        })
        .join()
        .unwrap();
        assert!(again < OWNED, "{again}");
    }

    #[test]
    fn a_probe_on_a_thread_whose_global_allocator_does_not_count_says_so() {
        // This test binary's global allocator is `System`.
        let slot = SLOT.with(Cell::get);
        assert_eq!(probe(), Some(false));
        assert_eq!(SLOT.with(Cell::get), slot, "the probe puts the slot back");
    }

    #[test]
    fn owned_shards_are_claimed_once_each_and_given_back() {
        let tally = Box::new(Tally::new());
        let mut claimed: Vec<usize> = (0..OWNED).map(|_| tally.claim().unwrap()).collect();
        assert_eq!(tally.claim(), None, "all {OWNED} have owners");
        claimed.sort_unstable();
        assert_eq!(claimed, (0..OWNED).collect::<Vec<_>>());
        tally.release(70);
        tally.release(3);
        assert_eq!(tally.claim(), Some(3));
        assert_eq!(tally.claim(), Some(70));
        assert_eq!(tally.claim(), None);
        let shared: Vec<usize> = (0..2 * SHARED).map(|_| tally.next_shared()).collect();
        assert!(shared.iter().all(|s| (OWNED..OWNED + SHARED).contains(s)));
        assert_eq!(shared[0], shared[SHARED]);
    }

    #[test]
    fn counts_survive_their_owner_and_sum_signed() {
        let tally = Box::new(Tally::new());
        let first = tally.claim().unwrap();
        tally.add(first, 1000, 1);
        tally.add(first, 24, 1);
        tally.release(first);
        // Another thread frees what the first allocated: its shard goes negative.
        let second = tally.claim().unwrap();
        assert_eq!(second, first, "the freed shard is taken again");
        let other = tally.claim().unwrap();
        tally.add(other, -1000, 0);
        tally.add(second, 8, 1);
        let shared = tally.next_shared();
        tally.add(shared, 100, 2);
        tally.add(shared, -50, 0);
        assert_eq!(
            tally.totals(),
            Totals {
                bytes: 1024 - 1000 + 8 + 50,
                allocations: 5
            }
        );
    }

    #[test]
    fn a_fallback_shard_is_a_shared_one() {
        assert!((OWNED..OWNED + SHARED).contains(&fallback()));
    }

    #[test]
    fn shards_are_cache_line_apart() {
        assert!(std::mem::align_of::<Shard>() >= 128);
        assert_eq!(std::mem::size_of::<Shard>(), 128);
    }
}
