//! What the generated code names. Not public API: no semver promise.

pub use linkme;

pub use crate::__instrument_metrics_register_objective as register_objective;
pub use crate::__instrument_metrics_register_site as register_site;
pub use crate::expose::build_info::register_build_info;
pub use crate::record::call::{
    call_once, call_unit, instrument, Instrumented, PlainGuard, PlainSite,
};
pub use crate::record::labelled::{
    instrument_labelled, DynLabel, DynMeta, InstrumentedLabelled, LabelledGuard, LabelledSite,
    Values,
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
pub use crate::record::site::{CallSite, Guard, Scope, Site, SiteMeta, SITES};

/// Prometheus' default histogram bounds, in seconds (the macro's default `buckets`).
pub const DEFAULT_BOUNDS_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The same bounds in nanoseconds, derived from the seconds at compile time.
pub const DEFAULT_BOUNDS_NANOS: &[u64] = &DEFAULT_NANOS;

const DEFAULT_NANOS: [u64; DEFAULT_BOUNDS_SECONDS.len()] = {
    let mut nanos = [0; DEFAULT_BOUNDS_SECONDS.len()];
    let mut i = 0;
    while i < nanos.len() {
        // Bounds here are small positive decimals: rounding to the nearest nanosecond is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        {
            nanos[i] = (DEFAULT_BOUNDS_SECONDS[i] * 1e9 + 0.5) as u64;
        }
        i += 1;
    }
    nanos
};

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

#[cfg(test)]
mod tests {
    #[test]
    fn default_bounds_agree_in_both_units() {
        assert_eq!(
            super::DEFAULT_BOUNDS_SECONDS.len(),
            super::DEFAULT_BOUNDS_NANOS.len()
        );
        for (s, n) in super::DEFAULT_BOUNDS_SECONDS
            .iter()
            .zip(super::DEFAULT_BOUNDS_NANOS)
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let from_seconds = (s * 1e9).round() as u64;
            assert_eq!(from_seconds, *n);
        }
    }
}
