//! What `alloc::Counting` adds to an allocation: an alloc + free pair through
//! `Counting<System>` against `System` itself, called directly (`GlobalAlloc` methods on a
//! local instance, sizes behind `black_box`), for 16 B and 1 KiB, on one thread and on four
//! threads at once (CPU time per thread). The four-thread group has a third row, a naive counting allocator (one
//! process-wide pair of atomics, `fetch_add` on every call), to show what the shards avoid.
//!
//! `cargo bench -p instrument-metrics --bench heap`

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use instrument_metrics::alloc::Counting;

/// Counting the obvious way: every thread adds to the same two atomics.
struct Naive<A>(A);

static NAIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static NAIVE_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the inner allocator unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Naive<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the inner allocator's.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            #[allow(clippy::cast_possible_wrap)]
            NAIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
            NAIVE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) };
        #[allow(clippy::cast_possible_wrap)]
        NAIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }
}

static SYSTEM: System = System;
static COUNTING: Counting<System> = Counting::new(System);
static NAIVE: Naive<System> = Naive(System);

const SIZES: [(usize, &str); 2] = [(16, "16B"), (1024, "1KiB")];

/// `iters` alloc + free pairs of `size` bytes through `a`.
fn pairs(a: &dyn GlobalAlloc, size: usize, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let layout = Layout::from_size_align(black_box(size), 8).unwrap();
        // SAFETY: a non-zero size; the block is freed once, with its layout.
        unsafe {
            let p = a.alloc(layout);
            black_box(p);
            a.dealloc(p, layout);
        }
    }
    start.elapsed()
}

/// The CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write into.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0);
    #[allow(clippy::cast_sign_loss)]
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Four threads each making `iters` pairs at once: the mean of their CPU times (per thread;
/// CPU time, not wall time, so that a thread waiting for a core on this shared 2-core machine
/// is not counted, while one stalling on a contended cache line is).
fn four_threads(a: &'static (dyn GlobalAlloc + Sync), size: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let start = thread_cpu_time();
                pairs(a, size, iters);
                thread_cpu_time() - start
            })
        })
        .collect();
    let total: Duration = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total / 4
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let subjects: [(&str, &'static (dyn GlobalAlloc + Sync)); 3] = [
        ("system", &SYSTEM),
        ("counting", &COUNTING),
        ("naive", &NAIVE),
    ];

    let mut one = c.benchmark_group("heap_one_thread");
    for (size, label) in SIZES {
        for (name, a) in &subjects[..2] {
            one.bench_with_input(BenchmarkId::new(*name, label), &size, |b, &size| {
                b.iter_custom(|iters| pairs(*a, size, iters));
            });
        }
    }
    one.finish();

    let mut four = c.benchmark_group("heap_four_threads");
    for (size, label) in SIZES {
        for (name, a) in subjects {
            four.bench_with_input(BenchmarkId::new(name, label), &size, |b, &size| {
                b.iter_custom(|iters| four_threads(a, size, iters));
            });
        }
    }
    four.finish();
    c.final_summary();

    println!("\nmedians, ns per alloc + free pair:");
    for (group, rows) in [
        ("heap_one_thread", &subjects[..2]),
        ("heap_four_threads", &subjects[..]),
    ] {
        for (_, label) in SIZES {
            let get = |name: &str| common::median_ns(group, &format!("{name}/{label}"));
            let Some(system) = get("system") else {
                continue;
            };
            let mut line = format!("{group} {label}: system {system:.1}");
            for (name, _) in &rows[1..] {
                if let Some(t) = get(name) {
                    line.push_str(&format!(
                        ", {name} {t:.1} ({:+.1} ns, {:.2}x)",
                        t - system,
                        t / system
                    ));
                }
            }
            println!("{line}");
        }
    }
}
