//! Our families as `prometheus::core::Collector`s in the chosen registry, for outside code that
//! gathers it (a hand-written `TextEncoder` handler, actix-web-prom, a push client). They
//! convert the same reading every encoder writes; our own rendering never goes through them
//! (it reads the catalog directly and silences them while it gathers the user's families).

use std::cell::Cell;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{self as gathered, LabelPair, MetricType};

use crate::expose::catalog::{self, Group, Groups};
use crate::expose::snapshot::{Family, Kind, Value};

thread_local! {
    /// Set while our own render gathers the registry: it writes these families itself.
    static SILENT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with our collectors silent on the current thread.
pub(crate) fn without_our_families<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SILENT.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SILENT.with(|s| s.replace(true)));
    f()
}

/// One group of our families as a collector.
pub(crate) struct OwnedCollector {
    groups: Groups,
    descs: Vec<Desc>,
}

impl OwnedCollector {
    /// The collector of one group.
    pub(crate) fn new(group: Group) -> prometheus::Result<Self> {
        let descs = group
            .families()
            .iter()
            .map(|f| Desc::new(f.name.into(), f.help.into(), Vec::new(), Default::default()))
            .collect::<prometheus::Result<Vec<Desc>>>()?;
        Ok(OwnedCollector {
            groups: Groups::only(group),
            descs,
        })
    }
}

impl Collector for OwnedCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<gathered::MetricFamily> {
        if SILENT.with(Cell::get) {
            return Vec::new();
        }
        catalog::read(self.groups, None)
            .iter()
            .map(to_gathered)
            .collect()
    }
}

fn pair(k: &str, v: &str) -> LabelPair {
    let mut p = LabelPair::default();
    p.set_name(k.to_owned());
    p.set_value(v.to_owned());
    p
}

/// A reading as `prometheus`'s plain model (the registry adds its prefix and constant labels).
fn to_gathered(f: &Family) -> gathered::MetricFamily {
    let mut family = gathered::MetricFamily::default();
    family.set_name(f.name.to_string());
    family.set_help(f.help.to_string());
    family.set_field_type(match f.kind {
        Kind::Counter => MetricType::COUNTER,
        Kind::Gauge => MetricType::GAUGE,
        Kind::Histogram => MetricType::HISTOGRAM,
        Kind::Summary => MetricType::SUMMARY,
        Kind::Untyped => MetricType::UNTYPED,
    });
    let metrics = f
        .samples
        .iter()
        .map(|s| {
            let labels: Vec<LabelPair> = s
                .labels
                .pairs
                .iter()
                .map(|(k, v)| pair(k, v))
                .chain(s.extra.pairs().iter().map(|(k, v)| pair(k, v)))
                .collect();
            let mut m = gathered::Metric::from_label(labels);
            match &s.value {
                Value::Counter { value, .. } => {
                    let mut c = gathered::Counter::default();
                    c.set_value(value.as_f64());
                    m.set_counter(c);
                }
                Value::Gauge(value) => {
                    let mut g = gathered::Gauge::default();
                    g.set_value(value.as_f64());
                    m.set_gauge(g);
                }
                Value::Histogram(h) => {
                    let mut out = gathered::Histogram::default();
                    let mut buckets = Vec::new();
                    // Text scrapers of a native-only histogram see `+Inf` only, as from us.
                    if h.classic {
                        for (bound, cumulative, _) in h.finite() {
                            let mut b = gathered::Bucket::default();
                            b.set_upper_bound(bound);
                            b.set_cumulative_count(cumulative);
                            buckets.push(b);
                        }
                    }
                    out.set_bucket(buckets);
                    out.set_sample_count(h.count());
                    out.set_sample_sum(h.sum);
                    m.set_histogram(out);
                }
                Value::Summary {
                    quantiles,
                    sum,
                    count,
                } => {
                    let mut out = gathered::Summary::default();
                    out.set_quantile(
                        quantiles
                            .iter()
                            .map(|(q, v)| {
                                let mut quantile = gathered::Quantile::default();
                                quantile.set_quantile(*q);
                                quantile.set_value(*v);
                                quantile
                            })
                            .collect(),
                    );
                    out.set_sample_sum(*sum);
                    out.set_sample_count(*count);
                    m.set_summary(out);
                }
            }
            m
        })
        .collect();
    family.set_metric(metrics);
    family
}
