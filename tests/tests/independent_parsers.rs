//! Parsers nobody here wrote read what we write, and read back exactly what was recorded:
//! `promtool check metrics` (Prometheus' own text parser and linter), Python's
//! `prometheus_client` text parser and its strict OpenMetrics parser, and `prost` with
//! client_model's generated types for the protobuf exposition.
//!
//! One process, one state: user metrics of every kind in `registry()` (counter, gauge with
//! `±Inf` and `NaN`, histogram with custom buckets, a summary, an untyped family and a family
//! whose name is not a legacy name, from custom collectors; hostile label values and help
//! text), instrumented functions (constant labels, `error_kind`, `histogram = both`, exemplars)
//! and an HTTP table driven through axum. Every family read back is one of those, compared value
//! for value with what was recorded and across the three formats.
//!
//! Python's `prometheus_client` comes from the Debian package `python3-prometheus-client`
//! (scripts/test installs it); the test looks for a `python3` that can import it and fails,
//! never skips, when there is none.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use instrument_metrics::prometheus::core::{Collector, Desc};
use instrument_metrics::prometheus::proto as gathered;
use instrument_metrics::prometheus::{
    register_gauge_vec_with_registry, register_histogram_vec_with_registry,
    register_int_counter_vec_with_registry,
};
use instrument_metrics::{instrument_metrics, set_exemplar_source, LabelValue, TraceContext};
use instrument_metrics_tests::assert_promtool_finds_nothing;

use instrument_metrics_tests::client_model;

use client_model::io::prometheus::client::{MetricFamily, MetricType};

// ---- what is recorded -------------------------------------------------------------------------

/// A label value with everything the text formats escape, and some they must not.
const HOSTILE: &str = "a\"b\\c\nd é ☃ {x=\"y\"} # \\n";
/// Help text with the characters HELP escapes (backslash, newline) and a quote.
const HOSTILE_HELP: &str = "Jobs \"done\" in C:\\jobs\\new\nsecond line; a \\n that is not one";

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
const SPAN: u64 = 0x00f0_67aa_0ba9_02b7;

fn traced() -> Option<TraceContext> {
    Some(TraceContext::new(TRACE, SPAN))
}

#[derive(LabelValue, Debug)]
enum ReviewError {
    NotFound,
    Conflict,
}

#[instrument_metrics(labels(team = "a\"b\\c\nd é ☃"), error_kind)]
fn review_store(op: u8) -> Result<u8, ReviewError> {
    match op {
        0 => Err(ReviewError::NotFound),
        1 => Err(ReviewError::Conflict),
        _ => Ok(op),
    }
}

/// Classic bounds at powers of two: each is also a bound of a native (schema 3) bucket, so the
/// classic and native counts can be compared bucket for bucket.
#[instrument_metrics(
    histogram = both,
    buckets = [0.000_061_035_156_25, 0.000_244_140_625, 0.000_976_562_5, 0.003_906_25, 0.015_625, 0.0625]
)]
fn review_timed(sleep_micros: u64) {
    if sleep_micros > 0 {
        std::thread::sleep(Duration::from_micros(sleep_micros));
    }
}

/// A classic histogram (the default) whose every call lands in `+Inf`: that bucket's exemplar
/// must reach protobuf scrapers too.
#[instrument_metrics(buckets = [0.000_000_001])]
fn review_beyond_the_last_bucket() {
    std::thread::sleep(Duration::from_micros(50));
}

/// Families of a custom collector: a summary, an untyped value and a family whose name is not
/// a legacy name (`prometheus` checks only its descriptors' names).
struct Custom {
    descs: Vec<Desc>,
}

fn pair(name: &str, value: &str) -> gathered::LabelPair {
    let mut p = gathered::LabelPair::default();
    p.set_name(name.to_owned());
    p.set_value(value.to_owned());
    p
}

fn family(
    name: &str,
    help: &str,
    kind: gathered::MetricType,
    metric: gathered::Metric,
) -> gathered::MetricFamily {
    let mut f = gathered::MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(kind);
    f.set_metric(vec![metric]);
    f
}

