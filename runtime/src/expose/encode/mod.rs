//! The encoders: each writes a reading (our families and the user's gathered ones) in one
//! format, decorating ours with the registry's prefix and constant labels.
//!
//! - `text`: text format 0.0.4 and OpenMetrics 1.0 (one writer, two dialects);
//! - `protobuf`: length-delimited `MetricFamily` messages, written field by field;
//! - `gathered`: the user's families from the registry, as readings.

pub(crate) mod gathered;
pub(crate) mod protobuf;
pub(crate) mod text;
