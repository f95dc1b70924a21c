//! What the generated code names. Not public API: no semver promise.

pub use linkme;

pub use crate::__instrument_metrics_register_objective as register_objective;
pub use crate::__instrument_metrics_register_polls as register_polls;
pub use crate::__instrument_metrics_register_site as register_site;
pub use crate::expose::build_info::register_build_info;
pub use crate::record::call::{
    call_once, call_unit, instrument, Enter, Finish, Instrumented, OnSite, PlainGuard, PlainSite,
    Start,
};
pub use crate::record::dynamic::{DynLabel, DynMeta, Values};
pub use crate::record::labelled::{
    instrument_labelled, LabelledGuard, LabelledSite, LabelledStart,
};
pub use crate::record::labels::probe::{KindProbe, ViaKind, ViaNoKind};
pub use crate::record::labels::{
    apply, bounded_str, error_kind_of, label_index, typed, values_of, BoundedStrings, BoundedValue,
    ErrorKind, Indexed, KindsOf, NoErrorKinds, Typed, MAX_BOUNDED, MAX_COMBINATIONS,
};
pub use crate::record::native::Histograms;
pub use crate::record::objective::{ObjectiveSite, OBJECTIVE_SITES};
pub use crate::record::outcome::probe::{Probe, ProbeOutcome};
pub use crate::record::outcome::Outcome;
pub use crate::record::polls::{
    instrument_polled, polled, PollSite, Polled, Polls, DEFAULT_SLOW_POLL_NANOS, POLL_SITES,
};
pub use crate::record::site::{
    CallSite, Guard, Scope, Site, SiteMeta, DEFAULT_BOUNDS_NANOS, DEFAULT_BOUNDS_SECONDS, SITES,
};

/// Takes a live-page snapshot stamped `at_seconds`, for tests that check windows and rates.
pub fn live_sample_at(at_seconds: f64) {
    crate::live::sample_at(at_seconds);
}

/// Applies an `ok_if` / `error_if` predicate; the bound lets closures infer `&R`.
#[inline(always)]
pub fn judge<R: ?Sized>(value: &R, predicate: impl FnOnce(&R) -> bool) -> bool {
    predicate(value)
}

/// Whether the clock has left the OS clock for the calibrated TSC (for tests).
#[must_use]
pub fn clock_calibrated() -> bool {
    crate::record::clock::calibrated()
}
