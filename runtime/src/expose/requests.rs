//! The HTTP families as a `prometheus` collector, named as OpenTelemetry's Prometheus exporter
//! names its HTTP server metrics, so dashboards written for those fit.
//!
//! One collector serves every table (each table's constant labels are on its series); it is
//! registered in [`registry()`](crate::registry()) when the first table is created.

use std::collections::HashMap;
use std::sync::OnceLock;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};

use crate::expose::encode::nanos_to_seconds;
use crate::record::exemplar::Exemplar;
use crate::record::native::NativeReading;
use crate::record::requests::{tables, Series, Table, METHODS};

pub(crate) const DURATION: &str = "http_server_request_duration_seconds";
const DURATION_HELP: &str = "Duration of HTTP server requests, until the response body was sent.";
pub(crate) const ACTIVE: &str = "http_server_active_requests";
const ACTIVE_HELP: &str = "Number of active HTTP server requests.";
pub(crate) const REQUEST_SIZE: &str = "http_server_request_body_size_bytes";
const REQUEST_SIZE_HELP: &str =
    "Size of HTTP server request bodies, for requests whose length was known.";
pub(crate) const RESPONSE_SIZE: &str = "http_server_response_body_size_bytes";
const RESPONSE_SIZE_HELP: &str = "Size of HTTP server response bodies, as bytes sent.";
pub(crate) const ROUTE_OVERFLOW: &str = "instrument_metrics_http_route_overflow_total";
const ROUTE_OVERFLOW_HELP: &str =
    "HTTP requests whose route value was past the route limit and counted as _OTHER.";

/// Label names no constant label may take.
pub(crate) const RESERVED: [&str; 5] = [
    "http_request_method",
    "http_route",
    "http_response_status_code",
    "error_type",
    "le",
];

struct RequestCollector {
    descs: Vec<Desc>,
}

/// Registers the collector in the chosen registry, once. `Err` if the registry already has
/// families with these names (the user's own HTTP metrics).
pub(crate) fn register() -> Result<(), prometheus::Error> {
    static ONCE: OnceLock<Result<(), String>> = OnceLock::new();
    let r = ONCE.get_or_init(|| {
        let collector = RequestCollector::new().map_err(|e| e.to_string())?;
        crate::expose::registry::registry()
            .register(Box::new(collector))
            .map_err(|e| e.to_string())
    });
    r.clone().map_err(prometheus::Error::Msg)
}

impl RequestCollector {
    fn new() -> prometheus::Result<Self> {
        let series = || {
            vec![
                "http_request_method".to_owned(),
                "http_route".to_owned(),
                "http_response_status_code".to_owned(),
            ]
        };
        let desc = |name: &str, help: &str, labels: Vec<String>| {
            Desc::new(name.into(), help.into(), labels, Default::default())
        };
        Ok(RequestCollector {
            descs: vec![
                desc(DURATION, DURATION_HELP, series())?,
                desc(ACTIVE, ACTIVE_HELP, vec!["http_request_method".to_owned()])?,
                desc(REQUEST_SIZE, REQUEST_SIZE_HELP, series())?,
                desc(RESPONSE_SIZE, RESPONSE_SIZE_HELP, series())?,
                desc(ROUTE_OVERFLOW, ROUTE_OVERFLOW_HELP, Vec::new())?,
            ],
        })
    }
}

impl Collector for RequestCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let tables = tables();
        if tables.is_empty() {
            return Vec::new();
        }
        let (mut duration, mut active, mut request, mut response, mut overflow) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for t in &tables {
            for route in t.routes() {
                for s in route.all_series() {
                    let labels = series_labels(t, &route.name, s);
                    let (mut b, sum) = s.duration_nanos.read();
                    let mut bounds: Vec<f64> = t.duration_bounds_seconds.clone();
                    // Native only: text shows `+Inf`, `_sum` and `_count`, as for functions.
                    if s.native.is_some() && !t.histograms().classic() {
                        bounds.clear();
                        b = vec![b.iter().fold(0, |a, n| a.wrapping_add(*n))];
                    }
                    duration.push(histogram(
                        labels.clone(),
                        &bounds,
                        &b,
                        nanos_to_seconds(u128::from(sum)),
                    ));
                    #[allow(clippy::cast_precision_loss)] // byte bounds are far below 2^53
                    let size_bounds: Vec<f64> = t.size_bounds.iter().map(|b| *b as f64).collect();
                    let (b, sum) = s.request_bytes.read();
                    if b.iter().any(|n| *n > 0) {
                        #[allow(clippy::cast_precision_loss)]
                        request.push(histogram(labels.clone(), &size_bounds, &b, sum as f64));
                    }
                    let (b, sum) = s.response_bytes.read();
                    #[allow(clippy::cast_precision_loss)]
                    response.push(histogram(labels, &size_bounds, &b, sum as f64));
                }
            }
            for (method, n) in t.active() {
                let mut labels = vec![pair("http_request_method", METHODS[usize::from(method)])];
                labels.extend(constant_labels(t));
                let mut g = Gauge::default();
                #[allow(clippy::cast_precision_loss)]
                g.set_value(n.max(0) as f64);
                let mut m = Metric::from_gauge(g);
                m.set_label(labels);
                active.push(m);
            }
            let mut c = Counter::default();
            #[allow(clippy::cast_precision_loss)]
            c.set_value(t.route_overflows.load(std::sync::atomic::Ordering::Relaxed) as f64);
            let mut m = Metric::from_label(constant_labels(t).collect());
            m.set_counter(c);
            overflow.push(m);
        }
        let mut out = Vec::new();
        for (name, help, kind, metrics) in [
            (DURATION, DURATION_HELP, MetricType::HISTOGRAM, duration),
            (ACTIVE, ACTIVE_HELP, MetricType::GAUGE, active),
            (
                REQUEST_SIZE,
                REQUEST_SIZE_HELP,
                MetricType::HISTOGRAM,
                request,
            ),
            (
                RESPONSE_SIZE,
                RESPONSE_SIZE_HELP,
                MetricType::HISTOGRAM,
                response,
            ),
            (
                ROUTE_OVERFLOW,
                ROUTE_OVERFLOW_HELP,
                MetricType::COUNTER,
                overflow,
            ),
        ] {
            if metrics.is_empty() {
                continue;
            }
            let mut f = MetricFamily::default();
            f.set_name(name.to_owned());
            f.set_help(help.to_owned());
            f.set_field_type(kind);
            f.set_metric(metrics);
            out.push(f);
        }
        out
    }
}

