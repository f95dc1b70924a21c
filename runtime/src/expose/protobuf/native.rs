//! Native-histogram fields and exemplars as the protobuf exposition carries them.

use super::client_model::google::protobuf::Timestamp;
use super::pb;
use crate::record::exemplar::Exemplar;
use crate::record::native::{self, NativeReading};

/// Fills the native fields of `h`: schema 3, the zero bucket, the positive spans and deltas,
/// and the count (zero bucket included, as a native histogram's count must be). A histogram
/// without observations gets one empty span, so that a scraper still sees it as native.
pub(crate) fn fill(h: &mut pb::Histogram, r: &NativeReading) {
    let (spans, deltas) = r.spans();
    h.schema = Some(native::SCHEMA);
    h.zero_threshold = Some(native::ZERO_THRESHOLD);
    h.zero_count = Some(r.zero);
    h.sample_count = Some(r.count());
    h.positive_span = if spans.is_empty() {
        vec![pb::BucketSpan {
            offset: Some(0),
            length: Some(0),
        }]
    } else {
        spans
            .into_iter()
            .map(|(offset, length)| pb::BucketSpan {
                offset: Some(offset),
                length: Some(length),
            })
            .collect()
    };
    h.positive_delta = deltas;
}

/// An exemplar as a message: its two labels, value and timestamp.
pub(crate) fn exemplar(e: &Exemplar) -> pb::Exemplar {
    let pair = |name: &str, value: String| pb::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value),
    };
    pb::Exemplar {
        label: vec![
            pair("trace_id", e.context.trace_id_hex()),
            pair("span_id", e.context.span_id_hex()),
        ],
        value: Some(e.value),
        timestamp: Some(Timestamp {
            seconds: i64::try_from(e.unix_nanos / 1_000_000_000).unwrap_or(i64::MAX),
            nanos: i32::try_from(e.unix_nanos % 1_000_000_000).unwrap_or(0),
        }),
    }
}

/// Puts a histogram's exemplars (one per bucket, `+Inf` last) where the scraper reads them:
/// on the classic buckets when those are shown (the `+Inf` one, not listed, goes with the
/// native ones), and all of them in the histogram's own list when it is native.
pub(crate) fn place_exemplars(h: &mut pb::Histogram, exemplars: &[Option<Exemplar>], native: bool) {
    for (bucket, e) in h.bucket.iter_mut().zip(exemplars) {
        bucket.exemplar = e.as_ref().map(exemplar);
    }
    if native {
        h.exemplars = exemplars.iter().flatten().map(exemplar).collect();
    }
}
