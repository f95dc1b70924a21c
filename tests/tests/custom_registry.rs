//! A registry built with a prefix and constant labels: the function metrics get them too,
//! exactly as `gather()` + `TextEncoder` would write them.

use std::collections::HashMap;

use instrument_metrics::prometheus::{self, Encoder as _};
use instrument_metrics::{instrument_metrics, Error};
use instrument_metrics_tests::{parse, Sample};

#[instrument_metrics(labels(layer = "db"))]
fn query_rows(fail: bool) -> Result<u32, String> {
    if fail {
        Err("timeout".into())
    } else {
        Ok(3)
    }
}

fn function_samples(text: &str) -> Vec<Sample> {
    let mut v: Vec<Sample> = parse(text)
        .into_iter()
        .filter(|s| s.name.starts_with("app_function_calls"))
        .collect();
    v.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    v
}

#[test]
fn prefix_and_constant_labels_apply_to_function_metrics() {
    let labels = HashMap::from([("region".to_owned(), "eu".to_owned())]);
    let registry: &'static prometheus::Registry = Box::leak(Box::new(
        prometheus::Registry::new_custom(Some("app".into()), Some(labels)).unwrap(),
    ));
    instrument_metrics::use_registry(registry).unwrap();
    query_rows(false).unwrap();
    query_rows(true).unwrap_err();

    let rendered = instrument_metrics::render();
    let mut buf = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .unwrap();
    let gathered = String::from_utf8(buf).unwrap();

    let ours = function_samples(&rendered);
    assert_eq!(ours.len(), 4 + 15 + 2, "{rendered}");
    // `_sum` is a float both sides print from the same nanoseconds; compare everything.
    assert_eq!(ours, function_samples(&gathered));
    let errors = ours
        .iter()
        .find(|s| s.name == "app_function_calls_total" && s.labels["result"] == "error")
        .unwrap();
    assert_eq!(errors.labels["region"], "eu");
    assert_eq!(errors.labels["layer"], "db");
    assert!((errors.value - 1.0).abs() < f64::EPSILON);
    assert!(
        !rendered.lines().any(|l| l.starts_with("function_calls")),
        "unprefixed family left"
    );

    let om = instrument_metrics::render_openmetrics();
    assert!(om.lines().any(|l| l == "# TYPE app_function_calls counter"));
    assert!(om
        .lines()
        .any(|l| l == "# UNIT app_function_calls_duration_seconds seconds"));

    // The default registry no longer carries them: they moved.
    let default_families = prometheus::default_registry().gather();
    assert!(!default_families
        .iter()
        .any(|f| f.name().contains("function_calls")));
    assert!(matches!(
        instrument_metrics::use_registry(registry),
        Err(Error::RegistryAlreadyChosen)
    ));
}
