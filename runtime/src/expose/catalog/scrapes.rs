//! `instrument_metrics_scrapes_total{code}` and `instrument_metrics_scrapes_in_flight`, from
//! the scrape counters.

use std::borrow::Cow;

use crate::expose::families::{SCRAPES, SCRAPES_IN_FLIGHT};
use crate::expose::snapshot::{Extra, Family, Labels, Number, Sample, Value};
use crate::record::scrapes;

/// Shown at 0 before they are first counted, as promhttp does.
const ALWAYS: [u16; 3] = [200, 500, 503];

/// Appends the two families.
pub(crate) fn families(out: &mut Vec<Family>) {
    let by_code = scrapes::by_code(&ALWAYS)
        .into_iter()
        .map(|(code, n)| {
            let mut buf = itoa::Buffer::new();
            Sample {
                labels: Cow::Owned(Labels::new([("code", buf.format(code))])),
                extra: Extra::NONE,
                value: Value::Counter {
                    value: Number::Int(n),
                    exemplar: None,
                    created: None,
                },
            }
        })
        .collect();
    out.push(Family::ours(SCRAPES, by_code));
    out.push(Family::ours(
        SCRAPES_IN_FLIGHT,
        vec![Sample {
            labels: Cow::Owned(Labels::default()),
            extra: Extra::NONE,
            value: Value::Gauge(Number::Int(
                u64::try_from(scrapes::in_flight()).unwrap_or(0),
            )),
        }],
    ));
}
