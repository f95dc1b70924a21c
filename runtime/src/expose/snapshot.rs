//! One scrape's reading of a family: every series read once, its counts, buckets, sum, native
//! buckets and exemplars together. The catalog fills it; every encoder (text, OpenMetrics,
//! protobuf, the `prometheus` collector adapter) writes from it and from nothing else, so the
//! formats can never disagree about what they saw.

use std::borrow::Cow;
use std::sync::Arc;

use crate::record::exemplar::Exemplar;
use crate::record::native::NativeReading;

/// A family's type, as every format names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

/// One family: its name (a counter's with `_total`, undecorated), help, type and series.
pub(crate) struct Family {
    pub name: Cow<'static, str>,
    pub help: Cow<'static, str>,
    pub kind: Kind,
    /// OpenMetrics' `# UNIT` and protobuf's `unit`.
    pub unit: Option<&'static str>,
    /// Whether the registry's prefix and constant labels apply (ours: yes; gathered families
    /// already carry them).
    pub decorated: bool,
    pub samples: Vec<Sample>,
}

/// A series' labels: escaped for the text formats and as pairs for protobuf, built once (at
/// catalog time for a function, at first sight for an HTTP series) and reused every scrape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Labels {
    /// `k="v",k2="v2"`, values escaped; empty without labels.
    pub text: String,
    pub pairs: Vec<(Cow<'static, str>, String)>,
}

impl Labels {
    /// Labels from name/value pairs, in order.
    pub(crate) fn new<'k>(pairs: impl IntoIterator<Item = (&'k str, &'k str)>) -> Labels {
        let mut labels = Labels::default();
        for (k, v) in pairs {
            labels.push(k, v);
        }
        labels
    }

    /// Appends one label.
    pub(crate) fn push(&mut self, key: &str, value: &str) {
        if !self.text.is_empty() {
            self.text.push(',');
        }
        self.text.push_str(key);
        self.text.push_str("=\"");
        escape_label_value(value, &mut self.text);
        self.text.push('"');
        self.pairs
            .push((Cow::Owned(key.to_owned()), value.to_owned()));
    }
}

/// Up to two labels that follow a series' own (`result`, `error_kind`, `label`, `code`):
/// static names and values, no allocation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Extra {
    pairs: [(&'static str, &'static str); 2],
    len: u8,
}

impl Extra {
    pub(crate) const NONE: Extra = Extra {
        pairs: [("", ""); 2],
        len: 0,
    };

    pub(crate) fn one(key: &'static str, value: &'static str) -> Self {
        Extra {
            pairs: [(key, value), ("", "")],
            len: 1,
        }
    }

    pub(crate) fn two(
        first: (&'static str, &'static str),
        second: (&'static str, &'static str),
    ) -> Self {
        Extra {
            pairs: [first, second],
            len: 2,
        }
    }

    pub(crate) fn pairs(&self) -> &[(&'static str, &'static str)] {
        &self.pairs[..usize::from(self.len)]
    }
}

/// One series of a family as read at this scrape.
pub(crate) struct Sample {
    pub labels: Cow<'static, Labels>,
    pub extra: Extra,
    pub value: Value,
}

/// A number as read: integers stay integers, so the text formats write them exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    Int(u64),
    Float(f64),
}

impl Number {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)] // exact below 2^53
            Number::Int(n) => n as f64,
            Number::Float(v) => v,
        }
    }
}

/// When a counter or histogram started from zero (protobuf's `created_timestamp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Created {
    pub seconds: i64,
    pub nanos: i32,
}

pub(crate) enum Value {
    Counter {
        value: Number,
        exemplar: Option<Exemplar>,
        created: Option<Created>,
    },
    Gauge(Number),
    Histogram(Histogram),
    /// Gathered summaries only: `(quantile, value)`, sum, count.
    Summary {
        quantiles: Vec<(f64, f64)>,
        sum: f64,
        count: u64,
    },
}

/// The `le` values of a classic histogram, written once per series kind, not per scrape.
#[derive(Debug)]
pub(crate) struct Bounds {
    pub seconds_or_bytes: Vec<f64>,
    /// Text 0.0.4: each bound as Go writes it, then `+Inf`.
    pub text: Vec<String>,
    /// OpenMetrics: canonical (`1.0`, not `1`), then `+Inf`.
    pub openmetrics: Vec<String>,
}

impl Bounds {
    pub(crate) fn new(bounds: Vec<f64>) -> Bounds {
        let mut text: Vec<String> = bounds.iter().map(|b| format_float(*b)).collect();
        text.push("+Inf".to_owned());
        let mut openmetrics: Vec<String> = bounds.iter().map(|b| canonical_float(*b)).collect();
        openmetrics.push("+Inf".to_owned());
        Bounds {
            seconds_or_bytes: bounds,
            text,
            openmetrics,
        }
    }
}

/// A histogram as read: per-bucket counts with `+Inf` last (the count is their sum, so `_count`
/// equals the `+Inf` bucket by construction), the sum, native buckets whose total is that same
/// count, and one exemplar slot per bucket.
pub(crate) struct Histogram {
    pub bounds: Arc<Bounds>,
    /// Per bucket, not cumulative, `+Inf` last; `bounds.len() + 1` entries.
    pub buckets: Vec<u64>,
    pub sum: f64,
    /// Whether the classic buckets are shown (else only `+Inf`, `_sum`, `_count` in text).
    pub classic: bool,
    pub native: Option<NativeReading>,
    /// Per bucket (`+Inf` last), or empty when none was ever kept.
    pub exemplars: Vec<Option<Exemplar>>,
    pub created: Option<Created>,
}

