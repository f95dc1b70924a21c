//! The protobuf exposition written straight from the reading, field by field with `prost`'s
//! wire encoding: no message structs, no label strings copied. Each `MetricFamily` goes out
//! behind its length (a varint), as `encoding=delimited` wants. Field numbers are client_model's
//! `metrics.proto` (runtime/proto), checked by decoding what we write with the generated types.

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};

use crate::expose::families::Decorations;
use crate::expose::snapshot::{Created, Family, Histogram, Kind, Sample, Value};
use crate::record::exemplar::Exemplar;
use crate::record::native::{self, NativeReading};

/// Appends every family, each behind its length.
pub(crate) fn encode(families: &[Family], decor: &Decorations, out: &mut Vec<u8>) {
    let mut w = Writer::default();
    for f in families {
        w.buf.clear();
        family(&mut w, f, decor);
        encode_varint(w.buf.len() as u64, out);
        out.extend_from_slice(&w.buf);
    }
}

/// A buffer with nested messages written in place: the body first, then its length spliced in
/// front of it (a message's length is only known once it is written).
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn string(&mut self, field: u32, s: &str) {
        encode_key(field, WireType::LengthDelimited, &mut self.buf);
        encode_varint(s.len() as u64, &mut self.buf);
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn uint(&mut self, field: u32, n: u64) {
        encode_key(field, WireType::Varint, &mut self.buf);
        encode_varint(n, &mut self.buf);
    }

    fn sint(&mut self, field: u32, n: i64) {
        encode_key(field, WireType::Varint, &mut self.buf);
        encode_varint(zigzag(n), &mut self.buf);
    }

    fn double(&mut self, field: u32, v: f64) {
        encode_key(field, WireType::SixtyFourBit, &mut self.buf);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn message(&mut self, field: u32, body: impl FnOnce(&mut Writer)) {
        encode_key(field, WireType::LengthDelimited, &mut self.buf);
        let start = self.buf.len();
        body(self);
        let len = self.buf.len() - start;
        let mut prefix = [0u8; 10];
        let n = encoded_len_varint(len as u64);
        encode_varint(len as u64, &mut &mut prefix[..]);
        self.buf.splice(start..start, prefix[..n].iter().copied());
    }

    fn label(&mut self, name: &str, value: &str) {
        self.message(1, |w| {
            w.string(1, name);
            w.string(2, value);
        });
    }
}

fn zigzag(n: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)] // the zigzag mapping, bit for bit
    let z = ((n << 1) ^ (n >> 63)) as u64;
    z
}

/// client_model's `MetricType` numbers.
fn type_number(kind: Kind) -> u64 {
    match kind {
        Kind::Counter => 0,
        Kind::Gauge => 1,
        Kind::Summary => 2,
        Kind::Untyped => 3,
        Kind::Histogram => 4,
    }
}

fn family(w: &mut Writer, f: &Family, decor: &Decorations) {
    if f.decorated && !decor.prefix.is_empty() {
        w.string(1, &format!("{}{}", decor.prefix, f.name));
    } else {
        w.string(1, &f.name);
    }
    if !f.help.is_empty() {
        w.string(2, &f.help);
    }
    w.uint(3, type_number(f.kind));
    for s in &f.samples {
        w.message(4, |w| metric(w, s, f.kind, f.decorated.then_some(decor)));
    }
    if let Some(unit) = f.unit {
        w.string(5, unit);
    }
}

fn metric(w: &mut Writer, s: &Sample, kind: Kind, decor: Option<&Decorations>) {
    for (k, v) in &s.labels.pairs {
        w.label(k, v);
    }
    if let Some(d) = decor {
        for (k, v) in &d.pairs {
            w.label(k, v);
        }
    }
    for (k, v) in s.extra.pairs() {
        w.label(k, v);
    }
    match &s.value {
        // An untyped family's value is read as a gauge's; its metric carries it in `untyped`
        // (5), the field a parser reads for that type, not `gauge` (2).
        Value::Gauge(v) => {
            let field = if kind == Kind::Untyped { 5 } else { 2 };
            w.message(field, |w| w.double(1, v.as_f64()));
        }
        Value::Counter {
            value,
            exemplar,
            created,
        } => w.message(3, |w| {
            w.double(1, value.as_f64());
            if let Some(e) = exemplar {
                w.message(2, |w| write_exemplar(w, e));
            }
            if let Some(c) = created {
                w.message(3, |w| timestamp(w, *c));
            }
        }),
        Value::Summary {
            quantiles,
            sum,
            count,
        } => w.message(4, |w| {
            w.uint(1, *count);
            w.double(2, *sum);
            for (q, v) in quantiles {
                w.message(3, |w| {
                    w.double(1, *q);
                    w.double(2, *v);
                });
            }
        }),
        Value::Histogram(h) => w.message(7, |w| histogram(w, h)),
    }
}

