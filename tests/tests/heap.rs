//! The heap families, with `Counting<System>` as this binary's global allocator, read back
//! through `render()`.
//!
//! `harness = false` (see Cargo.toml): the figures are process-wide, so the exactness checks
//! need a process at rest, and libtest's own threads (the runner, its output capture) allocate
//! on their own schedule. Here `main` runs each check in turn, on the main thread, once the
//! clock's calibration thread (started before `main`) has exited.
//!
//! Exactness through the exposition: the heap figures are read before a scrape allocates
//! anything for its reading, and each `reading()` frees the text and what it parsed before it
//! returns, so two readings at rest see the same live bytes; whatever the test holds in
//! between is the difference. For the allocation counter, a scrape's own allocations are
//! measured as the difference between two readings with nothing in between (the same each
//! time: checked), and subtracted.

use std::alloc::System;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use instrument_metrics::alloc::Counting;
use instrument_metrics_tests::{find_value, parse};

#[global_allocator]
static GLOBAL: Counting<System> = Counting::new(System);

const BYTES: &str = "process_heap_allocated_bytes";
const ALLOCATIONS: &str = "process_heap_allocations_total";

/// Live bytes and allocations made, as one scrape shows them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Reading {
    bytes: i64,
    allocations: u64,
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn reading() -> Reading {
    let text = instrument_metrics::render();
    let samples = parse(&text);
    let get = |name: &str| {
        find_value(&samples, name, &[]).unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    let bytes = get(BYTES);
    let allocations = get(ALLOCATIONS);
    assert!(bytes >= 0.0 && bytes.fract() == 0.0, "{BYTES} {bytes}");
    assert!(allocations.fract() == 0.0, "{ALLOCATIONS} {allocations}");
    Reading {
        bytes: bytes as i64,
        allocations: allocations as u64,
    }
}

/// Waits until this process runs on the main thread alone (the clock's calibration thread,
/// started before `main`, sleeps 20 ms and exits): a generous 30 s bound for a loaded machine.
#[cfg(target_os = "linux")]
fn wait_for_rest() {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let threads = std::fs::read_dir("/proc/self/task")
            .expect("/proc/self/task")
            .count();
        if threads == 1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{threads} threads after 30 s, expected the main thread alone"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Elsewhere, no `/proc` to count threads with: the calibration thread is given a second.
#[cfg(not(target_os = "linux"))]
fn wait_for_rest() {
    std::thread::sleep(Duration::from_secs(1));
}

/// The allocations one reading makes between its own figure and the next reading's.
fn allocations_per_reading() -> u64 {
    let a = reading();
    let b = reading();
    let c = reading();
    let per = b.allocations - a.allocations;
    assert_eq!(
        c.allocations - b.allocations,
        per,
        "a scrape allocates the same number of times at rest"
    );
    per
}

fn families_are_there_with_their_types() {
    let text = instrument_metrics::render();
    assert!(text.contains(&format!("# TYPE {BYTES} gauge\n")), "{text}");
    assert!(
        text.contains(&format!("# TYPE {ALLOCATIONS} counter\n")),
        "{text}"
    );
    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(om.contains(&format!("# TYPE {BYTES} gauge\n")), "{om}");
    assert!(
        om.contains("# TYPE process_heap_allocations counter\n"),
        "{om}"
    );
    let r = reading();
    assert!(r.bytes > 0 && r.allocations > 0, "{r:?}");
    // Outside gatherers of the registry see them too.
    let gathered = instrument_metrics::registry().gather();
    for name in [BYTES, ALLOCATIONS] {
        assert!(
            gathered.iter().any(|f| f.name() == name),
            "{name} not gathered"
        );
    }
}

fn bytes_follow_one_allocation_exactly() {
    // Warm up: the registry, the body's size hint.
    for _ in 0..3 {
        let _ = reading();
    }
    let before = reading();
    let held: Vec<u8> = Vec::with_capacity(1 << 20);
    let held = black_box(held);
    let during = reading();
    drop(held);
    let after = reading();
    assert_eq!(
        during.bytes - before.bytes,
        1 << 20,
        "{before:?} {during:?}"
    );
    assert_eq!(after.bytes, before.bytes, "{before:?} {after:?}");
}

fn allocations_count_exactly() {
    let per = allocations_per_reading();

    // 100 boxes, allocated and freed.
    let before = reading();
    for i in 0..100u64 {
        drop(black_box(Box::new(i)));
    }
    let after = reading();
    assert_eq!(after.allocations - before.allocations - per, 100);
    assert_eq!(after.bytes, before.bytes);

    // alloc_zeroed counts as an allocation, of its size.
    let before = reading();
    let zeroed = black_box(vec![0u8; 3000]);
    let after = reading();
    assert_eq!(after.allocations - before.allocations - per, 1);
    assert_eq!(after.bytes - before.bytes, 3000);

    // realloc: one allocation, the bytes by the size difference (both ways).
    let mut grown = zeroed;
    let before = reading();
    grown.reserve_exact(10_000 - grown.len());
    let grown = black_box(grown);
    let after = reading();
    assert_eq!(grown.capacity(), 10_000);
    assert_eq!(after.allocations - before.allocations - per, 1);
    assert_eq!(after.bytes - before.bytes, 10_000 - 3000);
    let mut shrunk = grown;
    shrunk.truncate(10);
    let before = reading();
    shrunk.shrink_to_fit();
    let shrunk = black_box(shrunk);
    let after = reading();
    assert_eq!(shrunk.capacity(), 10);
    assert_eq!(after.allocations - before.allocations - per, 1);
    assert_eq!(after.bytes - before.bytes, 10 - 10_000);
    let before = reading();
    drop(shrunk);
    let after = reading();
    assert_eq!(after.bytes - before.bytes, -10);
    assert_eq!(after.allocations - before.allocations - per, 0);
}

/// A thread that exits while what it allocated is still live, and memory freed by another
/// thread than the one that allocated it: nothing is lost.
fn threads_that_exit_keep_their_counts() {
    // Warm up whatever spawning a thread sets up once.
    std::thread::spawn(|| drop(black_box(vec![1u8; 10])))
        .join()
        .unwrap();
    wait_for_rest();
    let before = reading();
    let kept: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            std::thread::spawn(move || black_box(vec![i; 3 << 20]))
                .join()
                .unwrap()
        })
        .collect();
    wait_for_rest();
    let during = reading();
    assert_eq!(
        during.bytes - before.bytes,
        4 * (3 << 20) + 4 * 24,
        "{before:?} {during:?}"
    );
    // Freed on yet another thread.
    std::thread::spawn(move || drop(kept)).join().unwrap();
    wait_for_rest();
    let after = reading();
    assert_eq!(after.bytes, before.bytes, "{before:?} {after:?}");
}

