//! Real threads hammering one function: exact totals, nothing lost.

use std::sync::Barrier;

use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::{calls, histogram};

#[instrument_metrics(in_flight)]
fn hot(i: u64) -> Result<u64, u64> {
    if i.is_multiple_of(10) {
        Err(i)
    } else {
        Ok(i)
    }
}

#[test]
fn eight_threads_times_100k_calls() {
    const THREADS: u64 = 8;
    const CALLS: u64 = 100_000;
    let barrier = Barrier::new(THREADS as usize + 1);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for i in 0..CALLS {
                    let _ = std::hint::black_box(hot(std::hint::black_box(i)));
                }
            });
        }
        barrier.wait();
        // Scrape while they run: must not block them nor see a broken histogram.
        for _ in 0..20 {
            let (count, inf, _) = histogram("hot");
            assert_eq!(count, inf);
        }
    });
    let total = THREADS * CALLS;
    assert_eq!(calls("hot"), [total - total / 10, total / 10, 0, 0]);
    let (count, inf, _) = histogram("hot");
    assert_eq!((count, inf), (total, total));
    let text = instrument_metrics::render();
    let in_flight =
        instrument_metrics_tests::value(&text, "function_calls_in_flight", &[("function", "hot")]);
    assert!(in_flight.abs() < f64::EPSILON);
}
