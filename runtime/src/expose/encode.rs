//! Writes the function families straight from the counters, in text format 0.0.4, without
//! building `prometheus` protobuf structures.

use std::fmt::Write as _;

use crate::expose::catalog::{self, catalog, Row, Series};
use crate::expose::registry::{decorations, Decorations};
use crate::record::exemplar::Exemplar;
use crate::record::outcome::Outcome;
use crate::record::site::Reading;

pub(crate) const CALLS: &str = "function_calls_total";
pub(crate) const CALLS_FAMILY: &str = "function_calls";
pub(crate) const CALLS_HELP: &str = "Calls of instrumented functions, by how they ended.";
pub(crate) const DURATION: &str = "function_calls_duration_seconds";
pub(crate) const DURATION_HELP: &str = "Time spent in instrumented functions, in seconds.";
pub(crate) const IN_FLIGHT: &str = "function_calls_in_flight";
pub(crate) const IN_FLIGHT_HELP: &str = "Calls of instrumented functions currently running.";
pub(crate) const OVERFLOW: &str = "instrument_metrics_label_overflow_total";
pub(crate) const OVERFLOW_FAMILY: &str = "instrument_metrics_label_overflow";
pub(crate) const OVERFLOW_HELP: &str =
    "Calls whose bounded label value was counted as _OTHER because the label's N values were taken.";

/// The two text dialects: Prometheus 0.0.4 and OpenMetrics 1.0.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Prometheus,
    OpenMetrics,
}

/// Appends the function families in text format 0.0.4.
pub(crate) fn encode_text(out: &mut String) {
    encode_functions(out, Dialect::Prometheus);
}

/// Appends the function families in `dialect` (without OpenMetrics' `# EOF`).
pub(crate) fn encode_functions(out: &mut String, dialect: Dialect) {
    let series = catalog();
    if series.is_empty() {
        return;
    }
    let rows = catalog::rows(series);
    let om = dialect == Dialect::OpenMetrics;
    // A custom registry's prefix and constant labels, as `gather()` would apply them.
    let decor = decorations();

    // OpenMetrics names the counter family without `_total`; its samples keep it.
    header(
        out,
        decor,
        if om { CALLS_FAMILY } else { CALLS },
        CALLS_HELP,
        "counter",
    );
    for row in &rows {
        for outcome in Outcome::ALL {
            if outcome == Outcome::Error {
                if let Some(kinds) = row.error_kinds() {
                    for (kind, n) in kinds {
                        sample_start(out, decor, CALLS, "", &row.label_text);
                        out.push_str(",result=\"error\",error_kind=\"");
                        crate::expose::catalog::escape_label_value(kind, out);
                        out.push_str("\"} ");
                        push_u64(out, n);
                    }
                    continue;
                }
            }
            sample_start(out, decor, CALLS, "", &row.label_text);
            out.push_str(",result=\"");
            out.push_str(outcome.as_str());
            out.push_str("\"} ");
            push_u64_exemplar(
                out,
                row.reading.results[outcome.index()],
                om.then(|| counter_exemplar(&row.reading, outcome))
                    .flatten(),
            );
        }
    }

    header(out, decor, DURATION, DURATION_HELP, "histogram");
    if om {
        out.push_str("# UNIT ");
        out.push_str(&decor.prefix);
        out.push_str(DURATION);
        out.push_str(" seconds\n");
    }
    for row in &rows {
        let s = row.series;
        let r = &row.reading;
        let mut cumulative = 0;
        let les = if om { &s.le_openmetrics } else { &s.le_text };
        // Native only: text shows `+Inf`, `_sum` and `_count`, as client_golang does.
        let classic = s.histograms().classic();
        let last = les.len().saturating_sub(1);
        for (i, (le, n)) in les.iter().zip(&r.buckets).enumerate() {
            cumulative += n;
            if !classic && i != last {
                continue;
            }
            sample_start(out, decor, DURATION, "_bucket", &row.label_text);
            out.push_str(",le=\"");
            out.push_str(le);
            out.push_str("\"} ");
            let exemplar = if om && classic {
                r.exemplars.get(i).copied().flatten()
            } else {
                None
            };
            push_u64_exemplar(out, cumulative, exemplar);
        }
        sample_start(out, decor, DURATION, "_sum", &row.label_text);
        out.push_str("} ");
        push_seconds(out, r.sum_nanos);
        sample_start(out, decor, DURATION, "_count", &row.label_text);
        out.push_str("} ");
        push_u64(out, cumulative);
    }

    if series.iter().any(|s| s.in_flight) {
        header(out, decor, IN_FLIGHT, IN_FLIGHT_HELP, "gauge");
        for (s, n) in in_flight_values(series, &rows) {
            sample_start(out, decor, IN_FLIGHT, "", &s.label_text);
            out.push_str("} ");
            let mut buf = itoa::Buffer::new();
            out.push_str(buf.format(n.max(0)));
            out.push('\n');
        }
    }

    let overflows = catalog::overflows(series);
    if !overflows.is_empty() {
        header(
            out,
            decor,
            if om { OVERFLOW_FAMILY } else { OVERFLOW },
            OVERFLOW_HELP,
            "counter",
        );
        for (s, label, n) in overflows {
            sample_start(out, decor, OVERFLOW, "", &s.label_text);
            out.push_str(",label=\"");
            out.push_str(label);
            out.push_str("\"} ");
            push_u64(out, n);
        }
    }
}

