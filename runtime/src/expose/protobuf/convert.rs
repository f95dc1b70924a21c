//! A family gathered from the registry (`prometheus`'s protobuf types, which lack exemplars,
//! created timestamps and native histograms) as its client_model prost message, field by
//! field, presence kept (an unset field stays unset).

use prometheus::proto as gathered;

use super::pb;

/// `family` as a prost `MetricFamily`.
pub(crate) fn family(family: &gathered::MetricFamily) -> pb::MetricFamily {
    let kind = match family.type_() {
        gathered::MetricType::COUNTER => pb::MetricType::Counter,
        gathered::MetricType::GAUGE => pb::MetricType::Gauge,
        gathered::MetricType::SUMMARY => pb::MetricType::Summary,
        gathered::MetricType::UNTYPED => pb::MetricType::Untyped,
        gathered::MetricType::HISTOGRAM => pb::MetricType::Histogram,
    };
    pb::MetricFamily {
        name: family.name.clone(),
        help: family.help.clone(),
        r#type: family.type_.map(|_| kind as i32),
        metric: family.metric.iter().map(metric).collect(),
        unit: None,
    }
}

fn metric(m: &gathered::Metric) -> pb::Metric {
    pb::Metric {
        label: m
            .label
            .iter()
            .map(|p| pb::LabelPair {
                name: p.name.clone(),
                value: p.value.clone(),
            })
            .collect(),
        gauge: m.gauge.as_ref().map(|g| pb::Gauge { value: g.value }),
        counter: m.counter.as_ref().map(|c| pb::Counter {
            value: c.value,
            ..Default::default()
        }),
        summary: m.summary.as_ref().map(|s| pb::Summary {
            sample_count: s.sample_count,
            sample_sum: s.sample_sum,
            quantile: s
                .quantile
                .iter()
                .map(|q| pb::Quantile {
                    quantile: q.quantile,
                    value: q.value,
                })
                .collect(),
            created_timestamp: None,
        }),
        untyped: m.untyped.as_ref().map(|u| pb::Untyped { value: u.value }),
        histogram: m.histogram.as_ref().map(|h| pb::Histogram {
            sample_count: h.sample_count,
            sample_sum: h.sample_sum,
            bucket: h
                .bucket
                .iter()
                .map(|b| pb::Bucket {
                    cumulative_count: b.cumulative_count,
                    upper_bound: b.upper_bound,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        timestamp_ms: m.timestamp_ms,
    }
}

#[cfg(test)]
mod tests {
    use prometheus::core::Collector as _;
    use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts};

    use super::{family, pb};

    #[test]
    fn a_counter_vec_keeps_names_labels_and_values() {
        let c = IntCounterVec::new(Opts::new("jobs_total", "Jobs."), &["queue"]).unwrap();
        c.with_label_values(&["fast"]).inc_by(3);
        let f = family(&c.collect()[0]);
        assert_eq!(f.name(), "jobs_total");
        assert_eq!(f.help(), "Jobs.");
        assert_eq!(f.r#type(), pb::MetricType::Counter);
        assert_eq!(f.metric.len(), 1);
        let m = &f.metric[0];
        assert_eq!(m.label[0].name(), "queue");
        assert_eq!(m.label[0].value(), "fast");
        assert_eq!(m.counter.as_ref().unwrap().value(), 3.0);
        assert!(m.gauge.is_none() && m.histogram.is_none() && m.timestamp_ms.is_none());
    }

    #[test]
    fn a_histogram_keeps_its_buckets_count_and_sum() {
        let h = Histogram::with_opts(
            HistogramOpts::new("wait_seconds", "Wait.").buckets(vec![0.1, 1.0]),
        )
        .unwrap();
        h.observe(0.05);
        h.observe(0.5);
        h.observe(5.0);
        let f = family(&h.collect()[0]);
        assert_eq!(f.r#type(), pb::MetricType::Histogram);
        let got = f.metric[0].histogram.as_ref().unwrap();
        assert_eq!(got.sample_count(), 3);
        assert_eq!(got.sample_sum(), 5.55);
        let buckets: Vec<(f64, u64)> = got
            .bucket
            .iter()
            .map(|b| (b.upper_bound(), b.cumulative_count()))
            .collect();
        assert_eq!(buckets, [(0.1, 1), (1.0, 2)]);
        assert!(got.schema.is_none() && got.positive_span.is_empty());
    }
}
