//! `runtime::register_tokio`: a real tokio runtime's statistics, read back from the exposition.
//! Each test builds and registers its own runtimes under names of its own, so tests running in
//! parallel never read each other's series. Waits are for a condition, with a generous bound.

use std::sync::Arc;
use std::time::{Duration, Instant};

use instrument_metrics::runtime::{register_tokio, unregister_tokio};
use instrument_metrics_tests::{find_value, parse, Sample};
use tokio::runtime::{Builder, Runtime};

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime")
}

fn read(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    find_value(samples, name, labels)
}

/// The runtime's value of a per-runtime family, now.
fn gauge(runtime: &str, name: &str) -> f64 {
    read(
        &parse(&instrument_metrics::render()),
        name,
        &[("runtime", runtime)],
    )
    .unwrap_or_else(|| panic!("no {name}{{runtime={runtime:?}}}"))
}

/// A per-worker family of `runtime`, worker by worker.
fn per_worker(samples: &[Sample], runtime: &str, name: &str) -> Vec<f64> {
    let mut rows: Vec<(usize, f64)> = samples
        .iter()
        .filter(|s| s.name == name && s.labels.get("runtime").map(String::as_str) == Some(runtime))
        .map(|s| (s.labels["worker"].parse().expect("worker index"), s.value))
        .collect();
    rows.sort_by_key(|r| r.0);
    assert!(
        rows.iter().enumerate().all(|(i, r)| r.0 == i),
        "workers numbered 0..n: {rows:?}"
    );
    rows.into_iter().map(|r| r.1).collect()
}

/// Polls `f` until it returns `Some`, for at most 20 s (a loaded machine can be slow to
/// schedule a worker; nothing here races a tighter clock).
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "not within 20 s: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Nanoseconds this thread has spent on a CPU (`/proc/thread-self/schedstat`, first field).
fn thread_cpu_nanos() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    stat.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("CPU nanoseconds")
}

#[test]
fn workers_are_the_configured_count_and_each_has_its_series() {
    let three = multi_thread(3);
    register_tokio(three.handle(), "t_three").unwrap();
    let one = Builder::new_current_thread().build().unwrap();
    register_tokio(one.handle(), "t_current").unwrap();

    let samples = parse(&instrument_metrics::render());
    assert_eq!(
        read(&samples, "tokio_runtime_workers", &[("runtime", "t_three")]),
        Some(3.0)
    );
    assert_eq!(
        read(
            &samples,
            "tokio_runtime_workers",
            &[("runtime", "t_current")]
        ),
        Some(1.0)
    );
    for (runtime, workers) in [("t_three", 3), ("t_current", 1)] {
        for family in [
            "tokio_runtime_worker_busy_seconds_total",
            "tokio_runtime_worker_parks_total",
        ] {
            assert_eq!(
                per_worker(&samples, runtime, family).len(),
                workers,
                "{family} of {runtime}"
            );
        }
        assert_eq!(
            read(
                &samples,
                "tokio_runtime_alive_tasks",
                &[("runtime", runtime)]
            ),
            Some(0.0)
        );
        assert_eq!(
            read(
                &samples,
                "tokio_runtime_global_queue_depth",
                &[("runtime", runtime)]
            ),
            Some(0.0)
        );
    }
    unregister_tokio("t_three");
    unregister_tokio("t_current");
}

#[test]
fn alive_tasks_count_the_parked_tasks_then_none() {
    const TASKS: usize = 7;
    let runtime = multi_thread(2);
    register_tokio(runtime.handle(), "t_alive").unwrap();
    let release = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let release = Arc::clone(&release);
            let started = Arc::clone(&started);
            runtime.spawn(async move {
                let released = release.notified();
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                released.await;
            })
        })
        .collect();
    eventually("every task started", || {
        (started.load(std::sync::atomic::Ordering::SeqCst) == TASKS).then_some(())
    });
    // Parked on the notification: alive, exactly these.
    assert_eq!(gauge("t_alive", "tokio_runtime_alive_tasks"), TASKS as f64);

    release.notify_waiters();
    runtime.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
    // A task leaves the runtime's list just after its JoinHandle hears it finished.
    eventually("no task alive", || {
        (gauge("t_alive", "tokio_runtime_alive_tasks") == 0.0).then_some(())
    });
    unregister_tokio("t_alive");
}

#[test]
fn a_workers_busy_time_grows_by_at_least_the_cpu_time_it_spun() {
    let runtime = multi_thread(1);
    register_tokio(runtime.handle(), "t_busy").unwrap();
    let before = per_worker(
        &parse(&instrument_metrics::render()),
        "t_busy",
        "tokio_runtime_worker_busy_seconds_total",
    )[0];

    // Spin on the one worker until it has used 200 ms of CPU (its own clock, not the wall's).
    let spun = runtime
        .block_on(runtime.spawn(async {
            let start = thread_cpu_nanos();
            let mut x = 0u64;
            while thread_cpu_nanos() - start < 200_000_000 {
                for i in 0..10_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
            }
            thread_cpu_nanos() - start
        }))
        .unwrap();
    let spun = Duration::from_nanos(spun).as_secs_f64();

    // tokio adds the time when the worker ends its batch of tasks (it then parks).
    let grown = eventually("busy time counted", || {
        let now = per_worker(
            &parse(&instrument_metrics::render()),
            "t_busy",
            "tokio_runtime_worker_busy_seconds_total",
        )[0];
        (now - before >= spun).then_some(now - before)
    });
    assert!(grown >= spun, "busy grew {grown} s, spun {spun} s");
    unregister_tokio("t_busy");
}