impl Collector for Custom {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    // `Untyped` is deprecated in `prometheus` for its own future, but it is how a collector
    // yields an untyped value today.
    #[allow(deprecated)]
    fn collect(&self) -> Vec<gathered::MetricFamily> {
        let mut summary = gathered::Summary::default();
        summary.set_sample_count(42);
        summary.set_sample_sum(17.75);
        summary.set_quantile(
            [(0.5, 0.125), (0.9, 1.5), (0.99, 2.5)]
                .into_iter()
                .map(|(q, v)| {
                    let mut quantile = gathered::Quantile::default();
                    quantile.set_quantile(q);
                    quantile.set_value(v);
                    quantile
                })
                .collect(),
        );
        let mut m = gathered::Metric::from_label(vec![pair("kind", HOSTILE)]);
        m.set_summary(summary);
        let summary = family(
            "review_latency_seconds",
            "A summary from a custom collector.",
            gathered::MetricType::SUMMARY,
            m,
        );

        let mut untyped = gathered::Untyped::default();
        untyped.set_value(7.5);
        let mut m = gathered::Metric::from_label(vec![pair("source", "custom")]);
        m.set_untyped(untyped);
        let untyped = family(
            "review_untyped_thing",
            "An untyped value.",
            gathered::MetricType::UNTYPED,
            m,
        );

        let mut gauge = gathered::Gauge::default();
        gauge.set_value(3.0);
        let mut m = gathered::Metric::from_label(vec![pair("shape", "dotted")]);
        m.set_gauge(gauge);
        let dotted = family(
            "my.metric",
            "A name that is not a legacy name.",
            gathered::MetricType::GAUGE,
            m,
        );
        vec![summary, untyped, dotted]
    }
}

fn register_custom() {
    let descs = [
        "review_latency_seconds",
        "review_untyped_thing",
        "my_metric",
    ]
    .into_iter()
    .map(|n| Desc::new(n.into(), "custom".into(), Vec::new(), Default::default()).unwrap())
    .collect();
    instrument_metrics::registry()
        .register(Box::new(Custom { descs }))
        .unwrap();
}