/// Count, sum, classic buckets (cumulative; `+Inf` left implied by the count unless it carries
/// an exemplar, as client_golang does) and/or native ones, created timestamp, exemplars: classic buckets carry
/// theirs; a native histogram carries all of them in its own list.
fn histogram(w: &mut Writer, h: &Histogram) {
    w.uint(1, h.count());
    w.double(2, h.sum);
    let native = h.native.as_ref();
    if h.classic || native.is_none() {
        for (bound, cumulative, exemplar) in h.finite() {
            bucket(w, bound, cumulative, exemplar.as_ref());
        }
        // `+Inf` is implied by the count, unless it has an exemplar to carry: then it is
        // written, as client_golang writes it, or the exemplar of every call slower than the
        // last bound would be lost.
        if let Some(e) = h
            .exemplars
            .get(h.bounds.seconds_or_bytes.len())
            .copied()
            .flatten()
        {
            bucket(w, f64::INFINITY, h.count(), Some(&e));
        }
    }
    if let Some(n) = native {
        native_fields(w, n);
    }
    if let Some(c) = h.created {
        w.message(15, |w| timestamp(w, c));
    }
    if native.is_some() {
        for e in h.exemplars.iter().flatten() {
            w.message(16, |w| write_exemplar(w, e));
        }
    }
}

/// One classic bucket: cumulative count, upper bound, exemplar.
fn bucket(w: &mut Writer, bound: f64, cumulative: u64, exemplar: Option<&Exemplar>) {
    w.message(3, |w| {
        w.uint(1, cumulative);
        w.double(2, bound);
        if let Some(e) = exemplar {
            w.message(3, |w| write_exemplar(w, e));
        }
    });
}

/// Schema, zero bucket, positive spans and deltas. A histogram without observations gets one
/// empty span, so that a scraper still sees it as native.
fn native_fields(w: &mut Writer, n: &NativeReading) {
    let (spans, deltas) = n.spans();
    w.sint(5, i64::from(native::SCHEMA));
    w.double(6, native::ZERO_THRESHOLD);
    w.uint(7, n.zero);
    if spans.is_empty() {
        w.message(12, |w| {
            w.sint(1, 0);
            w.uint(2, 0);
        });
    }
    for (offset, length) in spans {
        w.message(12, |w| {
            w.sint(1, i64::from(offset));
            w.uint(2, u64::from(length));
        });
    }
    if !deltas.is_empty() {
        // Packed repeated sint64.
        w.message(13, |w| {
            for d in deltas {
                encode_varint(zigzag(d), &mut w.buf);
            }
        });
    }
}

fn write_exemplar(w: &mut Writer, e: &Exemplar) {
    w.label("trace_id", &e.context.trace_id_hex());
    w.label("span_id", &e.context.span_id_hex());
    w.double(2, e.value);
    let seconds = i64::try_from(e.unix_nanos / 1_000_000_000).unwrap_or(i64::MAX);
    let nanos = i32::try_from(e.unix_nanos % 1_000_000_000).unwrap_or(0);
    w.message(3, |w| {
        timestamp(w, Created { seconds, nanos });
    });
}

/// A `google.protobuf.Timestamp`: seconds (int64) and nanos (int32), plain varints.
fn timestamp(w: &mut Writer, t: Created) {
    if t.seconds != 0 {
        encode_key(1, WireType::Varint, &mut w.buf);
        #[allow(clippy::cast_sign_loss)] // int64 on the wire is the two's complement
        encode_varint(t.seconds as u64, &mut w.buf);
    }
    if t.nanos != 0 {
        encode_key(2, WireType::Varint, &mut w.buf);
        #[allow(clippy::cast_sign_loss)]
        encode_varint(i64::from(t.nanos) as u64, &mut w.buf);
    }
}
