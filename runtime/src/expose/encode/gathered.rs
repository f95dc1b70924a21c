//! The user's own families, gathered from the registry as `prometheus`'s plain model, turned
//! into the same reading our families are, so one encoder per format writes everything. Names
//! that are not valid legacy names are escaped as the scraper asked (`escaping=` in `Accept`),
//! by client_golang's rules: a family name, a label name, and a `__name__` label's value that is
//! a valid legacy name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) is left as it is whatever the scheme, and
//! so is every name under `allow-utf-8`. Ours are always valid; a collector of the user's can
//! yield others, as `prometheus` checks only the names of descriptors.

use std::borrow::Cow;
use std::sync::Arc;

use prometheus::proto::{MetricFamily, MetricType};

use crate::expose::negotiate::Escaping;
use crate::expose::snapshot::{
    Bounds, Extra, Family, Histogram, Kind, Labels, Number, Sample, Value,
};

/// `families` as readings, names escaped by `escaping`.
pub(crate) fn convert(families: &[MetricFamily], escaping: Escaping) -> Vec<Family> {
    families.iter().map(|f| family(f, escaping)).collect()
}

fn family(f: &MetricFamily, escaping: Escaping) -> Family {
    let kind = match f.get_field_type() {
        MetricType::COUNTER => Kind::Counter,
        MetricType::GAUGE => Kind::Gauge,
        MetricType::HISTOGRAM => Kind::Histogram,
        MetricType::SUMMARY => Kind::Summary,
        MetricType::UNTYPED => Kind::Untyped,
    };
    let samples = f
        .get_metric()
        .iter()
        .map(|m| {
            let mut labels = Labels::default();
            for pair in m.get_label() {
                if pair.name() == "__name__" {
                    labels.push(pair.name(), &escape(pair.value(), escaping));
                } else {
                    labels.push(&escape(pair.name(), escaping), pair.value());
                }
            }
            let value = match kind {
                Kind::Counter => Value::Counter {
                    value: Number::Float(m.get_counter().get_value()),
                    exemplar: None,
                    created: None,
                },
                Kind::Gauge => Value::Gauge(Number::Float(m.get_gauge().get_value())),
                // Deprecated in `prometheus` for its own future, but how an untyped value of a
                // user's collector still arrives today.
                #[allow(deprecated)]
                Kind::Untyped => Value::Gauge(Number::Float(m.get_untyped().get_value())),
                Kind::Summary => {
                    let s = m.get_summary();
                    Value::Summary {
                        quantiles: s
                            .get_quantile()
                            .iter()
                            .map(|q| (q.quantile(), q.value()))
                            .collect(),
                        sum: s.sample_sum(),
                        count: s.sample_count(),
                    }
                }
                Kind::Histogram => histogram(m.get_histogram()),
            };
            Sample {
                labels: Cow::Owned(labels),
                extra: Extra::NONE,
                value,
            }
        })
        .collect();
    Family {
        name: Cow::Owned(escape(f.name(), escaping).into_owned()),
        help: Cow::Owned(f.help().to_owned()),
        kind,
        unit: None,
        decorated: false,
        samples,
    }
}

/// Cumulative buckets (an explicit `+Inf` one or not) as per-bucket counts, `+Inf` last.
fn histogram(h: &prometheus::proto::Histogram) -> Value {
    let mut bounds = Vec::new();
    let mut buckets = Vec::new();
    let mut previous = 0u64;
    for b in h.get_bucket() {
        if b.upper_bound().is_infinite() && b.upper_bound() > 0.0 {
            break;
        }
        bounds.push(b.upper_bound());
        buckets.push(b.cumulative_count().saturating_sub(previous));
        previous = b.cumulative_count();
    }
    buckets.push(h.get_sample_count().saturating_sub(previous));
    Value::Histogram(Histogram::new(
        Arc::new(Bounds::new(bounds)),
        buckets,
        h.get_sample_sum(),
        true,
        None,
        Vec::new(),
    ))
}

/// Each character allowed in a legacy name (a digit not first).
fn legacy_char(c: char, at: usize) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (c.is_ascii_digit() && at > 0)
}

fn is_legacy(name: &str) -> bool {
    !name.is_empty() && name.char_indices().all(|(at, c)| legacy_char(c, at))
}

/// `name` under `escaping`; borrowed when it needs none.
fn escape(name: &str, escaping: Escaping) -> Cow<'_, str> {
    if escaping == Escaping::AllowUtf8 || is_legacy(name) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    match escaping {
        Escaping::AllowUtf8 => out.push_str(name),
        Escaping::Underscores => {
            for (at, c) in name.char_indices() {
                out.push(if legacy_char(c, at) { c } else { '_' });
            }
        }
        Escaping::Dots => {
            for (at, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if legacy_char(c, at) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        Escaping::Values => {
            out.push_str("U__");
            for (at, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    c if legacy_char(c, at) => out.push(c),
                    c => {
                        out.push('_');
                        out.push_str(&format!("{:x}", u32::from(c)));
                        out.push('_');
                    }
                }
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{escape, Escaping};

    #[test]
    fn legacy_names_are_left_alone_by_every_scheme() {
        for escaping in [
            Escaping::AllowUtf8,
            Escaping::Underscores,
            Escaping::Dots,
            Escaping::Values,
        ] {
            assert_eq!(
                escape("http_server_active_requests", escaping),
                "http_server_active_requests"
            );
        }
    }

    #[test]
    fn utf8_names_as_client_golang_escapes_them() {
        assert_eq!(escape("my.metric", Escaping::AllowUtf8), "my.metric");
        assert_eq!(escape("my.metric", Escaping::Underscores), "my_metric");
        assert_eq!(escape("1st.total", Escaping::Underscores), "_st_total");
        assert_eq!(escape("my.metric_x", Escaping::Dots), "my_dot_metric__x");
        assert_eq!(escape("my.métric", Escaping::Dots), "my_dot_m__tric");
        assert_eq!(
            escape("my.metric_x", Escaping::Values),
            "U__my_2e_metric__x"
        );
        assert_eq!(escape("é", Escaping::Values), "U___e9_");
    }
}