/// Records everything, once.
fn record() {
    let registry = instrument_metrics::registry();
    set_exemplar_source(traced);

    let jobs = register_int_counter_vec_with_registry!(
        "review_jobs_total",
        HOSTILE_HELP,
        &["path"],
        registry
    )
    .unwrap();
    jobs.with_label_values(&[HOSTILE]).inc_by(3);
    jobs.with_label_values(&["plain"]).inc_by(5);

    let special = register_gauge_vec_with_registry!(
        "review_special_values",
        "Values that need care: infinities, NaN, very small and very large.",
        &["which"],
        registry
    )
    .unwrap();
    for (which, v) in [
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("nan", f64::NAN),
        ("tiny", 1e-300),
        ("huge", 1.5e300),
        ("negative", -3.25),
        ("third", 1.0 / 3.0),
        ("big_integer", 12_345_678_901.0),
    ] {
        special.with_label_values(&[which]).set(v);
    }

    let payload = register_histogram_vec_with_registry!(
        "review_payload_bytes",
        "Payload sizes.",
        &["kind"],
        vec![10.0, 100.0, 1000.0],
        registry
    )
    .unwrap();
    for v in [5.0, 50.0, 50.0, 500.0, 5000.5] {
        payload.with_label_values(&[HOSTILE]).observe(v);
    }

    register_custom();

    for op in [0, 1, 1, 2, 3] {
        let _ = review_store(op);
    }
    review_beyond_the_last_bucket();
    review_beyond_the_last_bucket();
    for micros in [0, 100, 500, 2_000, 8_000, 30_000, 100_000] {
        review_timed(micros);
    }

    use axum::routing::get;
    use tower::ServiceExt as _;
    let metrics = instrument_metrics::http::HttpMetrics::builder()
        .label("test", HOSTILE)
        .histograms(instrument_metrics::Histograms::Both)
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/items/{id}", get(|| async { "ok" }))
        .route(
            "/fail",
            get(|| async { (http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .layer(instrument_metrics::http::MetricsLayer::new(metrics));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for path in ["/items/1", "/items/2", "/items/3", "/fail", "/fail"] {
            let response = app
                .clone()
                .oneshot(
                    http::Request::get(path)
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
    instrument_metrics::clear_exemplar_source();
}

// ---- one model for every parser ---------------------------------------------------------------

type Labels = BTreeMap<String, String>;

/// A value as a string that is equal exactly when the floats are (NaN equals NaN here).
fn v(x: f64) -> String {
    format!("{x:?}")
}

/// `le` and `quantile` as the numbers they are, so `1`, `1.0` and `+Inf` compare as values.
fn normal(mut labels: Labels) -> Labels {
    for key in ["le", "quantile"] {
        if let Some(x) = labels.get_mut(key) {
            let n: f64 = match x.as_str() {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                s => s.parse().expect("a number"),
            };
            *x = v(n);
        }
    }
    labels
}

/// One exemplar: labels, value, timestamp as (seconds, nanoseconds).
type Ex = (Labels, String, (i64, i64));

/// One family as read back by one parser.
#[derive(Debug, Clone, PartialEq)]
struct Fam {
    kind: String,
    help: String,
    unit: String,
    /// `(sample name, labels)` to the value.
    samples: BTreeMap<(String, Labels), String>,
    /// `(sample name, labels)` to the exemplar, for samples that have one.
    exemplars: BTreeMap<(String, Labels), Ex>,
}

type Fams = BTreeMap<String, Fam>;

// ---- Python's prometheus_client ---------------------------------------------------------------

/// Parses `text` with prometheus_client (`parser` is `text` or `openmetrics`) and prints every
/// family as JSON, floats as their `repr` (exact, and `inf`/`nan` survive).
const PY: &str = r#"
import json, sys
import prometheus_client
from prometheus_client.samples import Timestamp
which = sys.argv[1]
if which == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
text = sys.stdin.buffer.read().decode("utf-8")
def ts(t):
    if isinstance(t, Timestamp):
        return [t.sec, t.nsec]
    raise SystemExit("timestamp not in seconds.nanoseconds form: %r" % (t,))
out = []
for f in text_string_to_metric_families(text):
    samples = []
    for s in f.samples:
        e = None
        if s.exemplar is not None:
            e = {"labels": s.exemplar.labels, "value": repr(float(s.exemplar.value)),
                 "timestamp": ts(s.exemplar.timestamp)}
        if s.timestamp is not None:
            raise SystemExit("unexpected sample timestamp on %s" % s.name)
        samples.append({"name": s.name, "labels": s.labels, "value": repr(float(s.value)),
                        "exemplar": e})
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "unit": f.unit, "samples": samples})
json.dump(out, sys.stdout)
"#;

/// The first `python3` (on `PATH`, then Debian's own) that imports `prometheus_client`.
fn python() -> &'static str {
    for candidate in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(candidate)
            .args(["-c", "import prometheus_client"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return candidate;
        }
    }
    panic!(
        "no python3 that imports prometheus_client (Debian package python3-prometheus-client; \
         scripts/test installs it)"
    );
}

fn python_parse(parser: &str, text: &str) -> Fams {
    let mut child = Command::new(python())
        .args(["-c", PY, parser])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "prometheus_client's {parser} parser refused the exposition:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut fams = Fams::new();
    for f in json.as_array().expect("a list") {
        let s = |k: &str| f[k].as_str().expect("a string").to_owned();
        let labels = |l: &serde_json::Value| -> Labels {
            l.as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
                .collect()
        };
        let float = |x: &serde_json::Value| v(x.as_str().expect("a repr").parse().expect("f64"));
        let mut fam = Fam {
            kind: s("type"),
            help: s("help"),
            unit: s("unit"),
            samples: BTreeMap::new(),
            exemplars: BTreeMap::new(),
        };
        for sample in f["samples"].as_array().expect("samples") {
            let key = (
                sample["name"].as_str().expect("name").to_owned(),
                normal(labels(&sample["labels"])),
            );
            let e = &sample["exemplar"];
            if !e.is_null() {
                let at = e["timestamp"].as_array().expect("timestamp");
                fam.exemplars.insert(
                    key.clone(),
                    (
                        labels(&e["labels"]),
                        float(&e["value"]),
                        (
                            at[0].as_i64().expect("seconds"),
                            at[1].as_i64().expect("nanoseconds"),
                        ),
                    ),
                );
            }
            assert!(
                fam.samples
                    .insert(key.clone(), float(&sample["value"]))
                    .is_none(),
                "{key:?} twice"
            );
        }
        assert!(fams.insert(s("name"), fam).is_none(), "family twice");
    }
    fams
}

// ---- protobuf, decoded with prost -------------------------------------------------------------

fn decode(bytes: &[u8]) -> Vec<MetricFamily> {
    instrument_metrics_tests::decode_protobuf(bytes)
}

fn pairs(labels: &[client_model::io::prometheus::client::LabelPair]) -> Labels {
    labels
        .iter()
        .map(|p| (p.name().to_owned(), p.value().to_owned()))
        .collect()
}

fn proto_exemplar(e: &client_model::io::prometheus::client::Exemplar) -> Ex {
    let t = e.timestamp.as_ref().expect("an exemplar timestamp");
    (
        pairs(&e.label),
        v(e.value()),
        (t.seconds, i64::from(t.nanos)),
    )
}

/// The samples the text format would show for these families, keyed by family name as the
/// text 0.0.4 parser names them (a counter's without `_total`, as prometheus_client does).
#[allow(clippy::cast_precision_loss)]
fn proto_fams(families: &[MetricFamily]) -> Fams {
    let mut fams = Fams::new();
    for f in families {
        let kind = match f.r#type() {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Untyped => "unknown",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
        };
        let mut fam = Fam {
            kind: kind.to_owned(),
            help: f.help().to_owned(),
            unit: f.unit().to_owned(),
            samples: BTreeMap::new(),
            exemplars: BTreeMap::new(),
        };
        for m in &f.metric {
            let labels = pairs(&m.label);
            let mut push = |suffix: &str, extra: Option<(&str, f64)>, value: f64| {
                let mut labels = labels.clone();
                if let Some((k, x)) = extra {
                    labels.insert(k.to_owned(), v(x));
                }
                let key = (format!("{}{suffix}", f.name()), labels);
                assert!(fam.samples.insert(key.clone(), v(value)).is_none());
                key
            };
            match f.r#type() {
                MetricType::Counter => {
                    let c = m.counter.as_ref().expect("a counter");
                    let key = push("", None, c.value());
                    if let Some(e) = &c.exemplar {
                        fam.exemplars.insert(key, proto_exemplar(e));
                    }
                }
                MetricType::Gauge => {
                    push("", None, m.gauge.as_ref().expect("a gauge").value());
                }
                MetricType::Untyped => {
                    push("", None, m.untyped.as_ref().expect("an untyped").value());
                }
                MetricType::Summary => {
                    let s = m.summary.as_ref().expect("a summary");
                    for q in &s.quantile {
                        push("", Some(("quantile", q.quantile())), q.value());
                    }
                    push("_sum", None, s.sample_sum());
                    push("_count", None, s.sample_count() as f64);
                }
                MetricType::Histogram | MetricType::GaugeHistogram => {
                    let h = m.histogram.as_ref().expect("a histogram");
                    for b in &h.bucket {
                        let key = push(
                            "_bucket",
                            Some(("le", b.upper_bound())),
                            b.cumulative_count() as f64,
                        );
                        if let Some(e) = &b.exemplar {
                            fam.exemplars.insert(key, proto_exemplar(e));
                        }
                    }
                    // `+Inf` is implied by the count, unless written to carry an exemplar.
                    if h.bucket.last().is_none_or(|b| b.upper_bound().is_finite()) {
                        push(
                            "_bucket",
                            Some(("le", f64::INFINITY)),
                            h.sample_count() as f64,
                        );
                    }
                    push("_sum", None, h.sample_sum());
                    push("_count", None, h.sample_count() as f64);
                }
            }
        }
        let name = match f.r#type() {
            MetricType::Counter => f.name().strip_suffix("_total").unwrap_or(f.name()),
            _ => f.name(),
        };
        fams.insert(name.to_owned(), fam);
    }
    fams
}