/// The kept exemplars of every HTTP duration series that has any, by its label pairs sorted by
/// name (how a gathered metric is matched back to its series), one per bucket with `+Inf` last.
pub(crate) fn duration_exemplars() -> HashMap<Vec<(String, String)>, Vec<Option<Exemplar>>> {
    duration_extras()
        .into_iter()
        .filter(|(_, x)| !x.exemplars.is_empty())
        .map(|(k, x)| (k, x.exemplars))
        .collect()
}

/// What a gathered HTTP duration histogram lacks: its exemplars and native buckets.
pub(crate) struct DurationExtras {
    pub exemplars: Vec<Option<Exemplar>>,
    /// The native buckets, when the series keeps them and its table exposes them.
    pub native: Option<NativeReading>,
    /// Whether the classic buckets are exposed.
    pub classic: bool,
}

/// [`DurationExtras`] of every series with exemplars or native buckets, keyed as in
/// [`duration_exemplars`].
pub(crate) fn duration_extras() -> HashMap<Vec<(String, String)>, DurationExtras> {
    let mut out = HashMap::new();
    for t in tables() {
        let buckets = t.duration_bounds_seconds.len() + 1;
        let kind = t.histograms();
        for route in t.routes() {
            for s in route.all_series() {
                let exemplars = s.exemplars(buckets);
                let native = s.native.as_ref().filter(|_| kind.native()).map(|n| {
                    let mut r = NativeReading::default();
                    n.add_to(&mut r);
                    r
                });
                if exemplars.is_empty() && native.is_none() {
                    continue;
                }
                let mut key: Vec<(String, String)> = series_labels(t, &route.name, s)
                    .into_iter()
                    .map(|p| (p.name().to_owned(), p.value().to_owned()))
                    .collect();
                key.sort();
                out.insert(
                    key,
                    DurationExtras {
                        exemplars,
                        native,
                        classic: kind.classic(),
                    },
                );
            }
        }
    }
    out
}

fn pair(k: &str, v: &str) -> LabelPair {
    let mut p = LabelPair::default();
    p.set_name(k.to_owned());
    p.set_value(v.to_owned());
    p
}

fn constant_labels(t: &Table) -> impl Iterator<Item = LabelPair> + '_ {
    t.labels.iter().map(|(k, v)| pair(k, v))
}

fn series_labels(t: &Table, route: &str, s: &Series) -> Vec<LabelPair> {
    let (method, status, ending) = s.labels();
    let mut labels = vec![
        pair("http_request_method", METHODS[usize::from(method)]),
        pair("http_route", route),
    ];
    if status != 0 {
        let mut buf = itoa::Buffer::new();
        labels.push(pair("http_response_status_code", buf.format(status)));
    }
    if let Some(e) = ending.error_type() {
        labels.push(pair("error_type", e));
    }
    labels.extend(constant_labels(t));
    labels
}

fn histogram(labels: Vec<LabelPair>, bounds: &[f64], counts: &[u64], sum: f64) -> Metric {
    let mut h = Histogram::default();
    let mut cumulative = 0;
    let mut buckets = Vec::with_capacity(bounds.len());
    for (bound, n) in bounds.iter().zip(counts) {
        cumulative += n;
        let mut b = Bucket::default();
        b.set_upper_bound(*bound);
        b.set_cumulative_count(cumulative);
        buckets.push(b);
    }
    cumulative += counts.get(bounds.len()).copied().unwrap_or(0);
    h.set_bucket(buckets);
    h.set_sample_count(cumulative);
    h.set_sample_sum(sum);
    let mut m = Metric::from_label(labels);
    m.set_histogram(h);
    m
}