/// Eight threads allocate, reallocate and free (a third of it on another thread than the one
/// that allocated) while a scraper reads: the counter never goes back, the gauge is never
/// negative, and once they are all joined the live bytes are exactly where they started.
fn concurrent_threads_and_a_scraper() {
    std::thread::spawn(|| {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        tx.send(vec![0; 8]).unwrap();
        drop(rx.recv());
    })
    .join()
    .unwrap();
    wait_for_rest();
    let before = reading();

    let stop = Arc::new(AtomicBool::new(false));
    let scraper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut last = reading();
            let mut scrapes = 0u32;
            while !stop.load(Ordering::Relaxed) || scrapes < 5 {
                let now = reading();
                assert!(
                    now.allocations >= last.allocations,
                    "the counter went back: {last:?} -> {now:?}"
                );
                last = now;
                scrapes += 1;
            }
            scrapes
        })
    };
    let barrier = Arc::new(Barrier::new(8));
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let freer = std::thread::spawn(move || {
        let mut freed = 0u64;
        for v in rx {
            drop(v);
            freed += 1;
        }
        freed
    });
    let workers: Vec<_> = (0..8u32)
        .map(|t| {
            let barrier = barrier.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut kept = Vec::new();
                for i in 0..20_000u32 {
                    let size = 1 + ((i * 7919 + t * 104_729) % 4096) as usize;
                    let mut v = black_box(vec![0u8; size]);
                    if i % 5 == 0 {
                        v.reserve_exact(size * 2);
                    }
                    match i % 3 {
                        0 => tx.send(v).unwrap(),
                        1 => kept.push(v),
                        _ => drop(v),
                    }
                    if kept.len() > 64 {
                        kept.clear();
                    }
                }
                black_box(kept);
            })
        })
        .collect();
    drop((tx, barrier));
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(freer.join().unwrap(), 8 * 6667);
    stop.store(true, Ordering::Relaxed);
    drop(stop);
    let scrapes = scraper.join().unwrap();
    wait_for_rest();
    let after = reading();
    assert_eq!(
        after.bytes, before.bytes,
        "{before:?} {after:?} ({scrapes} scrapes)"
    );
    assert!(
        after.allocations >= before.allocations + 8 * 20_000 * 6 / 5,
        "{before:?} {after:?}"
    );
}

fn promtool_finds_nothing_to_say() {
    instrument_metrics_tests::assert_promtool_finds_nothing(&instrument_metrics::render());
}

fn main() {
    let checks: [(&str, fn()); 6] = [
        (
            "families_are_there_with_their_types",
            families_are_there_with_their_types,
        ),
        (
            "bytes_follow_one_allocation_exactly",
            bytes_follow_one_allocation_exactly,
        ),
        ("allocations_count_exactly", allocations_count_exactly),
        (
            "threads_that_exit_keep_their_counts",
            threads_that_exit_keep_their_counts,
        ),
        (
            "concurrent_threads_and_a_scraper",
            concurrent_threads_and_a_scraper,
        ),
        (
            "promtool_finds_nothing_to_say",
            promtool_finds_nothing_to_say,
        ),
    ];
    // `--list`, filters and `--skip`, as libtest takes them (`cargo test -- NAME` works);
    // other options are ignored, with the value of those that take one.
    let mut args = std::env::args().skip(1);
    let (mut filters, mut skips, mut list) = (Vec::new(), Vec::new(), false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => list = true,
            "--skip" => skips.extend(args.next()),
            "--test-threads" | "--color" | "--format" | "--logfile" | "-Z" => {
                let _ = args.next();
            }
            a if a.starts_with('-') => {}
            _ => filters.push(arg),
        }
    }
    if list {
        for (name, _) in checks {
            println!("{name}: test");
        }
        return;
    }
    let chosen = |name: &str| {
        (filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
            && !skips.iter().any(|s| name.contains(s.as_str()))
    };
    wait_for_rest();
    let mut ran = 0;
    for (name, check) in checks {
        if !chosen(name) {
            continue;
        }
        check();
        println!("test {name} ... ok");
        ran += 1;
    }
    println!("\ntest result: ok. {ran} passed; 0 failed");
}
