//! The function families as a `prometheus::core::Collector`, so that anything gathering
//! `registry()` (a hand-written `TextEncoder` handler, a push client) sees them too.

use std::cell::Cell;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};

use crate::expose::catalog::{self, catalog, Row, Series};
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
        let rows = catalog::rows(series);
        let mut calls = Vec::with_capacity(rows.len() * 4);
        let mut durations = Vec::with_capacity(rows.len());
        let mut in_flight = Vec::new();
        for row in &rows {
            let (s, r) = (row.series, &row.reading);
            for outcome in Outcome::ALL {
                if outcome == Outcome::Error {
                    if let Some(kinds) = row.error_kinds() {
                        for (kind, n) in kinds {
                            let mut m = Metric::from_label(labels(
                                row,
                                &[("result", "error"), ("error_kind", kind)],
                            ));
                            m.set_counter(counter(n));
                            calls.push(m);
                        }
                        continue;
                    }
                }
                let mut m = Metric::from_label(labels(row, &[("result", outcome.as_str())]));
                m.set_counter(counter(r.results[outcome.index()]));
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
            let mut m = Metric::from_label(labels(row, &[]));
            m.set_histogram(h);
            durations.push(m);
        }
        for (s, n) in encode::in_flight_values(series, &rows) {
            let mut g = Gauge::default();
            #[allow(clippy::cast_precision_loss)]
            g.set_value(n.max(0) as f64);
            let mut m = Metric::from_gauge(g);
            m.set_label(series_labels(s, &[]));
            in_flight.push(m);
        }
        let overflows: Vec<Metric> = catalog::overflows(series)
            .into_iter()
            .map(|(s, label, n)| {
                let mut m = Metric::from_label(series_labels(s, &[("label", label)]));
                m.set_counter(counter(n));
                m
            })
            .collect();
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
        if !overflows.is_empty() {
            families.push(family(
                encode::OVERFLOW,
                encode::OVERFLOW_HELP,
                MetricType::COUNTER,
                overflows,
            ));
        }
        families
    }
}

fn counter(n: u64) -> Counter {
    let mut c = Counter::default();
    #[allow(clippy::cast_precision_loss)]
    c.set_value(n as f64);
    c
}

fn pair(k: &str, v: &str) -> LabelPair {
    let mut p = LabelPair::default();
    p.set_name(k.to_owned());
    p.set_value(v.to_owned());
    p
}

/// `function`, `module`, the constant labels, then `last`.
fn series_labels(s: &Series, last: &[(&str, &str)]) -> Vec<LabelPair> {
    let mut v = vec![pair("function", &s.function), pair("module", s.module)];
    v.extend(s.labels.iter().map(|(k, val)| pair(k, val)));
    v.extend(last.iter().map(|(k, val)| pair(k, val)));
    v
}

/// A row's labels: the series', the dynamic ones, then `last`.
fn labels(row: &Row<'_>, last: &[(&str, &str)]) -> Vec<LabelPair> {
    let mut v = series_labels(row.series, &[]);
    v.extend(row.dynamic.iter().map(|(k, val)| pair(k, val)));
    v.extend(last.iter().map(|(k, val)| pair(k, val)));
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
