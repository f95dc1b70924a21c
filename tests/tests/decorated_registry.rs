//! A registry that stamps every family with a prefix and constant labels
//! (`Registry::new_custom(Some("app"), {"region": "eu-west"})`): the HTTP families keep their
//! exemplars in OpenMetrics and their native buckets in protobuf, exactly as on the default
//! registry, and the function families theirs. (They were lost when the HTTP families went
//! through the registry and were matched back to their series by labels that the registry had
//! decorated.) Its own binary: the registry is chosen once per process.

use std::collections::HashMap;

use instrument_metrics::prometheus;
use instrument_metrics::{instrument_metrics, set_exemplar_source, Histograms, TraceContext};
use instrument_metrics_tests::{decode_protobuf, native_total, parse_openmetrics};

use instrument_metrics_tests::client_model;

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
const SPAN: u64 = 0x00f0_67aa_0ba9_02b7;

fn traced() -> Option<TraceContext> {
    Some(TraceContext::new(TRACE, SPAN))
}

#[instrument_metrics(histogram = both)]
fn decorated_work() -> Result<(), String> {
    Ok(())
}

fn labels(m: &client_model::io::prometheus::client::Metric) -> HashMap<&str, &str> {
    m.label.iter().map(|p| (p.name(), p.value())).collect()
}

#[test]
fn http_exemplars_and_native_buckets_survive_a_prefix_and_constant_labels() {
    use axum::routing::get;
    use tower::ServiceExt as _;

    let constant = HashMap::from([("region".to_owned(), "eu-west".to_owned())]);
    let registry: &'static prometheus::Registry = Box::leak(Box::new(
        prometheus::Registry::new_custom(Some("app".into()), Some(constant)).unwrap(),
    ));
    instrument_metrics::use_registry(registry).unwrap();
    set_exemplar_source(traced);

    let metrics = instrument_metrics::http::HttpMetrics::builder()
        .label("test", "decorated")
        .histograms(Histograms::Both)
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/items/{id}", get(|| async { "ok" }))
        .layer(instrument_metrics::http::MetricsLayer::new(metrics));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..5 {
            let response = app
                .clone()
                .oneshot(
                    http::Request::get(format!("/items/{i}"))
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let _ = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
        }
    });
    for _ in 0..3 {
        decorated_work().unwrap();
    }
    instrument_metrics::clear_exemplar_source();

    // OpenMetrics: the HTTP duration's buckets carry the request's trace, under the prefix and
    // with the constant label; so do the function's.
    let om = parse_openmetrics(&instrument_metrics::exposition::render_openmetrics());
    let trace_hex = format!("{TRACE:032x}");
    for (name, select) in [
        (
            "app_http_server_request_duration_seconds_bucket",
            ("http_route", "/items/{id}"),
        ),
        (
            "app_function_calls_duration_seconds_bucket",
            ("function", "decorated_work"),
        ),
    ] {
        let buckets: Vec<_> = om
            .iter()
            .filter(|s| {
                s.name == name && s.labels.get(select.0).map(String::as_str) == Some(select.1)
            })
            .collect();
        assert!(!buckets.is_empty(), "{name} is there");
        assert!(
            buckets.iter().all(|s| s.labels["region"] == "eu-west"),
            "{name} has the constant label"
        );
        let with: Vec<_> = buckets.iter().filter_map(|s| s.exemplar.as_ref()).collect();
        assert!(!with.is_empty(), "{name} carries exemplars");
        assert!(with
            .iter()
            .all(|(l, _, _)| l["trace_id"] == trace_hex && l["span_id"] == format!("{SPAN:016x}")));
    }

    // Protobuf: native buckets whose total is the count, and the exemplars, on both.
    let families = decode_protobuf(&instrument_metrics::exposition::render_protobuf());
    for (name, select, count) in [
        (
            "app_http_server_request_duration_seconds",
            ("http_route", "/items/{id}"),
            5,
        ),
        (
            "app_function_calls_duration_seconds",
            ("function", "decorated_work"),
            3,
        ),
    ] {
        let family = families
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("{name} in the protobuf exposition"));
        let metrics: Vec<_> = family
            .metric
            .iter()
            .filter(|m| labels(m).get(select.0) == Some(&select.1))
            .collect();
        assert_eq!(metrics.len(), 1, "{name}: one series");
        let m = metrics[0];
        assert_eq!(labels(m)["region"], "eu-west");
        let h = m.histogram.as_ref().expect("a histogram");
        assert_eq!(h.schema, Some(3), "{name} is native");
        assert_eq!(h.sample_count(), count);
        assert_eq!(native_total(h), count, "{name}: native total = count");
        assert!(!h.bucket.is_empty(), "{name}: classic buckets too (both)");
        assert!(
            h.exemplars.iter().any(|e| e
                .label
                .iter()
                .any(|p| p.name() == "trace_id" && p.value() == trace_hex)),
            "{name}: the native histogram carries the exemplar"
        );
    }
}
