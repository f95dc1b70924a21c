//! A registry that already holds a metric named like a function family: `use_registry` says
//! so with prometheus's own error, and the output stays valid (the family appears once).

use instrument_metrics::prometheus::{self, IntCounter};
use instrument_metrics::{instrument_metrics, Error};

#[instrument_metrics]
fn conflicted() {}

#[test]
fn taken_family_names_are_reported_not_duplicated() {
    let registry: &'static prometheus::Registry = Box::leak(Box::new(prometheus::Registry::new()));
    let squatter = IntCounter::new("function_calls_total", "Someone else's counter.").unwrap();
    registry.register(Box::new(squatter.clone())).unwrap();
    squatter.inc_by(7);

    let err = instrument_metrics::use_registry(registry).unwrap_err();
    assert!(matches!(err, Error::Prometheus(_)), "{err:?}");
    conflicted();

    let text = instrument_metrics::render();
    let types: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("# TYPE function_calls_total"))
        .collect();
    assert_eq!(types, ["# TYPE function_calls_total counter"]);
    let samples = instrument_metrics_tests::parse(&text);
    let calls: Vec<_> = samples
        .iter()
        .filter(|s| s.name == "function_calls_total")
        .collect();
    assert_eq!(calls.len(), 1, "only the squatter's sample: {calls:?}");
    assert!((calls[0].value - 7.0).abs() < f64::EPSILON);
}
