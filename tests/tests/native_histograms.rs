//! Native histograms, read back from the protobuf exposition with prost: per-function choice
//! (`histogram = native | classic | both`), the global one, HTTP, exemplars over protobuf, and
//! exact counts under concurrency.
//!
//! The classic bounds of the measured functions are powers of two, which are also native bucket
//! bounds (schema 3: bucket `i` ends at 2^(i/8)), so the native buckets summed over each classic
//! range must equal that classic bucket exactly, whatever the sleeps really took.
//!
//! Which bucket a sleep lands in is bounded generously: a sleep never ends early, so a call is
//! always past the bound below the bucket it is meant for, and the bucket is wide enough above
//! (a 2 ms call may take 250 ms, a 300 ms one 2 s) for a loaded machine's scheduling delays.

use std::collections::BTreeMap;
use std::time::Duration;

use instrument_metrics::{instrument_metrics, Histograms, TraceContext};
use instrument_metrics_tests::value;
use prost::Message as _;

#[path = "../client_model.rs"]
#[allow(dead_code)]
mod client_model;

use client_model::io::prometheus::client::{Histogram, MetricFamily};

fn decode(mut bytes: &[u8]) -> Vec<MetricFamily> {
    let mut families = Vec::new();
    while !bytes.is_empty() {
        families.push(MetricFamily::decode_length_delimited(&mut bytes).expect("delimited"));
    }
    families
}

/// The duration histogram of `function` (`extra` label pairs must match too).
fn histogram_of(family: &str, pairs: &[(&str, &str)]) -> Histogram {
    let families = decode(&instrument_metrics::exposition::render_protobuf());
    let f = families
        .iter()
        .find(|f| f.name() == family)
        .unwrap_or_else(|| panic!("no family {family}"));
    let m = f
        .metric
        .iter()
        .find(|m| {
            pairs
                .iter()
                .all(|(k, v)| m.label.iter().any(|p| p.name() == *k && p.value() == *v))
        })
        .unwrap_or_else(|| panic!("no {family} with {pairs:?}"));
    m.histogram.clone().expect("a histogram")
}

fn duration(function: &str) -> Histogram {
    histogram_of("function_calls_duration_seconds", &[("function", function)])
}

/// Native buckets as (index, count), from spans and deltas.
fn buckets(h: &Histogram) -> BTreeMap<i32, u64> {
    let mut out = BTreeMap::new();
    let mut deltas = h.positive_delta.iter();
    let (mut index, mut count) = (0i32, 0i64);
    for span in &h.positive_span {
        index += span.offset();
        for _ in 0..span.length() {
            count += deltas.next().expect("a delta per bucket");
            assert!(count >= 0, "bucket counts are never negative");
            if count > 0 {
                out.insert(index, u64::try_from(count).unwrap());
            }
            index += 1;
        }
    }
    assert!(deltas.next().is_none(), "no delta beyond the spans");
    out
}

/// Native observations in (2^(from/8), 2^(to/8)].
fn between(b: &BTreeMap<i32, u64>, from: i32, to: i32) -> u64 {
    b.range(from + 1..=to).map(|(_, n)| n).sum()
}

const POW2_BOUNDS_INDICES: [i32; 3] = [-72, -16, 8]; // 2^-9 s, 2^-2 s, 2^1 s