// ---- comparing --------------------------------------------------------------------------------

/// The families this test owns: the user's and the ones its functions and HTTP table fill.
fn ours(fams: &Fams) -> Fams {
    fams.iter()
        .filter(|(name, _)| {
            name.starts_with("review_")
                || name.as_str() == "my_metric"
                || name.as_str() == "my.metric"
        })
        .map(|(n, f)| (n.clone(), f.clone()))
        .collect()
}

/// The series of the function families and HTTP families this test owns.
fn owned_series(fams: &Fams, family: &str, key: &str, value: &str) -> Fam {
    let f = fams
        .get(family)
        .unwrap_or_else(|| panic!("no family {family} in {:?}", fams.keys()));
    let keep = |(_, labels): &(String, Labels)| labels.get(key).map(String::as_str) == Some(value);
    Fam {
        kind: f.kind.clone(),
        help: f.help.clone(),
        unit: f.unit.clone(),
        samples: f
            .samples
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, x)| (k.clone(), x.clone()))
            .collect(),
        exemplars: f
            .exemplars
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, x)| (k.clone(), x.clone()))
            .collect(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    normal(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn sample(name: &str, pairs: &[(&str, &str)], value: f64) -> ((String, Labels), String) {
    ((name.to_owned(), labels(pairs)), v(value))
}

/// The user's families exactly as recorded, as the text 0.0.4 parser keys them.
fn expected_user_families() -> Fams {
    let fam = |kind: &str, help: &str, samples: Vec<((String, Labels), String)>| Fam {
        kind: kind.to_owned(),
        help: help.to_owned(),
        unit: String::new(),
        samples: samples.into_iter().collect(),
        exemplars: BTreeMap::new(),
    };
    let h = [("kind", HOSTILE)];
    let hb = |le: &str, n: f64| {
        sample(
            "review_payload_bytes_bucket",
            &[("kind", HOSTILE), ("le", le)],
            n,
        )
    };
    let k = |q: &str, x: f64| {
        sample(
            "review_latency_seconds",
            &[("kind", HOSTILE), ("quantile", q)],
            x,
        )
    };
    let s = |which: &str, x: f64| sample("review_special_values", &[("which", which)], x);
    Fams::from([
        (
            "review_jobs".to_owned(),
            fam(
                "counter",
                HOSTILE_HELP,
                vec![
                    sample("review_jobs_total", &[("path", HOSTILE)], 3.0),
                    sample("review_jobs_total", &[("path", "plain")], 5.0),
                ],
            ),
        ),
        (
            "review_special_values".to_owned(),
            fam(
                "gauge",
                "Values that need care: infinities, NaN, very small and very large.",
                vec![
                    s("pos_inf", f64::INFINITY),
                    s("neg_inf", f64::NEG_INFINITY),
                    s("nan", f64::NAN),
                    s("tiny", 1e-300),
                    s("huge", 1.5e300),
                    s("negative", -3.25),
                    s("third", 1.0 / 3.0),
                    s("big_integer", 12_345_678_901.0),
                ],
            ),
        ),
        (
            "review_payload_bytes".to_owned(),
            fam(
                "histogram",
                "Payload sizes.",
                vec![
                    hb("10", 1.0),
                    hb("100", 3.0),
                    hb("1000", 4.0),
                    hb("+Inf", 5.0),
                    sample("review_payload_bytes_sum", &h, 5605.5),
                    sample("review_payload_bytes_count", &h, 5.0),
                ],
            ),
        ),
        (
            "review_latency_seconds".to_owned(),
            fam(
                "summary",
                "A summary from a custom collector.",
                vec![
                    k("0.5", 0.125),
                    k("0.9", 1.5),
                    k("0.99", 2.5),
                    sample("review_latency_seconds_sum", &h, 17.75),
                    sample("review_latency_seconds_count", &h, 42.0),
                ],
            ),
        ),
        (
            "review_untyped_thing".to_owned(),
            fam(
                "unknown",
                "An untyped value.",
                vec![sample("review_untyped_thing", &[("source", "custom")], 7.5)],
            ),
        ),
        (
            "my_metric".to_owned(),
            fam(
                "gauge",
                "A name that is not a legacy name.",
                vec![sample("my_metric", &[("shape", "dotted")], 3.0)],
            ),
        ),
    ])
}

/// OpenMetrics keys a counter family as text 0.0.4 does; it differs only in the samples an
/// OpenMetrics parser adds or writes otherwise, which the text parser's view has not.
fn assert_same(what: &str, got: &Fams, want: &Fams) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: families"
    );
    for (name, w) in want {
        let g = &got[name];
        assert_eq!(g.kind, w.kind, "{what}: {name}: type");
        assert_eq!(g.help, w.help, "{what}: {name}: help");
        assert_eq!(g.unit, w.unit, "{what}: {name}: unit");
        assert_eq!(g.samples, w.samples, "{what}: {name}: samples");
        assert_eq!(g.exemplars, w.exemplars, "{what}: {name}: exemplars");
    }
}

