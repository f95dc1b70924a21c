//! The function families as a `prometheus::core::Collector`, so that anything gathering
//! `registry()` (a hand-written `TextEncoder` handler, a push client) sees them too.

use std::cell::Cell;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};

use crate::expose::catalog::{catalog, Series};
use crate::expose::encode::{self, nanos_to_seconds};
use crate::record::outcome::Outcome;

thread_local! {
    /// Set while `render()` gathers the registry: it writes these families itself, faster.
    static SKIP: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this collector silent on the current thread.
pub(crate) fn without_function_families<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SKIP.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SKIP.with(|s| s.replace(true)));
    f()
}

pub(crate) struct FunctionCollector {
    descs: Vec<Desc>,
}

impl FunctionCollector {
    pub(crate) fn new() -> prometheus::Result<Self> {
        let labels = |extra: &str| {
            let mut v = vec!["function".to_owned(), "module".to_owned()];
            if !extra.is_empty() {
                v.push(extra.to_owned());
            }
            v
        };
        Ok(FunctionCollector {
            descs: vec![
                Desc::new(
                    encode::CALLS.into(),
                    encode::CALLS_HELP.into(),
                    labels("result"),
                    Default::default(),
                )?,
                Desc::new(
                    encode::DURATION.into(),
                    encode::DURATION_HELP.into(),
                    labels(""),
                    Default::default(),
                )?,
                Desc::new(
                    encode::IN_FLIGHT.into(),
                    encode::IN_FLIGHT_HELP.into(),
                    labels(""),
                    Default::default(),
                )?,
            ],
        })
    }
}

impl Collector for FunctionCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        if SKIP.with(Cell::get) {
            return Vec::new();
        }
        let series = catalog();
        if series.is_empty() {
            return Vec::new();
        }
        let readings = encode::read_all(series);
        let mut calls = Vec::with_capacity(series.len() * 4);
        let mut durations = Vec::with_capacity(series.len());
        let mut in_flight = Vec::new();
        for (s, r) in series.iter().zip(&readings) {
            for outcome in Outcome::ALL {
                let mut m = Metric::from_label(labels(s, Some(("result", outcome.as_str()))));
                let mut c = Counter::default();
                #[allow(clippy::cast_precision_loss)]
                c.set_value(r.results[outcome.index()] as f64);
                m.set_counter(c);
                calls.push(m);
            }
            let mut h = Histogram::default();
            let mut cumulative = 0;
            let mut buckets = Vec::with_capacity(r.buckets.len());
            for (bound, n) in s.bounds_seconds.iter().zip(&r.buckets) {
                cumulative += n;
                let mut b = Bucket::default();
                b.set_upper_bound(*bound);
                b.set_cumulative_count(cumulative);
                buckets.push(b);
            }
            h.set_bucket(buckets);
            h.set_sample_count(r.count());
            h.set_sample_sum(nanos_to_seconds(r.sum_nanos));
            let mut m = Metric::from_label(labels(s, None));
            m.set_histogram(h);
            durations.push(m);
            if s.in_flight {
                let mut g = Gauge::default();
                #[allow(clippy::cast_precision_loss)]
                g.set_value(r.in_flight.max(0) as f64);
                let mut m = Metric::from_gauge(g);
                m.set_label(labels(s, None));
                in_flight.push(m);
            }
        }
        let mut families = vec![
            family(
                encode::CALLS,
                encode::CALLS_HELP,
                MetricType::COUNTER,
                calls,
            ),
            family(
                encode::DURATION,
                encode::DURATION_HELP,
                MetricType::HISTOGRAM,
                durations,
            ),
        ];
        if !in_flight.is_empty() {
            families.push(family(
                encode::IN_FLIGHT,
                encode::IN_FLIGHT_HELP,
                MetricType::GAUGE,
                in_flight,
            ));
        }
        families
    }
}

fn labels(s: &Series, last: Option<(&str, &str)>) -> Vec<LabelPair> {
    let pair = |k: &str, v: &str| {
        let mut p = LabelPair::default();
        p.set_name(k.to_owned());
        p.set_value(v.to_owned());
        p
    };
    let mut v = vec![pair("function", &s.function), pair("module", s.module)];
    v.extend(s.labels.iter().map(|(k, val)| pair(k, val)));
    if let Some((k, val)) = last {
        v.push(pair(k, val));
    }
    v
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}
