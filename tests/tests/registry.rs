//! The registry: user metrics beside function metrics, and function metrics visible to
//! anyone who gathers the registry.

use instrument_metrics::prometheus::{self, register_int_counter_vec_with_registry, Encoder as _};
use instrument_metrics::{instrument_metrics, Error};
use instrument_metrics_tests::value;

#[instrument_metrics]
fn registered_work() {}

#[test]
fn user_metrics_and_function_metrics_share_the_registry() {
    let jobs = register_int_counter_vec_with_registry!(
        "jobs_total",
        "Jobs by kind.",
        &["kind"],
        instrument_metrics::registry()
    )
    .unwrap();
    jobs.with_label_values(&["import"]).inc_by(3);
    registered_work();

    let text = instrument_metrics::render();
    assert!((value(&text, "jobs_total", &[("kind", "import")]) - 3.0).abs() < f64::EPSILON);
    assert!(
        (value(
            &text,
            "function_calls_total",
            &[("function", "registered_work"), ("result", "ok")]
        ) - 1.0)
            .abs()
            < f64::EPSILON
    );
    // Every family appears once.
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let mut unique = types.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(types.len(), unique.len(), "{types:?}");

    // A hand-written handler that gathers the registry sees the function metrics.
    let families = instrument_metrics::registry().gather();
    let mut buf = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&families, &mut buf)
        .unwrap();
    let gathered = String::from_utf8(buf).unwrap();
    assert!(
        (value(
            &gathered,
            "function_calls_total",
            &[("function", "registered_work"), ("result", "ok")]
        ) - 1.0)
            .abs()
            < f64::EPSILON
    );
    assert!(
        (value(
            &gathered,
            "function_calls_duration_seconds_count",
            &[("function", "registered_work")]
        ) - 1.0)
            .abs()
            < f64::EPSILON
    );
    assert!((value(&gathered, "jobs_total", &[("kind", "import")]) - 3.0).abs() < f64::EPSILON);

    // Too late to pick another registry.
    let other: &'static prometheus::Registry = Box::leak(Box::new(prometheus::Registry::new()));
    assert!(matches!(
        instrument_metrics::use_registry(other),
        Err(Error::RegistryAlreadyChosen)
    ));
}

#[instrument_metrics]
fn seen_by_default_registry_before_any_use() {}

/// The collector is attached to `prometheus`'s default registry before `main`, so a program
/// that gathers it directly sees every instrumented function without touching this crate.
#[test]
fn default_registry_has_function_metrics_from_the_start() {
    let families = prometheus::gather();
    let calls = families
        .iter()
        .find(|f| f.name() == "function_calls_total")
        .expect("function_calls_total gathered from the default registry");
    let ours: Vec<_> = calls
        .get_metric()
        .iter()
        .filter(|m| {
            m.get_label().iter().any(|l| {
                l.name() == "function" && l.value() == "seen_by_default_registry_before_any_use"
            })
        })
        .collect();
    assert_eq!(ours.len(), 4, "one series per result");
    assert!(ours.iter().all(|m| m.get_counter().get_value() == 0.0));
}