/// Cumulative native counts at upper bound 2^k, from spans and deltas (schema 3: bucket index
/// `i` holds (2^((i-1)/8), 2^(i/8)], so the bound 2^k is index 8k).
fn native_cumulative_at_powers_of_two(
    h: &client_model::io::prometheus::client::Histogram,
) -> BTreeMap<i32, u64> {
    assert_eq!(h.schema(), 3, "schema");
    assert!(h.negative_span.is_empty() && h.negative_delta.is_empty());
    let mut buckets = Vec::new();
    let mut index = 0i32;
    let mut count = 0i64;
    let mut deltas = h.positive_delta.iter();
    for span in &h.positive_span {
        index += span.offset();
        for _ in 0..span.length() {
            count += deltas.next().expect("a delta per bucket");
            assert!(count >= 0, "a negative bucket count");
            buckets.push((index, u64::try_from(count).unwrap()));
            index += 1;
        }
    }
    assert!(deltas.next().is_none(), "a delta per bucket, no more");
    (-14..=-4)
        .map(|k| {
            let at: u64 = buckets
                .iter()
                .filter(|(i, _)| *i <= 8 * k)
                .map(|(_, c)| c)
                .sum();
            (k, at + h.zero_count())
        })
        .collect()
}

// ---- the test ---------------------------------------------------------------------------------

