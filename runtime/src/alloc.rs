//! Heap metrics: [`Counting`], a global allocator that wraps any other and counts what goes
//! through it.
//!
//! ```no_run
//! use std::alloc::System;
//! use instrument_metrics::alloc::Counting;
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting<System> = Counting::new(System);
//! ```
//!
//! The exposition then has two more families, read at every scrape:
//!
//! | family | type | what |
//! |---|---|---|
//! | `process_heap_allocated_bytes` | gauge | bytes allocated and not yet freed (the live heap, as requested: without the allocator's own overhead and rounding) |
//! | `process_heap_allocations_total` | counter | allocations made (`alloc`, `alloc_zeroed` and `realloc` calls that succeeded) |
//!
//! They are there only when a `Counting` is the global allocator (the first scrape checks,
//! with one allocation of its own): a program without one shows neither, rather than zeros.

use std::alloc::{GlobalAlloc, Layout};

use crate::record::heap;

/// A global allocator that forwards every call to `A` and counts: live bytes and allocations
/// made, as `process_heap_allocated_bytes` and `process_heap_allocations_total`.
///
/// Install it with `#[global_allocator]` (see [the module](self)). This example is a program
/// of its own that does, and reads the figures back:
///
/// ```
/// use std::alloc::System;
/// use instrument_metrics::alloc::Counting;
///
/// #[global_allocator]
/// static ALLOCATOR: Counting<System> = Counting::new(System);
///
/// fn live_bytes() -> f64 {
///     let text = instrument_metrics::render();
///     let line = text.lines().find(|l| l.starts_with("process_heap_allocated_bytes ")).unwrap();
///     line["process_heap_allocated_bytes ".len()..].parse().unwrap()
/// }
///
/// fn main() {
///     let before = live_bytes();
///     let buffer: Vec<u8> = Vec::with_capacity(1 << 20);
///     let during = live_bytes();
///     drop(buffer);
///     // 1 MiB more, give or take what other threads allocated or freed meanwhile (exact in
///     // a process at rest: the scrape's own buffers are not in it).
///     assert!((during - before - f64::from(1 << 20)).abs() < 64.0 * 1024.0);
///     assert!(instrument_metrics::render().contains("# TYPE process_heap_allocations_total counter"));
/// }
/// ```
///
/// It is a `GlobalAlloc` like any other, and can be called directly (but every `Counting`
/// counts into the same process-wide figures, which are only shown when one of them is the
/// global allocator):
///
/// ```
/// use std::alloc::{GlobalAlloc, Layout, System};
/// use instrument_metrics::alloc::Counting;
///
/// let allocator = Counting::new(System);
/// let layout = Layout::from_size_align(64, 8).unwrap();
/// // SAFETY: a non-zero size; the block is freed once, with its layout.
/// unsafe {
///     let block = allocator.alloc(layout);
///     assert!(!block.is_null());
///     let block = allocator.realloc(block, layout, 128);
///     assert!(!block.is_null());
///     allocator.dealloc(block, Layout::from_size_align(128, 8).unwrap());
/// }
/// ```
///
/// What is counted:
/// - `alloc` and `alloc_zeroed`: one allocation, `layout.size()` bytes (what was asked for:
///   the allocator's rounding up and bookkeeping are not seen from here);
/// - `dealloc`: `layout.size()` bytes fewer, no allocation;
/// - `realloc`: one allocation, and the bytes move by the difference of the sizes (a block
///   grown from 3,000 to 10,000 bytes adds 7,000). It is a call into the allocator that hands
///   back a block of a new size, usually a copy, so a `Vec` grown by doubling shows each step
///   in the allocation rate;
/// - a call that fails (a null pointer) counts nothing.
///
/// Cost: each thread writes counters of its own (the first 128 threads alive at once each own
/// a shard; a thread's shard goes to the next thread when it exits, counts included), with a
/// plain load and store: no lock, no locked instruction, no cache line shared with another
/// thread. Threads beyond 128 share 16 shards with atomic adds. The figures are summed at
/// scrape time; they are exact when the threads are at rest, and a reading taken while they
/// allocate may be off by what moved during it. The README's Performance section has the
/// figures per allocation.
///
/// Platforms: a thread finds its shard through a thread-local, read on every call, so the
/// target needs native thread-locals (Linux, macOS, Windows, the BSDs, Android, iOS). Where
/// std emulates them with OS keys, the thread-local's first use allocates, which would call
/// back into the allocator; use `System` alone there.
pub struct Counting<A> {
    inner: A,
}

