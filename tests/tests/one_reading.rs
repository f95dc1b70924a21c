//! One scrape reads each series once: under calls on several threads and HTTP requests on
//! several tasks, every scrape in every format agrees with itself, for functions and HTTP and
//! for every histogram kind: `_count` == the `+Inf` bucket == the sum of the results ==
//! the native buckets' total.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use instrument_metrics::{instrument_metrics, Histograms};
use instrument_metrics_tests::{decode_protobuf, native_total, parse, parse_openmetrics, Sample};

use instrument_metrics_tests::client_model;

#[instrument_metrics(histogram = classic)]
fn consistent_classic(n: u64) -> Result<u64, u64> {
    if n.is_multiple_of(3) {
        Err(n)
    } else {
        Ok(n)
    }
}

#[instrument_metrics(histogram = native)]
fn consistent_native(n: u64) -> Result<u64, u64> {
    if n.is_multiple_of(4) {
        Err(n)
    } else {
        Ok(n)
    }
}

#[instrument_metrics(histogram = both)]
fn consistent_both(n: u64) -> Result<u64, u64> {
    if n.is_multiple_of(5) {
        Err(n)
    } else {
        Ok(n)
    }
}

const FUNCTIONS: [&str; 3] = ["consistent_classic", "consistent_native", "consistent_both"];
const TABLES: [(&str, Histograms); 3] = [
    ("classic", Histograms::Classic),
    ("native", Histograms::Native),
    ("both", Histograms::Both),
];

fn key(labels: &BTreeMap<String, String>, without: &[&str]) -> Vec<(String, String)> {
    labels
        .iter()
        .filter(|(k, _)| !without.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Text or OpenMetrics, parsed: every function's results add up to its `_count`, and every
/// histogram of ours has `_count` == `+Inf`.
fn check_text(samples: &[Sample], format: &str) -> usize {
    let mut checked = 0;
    for f in FUNCTIONS {
        let of = |name: &str| {
            samples
                .iter()
                .filter(|s| s.name == name && s.labels["function"] == f)
                .collect::<Vec<_>>()
        };
        let results: f64 = of("function_calls_total").iter().map(|s| s.value).sum();
        let count = of("function_calls_duration_seconds_count");
        let inf: Vec<_> = of("function_calls_duration_seconds_bucket")
            .into_iter()
            .filter(|s| s.labels["le"] == "+Inf")
            .collect();
        assert_eq!((count.len(), inf.len()), (1, 1), "{format} {f}");
        assert_eq!(results, count[0].value, "{format} {f}: results = _count");
        assert_eq!(inf[0].value, count[0].value, "{format} {f}: +Inf = _count");
        checked += 1;
    }
    for s in samples
        .iter()
        .filter(|s| s.name == "http_server_request_duration_seconds_count")
    {
        let k = key(&s.labels, &[]);
        let inf = samples
            .iter()
            .find(|b| {
                b.name == "http_server_request_duration_seconds_bucket"
                    && b.labels["le"] == "+Inf"
                    && key(&b.labels, &["le"]) == k
            })
            .unwrap_or_else(|| panic!("{format}: +Inf of {k:?}"));
        assert_eq!(inf.value, s.value, "{format} {k:?}: +Inf = _count");
        checked += 1;
    }
    checked
}

/// Protobuf, decoded: the same, and native totals equal counts.
fn check_protobuf(bytes: &[u8]) -> usize {
    let families: BTreeMap<String, _> = decode_protobuf(bytes)
        .into_iter()
        .map(|f| (f.name().to_owned(), f))
        .collect();
    let label = |m: &client_model::io::prometheus::client::Metric, k: &str| {
        m.label
            .iter()
            .find(|p| p.name() == k)
            .map(|p| p.value().to_owned())
    };
    let mut checked = 0;
    for f in FUNCTIONS {
        let results: f64 = families["function_calls_total"]
            .metric
            .iter()
            .filter(|m| label(m, "function").as_deref() == Some(f))
            .map(|m| m.counter.as_ref().unwrap().value())
            .sum();
        let h = families["function_calls_duration_seconds"]
            .metric
            .iter()
            .find(|m| label(m, "function").as_deref() == Some(f))
            .and_then(|m| m.histogram.clone())
            .unwrap();
        #[allow(clippy::cast_precision_loss)]
        let count = h.sample_count() as f64;
        assert_eq!(results, count, "protobuf {f}: results = count");
        if f != "consistent_classic" {
            assert_eq!(native_total(&h), h.sample_count(), "protobuf {f}: native");
        }
        if let Some(last) = h.bucket.last() {
            assert!(last.cumulative_count() <= h.sample_count());
        }
        checked += 1;
    }
    if let Some(http) = families.get("http_server_request_duration_seconds") {
        for m in &http.metric {
            let h = m.histogram.as_ref().unwrap();
            if h.schema.is_some() {
                assert_eq!(native_total(h), h.sample_count(), "protobuf HTTP native");
            }
            if let Some(last) = h.bucket.last() {
                assert!(last.cumulative_count() <= h.sample_count());
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_format_agrees_with_itself_under_concurrent_calls_and_requests() {
    use axum::routing::get;
    use tower::ServiceExt as _;

    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..2)
        .map(|t| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut n = t;
                while !stop.load(Ordering::Relaxed) {
                    let _ = consistent_classic(n);
                    let _ = consistent_native(n);
                    let _ = consistent_both(n);
                    n += 1;
                }
            })
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for (name, kind) in TABLES {
        let metrics = instrument_metrics::http::HttpMetrics::builder()
            .label("kind", name)
            .histograms(kind)
            .build()
            .unwrap();
        let app = axum::Router::new()
            .route("/r/{id}", get(|| async { "ok" }))
            .layer(instrument_metrics::http::MetricsLayer::new(metrics));
        for _ in 0..2 {
            let app = app.clone();
            let stop = Arc::clone(&stop);
            tasks.push(rt.spawn(async move {
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let response = app
                        .clone()
                        .oneshot(
                            http::Request::get(format!("/r/{i}"))
                                .body(axum::body::Body::empty())
                                .unwrap(),
                        )
                        .await
                        .unwrap();
                    let _ = axum::body::to_bytes(response.into_body(), 64).await;
                    i = i.wrapping_add(1);
                    tokio::task::yield_now().await;
                }
            }));
        }
    }

    // Wait until every kind has traffic, then scrape while it goes on.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while check_text(&parse(&instrument_metrics::render()), "text") < FUNCTIONS.len() + TABLES.len()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no traffic within 60 s"
        );
        std::thread::yield_now();
    }
    let mut checked = 0;
    for _ in 0..40 {
        checked += check_text(&parse(&instrument_metrics::render()), "text");
        let om: Vec<Sample> =
            parse_openmetrics(&instrument_metrics::exposition::render_openmetrics())
                .into_iter()
                .map(|s| Sample {
                    name: s.name,
                    labels: s.labels,
                    value: s.value,
                })
                .collect();
        checked += check_text(&om, "OpenMetrics");
        checked += check_protobuf(&instrument_metrics::exposition::render_protobuf());
    }
    stop.store(true, Ordering::Relaxed);
    for c in callers {
        c.join().unwrap();
    }
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    assert!(checked >= 40 * 3 * (FUNCTIONS.len() + TABLES.len()));
}
