//! tokio's unstable metrics are exposed when the application builds with
//! `--cfg tokio_unstable`, and absent without it. scripts/test runs this file both ways.

use std::collections::BTreeMap;
use std::time::Duration;

use instrument_metrics::runtime::{register_tokio, unregister_tokio};

/// `name{labels} value` lines of the text exposition whose `runtime` label is `runtime`.
fn samples(runtime: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let text = instrument_metrics::render();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (name, labels) = series.split_once('{')?;
            let labels: BTreeMap<String, String> = labels
                .trim_end_matches('}')
                .split(',')
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((k.to_owned(), v.trim_matches('"').to_owned()))
                })
                .collect();
            (labels.get("runtime").map(String::as_str) == Some(runtime))
                .then(|| (name.to_owned(), labels, value.parse().expect("a number")))
        })
        .collect()
}

const UNSTABLE_PER_RUNTIME: [&str; 6] = [
    "tokio_runtime_blocking_threads",
    "tokio_runtime_idle_blocking_threads",
    "tokio_runtime_blocking_queue_depth",
    "tokio_runtime_spawned_tasks_total",
    "tokio_runtime_remote_schedules_total",
    "tokio_runtime_budget_forced_yields_total",
];
const UNSTABLE_PER_WORKER: [&str; 8] = [
    "tokio_runtime_worker_polls_total",
    "tokio_runtime_worker_steals_total",
    "tokio_runtime_worker_steal_operations_total",
    "tokio_runtime_worker_noops_total",
    "tokio_runtime_worker_local_schedules_total",
    "tokio_runtime_worker_overflows_total",
    "tokio_runtime_worker_local_queue_depth",
    "tokio_runtime_worker_mean_poll_time_seconds",
];

#[test]
fn unstable_families_follow_the_cfg() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    register_tokio(runtime.handle(), "unstable").unwrap();
    // 10 tasks spawned from outside the runtime, each polled to completion.
    runtime.block_on(async {
        let tasks: Vec<_> = (0..10)
            .map(|_| tokio::spawn(async { tokio::time::sleep(Duration::from_millis(1)).await }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let _ = runtime.block_on(runtime.spawn_blocking(|| 1 + 1));

    let found = samples("unstable");
    let count = |name: &str| found.iter().filter(|s| s.0 == name).count();
    let value = |name: &str| {
        found
            .iter()
            .find(|s| s.0 == name)
            .map(|s| s.2)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(value("tokio_runtime_workers"), 2.0);
    assert_eq!(count("tokio_runtime_worker_parks_total"), 2);

    if cfg!(tokio_unstable) {
        for name in UNSTABLE_PER_RUNTIME {
            assert_eq!(count(name), 1, "{name}");
        }
        for name in UNSTABLE_PER_WORKER {
            assert_eq!(count(name), 2, "{name}: one per worker");
        }
        assert_eq!(
            value("tokio_runtime_spawned_tasks_total"),
            10.0,
            "the ten tasks"
        );
        assert_eq!(
            value("tokio_runtime_blocking_threads"),
            1.0,
            "one spawn_blocking"
        );
        let polls: f64 = found
            .iter()
            .filter(|s| s.0 == "tokio_runtime_worker_polls_total")
            .map(|s| s.2)
            .sum();
        // Each task is polled at least twice (the sleep, then done); block_on's own future is
        // polled by the calling thread, not a worker.
        assert!(polls >= 20.0, "{polls} polls");
    } else {
        for name in UNSTABLE_PER_RUNTIME.iter().chain(&UNSTABLE_PER_WORKER) {
            assert_eq!(count(name), 0, "{name} needs --cfg tokio_unstable");
        }
    }
    unregister_tokio("unstable");
}
