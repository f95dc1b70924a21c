//! `process_heap_allocated_bytes` (gauge) and `process_heap_allocations_total` (counter), from
//! the counting allocator's shards, summed at scrape time. Only when an
//! [`alloc::Counting`](crate::alloc::Counting) is the global allocator: otherwise there is
//! nothing to read, and a 0 would be a lie.

use std::borrow::Cow;

use crate::expose::families::{HEAP_ALLOCATED, HEAP_ALLOCATIONS};
use crate::expose::snapshot::{Extra, Family, Labels, Number, Sample, Value};
use crate::record::heap::{self, Totals};

/// The figures now, if a `Counting` is the global allocator.
pub(crate) fn read() -> Option<Totals> {
    heap::installed().then(heap::totals)
}

/// Appends the two families from `reading` (nothing without one).
pub(crate) fn families(reading: Option<Totals>, out: &mut Vec<Family>) {
    let Some(totals) = reading else {
        return;
    };
    // Below 0 only in a reading taken while memory moved between threads' shards.
    let bytes = u64::try_from(totals.bytes).unwrap_or(0);
    out.push(Family::ours(
        HEAP_ALLOCATED,
        vec![sample(Value::Gauge(Number::Int(bytes)))],
    ));
    out.push(Family::ours(
        HEAP_ALLOCATIONS,
        vec![sample(Value::Counter {
            value: Number::Int(totals.allocations),
            exemplar: None,
            created: None,
        })],
    ));
}

fn sample(value: Value) -> Sample {
    Sample {
        labels: Cow::Owned(Labels::default()),
        extra: Extra::NONE,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expose::snapshot::Kind;

    #[test]
    fn two_families_from_a_reading_and_none_without() {
        let mut out = Vec::new();
        families(None, &mut out);
        assert!(out.is_empty());
        families(
            Some(Totals {
                bytes: 4096,
                allocations: 7,
            }),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "process_heap_allocated_bytes");
        assert_eq!(out[0].kind, Kind::Gauge);
        assert!(matches!(
            out[0].samples[0].value,
            Value::Gauge(Number::Int(4096))
        ));
        assert_eq!(out[1].name, "process_heap_allocations_total");
        assert_eq!(out[1].kind, Kind::Counter);
        assert!(matches!(
            out[1].samples[0].value,
            Value::Counter {
                value: Number::Int(7),
                ..
            }
        ));
    }

    #[test]
    fn a_negative_reading_shows_as_zero() {
        let mut out = Vec::new();
        families(
            Some(Totals {
                bytes: -5,
                allocations: 1,
            }),
            &mut out,
        );
        assert!(matches!(
            out[0].samples[0].value,
            Value::Gauge(Number::Int(0))
        ));
    }
}
