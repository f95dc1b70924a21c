//! The function families (`function_calls_total`, `function_calls_duration_seconds`,
//! `function_calls_in_flight`, `instrument_metrics_label_overflow_total`) as prost messages,
//! built straight from the catalog rows as the text encoder writes them, with the registry's
//! prefix and constant labels. Histograms carry classic buckets, native ones, or both (as each
//! function's `histogram` option or [`set_histograms`](crate::set_histograms) says); counters
//! and histograms their created timestamp and exemplars.

use super::client_model::google::protobuf::Timestamp;
use super::{created, pb};
use crate::expose::catalog::{self, catalog, Row, Series};
use crate::expose::encode::{self, nanos_to_seconds};
use crate::expose::registry::{decorations, Decorations};
use crate::record::exemplar::Exemplar;
use crate::record::outcome::Outcome;

/// Appends the function families, in the order the text exposition has them.
pub(crate) fn function_families(out: &mut Vec<pb::MetricFamily>) {
    let series = catalog();
    if series.is_empty() {
        return;
    }
    let rows = catalog::rows(series);
    let decor = decorations();
    let created = created::function_counters();

    let mut calls = Vec::with_capacity(rows.len() * Outcome::ALL.len());
    let mut durations = Vec::with_capacity(rows.len());
    for row in &rows {
        for outcome in Outcome::ALL {
            if outcome == Outcome::Error {
                if let Some(kinds) = row.error_kinds() {
                    for (kind, n) in kinds {
                        let labels =
                            row_labels(row, decor, &[("result", "error"), ("error_kind", kind)]);
                        calls.push(counter(labels, n, created, None));
                    }
                    continue;
                }
            }
            let labels = row_labels(row, decor, &[("result", outcome.as_str())]);
            let exemplar = row
                .reading
                .exemplars
                .get(row.reading.buckets.len() + outcome.index())
                .copied()
                .flatten();
            calls.push(counter(
                labels,
                row.reading.results[outcome.index()],
                created,
                exemplar,
            ));
        }
        durations.push(pb::Metric {
            label: row_labels(row, decor, &[]),
            histogram: Some(histogram(row, created)),
            ..Default::default()
        });
    }
    out.push(family(
        decor,
        encode::CALLS,
        encode::CALLS_HELP,
        pb::MetricType::Counter,
        calls,
    ));
    let mut duration = family(
        decor,
        encode::DURATION,
        encode::DURATION_HELP,
        pb::MetricType::Histogram,
        durations,
    );
    duration.unit = Some("seconds".to_owned());
    out.push(duration);

    let in_flight: Vec<pb::Metric> = encode::in_flight_values(series, &rows)
        .into_iter()
        .map(|(s, n)| pb::Metric {
            label: series_labels(s, &[], decor, &[]),
            #[allow(clippy::cast_precision_loss)] // exact below 2^53 calls at once
            gauge: Some(pb::Gauge {
                value: Some(n.max(0) as f64),
            }),
            ..Default::default()
        })
        .collect();
    if !in_flight.is_empty() {
        out.push(family(
            decor,
            encode::IN_FLIGHT,
            encode::IN_FLIGHT_HELP,
            pb::MetricType::Gauge,
            in_flight,
        ));
    }

    let overflows: Vec<pb::Metric> = catalog::overflows(series)
        .into_iter()
        .map(|(s, label, n)| {
            counter(
                series_labels(s, &[], decor, &[("label", label)]),
                n,
                created,
                None,
            )
        })
        .collect();
    if !overflows.is_empty() {
        out.push(family(
            decor,
            encode::OVERFLOW,
            encode::OVERFLOW_HELP,
            pb::MetricType::Counter,
            overflows,
        ));
    }
}

/// The duration histogram of one row: classic buckets (cumulative, the `+Inf` one implied by
/// the count, as client_golang leaves it out) and/or native ones, count and sum.
fn histogram(row: &Row<'_>, created: Option<Timestamp>) -> pb::Histogram {
    let r = &row.reading;
    let kind = row.series.histograms();
    let native = r.native.as_ref().filter(|_| kind.native());
    let mut cumulative = 0;
    let bucket = if kind.classic() || native.is_none() {
        row.series
            .bounds_seconds
            .iter()
            .zip(&r.buckets)
            .map(|(bound, n)| {
                cumulative += n;
                pb::Bucket {
                    cumulative_count: Some(cumulative),
                    upper_bound: Some(*bound),
                    ..Default::default()
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut h = pb::Histogram {
        sample_count: Some(r.count()),
        sample_sum: Some(nanos_to_seconds(r.sum_nanos)),
        bucket,
        created_timestamp: created,
        ..Default::default()
    };
    if let Some(n) = native {
        super::native::fill(&mut h, n);
    }
    // Per bucket; the results' exemplars after them go on the counters.
    let per_bucket = &r.exemplars[..r.exemplars.len().min(r.buckets.len())];
    super::native::place_exemplars(&mut h, per_bucket, native.is_some());
    h
}

fn counter(
    label: Vec<pb::LabelPair>,
    n: u64,
    created: Option<Timestamp>,
    exemplar: Option<Exemplar>,
) -> pb::Metric {
    pb::Metric {
        label,
        counter: Some(pb::Counter {
            #[allow(clippy::cast_precision_loss)] // exact below 2^53 calls
            value: Some(n as f64),
            exemplar: exemplar.as_ref().map(super::native::exemplar),
            created_timestamp: created,
        }),
        ..Default::default()
    }
}

fn family(
    decor: &Decorations,
    name: &str,
    help: &str,
    kind: pb::MetricType,
    metric: Vec<pb::Metric>,
) -> pb::MetricFamily {
    pb::MetricFamily {
        name: Some(format!("{}{name}", decor.prefix)),
        help: Some(help.to_owned()),
        r#type: Some(kind as i32),
        metric,
        unit: None,
    }
}

fn pair(name: &str, value: &str) -> pb::LabelPair {
    pb::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    }
}

/// As the text has them: `function`, `module`, the constant labels, `dynamic`, the registry's
/// constant labels, then `last`.
fn series_labels(
    s: &Series,
    dynamic: &[(&str, &str)],
    decor: &Decorations,
    last: &[(&str, &str)],
) -> Vec<pb::LabelPair> {
    let mut v =
        Vec::with_capacity(2 + s.labels.len() + dynamic.len() + decor.pairs.len() + last.len());
    v.push(pair("function", &s.function));
    v.push(pair("module", s.module));
    v.extend(s.labels.iter().chain(dynamic).map(|(k, val)| pair(k, val)));
    v.extend(decor.pairs.iter().map(|(k, val)| pair(k, val)));
    v.extend(last.iter().map(|(k, val)| pair(k, val)));
    v
}

fn row_labels(row: &Row<'_>, decor: &Decorations, last: &[(&str, &str)]) -> Vec<pb::LabelPair> {
    series_labels(row.series, &row.dynamic, decor, last)
}