#[test]
fn independent_parsers_read_back_what_was_recorded() {
    record();
    let text = instrument_metrics::render();
    let om = instrument_metrics::exposition::render_openmetrics();
    let proto = instrument_metrics::exposition::render_protobuf();

    // (a) promtool: no error, no lint, on everything served.
    assert_promtool_finds_nothing(&text);

    let text_fams = python_parse("text", &text);
    let om_fams = python_parse("openmetrics", &om);
    let proto_fams = proto_fams(&decode(&proto));

    // The user's families: exactly what was recorded, in each format.
    let want = expected_user_families();
    assert_same("text 0.0.4 (prometheus_client)", &ours(&text_fams), &want);
    assert_same("protobuf (prost)", &ours(&proto_fams), &want);
    // OpenMetrics: the same samples and more (a counter's `_created` would be one; `prometheus`
    // gives none), help as written.
    assert_same("OpenMetrics (prometheus_client)", &ours(&om_fams), &want);

    // The functions' and the HTTP table's series: the same in every format, with the values
    // recorded.
    for (family, key, value) in [
        ("function_calls", "function", "review_store"),
        (
            "function_calls_duration_seconds",
            "function",
            "review_store",
        ),
        ("function_calls", "function", "review_timed"),
        (
            "function_calls_duration_seconds",
            "function",
            "review_timed",
        ),
        ("http_server_request_duration_seconds", "test", HOSTILE),
        ("http_server_response_body_size_bytes", "test", HOSTILE),
        ("http_server_request_body_size_bytes", "test", HOSTILE),
        ("http_server_active_requests", "test", HOSTILE),
    ] {
        let t = owned_series(&text_fams, family, key, value);
        let o = owned_series(&om_fams, family, key, value);
        let p = owned_series(&proto_fams, family, key, value);
        assert!(!t.samples.is_empty(), "{family} {key}={value:?}: samples");
        assert_eq!(t.samples, o.samples, "{family}: text vs OpenMetrics");
        assert_eq!(t.samples, p.samples, "{family}: text vs protobuf");
        assert_eq!(
            o.exemplars, p.exemplars,
            "{family}: OpenMetrics vs protobuf exemplars"
        );
        assert_eq!((&t.kind, &o.kind), (&p.kind, &p.kind), "{family}: type");
        assert_eq!((&t.help, &o.help), (&p.help, &p.help), "{family}: help");
        assert_eq!(o.unit, p.unit, "{family}: unit");
    }

    check_function_values(&text_fams, &om_fams);
    check_http_values(&text_fams);
    check_native(&decode(&proto), &text_fams, &om_fams);
}

