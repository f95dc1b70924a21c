//! Exemplars: the trace context of a call, kept per bucket and per result, shown in OpenMetrics
//! (never in text 0.0.4), from a hand-set source and from `tracing` + OpenTelemetry.
//!
//! The exemplar source is global, so this binary sets it once per test under one lock and each
//! test reads only its own functions.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instrument_metrics::{instrument_metrics, set_exemplar_source, TraceContext};

/// One OpenMetrics sample line that carries an exemplar.
#[derive(Debug, Clone, PartialEq)]
struct WithExemplar {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
    exemplar_labels: BTreeMap<String, String>,
    exemplar_value: f64,
    timestamp: f64,
}

fn labels(text: &str) -> BTreeMap<String, String> {
    // `{k="v",…}` without escapes (the tests' values have none).
    let inner = text.trim().trim_start_matches('{').trim_end_matches('}');
    inner
        .split("\",")
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once("=\"").expect("k=\"v\"");
            (k.to_owned(), v.trim_end_matches('"').to_owned())
        })
        .collect()
}

/// Every sample line with an exemplar, parsed field by field.
fn exemplars(om: &str) -> Vec<WithExemplar> {
    om.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(" # "))
        .map(|(sample, exemplar)| {
            let open = sample.find('{').expect("labelled sample");
            let close = sample.rfind('}').expect("labels close");
            let e_close = exemplar.find('}').expect("exemplar labels close");
            let mut rest = exemplar[e_close + 1..].split_whitespace();
            WithExemplar {
                name: sample[..open].to_owned(),
                labels: labels(&sample[open..=close]),
                value: sample[close + 1..].trim().parse().expect("sample value"),
                exemplar_labels: labels(&exemplar[..=e_close]),
                exemplar_value: rest.next().expect("value").parse().expect("f64"),
                timestamp: rest.next().expect("timestamp").parse().expect("f64"),
            }
        })
        .collect()
}