/// Each series with `in_flight`, with its gauge (rows are in series order, one per plain
/// series).
pub(crate) fn in_flight_values<'a>(
    series: &'a [Series],
    rows: &[Row<'_>],
) -> Vec<(&'a Series, i64)> {
    let mut plain = rows.iter().filter(|r| r.series.labelled.is_empty());
    let mut out = Vec::new();
    for s in series {
        let reading = if s.labelled.is_empty() {
            plain.next().map(|r| &r.reading)
        } else {
            None
        };
        if s.in_flight {
            out.push((s, catalog::in_flight(s, reading)));
        }
    }
    out
}

fn header(out: &mut String, decor: &Decorations, name: &str, help: &str, kind: &str) {
    let prefix = &decor.prefix;
    let _ = write!(
        out,
        "# HELP {prefix}{name} {help}\n# TYPE {prefix}{name} {kind}\n"
    );
}

fn sample_start(out: &mut String, decor: &Decorations, name: &str, suffix: &str, labels: &str) {
    out.push_str(&decor.prefix);
    out.push_str(name);
    out.push_str(suffix);
    out.push('{');
    out.push_str(labels);
    out.push_str(&decor.labels);
}

/// The exemplar of a result's counter, if one was kept.
fn counter_exemplar(r: &Reading, outcome: Outcome) -> Option<Exemplar> {
    let buckets = r.buckets.len();
    r.exemplars
        .get(buckets + outcome.index())
        .copied()
        .flatten()
}

/// A value, then its exemplar in OpenMetrics syntax if any, then the line's end.
fn push_u64_exemplar(out: &mut String, n: u64, exemplar: Option<Exemplar>) {
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(n));
    if let Some(e) = exemplar {
        push_exemplar(out, &e);
    }
    out.push('\n');
}

/// ` # {trace_id="…",span_id="…"} value timestamp`, as OpenMetrics writes an exemplar.
pub(crate) fn push_exemplar(out: &mut String, e: &Exemplar) {
    let _ = write!(
        out,
        " # {{trace_id=\"{:032x}\",span_id=\"{:016x}\"}} ",
        e.context.trace_id, e.context.span_id
    );
    let mut buf = ryu::Buffer::new();
    out.push_str(buf.format(e.value));
    let _ = write!(
        out,
        " {}.{:09}",
        e.unix_nanos / 1_000_000_000,
        e.unix_nanos % 1_000_000_000
    );
}

fn push_u64(out: &mut String, n: u64) {
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(n));
    out.push('\n');
}

pub(crate) fn nanos_to_seconds(nanos: u128) -> f64 {
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 ns (104 days of summed time)
    let n = nanos as f64;
    n / 1e9
}

fn push_seconds(out: &mut String, nanos: u128) {
    let mut buf = ryu::Buffer::new();
    out.push_str(buf.format(nanos_to_seconds(nanos)));
    out.push('\n');
}
