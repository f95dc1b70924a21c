//! `app_build_info{name, version} 1`, from the builds registered.

use std::borrow::Cow;

use crate::expose::families::BUILD_INFO;
use crate::expose::snapshot::{Extra, Family, Labels, Number, Sample, Value};
use crate::record::builds;

/// Appends the family (once a build was registered).
pub(crate) fn families(out: &mut Vec<Family>) {
    let samples = builds::all()
        .iter()
        .map(|(name, version)| Sample {
            labels: Cow::Owned(Labels::new([("name", name.as_str()), ("version", version)])),
            extra: Extra::NONE,
            value: Value::Gauge(Number::Int(1)),
        })
        .collect();
    out.push(Family::ours(BUILD_INFO, samples));
}
