//! The first instrumented call of a process costs what any call costs: the clock is calibrated
//! before `main`, on a thread of its own, never on a caller's path.
//!
//! Each measurement needs a fresh process, so the test runs this same binary as children (the
//! `child` test below, selected by an environment variable) and keeps the fastest of them: a
//! busy machine can slow any one process, but not all of them by the milliseconds a
//! calibration takes.

use std::process::Command;
use std::time::Instant;

use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn first() -> u64 {
    std::hint::black_box(7)
}

const CHILD: &str = "INSTRUMENT_METRICS_FIRST_CALL_CHILD";

/// Times the first instrumented call of this process (nothing else in this binary calls
/// `first`) and checks it was counted; as a child of the test below, prints the time.
#[test]
fn child() {
    let start = Instant::now();
    first();
    let nanos = start.elapsed().as_nanos();
    assert_eq!(instrument_metrics_tests::calls("first"), [1, 0, 0, 0]);
    if std::env::var_os(CHILD).is_some() {
        println!("first-call-nanos={nanos}");
    }
}

#[test]
fn the_first_call_does_not_wait_for_clock_calibration() {
    let exe = std::env::current_exe().unwrap();
    let mut fastest = u128::MAX;
    for _ in 0..7 {
        let out = Command::new(&exe)
            .args(["child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let nanos: u128 = stdout
            .lines()
            .find_map(|l| l.split("first-call-nanos=").nth(1))
            .unwrap_or_else(|| panic!("child printed no timing: {stdout}"))
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .parse()
            .unwrap();
        fastest = fastest.min(nanos);
    }
    // A calibration takes milliseconds; a call, even a first one (a thread slot to take, cold
    // caches), takes microseconds.
    assert!(
        fastest < 200_000,
        "the fastest first call of 7 processes took {fastest} ns"
    );
}
