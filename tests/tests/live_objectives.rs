//! The live page's JSON shows each declared objective's counts and remaining budgets, exactly.

use std::time::Duration;

use instrument_metrics::instrument_metrics;
use instrument_metrics::slo::{declare, Objective};
use serde_json::Value;

#[instrument_metrics(objective = "checkout", buckets = [0.01, 0.1])]
fn pay(fail: bool, ms: u64) -> Result<(), ()> {
    std::thread::sleep(Duration::from_millis(ms));
    if fail {
        Err(())
    } else {
        Ok(())
    }
}

#[test]
fn objectives_carry_their_counts_and_budgets() {
    declare([Objective::new("checkout")
        .success_ratio(0.9)
        .latency(Duration::from_millis(10), 0.5)])
    .unwrap();
    // 10 calls: 1 failed (budget 10% of 10 = 1 call: all spent), 2 slower than 10 ms
    // (budget 50% = 5 calls: 3/5 left).
    for i in 0..10 {
        pay(i == 0, if i < 2 { 15 } else { 0 }).unwrap_or(());
    }
    let doc: Value = serde_json::from_str(&instrument_metrics::live::functions_json()).unwrap();
    let objectives = doc["objectives"].as_array().expect("an array");
    assert_eq!(objectives.len(), 1, "{doc}");
    let o = &objectives[0];
    assert_eq!(o["name"], "checkout");
    assert_eq!(o["success_target"], 0.9);
    assert_eq!(o["calls"], 10.0);
    assert_eq!(o["failed"], 1.0);
    assert!(
        o["error_budget_remaining"].as_f64().unwrap().abs() < 1e-9,
        "{o}"
    );
    assert_eq!(o["latency_threshold_seconds"], 0.01);
    assert_eq!(o["latency_target"], 0.5);
    assert_eq!(o["timed"], 10.0);
    assert_eq!(o["slow"], 2.0);
    assert!(
        (o["latency_budget_remaining"].as_f64().unwrap() - 0.6).abs() < 1e-9,
        "{o}"
    );
}