impl<A: GlobalAlloc> Counting<A> {
    /// Wraps `inner`; `const`, for a `static`.
    ///
    /// ```
    /// use std::alloc::System;
    /// static ALLOCATOR: instrument_metrics::alloc::Counting<System> =
    ///     instrument_metrics::alloc::Counting::new(System);
    /// ```
    #[must_use]
    pub const fn new(inner: A) -> Self {
        Counting { inner }
    }
}

impl<A> std::fmt::Debug for Counting<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counting").finish_non_exhaustive()
    }
}

// SAFETY: every call is forwarded to `inner` with the caller's arguments, and its result
// returned unchanged; counting allocates nothing and never unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `inner`'s.
        let block = unsafe { self.inner.alloc(layout) };
        if !block.is_null() {
            heap::allocated(layout.size());
        }
        block
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let block = unsafe { self.inner.alloc_zeroed(layout) };
        if !block.is_null() {
            heap::allocated(layout.size());
        }
        block
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.inner.dealloc(ptr, layout) };
        heap::freed(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let block = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !block.is_null() {
            heap::resized(layout.size(), new_size);
        }
        block
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};

    use super::Counting;
    use crate::record::heap::{totals, Totals, TEST_LOCK};

    /// An allocator that has nothing to give.
    struct Refusing;

    // SAFETY: never hands out memory, so there is nothing to free.
    unsafe impl GlobalAlloc for Refusing {
        unsafe fn alloc(&self, _: Layout) -> *mut u8 {
            std::ptr::null_mut()
        }
        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }

    fn since(before: Totals) -> (i64, u64) {
        let now = totals();
        (
            now.bytes - before.bytes,
            now.allocations - before.allocations,
        )
    }

    #[test]
    fn every_call_is_forwarded_and_counted() {
        let _serial = TEST_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let a = Counting::new(System);
        let layout = Layout::from_size_align(3000, 16).unwrap();
        let before = totals();
        // SAFETY: non-zero sizes; each block freed once, with the layout it has then.
        unsafe {
            let p = a.alloc_zeroed(layout);
            assert!(!p.is_null());
            assert!(std::slice::from_raw_parts(p, 3000).iter().all(|&b| b == 0));
            assert_eq!(since(before), (3000, 1));
            let p = a.realloc(p, layout, 10_000);
            assert!(!p.is_null());
            assert_eq!(since(before), (10_000, 2));
            let p = a.realloc(p, Layout::from_size_align(10_000, 16).unwrap(), 10);
            assert_eq!(since(before), (10, 3));
            let q = a.alloc(layout);
            assert_eq!(since(before), (3010, 4));
            a.dealloc(q, layout);
            a.dealloc(p, Layout::from_size_align(10, 16).unwrap());
        }
        assert_eq!(since(before), (0, 4));
    }

    #[test]
    fn a_failed_call_counts_nothing() {
        let _serial = TEST_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let a = Counting::new(Refusing);
        let layout = Layout::from_size_align(64, 8).unwrap();
        let before = totals();
        // SAFETY: nothing is handed out; `realloc`'s pointer is never read (`Refusing`'s
        // default `realloc` allocates first and fails).
        unsafe {
            assert!(a.alloc(layout).is_null());
            assert!(a.alloc_zeroed(layout).is_null());
            let mut byte = 0u8;
            assert!(a.realloc(&raw mut byte, Layout::new::<u8>(), 64).is_null());
        }
        assert_eq!(since(before), (0, 0));
    }

    #[test]
    fn a_counting_allocator_that_is_not_the_global_one_is_not_shown() {
        let _serial = TEST_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let a = Counting::new(System);
        let layout = Layout::new::<u64>();
        // SAFETY: freed once, with its layout.
        unsafe { a.dealloc(a.alloc(layout), layout) };
        let text = crate::expose::scrape::render();
        assert!(!text.contains("process_heap"), "{text}");
    }
}