fn count_of(f: &Fam, name: &str, pairs: &[(&str, &str)]) -> String {
    let want = labels(pairs);
    let found: Vec<&String> = f
        .samples
        .iter()
        .filter(|((n, l), _)| n == name && want.iter().all(|(k, x)| l.get(k) == Some(x)))
        .map(|(_, x)| x)
        .collect();
    assert_eq!(found.len(), 1, "{name} {pairs:?}: one series in {f:#?}");
    found[0].clone()
}

fn check_function_values(text: &Fams, om: &Fams) {
    let team = "a\"b\\c\nd é ☃";
    let calls = owned_series(text, "function_calls", "function", "review_store");
    let got: BTreeMap<(String, String), String> = calls
        .samples
        .iter()
        .map(|((_, l), x)| {
            assert_eq!(l["team"], team, "the constant label round-trips");
            assert_eq!(l["module"], "independent_parsers");
            (
                (
                    l["result"].clone(),
                    l.get("error_kind").cloned().unwrap_or_default(),
                ),
                x.clone(),
            )
        })
        .collect();
    let mut want = BTreeMap::new();
    for (result, kind, n) in [
        ("ok", "", 2.0),
        ("panic", "", 0.0),
        ("cancelled", "", 0.0),
        ("error", "NotFound", 1.0),
        ("error", "Conflict", 2.0),
    ] {
        want.insert((result.to_owned(), kind.to_owned()), v(n));
    }
    // Kinds other than the enum's (`_NONE`, for instance) must be zero.
    let extra: BTreeMap<_, _> = got
        .iter()
        .filter(|(k, _)| !want.contains_key(*k))
        .map(|(k, x)| (k.clone(), x.clone()))
        .collect();
    assert!(
        extra.values().all(|x| *x == v(0.0)),
        "other kinds: {extra:?}"
    );
    let got: BTreeMap<_, _> = got
        .into_iter()
        .filter(|(k, _)| want.contains_key(k))
        .collect();
    assert_eq!(got, want, "review_store calls by result and kind");

    // The exemplar of the last ok call, with the trace recorded.
    let om_calls = owned_series(om, "function_calls", "function", "review_store");
    let want_ex = labels(&[
        ("trace_id", &format!("{TRACE:032x}")),
        ("span_id", &format!("{SPAN:016x}")),
    ]);
    assert!(
        !om_calls.exemplars.is_empty(),
        "exemplars on the calls counter"
    );
    for (key, (l, _, _)) in &om_calls.exemplars {
        assert_eq!(l, &want_ex, "{key:?}");
    }

    let d = owned_series(
        text,
        "function_calls_duration_seconds",
        "function",
        "review_timed",
    );
    let count = count_of(&d, "function_calls_duration_seconds_count", &[]);
    assert_eq!(count, v(7.0), "review_timed: seven calls");
    assert_eq!(
        count_of(
            &d,
            "function_calls_duration_seconds_bucket",
            &[("le", "+Inf")]
        ),
        count
    );
    let sum: f64 = count_of(&d, "function_calls_duration_seconds_sum", &[])
        .parse()
        .unwrap();
    assert!(
        sum >= 0.140_6,
        "the sleeps add up to 140.6 ms at least: {sum}"
    );
    let om_d = owned_series(
        om,
        "function_calls_duration_seconds",
        "function",
        "review_timed",
    );
    assert_eq!(om_d.unit, "seconds");
}

