//! A registry built with a prefix and constant labels: the function metrics get them too,
//! exactly as `gather()` + `TextEncoder` would write them.

use std::collections::HashMap;

use instrument_metrics::prometheus::{self, Encoder as _};
use instrument_metrics::{instrument_metrics, Error};
use instrument_metrics_tests::{parse, Sample};
use prost::Message as _;

#[path = "../client_model.rs"]
#[allow(dead_code)]
mod client_model;

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

    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(om.lines().any(|l| l == "# TYPE app_function_calls counter"));
    assert!(om
        .lines()
        .any(|l| l == "# UNIT app_function_calls_duration_seconds seconds"));

    // Protobuf: the same prefix and labels, the registry's after the function's own.
    let mut bytes = &instrument_metrics::exposition::render_protobuf()[..];
    let mut families = Vec::new();
    while !bytes.is_empty() {
        families.push(
            client_model::io::prometheus::client::MetricFamily::decode_length_delimited(&mut bytes)
                .unwrap(),
        );
    }
    let calls = families
        .iter()
        .find(|f| f.name() == "app_function_calls_total")
        .expect("prefixed family");
    assert!(!families
        .iter()
        .any(|f| f.name().starts_with("function_calls")));
    let error = calls
        .metric
        .iter()
        .find(|m| {
            m.label
                .iter()
                .any(|p| p.name() == "result" && p.value() == "error")
        })
        .unwrap();
    let labels: Vec<(&str, &str)> = error.label.iter().map(|p| (p.name(), p.value())).collect();
    assert_eq!(
        labels,
        [
            ("function", "query_rows"),
            ("module", "custom_registry"),
            ("layer", "db"),
            ("region", "eu"),
            ("result", "error")
        ]
    );
    assert_eq!(error.counter.as_ref().unwrap().value(), 1.0);

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