#[instrument_metrics(histogram = both, buckets = [0.001953125, 0.25, 2.0])]
fn both_kinds(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn both_kinds_agree_bucket_for_bucket() {
    for ms in [2, 2, 2, 300, 300] {
        both_kinds(ms);
    }
    let h = duration("both_kinds");
    assert_eq!(h.schema, Some(3));
    assert_eq!(h.zero_threshold, Some(2f64.powi(-30)));
    assert_eq!(h.zero_count, Some(0));
    assert_eq!(h.sample_count, Some(5));
    let native = buckets(&h);
    assert_eq!(native.values().sum::<u64>(), 5);
    // Classic: cumulative counts at 2^-9, 2^-2, 2^1.
    let classic: Vec<u64> = h.bucket.iter().map(|b| b.cumulative_count()).collect();
    assert_eq!(classic, [0, 3, 5]);
    let [a, b, c] = POW2_BOUNDS_INDICES;
    assert_eq!(between(&native, i32::MIN / 2, a), classic[0]);
    assert_eq!(between(&native, a, b), classic[1] - classic[0]);
    assert_eq!(between(&native, b, c), classic[2] - classic[1]);
    // The sum is shared: at least the 606 ms slept.
    assert!(h.sample_sum() >= 0.606, "{}", h.sample_sum());
    // Text scrapes still see the classic buckets only.
    let text = instrument_metrics::render();
    let bucket = |le| {
        value(
            &text,
            "function_calls_duration_seconds_bucket",
            &[("function", "both_kinds"), ("le", le)],
        )
    };
    assert_eq!(
        ["0.001953125", "0.25", "2", "+Inf"].map(bucket),
        [0.0, 3.0, 5.0, 5.0]
    );
}

#[instrument_metrics(histogram = native, buckets = [0.001953125, 0.015625])]
fn native_only() {
    std::thread::sleep(Duration::from_millis(3));
}

#[test]
fn native_only_has_no_classic_buckets_anywhere() {
    native_only();
    native_only();
    let h = duration("native_only");
    assert!(h.bucket.is_empty(), "{:?}", h.bucket);
    assert_eq!(h.sample_count, Some(2));
    let native = buckets(&h);
    assert_eq!(native.values().sum::<u64>(), 2);
    let [a, b, _] = POW2_BOUNDS_INDICES;
    assert_eq!(
        between(&native, a, b),
        2,
        "3 ms is in (2^-9, 2^-2]: {native:?}"
    );
    // Text: +Inf, _sum and _count only.
    let text = instrument_metrics::render();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("function=\"native_only\"") && l.starts_with("function_calls_duration")
        })
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0],
        "function_calls_duration_seconds_bucket{function=\"native_only\",module=\"native_histograms\",le=\"+Inf\"} 2"
    );
    assert!(lines[2].ends_with("_count{function=\"native_only\",module=\"native_histograms\"} 2"));
}

#[instrument_metrics(histogram = native)]
fn never_called_native() {}

#[test]
fn a_native_histogram_without_observations_is_still_native() {
    let h = duration("never_called_native");
    assert_eq!(h.schema, Some(3));
    assert_eq!(h.sample_count, Some(0));
    assert_eq!(h.positive_span.len(), 1);
    assert_eq!(h.positive_span[0].length(), 0);
    assert!(h.positive_delta.is_empty());
}

#[instrument_metrics(histogram = classic)]
fn classic_only() {}

#[test]
fn classic_is_plain_classic() {
    classic_only();
    let h = duration("classic_only");
    assert_eq!(h.schema, None);
    assert!(h.positive_span.is_empty());
    assert_eq!(h.bucket.len(), 14);
    assert_eq!(h.sample_count, Some(1));
}

#[instrument_metrics]
fn follows_the_global_choice() {}

#[test]
fn the_global_choice_applies_to_functions_without_their_own() {
    // The only function of this binary without a `histogram` option.
    instrument_metrics::set_default_histograms(Histograms::Native);
    follows_the_global_choice();
    let h = duration("follows_the_global_choice");
    assert_eq!(h.schema, Some(3));
    assert!(h.bucket.is_empty());
    assert_eq!(buckets(&h).values().sum::<u64>(), 1);
    instrument_metrics::set_default_histograms(Histograms::Both);
    let h = duration("follows_the_global_choice");
    assert_eq!(h.bucket.len(), 14);
    assert_eq!(h.bucket[0].cumulative_count(), 1);
    instrument_metrics::set_default_histograms(Histograms::Classic);
    let h = duration("follows_the_global_choice");
    assert_eq!(h.schema, None);
}