fn check_http_values(text: &Fams) {
    let d = owned_series(
        text,
        "http_server_request_duration_seconds",
        "test",
        HOSTILE,
    );
    for (route, status, n) in [("/items/{id}", "200", 3.0), ("/fail", "500", 2.0)] {
        let l = [
            ("http_route", route),
            ("http_response_status_code", status),
            ("http_request_method", "GET"),
        ];
        assert_eq!(
            count_of(&d, "http_server_request_duration_seconds_count", &l),
            v(n)
        );
    }
    let sizes = owned_series(
        text,
        "http_server_response_body_size_bytes",
        "test",
        HOSTILE,
    );
    for (route, n, sum) in [("/items/{id}", 3.0, 6.0), ("/fail", 2.0, 8.0)] {
        let l = [("http_route", route)];
        assert_eq!(
            count_of(&sizes, "http_server_response_body_size_bytes_count", &l),
            v(n)
        );
        assert_eq!(
            count_of(&sizes, "http_server_response_body_size_bytes_sum", &l),
            v(sum)
        );
    }
    let active = owned_series(text, "http_server_active_requests", "test", HOSTILE);
    assert_eq!(
        active.samples.values().collect::<BTreeSet<_>>(),
        BTreeSet::from([&v(0.0)]),
        "no request is active"
    );
}

/// `histogram = both`: native buckets whose counts agree with the classic ones at every
/// classic bound (all powers of two), for the function and the HTTP duration.
fn check_native(families: &[MetricFamily], text: &Fams, om: &Fams) {
    let f = families
        .iter()
        .find(|f| f.name() == "function_calls_duration_seconds")
        .expect("the duration family");
    let m = f
        .metric
        .iter()
        .find(|m| pairs(&m.label).get("function").map(String::as_str) == Some("review_timed"))
        .expect("review_timed's series");
    let h = m.histogram.as_ref().expect("a histogram");
    let native = native_cumulative_at_powers_of_two(h);
    let d = owned_series(
        text,
        "function_calls_duration_seconds",
        "function",
        "review_timed",
    );
    for k in [-14, -12, -10, -8, -6, -4] {
        let le = v(2f64.powi(k));
        let classic = count_of(&d, "function_calls_duration_seconds_bucket", &[("le", &le)]);
        #[allow(clippy::cast_precision_loss)]
        let n = native[&k] as f64;
        assert_eq!(v(n), classic, "native vs classic at le=2^{k}");
    }
    // A native histogram carries every bucket's exemplar in its own list: the ones OpenMetrics
    // shows on the classic buckets.
    let om = owned_series(
        om,
        "function_calls_duration_seconds",
        "function",
        "review_timed",
    );
    let shown: BTreeSet<Ex> = om.exemplars.into_values().collect();
    let native_list: BTreeSet<Ex> = h.exemplars.iter().map(proto_exemplar).collect();
    assert_eq!(native_list, shown, "native exemplars");
    let total: u64 = native_cumulative_at_powers_of_two(h)[&-4];
    assert!(total <= h.sample_count());
    let mut all = 0i64;
    let mut c = 0i64;
    for d in &h.positive_delta {
        c += d;
        all += c;
    }
    assert_eq!(
        u64::try_from(all).unwrap() + h.zero_count(),
        h.sample_count(),
        "native total = count"
    );
}