impl Histogram {
    /// A histogram from one reading. Native buckets are counted before the classic ones and
    /// read after them, so a call recorded while the scrape reads can be in the native buckets
    /// only: the native buckets are trimmed to the classic count (from the top), which leaves
    /// that call to the next scrape and keeps every count of this one equal. Trimming only
    /// lowers a bucket below what was read, so no bucket ever decreases between scrapes.
    pub(crate) fn new(
        bounds: Arc<Bounds>,
        buckets: Vec<u64>,
        sum: f64,
        classic: bool,
        native: Option<NativeReading>,
        exemplars: Vec<Option<Exemplar>>,
    ) -> Self {
        let mut h = Histogram {
            bounds,
            buckets,
            sum,
            classic,
            native,
            exemplars,
            created: None,
        };
        let count = h.count();
        if let Some(n) = &mut h.native {
            trim_to(n, count);
        }
        h
    }

    pub(crate) fn count(&self) -> u64 {
        // Wrapping, like the cells: a scrape never panics.
        self.buckets.iter().fold(0, |a, b| a.wrapping_add(*b))
    }

    /// `(le, cumulative count, exemplar)` of the classic buckets to show, `+Inf` last: every
    /// one when classic buckets are shown, else `+Inf` alone.
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (usize, u64, Option<Exemplar>)> + '_ {
        let last = self.buckets.len().saturating_sub(1);
        let classic = self.classic;
        self.cumulative_all()
            .enumerate()
            .filter(move |(i, _)| classic || *i == last)
            .map(|(i, (c, e))| (i, c, e))
    }
}

impl Histogram {
    /// `(upper bound, cumulative count, exemplar)` of the finite classic buckets, as protobuf
    /// and `prometheus`' model list them (`+Inf` implied by the count).
    pub(crate) fn finite(&self) -> impl Iterator<Item = (f64, u64, Option<Exemplar>)> + '_ {
        self.bounds
            .seconds_or_bytes
            .iter()
            .zip(self.cumulative_all())
            .map(|(bound, (cumulative, exemplar))| (*bound, cumulative, exemplar))
    }

    /// Cumulative counts and exemplars of every bucket, `+Inf` last.
    fn cumulative_all(&self) -> impl Iterator<Item = (u64, Option<Exemplar>)> + '_ {
        self.buckets
            .iter()
            .scan(0u64, |acc, n| {
                *acc = acc.wrapping_add(*n);
                Some(*acc)
            })
            .enumerate()
            .map(|(i, c)| (c, self.exemplars.get(i).copied().flatten()))
    }
}

/// Lowers native counts (highest buckets first) until their total is `count`.
fn trim_to(native: &mut NativeReading, count: u64) {
    let mut excess = native.count().saturating_sub(count);
    for c in native.counts.iter_mut().rev() {
        if excess == 0 {
            return;
        }
        let take = (*c).min(excess);
        *c -= take;
        excess -= take;
    }
    let take = native.zero.min(excess);
    native.zero -= take;
}

/// Escapes a label value for the text formats: backslash, double quote and newline.
pub(crate) fn escape_label_value(value: &str, out: &mut String) {
    if !value.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A float as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes a bound in text 0.0.4 as
/// near as it matters: shortest round trip, `+Inf`, `-Inf`, `NaN`.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

/// A float as OpenMetrics wants `le` and `quantile` values: `1.0`, `0.25`, `+Inf`.
pub(crate) fn canonical_float(v: f64) -> String {
    let mut s = format_float(v);
    if v.is_finite() && !s.contains(['.', 'e', 'E']) {
        s.push_str(".0");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{canonical_float, escape_label_value, trim_to, Bounds, Histogram};
    use crate::record::native::NativeReading;

    #[test]
    fn escapes_what_the_text_format_requires() {
        let mut out = String::new();
        escape_label_value("a\\b\"c\nd", &mut out);
        assert_eq!(out, "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn canonical_floats() {
        assert_eq!(canonical_float(1.0), "1.0");
        assert_eq!(canonical_float(0.25), "0.25");
        assert_eq!(canonical_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn native_counts_are_trimmed_from_the_top_to_the_classic_count() {
        let mut n = NativeReading {
            zero: 1,
            ..NativeReading::default()
        };
        n.counts[10] = 2;
        n.counts[20] = 3;
        trim_to(&mut n, 4);
        assert_eq!((n.zero, n.counts[10], n.counts[20]), (1, 2, 1));
        trim_to(&mut n, 0);
        assert_eq!(n.count(), 0);
        let bounds = std::sync::Arc::new(Bounds::new(vec![1.0]));
        let mut native = NativeReading::default();
        native.counts[5] = 9;
        let h = Histogram::new(bounds, vec![2, 1], 0.5, true, Some(native), Vec::new());
        assert_eq!(h.native.as_ref().map(NativeReading::count), Some(3));
        let shown: Vec<(usize, u64)> = h.cumulative().map(|(i, c, _)| (i, c)).collect();
        assert_eq!(shown, [(0, 2), (1, 3)]);
    }
}