#[instrument_metrics(histogram = both)]
fn busy(i: u64) -> u64 {
    std::hint::black_box(i.wrapping_mul(31))
}

#[test]
fn concurrent_calls_are_counted_exactly_in_both() {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..10_000 {
                    busy(i);
                }
            });
        }
    });
    let h = duration("busy");
    let native = buckets(&h);
    let zero = h.zero_count();
    assert_eq!(native.values().sum::<u64>() + zero, 40_000);
    assert_eq!(h.sample_count, Some(40_000));
    let classic_total = h.bucket.last().map(|b| b.cumulative_count()).unwrap();
    assert!(
        classic_total <= 40_000,
        "no call is beyond the last bound but the +Inf one"
    );
}

#[instrument_metrics(histogram = both)]
fn traced() {}

#[test]
fn exemplars_travel_over_protobuf() {
    instrument_metrics::set_exemplar_source(|| Some(TraceContext::new(0xfeed, 0xbeef)));
    traced();
    instrument_metrics::clear_exemplar_source();
    let families = decode(&instrument_metrics::exposition::render_protobuf());
    let calls = families
        .iter()
        .find(|f| f.name() == "function_calls_total")
        .unwrap();
    let ok = calls
        .metric
        .iter()
        .find(|m| {
            m.label
                .iter()
                .any(|p| p.name() == "function" && p.value() == "traced")
                && m.label
                    .iter()
                    .any(|p| p.name() == "result" && p.value() == "ok")
        })
        .unwrap();
    let e = ok
        .counter
        .as_ref()
        .unwrap()
        .exemplar
        .clone()
        .expect("the counter's exemplar");
    let labels: Vec<(&str, &str)> = e.label.iter().map(|p| (p.name(), p.value())).collect();
    assert_eq!(
        labels,
        [
            ("trace_id", "0000000000000000000000000000feed"),
            ("span_id", "000000000000beef")
        ]
    );
    assert_eq!(e.value, Some(1.0));
    assert!(e.timestamp.is_some());
    let h = duration("traced");
    let on_buckets: Vec<_> = h
        .bucket
        .iter()
        .filter_map(|b| b.exemplar.as_ref())
        .collect();
    assert_eq!(on_buckets.len(), 1, "one bucket was hit");
    assert_eq!(h.exemplars.len(), 1, "and the native histogram lists it");
    assert_eq!(h.exemplars[0].label, on_buckets[0].label);
    assert!(h.exemplars[0].value() <= h.bucket[0].upper_bound());
}

#[test]
fn http_durations_are_native_too() {
    use axum::routing::get;
    use tower::ServiceExt as _;
    let metrics = instrument_metrics::http::HttpMetrics::builder()
        .label("test", "native")
        .histograms(Histograms::Native)
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/n/{id}", get(|| async { "ok" }))
        .layer(instrument_metrics::http::MetricsLayer::new(metrics));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for id in 0..7 {
            let response = app
                .clone()
                .oneshot(
                    http::Request::get(format!("/n/{id}"))
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let _ = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
        }
    });
    let h = histogram_of(
        "http_server_request_duration_seconds",
        &[("test", "native"), ("http_route", "/n/{id}")],
    );
    assert_eq!(h.schema, Some(3));
    assert!(h.bucket.is_empty(), "native only");
    assert_eq!(h.sample_count, Some(7));
    assert_eq!(buckets(&h).values().sum::<u64>() + h.zero_count(), 7);
    // Text: only `+Inf`, `_sum` and `_count`, as for a native-only function.
    let text = instrument_metrics::render();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("http_server_request_duration_seconds") && l.contains("test=\"native\"")
        })
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("le=\"+Inf\"") && lines[0].ends_with(" 7"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("http_server_request_duration_seconds_count")
            && lines[2].ends_with(" 7")
    );
}
