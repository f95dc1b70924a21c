//! What `slo::rules_yaml()` refuses, with the message, and what `slo::objectives()` counts, in
//! a binary of its own (the declared objectives are process-wide).

use std::time::Duration;

use instrument_metrics::instrument_metrics;
use instrument_metrics::slo::{self, Counts, Objective};

#[instrument_metrics(objective = "ghost")]
fn haunt() {}

/// Bounds 1 ms and 1 s: a call sleeping 20 ms is slow for a 1 ms threshold.
#[instrument_metrics(objective = "orders", buckets = [0.001, 1.0])]
async fn order(sleep_ms: u64, fail: bool) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    if fail {
        Err("refused".to_owned())
    } else {
        Ok(())
    }
}

#[tokio::test]
async fn refusals_name_the_fix_and_counts_follow_the_calls() {
    slow_calls_are_those_above_the_threshold_bound();
    haunt();
    // `orders` and `ghost` are carried but not declared yet.
    assert_eq!(
        slo::rules_yaml().unwrap_err().to_string(),
        "invalid configuration: functions carry objective `ghost`, which is not declared: add Objective::new(\"ghost\").success_ratio(…) to instrument_metrics::slo::declare([…])"
    );
    slo::declare([Objective::new("ghost").success_ratio(0.99)]).unwrap();
    // A refused declaration declares nothing, not even its valid objectives.
    assert!(slo::declare([
        Objective::new("orders").success_ratio(0.9),
        Objective::new("bad name").success_ratio(0.9),
    ])
    .is_err());
    assert_eq!(
        slo::objectives()
            .iter()
            .map(|d| d.objective().name())
            .collect::<Vec<_>>(),
        ["fast", "ghost"]
    );
    // A threshold between the bounds cannot be read from the histogram.
    slo::declare([Objective::new("orders").latency(Duration::from_millis(300), 0.9)]).unwrap();
    assert_eq!(
        slo::rules_yaml().unwrap_err().to_string(),
        "invalid configuration: objective `orders`: the latency threshold 300ms is not a bucket bound of `order` (module `slo_declared`), whose bounds are [0.001, 1] seconds: add 0.3 to its `buckets = […]`, or make the threshold one of those"
    );

    // Counts: calls without the cancelled ones, failures, timed calls, slow ones.
    let orders = || {
        slo::objectives()
            .into_iter()
            .find(|d| d.objective().name() == "orders")
            .unwrap()
    };
    let functions: Vec<(&str, &str)> = orders()
        .functions()
        .iter()
        .map(|f| (f.function(), f.module()))
        .collect();
    assert_eq!(functions, [("order", "slo_declared")]);
    let before = orders().counts();
    order(0, false).await.unwrap();
    order(20, true).await.unwrap_err();
    // Cancelled: dropped while sleeping.
    let _ = tokio::time::timeout(Duration::from_millis(5), order(1_000, false)).await;
    let window = orders().counts().since(&before);
    // The threshold (300 ms) is no bound, so no call is counted slow.
    assert_eq!(
        window,
        Counts {
            calls: 2,
            failed: 1,
            timed: 3,
            slow: 0
        }
    );
}

/// Bounds 1 ms and 1 s, objective `fast`: within 1 ms.
#[instrument_metrics(objective = "fast", buckets = [0.001, 1.0])]
fn quick(slow: bool) -> u8 {
    if slow {
        std::thread::sleep(Duration::from_millis(20));
    }
    1
}

/// A threshold on a bound counts the calls above it as slow (run first by the one test: the
/// declarations are process-wide).
fn slow_calls_are_those_above_the_threshold_bound() {
    slo::declare([Objective::new("fast").latency(Duration::from_millis(1), 0.5)]).unwrap();
    let fast = || {
        slo::objectives()
            .into_iter()
            .find(|d| d.objective().name() == "fast")
            .unwrap()
    };
    let before = fast().counts();
    for slow in [false, false, false, true] {
        quick(slow);
    }
    let window = fast().counts().since(&before);
    assert_eq!(
        window,
        Counts {
            calls: 4,
            failed: 0,
            timed: 4,
            slow: 1
        }
    );
    // Half may be slow, a quarter were: half the budget is left.
    assert_eq!(
        fast()
            .objective()
            .latency_budget_left(window.timed, window.slow),
        Some(0.5)
    );
}