fn of<'a>(all: &'a [WithExemplar], name: &str, pairs: &[(&str, &str)]) -> Vec<&'a WithExemplar> {
    all.iter()
        .filter(|e| {
            e.name == name
                && pairs
                    .iter()
                    .all(|(k, v)| e.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
const SPAN: u64 = 0x00f0_67aa_0ba9_02b7;

fn fixed() -> Option<TraceContext> {
    Some(TraceContext::new(TRACE, SPAN))
}

#[instrument_metrics(buckets = [0.001, 0.05, 1.0])]
fn sleeps(ms: u64) -> Result<(), String> {
    std::thread::sleep(Duration::from_millis(ms));
    if ms == 0 {
        Err("zero".into())
    } else {
        Ok(())
    }
}

#[test]
fn a_hand_set_source_gives_exact_exemplars_in_openmetrics_only() {
    let _l = lock();
    set_exemplar_source(fixed);
    let before = now();
    sleeps(10).unwrap();
    sleeps(0).unwrap_err();
    let after = now();
    instrument_metrics::clear_exemplar_source();

    let om = instrument_metrics::exposition::render_openmetrics();
    let all = exemplars(&om);
    fn mine(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut pairs = vec![("function", "sleeps")];
        pairs.extend_from_slice(extra);
        pairs
    }
    let trace = BTreeMap::from([
        (
            "trace_id".to_owned(),
            "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
        ),
        ("span_id".to_owned(), "00f067aa0ba902b7".to_owned()),
    ]);

    // One per result that happened, value 1 (the increment), on the counter sample.
    for result in ["ok", "error"] {
        let lines = of(&all, "function_calls_total", &mine(&[("result", result)]));
        assert_eq!(lines.len(), 1, "{result}: {om}");
        let e = lines[0];
        assert_eq!(e.value, 1.0);
        assert_eq!(e.exemplar_labels, trace);
        assert_eq!(e.exemplar_value, 1.0);
        assert!(
            e.timestamp >= before - 0.001 && e.timestamp <= after + 0.001,
            "{e:?}"
        );
    }
    assert!(of(&all, "function_calls_total", &mine(&[("result", "panic")])).is_empty());

    // One per bucket that was hit: the 0 ms call in le=0.001 (cumulative 1), the 10 ms call in
    // le=0.05 (cumulative 2), each with its own duration as the value.
    let buckets = of(&all, "function_calls_duration_seconds_bucket", &mine(&[]));
    let by_le: BTreeMap<&str, &WithExemplar> = buckets
        .iter()
        .map(|e| (e.labels["le"].as_str(), *e))
        .collect();
    assert_eq!(
        by_le.keys().copied().collect::<Vec<_>>(),
        ["0.001", "0.05"],
        "{om}"
    );
    assert_eq!(by_le["0.001"].value, 1.0);
    assert!(by_le["0.001"].exemplar_value <= 0.001);
    assert_eq!(by_le["0.05"].value, 2.0);
    let slow = by_le["0.05"].exemplar_value;
    assert!((0.010..=0.05).contains(&slow), "{slow}");
    for e in by_le.values() {
        assert_eq!(e.exemplar_labels, trace);
        // The spec's limit on an exemplar's label set: 128 UTF-8 characters.
        let chars: usize = e
            .exemplar_labels
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        assert!(chars <= 128);
    }

    // Text 0.0.4 has none.
    let text = instrument_metrics::render();
    assert!(!text.lines().any(|l| l.contains(" # {")), "{text}");
}

#[instrument_metrics]
fn later() {}

#[test]
fn no_source_no_context_no_exemplar_and_the_last_one_wins() {
    let _l = lock();
    instrument_metrics::clear_exemplar_source();
    later();
    assert!(of(
        &exemplars(&instrument_metrics::exposition::render_openmetrics()),
        "function_calls_total",
        &[("function", "later")]
    )
    .is_empty());

    set_exemplar_source(|| None);
    later();
    assert!(of(
        &exemplars(&instrument_metrics::exposition::render_openmetrics()),
        "function_calls_total",
        &[("function", "later")]
    )
    .is_empty());

    set_exemplar_source(|| Some(TraceContext::new(1, 1)));
    later();
    set_exemplar_source(|| Some(TraceContext::new(2, 2)));
    later();
    // A zero trace id is no trace.
    set_exemplar_source(|| Some(TraceContext::new(0, 3)));
    later();
    instrument_metrics::clear_exemplar_source();
    let all = exemplars(&instrument_metrics::exposition::render_openmetrics());
    let ok = of(
        &all,
        "function_calls_total",
        &[("function", "later"), ("result", "ok")],
    );
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].value, 5.0);
    assert_eq!(ok[0].exemplar_labels["trace_id"], format!("{:032x}", 2));
    assert_eq!(ok[0].exemplar_labels["span_id"], format!("{:016x}", 2));
}

#[test]
fn http_durations_carry_the_exemplar_of_the_request() {
    use axum::routing::get;
    let _l = lock();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let metrics = instrument_metrics::http::HttpMetrics::builder()
        .label("test", "exemplars")
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/traced/{id}", get(|| async { "ok" }))
        .layer(instrument_metrics::http::MetricsLayer::new(metrics));
    set_exemplar_source(fixed);
    rt.block_on(async {
        use tower::ServiceExt as _;
        let response = app
            .oneshot(
                http::Request::get("/traced/7")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let _ = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
    });
    instrument_metrics::clear_exemplar_source();
    let all = exemplars(&instrument_metrics::exposition::render_openmetrics());
    let lines = of(
        &all,
        "http_server_request_duration_seconds_bucket",
        &[
            ("test", "exemplars"),
            ("http_route", "/traced/{id}"),
            ("http_response_status_code", "200"),
        ],
    );
    assert_eq!(lines.len(), 1, "{all:?}");
    assert_eq!(
        lines[0].exemplar_labels["trace_id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(lines[0].value, 1.0, "the first bucket holding the request");
    let le: f64 = lines[0].labels["le"].parse().unwrap();
    assert!(lines[0].exemplar_value <= le);
}

#[instrument_metrics]
fn inside_a_span() {}

#[test]
fn a_tracing_span_with_opentelemetry_context_is_the_default_source() {
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    let _l = lock();
    set_exemplar_source(instrument_metrics::opentelemetry_trace_context);
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("exemplars-test")));
    let (trace, span_id) = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        inside_a_span();
        let cx = span.context();
        let sc = cx.span().span_context().clone();
        (sc.trace_id().to_string(), sc.span_id().to_string())
    });
    // Outside any span and context: nothing.
    inside_a_span();
    instrument_metrics::clear_exemplar_source();

    let all = exemplars(&instrument_metrics::exposition::render_openmetrics());
    let ok = of(
        &all,
        "function_calls_total",
        &[("function", "inside_a_span"), ("result", "ok")],
    );
    assert_eq!(ok.len(), 1, "{all:?}");
    assert_eq!(ok[0].value, 2.0);
    assert_eq!(trace.len(), 32);
    assert_ne!(trace, "0".repeat(32));
    assert_eq!(ok[0].exemplar_labels["trace_id"], trace);
    assert_eq!(ok[0].exemplar_labels["span_id"], span_id);
}