#[test]
fn parks_grow_when_workers_idle_and_counters_never_go_back() {
    let runtime = multi_thread(2);
    register_tokio(runtime.handle(), "t_parks").unwrap();
    let read_all = || {
        let samples = parse(&instrument_metrics::render());
        (
            per_worker(&samples, "t_parks", "tokio_runtime_worker_parks_total"),
            per_worker(
                &samples,
                "t_parks",
                "tokio_runtime_worker_busy_seconds_total",
            ),
        )
    };
    let first = read_all();
    let mut last = first.clone();
    for round in 0..20 {
        // Work, then nothing: each worker that ran something parks again.
        runtime.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(1 + (i % 3))).await;
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let now = read_all();
        for (family, (a, b)) in [("parks", (&last.0, &now.0)), ("busy", (&last.1, &now.1))] {
            for (w, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                assert!(
                    y >= x,
                    "round {round}: {family} of worker {w} went from {x} to {y}"
                );
            }
        }
        last = now;
    }
    let total = |v: &[f64]| v.iter().sum::<f64>();
    assert!(
        total(&last.0) > total(&first.0),
        "the workers parked between rounds: {:?} -> {:?}",
        first.0,
        last.0
    );
    unregister_tokio("t_parks");
}

#[test]
fn runtimes_side_by_side_and_one_unregistered() {
    let app = multi_thread(2);
    let background = multi_thread(1);
    register_tokio(app.handle(), "t_app").unwrap();
    register_tokio(background.handle(), "t_background").unwrap();
    assert_eq!(gauge("t_app", "tokio_runtime_workers"), 2.0);
    assert_eq!(gauge("t_background", "tokio_runtime_workers"), 1.0);

    assert!(unregister_tokio("t_background"));
    let samples = parse(&instrument_metrics::render());
    assert!(
        !samples
            .iter()
            .any(|s| s.labels.get("runtime").map(String::as_str) == Some("t_background")),
        "an unregistered runtime leaves the exposition"
    );
    assert_eq!(
        read(&samples, "tokio_runtime_workers", &[("runtime", "t_app")]),
        Some(2.0)
    );
    assert!(!unregister_tokio("t_background"));
    // The name is free again.
    register_tokio(background.handle(), "t_background").unwrap();
    unregister_tokio("t_background");
    unregister_tokio("t_app");
}

#[test]
fn a_taken_or_empty_name_is_an_error_that_says_what_to_do() {
    let runtime = multi_thread(1);
    register_tokio(runtime.handle(), "t_taken").unwrap();
    let other = multi_thread(1);
    let err = register_tokio(other.handle(), "t_taken").unwrap_err();
    assert!(
        matches!(err, instrument_metrics::Error::InvalidConfig(_)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid configuration: register_tokio: a runtime named \"t_taken\" is already \
         registered: give each runtime its own name, or unregister_tokio(\"t_taken\") first"
    );
    // The first registration stands.
    assert_eq!(gauge("t_taken", "tokio_runtime_workers"), 1.0);

    let err = register_tokio(other.handle(), "").unwrap_err();
    assert!(
        matches!(err, instrument_metrics::Error::InvalidConfig(_)),
        "{err:?}"
    );
    unregister_tokio("t_taken");
}

#[test]
fn every_format_carries_the_runtime_families() {
    let runtime = multi_thread(2);
    register_tokio(runtime.handle(), "t_formats").unwrap();
    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(
        om.lines()
            .any(|l| l == "# TYPE tokio_runtime_worker_busy_seconds counter"),
        "OpenMetrics names the counter without _total"
    );
    assert!(om
        .lines()
        .any(|l| l == "# UNIT tokio_runtime_worker_busy_seconds seconds"));
    let families = instrument_metrics_tests::decode_protobuf(
        &instrument_metrics::exposition::render_protobuf(),
    );
    let workers = families
        .iter()
        .find(|f| f.name.as_deref() == Some("tokio_runtime_workers"))
        .expect("tokio_runtime_workers in protobuf");
    let ours = workers
        .metric
        .iter()
        .find(|m| {
            m.label.iter().any(|l| {
                l.name.as_deref() == Some("runtime") && l.value.as_deref() == Some("t_formats")
            })
        })
        .expect("our runtime's series");
    assert_eq!(ours.gauge.as_ref().and_then(|g| g.value), Some(2.0));
    unregister_tokio("t_formats");
}
