//! The protobuf exposition, decoded back with prost (the runtime's own generated
//! client_model types, included here) and compared value for value with the text exposition
//! of the same state: the function families, a user's counter and histogram, the HTTP
//! families through a real axum server with the layer, process metrics; and the exporter
//! answering Prometheus' native-histogram `Accept` headers with protobuf over real HTTP,
//! gzip too.
//!
//! Each test reads only its own series (its own functions, metric names, or a `test` label),
//! so they can run side by side.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use instrument_metrics::exposition::PROTOBUF_CONTENT_TYPE;
use instrument_metrics::http::{HttpMetrics, MetricsLayer};
use instrument_metrics::instrument_metrics;
use instrument_metrics::prometheus::{
    register_histogram_with_registry, register_int_counter_with_registry,
};
use instrument_metrics_tests::http_client::request;
use instrument_metrics_tests::{find_value, parse, Sample};
use prost::Message as _;

#[path = "../client_model.rs"]
#[allow(dead_code)]
mod client_model;

use client_model::io::prometheus::client::{MetricFamily, MetricType};

/// What Prometheus 3.4+ sends with native histograms on (protobuf first, no escaping named).
const PROMETHEUS_3_4_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// What Prometheus 3.0 to 3.3 send with native histograms on (`allow-utf-8` on protobuf too).
const PROMETHEUS_3_0_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;escaping=allow-utf-8;q=0.2,*/*;q=0.1";
const PROTOBUF_UTF8_CONTENT_TYPE: &str = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8";

// ---- reading back ---------------------------------------------------------------------------

/// Every length-delimited `MetricFamily` in `bytes`; panics on a malformed stream.
fn decode(mut bytes: &[u8]) -> Vec<MetricFamily> {
    let mut families = Vec::new();
    while !bytes.is_empty() {
        families.push(
            MetricFamily::decode_length_delimited(&mut bytes).expect("a delimited MetricFamily"),
        );
    }
    families
}

fn family<'a>(families: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    families
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("no family {name} in {:?}", names(families)))
}

fn names(families: &[MetricFamily]) -> Vec<&str> {
    families.iter().map(MetricFamily::name).collect()
}

/// `le` as a number, so that `1`, `1.0` and `+Inf` compare as the values they are.
fn normal_le(labels: &mut BTreeMap<String, String>) {
    if let Some(le) = labels.get_mut("le") {
        let v: f64 = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().expect("le is a number")
        };
        *le = format!("{v:?}");
    }
}

/// The samples the text format 0.0.4 would show for these families (`le` normalised).
#[allow(clippy::cast_precision_loss)]
fn samples(families: &[MetricFamily]) -> Vec<Sample> {
    let mut out = Vec::new();
    for f in families {
        for m in &f.metric {
            let labels: BTreeMap<String, String> = m
                .label
                .iter()
                .map(|p| (p.name().to_owned(), p.value().to_owned()))
                .collect();
            let mut push = |suffix: &str, extra: Option<(&str, String)>, value: f64| {
                let mut labels = labels.clone();
                if let Some((k, v)) = extra {
                    labels.insert(k.to_owned(), v);
                }
                normal_le(&mut labels);
                out.push(Sample {
                    name: format!("{}{suffix}", f.name()),
                    labels,
                    value,
                });
            };
            match f.r#type() {
                MetricType::Counter => push("", None, m.counter.as_ref().expect("counter").value()),
                MetricType::Gauge => push("", None, m.gauge.as_ref().expect("gauge").value()),
                MetricType::Untyped => push("", None, m.untyped.as_ref().expect("untyped").value()),
                MetricType::Summary => {
                    let s = m.summary.as_ref().expect("summary");
                    for q in &s.quantile {
                        push("", Some(("quantile", q.quantile().to_string())), q.value());
                    }
                    push("_sum", None, s.sample_sum());
                    push("_count", None, s.sample_count() as f64);
                }
                MetricType::Histogram | MetricType::GaugeHistogram => {
                    let h = m.histogram.as_ref().expect("histogram");
                    for b in &h.bucket {
                        push(
                            "_bucket",
                            Some(("le", b.upper_bound().to_string())),
                            b.cumulative_count() as f64,
                        );
                    }
                    if h.bucket.last().is_none_or(|b| b.upper_bound().is_finite()) {
                        push(
                            "_bucket",
                            Some(("le", "+Inf".to_owned())),
                            h.sample_count() as f64,
                        );
                    }
                    push("_sum", None, h.sample_sum());
                    push("_count", None, h.sample_count() as f64);
                }
            }
        }
    }
    out
}

/// The text exposition's samples (`le` normalised) that `keep` selects, sorted.
fn text_samples(text: &str, keep: impl Fn(&Sample) -> bool) -> Vec<Sample> {
    let mut v: Vec<Sample> = parse(text)
        .into_iter()
        .map(|mut s| {
            normal_le(&mut s.labels);
            s
        })
        .filter(|s| keep(s))
        .collect();
    sort(&mut v);
    v
}

fn proto_samples(families: &[MetricFamily], keep: impl Fn(&Sample) -> bool) -> Vec<Sample> {
    let mut v: Vec<Sample> = samples(families).into_iter().filter(|s| keep(s)).collect();
    sort(&mut v);
    v
}

fn sort(v: &mut [Sample]) {
    v.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
}

fn labelled<'a>(name: &'a str, value: &'a str) -> impl Fn(&Sample) -> bool + 'a {
    move |s| s.labels.get(name).map(String::as_str) == Some(value)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

// ---- the function families ------------------------------------------------------------------

#[instrument_metrics(buckets = [0.001, 0.01, 0.1, 1.0], in_flight)]
fn pb_work(fail: bool) -> Result<u32, String> {
    if fail {
        Err("failed on purpose".to_owned())
    } else {
        Ok(1)
    }
}

#[instrument_metrics]
fn pb_panics() {
    panic!("panics on purpose");
}

#[instrument_metrics]
fn pb_never_called() {}

#[test]
fn function_families_carry_the_values_of_the_text_exposition() {
    let before = unix_now();
    for fail in [false, false, false, true, true] {
        let _ = pb_work(fail);
    }
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(pb_panics).is_err());
    std::panic::set_hook(hook);

    let text = instrument_metrics::render();
    let families = decode(&instrument_metrics::exposition::render_protobuf());

    // Exact counts per result, as the text has them.
    let calls = family(&families, "function_calls_total");
    assert_eq!(calls.r#type(), MetricType::Counter);
    assert_eq!(
        calls.help(),
        "Calls of instrumented functions, by how they ended."
    );
    let all = samples(&families);
    let count = |f: &str, r: &str| {
        find_value(
            &all,
            "function_calls_total",
            &[("function", f), ("result", r)],
        )
    };
    assert_eq!(
        ["ok", "error", "panic", "cancelled"].map(|r| count("pb_work", r)),
        [Some(3.0), Some(2.0), Some(0.0), Some(0.0)]
    );
    assert_eq!(count("pb_panics", "panic"), Some(1.0));
    for r in ["ok", "error", "panic", "cancelled"] {
        assert_eq!(count("pb_never_called", r), Some(0.0), "{r}");
    }

    // The histogram: classic buckets only, the bounds the attribute gave, count = calls.
    let duration = family(&families, "function_calls_duration_seconds");
    assert_eq!(duration.r#type(), MetricType::Histogram);
    assert_eq!(duration.unit(), "seconds");
    let work = duration
        .metric
        .iter()
        .find(|m| {
            m.label
                .iter()
                .any(|p| p.name() == "function" && p.value() == "pb_work")
        })
        .expect("pb_work's histogram");
    let h = work.histogram.as_ref().unwrap();
    assert_eq!(h.sample_count(), 5);
    let bounds: Vec<f64> = h.bucket.iter().map(|b| b.upper_bound()).collect();
    assert_eq!(bounds, [0.001, 0.01, 0.1, 1.0]);
    assert_eq!(
        h.bucket.last().unwrap().cumulative_count(),
        5,
        "each call took well under 1 s"
    );
    assert!(h.sample_sum() > 0.0);
    assert!(h.schema.is_none() && h.positive_span.is_empty() && h.zero_threshold.is_none());
    let labels: Vec<(&str, &str)> = work.label.iter().map(|p| (p.name(), p.value())).collect();
    assert_eq!(labels, [("function", "pb_work"), ("module", "protobuf")]);

    // Created timestamps: when the program started, before this test did.
    let process_start = family(&families, "process_start_time_seconds").metric[0]
        .gauge
        .unwrap()
        .value();
    for created in [
        calls.metric[0].counter.as_ref().unwrap().created_timestamp,
        h.created_timestamp,
    ] {
        let created = created.expect("created timestamp");
        #[allow(clippy::cast_precision_loss)]
        let at = created.seconds as f64 + f64::from(created.nanos) / 1e9;
        assert!(
            at >= process_start - 0.01 && at <= before,
            "created {at}, process start {process_start}, test start {before}"
        );
    }

    // In flight: none now.
    assert_eq!(
        find_value(&all, "function_calls_in_flight", &[("function", "pb_work")]),
        Some(0.0)
    );

    // Every sample of these functions equals the text exposition's, bit for bit.
    for function in ["pb_work", "pb_panics", "pb_never_called"] {
        let keep = labelled("function", function);
        let from_text = text_samples(&text, &keep);
        assert!(from_text.len() >= 4, "{function}: {from_text:?}");
        assert_eq!(proto_samples(&families, &keep), from_text, "{function}");
    }
}

// ---- the user's own metrics -----------------------------------------------------------------

#[test]
fn user_metrics_in_the_registry_are_served_too() {
    let registry = instrument_metrics::registry();
    let jobs =
        register_int_counter_with_registry!("pb_user_jobs_total", "Jobs done.", registry).unwrap();
    jobs.inc_by(7);
    let wait = register_histogram_with_registry!(
        "pb_user_wait_seconds",
        "Time waited.",
        vec![0.5, 1.0],
        registry
    )
    .unwrap();
    for v in [0.25, 0.75, 3.0] {
        wait.observe(v);
    }

    let text = instrument_metrics::render();
    let families = decode(&instrument_metrics::exposition::render_protobuf());

    let jobs = family(&families, "pb_user_jobs_total");
    assert_eq!(
        (jobs.r#type(), jobs.help()),
        (MetricType::Counter, "Jobs done.")
    );
    assert_eq!(jobs.metric[0].counter.as_ref().unwrap().value(), 7.0);

    let wait = family(&families, "pb_user_wait_seconds");
    assert_eq!(wait.r#type(), MetricType::Histogram);
    let h = wait.metric[0].histogram.as_ref().unwrap();
    assert_eq!((h.sample_count(), h.sample_sum()), (3, 4.0));
    let buckets: Vec<(f64, u64)> = h
        .bucket
        .iter()
        .map(|b| (b.upper_bound(), b.cumulative_count()))
        .collect();
    assert_eq!(buckets, [(0.5, 1), (1.0, 2)]);

    let mine = |s: &Sample| s.name.starts_with("pb_user_");
    let from_text = text_samples(&text, mine);
    assert_eq!(from_text.len(), 1 + 3 + 2);
    assert_eq!(proto_samples(&families, mine), from_text);
}

// ---- process metrics, and every family --------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn process_metrics_are_there() {
    // CPU time is counted in whole clock ticks: so that the value has a reason to be above 0.
    instrument_metrics_tests::use_a_cpu_tick();
    let families = decode(&instrument_metrics::exposition::render_protobuf());
    let value = |name: &str, kind: MetricType| {
        let f = family(&families, name);
        assert_eq!(f.r#type(), kind, "{name}");
        let m = &f.metric[0];
        match kind {
            MetricType::Counter => m.counter.as_ref().unwrap().value(),
            _ => m.gauge.as_ref().unwrap().value(),
        }
    };
    assert!(value("process_cpu_seconds_total", MetricType::Counter) > 0.0);
    assert!(value("process_resident_memory_bytes", MetricType::Gauge) > 0.0);
    assert!(value("process_virtual_memory_bytes", MetricType::Gauge) > 0.0);
    assert!(value("process_threads", MetricType::Gauge) >= 1.0);
    assert!(value("process_open_fds", MetricType::Gauge) >= 3.0);
    let start = value("process_start_time_seconds", MetricType::Gauge);
    assert!(start > 1.5e9 && start <= unix_now(), "{start}");
}

#[test]
fn every_family_of_the_text_exposition_is_in_the_protobuf_stream() {
    let text = instrument_metrics::render();
    // Families only come, never go: the stream taken after the text has them all.
    let families = decode(&instrument_metrics::exposition::render_protobuf());
    let in_text: BTreeSet<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').unwrap();
            (name.to_owned(), kind.to_owned())
        })
        .collect();
    let in_proto: BTreeSet<(String, String)> = families
        .iter()
        .map(|f| {
            let kind = match f.r#type() {
                MetricType::Counter => "counter",
                MetricType::Gauge => "gauge",
                MetricType::Summary => "summary",
                MetricType::Untyped => "untyped",
                MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
            };
            (f.name().to_owned(), kind.to_owned())
        })
        .collect();
    assert!(in_text.len() >= 5, "{in_text:?}");
    let missing: Vec<_> = in_text.difference(&in_proto).collect();
    assert!(
        missing.is_empty(),
        "not in the protobuf stream: {missing:?}"
    );
    assert_eq!(in_proto.len(), families.len(), "each family once");
}

// ---- HTTP families through a real axum server -------------------------------------------------

async fn user(axum::extract::Path(id): axum::extract::Path<u32>) -> (StatusCode, &'static str) {
    if id == 13 {
        (StatusCode::INTERNAL_SERVER_ERROR, "outage")
    } else {
        (StatusCode::OK, "a user")
    }
}

fn spawn_axum(test: &str) -> SocketAddr {
    let metrics = HttpMetrics::builder()
        .label("test", test)
        .skip("/metrics")
        .build()
        .expect("valid metrics");
    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/metrics", get(instrument_metrics::axum::metrics))
        .layer(MetricsLayer::new(metrics));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || runtime.block_on(async move { axum::serve(listener, app).await }));
    addr
}

#[test]
fn http_families_through_axum_and_its_metrics_handler() {
    let test = "protobuf_axum";
    let addr = spawn_axum(test);
    for path in ["/users/1", "/users/2", "/users/13"] {
        let _ = request(addr, "GET", path, &[]);
    }
    // An exchange is recorded as its last frame goes out, a moment after the client has it.
    let count = |status: &str| {
        find_value(
            &parse(&instrument_metrics::render()),
            "http_server_request_duration_seconds_count",
            &[("test", test), ("http_response_status_code", status)],
        )
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while (count("200"), count("500")) != (Some(2.0), Some(1.0)) {
        assert!(Instant::now() < deadline, "requests not recorded");
        std::thread::sleep(Duration::from_millis(20));
    }

    let reply = request(
        addr,
        "GET",
        "/metrics",
        &[("Accept", PROMETHEUS_3_4_NATIVE)],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(PROTOBUF_CONTENT_TYPE));
    let families = decode(&reply.body);
    let text = instrument_metrics::render();

    let duration = family(&families, "http_server_request_duration_seconds");
    assert_eq!(duration.r#type(), MetricType::Histogram);
    let ours = |m: &&client_model::io::prometheus::client::Metric| {
        m.label
            .iter()
            .any(|p| p.name() == "test" && p.value() == test)
    };
    let by_status: BTreeMap<String, u64> = duration
        .metric
        .iter()
        .filter(ours)
        .map(|m| {
            let status = m
                .label
                .iter()
                .find(|p| p.name() == "http_response_status_code")
                .unwrap();
            let route = m.label.iter().find(|p| p.name() == "http_route").unwrap();
            assert_eq!(route.value(), "/users/{id}");
            (
                status.value().to_owned(),
                m.histogram.as_ref().unwrap().sample_count(),
            )
        })
        .collect();
    assert_eq!(
        by_status,
        BTreeMap::from([("200".to_owned(), 2), ("500".to_owned(), 1)])
    );

    // All of this server's HTTP samples, as the text has them.
    let keep = |s: &Sample| s.name.starts_with("http_server_") && labelled("test", test)(s);
    let from_text = text_samples(&text, keep);
    assert!(
        from_text
            .iter()
            .any(|s| s.name == "http_server_active_requests"),
        "{from_text:?}"
    );
    assert!(from_text
        .iter()
        .any(|s| s.name == "http_server_response_body_size_bytes_count"));
    assert_eq!(proto_samples(&families, keep), from_text);

    // The handler's own plain answer is still text.
    let plain = request(addr, "GET", "/metrics", &[]);
    assert!(plain
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
}

// ---- the standalone exporter ------------------------------------------------------------------

#[instrument_metrics]
fn pb_exported() {}

#[test]
fn the_exporter_answers_native_histogram_scrapes_with_protobuf_gzip_too() {
    let exporter = instrument_metrics::serve("127.0.0.1:0").expect("exporter");
    let addr = exporter.local_addr();
    for _ in 0..4 {
        pb_exported();
    }
    let exported = |families: &[MetricFamily]| {
        let all = samples(families);
        ["ok", "error", "panic", "cancelled"].map(|r| {
            find_value(
                &all,
                "function_calls_total",
                &[("function", "pb_exported"), ("result", r)],
            )
        })
    };
    let four_ok = [Some(4.0), Some(0.0), Some(0.0), Some(0.0)];

    let reply = request(
        addr,
        "GET",
        "/metrics",
        &[("Accept", PROMETHEUS_3_4_NATIVE)],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores")
    );
    assert_eq!(reply.header("content-encoding"), None);
    let families = decode(&reply.body);
    assert_eq!(exported(&families), four_ok);
    let scrapes = family(&families, "instrument_metrics_scrapes_total");
    assert_eq!(scrapes.r#type(), MetricType::Counter);

    let plain_before = decode(&instrument_metrics::exposition::render_protobuf());
    let reply = request(
        addr,
        "GET",
        "/metrics",
        &[
            ("Accept", PROMETHEUS_3_0_NATIVE),
            ("Accept-Encoding", "gzip"),
        ],
    );
    assert_eq!(
        reply.header("content-type"),
        Some(PROTOBUF_UTF8_CONTENT_TYPE)
    );
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(reply.body.as_slice())
        .read_to_end(&mut body)
        .expect("a gzip stream");
    let families = decode(&body);
    assert_eq!(exported(&families), four_ok);
    // The same families as an uncompressed scrape. Other tests of this binary register
    // families in the same registry meanwhile, and families only come, never go: every family
    // of the plain stream taken before the gzipped scrape is in it, and every family of it is in
    // the plain stream taken after.
    let family_names = |families: &[MetricFamily]| -> BTreeSet<String> {
        names(families).into_iter().map(str::to_owned).collect()
    };
    let gzipped = family_names(&families);
    let missing: Vec<_> = family_names(&plain_before)
        .difference(&gzipped)
        .cloned()
        .collect();
    assert!(missing.is_empty(), "not in the gzipped scrape: {missing:?}");
    let after = family_names(&decode(&instrument_metrics::exposition::render_protobuf()));
    let extra: Vec<_> = gzipped.difference(&after).cloned().collect();
    assert!(extra.is_empty(), "only in the gzipped scrape: {extra:?}");
    // And this test's own series, sample for sample, as an uncompressed scrape has them.
    let reply = request(
        addr,
        "GET",
        "/metrics",
        &[
            ("Accept", PROMETHEUS_3_0_NATIVE),
            ("Accept-Encoding", "identity"),
        ],
    );
    assert_eq!(reply.header("content-encoding"), None);
    let mine = labelled("function", "pb_exported");
    let plain = proto_samples(&decode(&reply.body), &mine);
    // Four results; the default 14 bounds, +Inf, _sum and _count.
    assert_eq!(plain.len(), 4 + 17, "{plain:?}");
    assert_eq!(proto_samples(&families, &mine), plain);

    exporter.shutdown();
}
