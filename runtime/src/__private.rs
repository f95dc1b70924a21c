//! What the generated code names. Not public API: no semver promise.

pub use linkme;

pub use crate::expose::build_info::register_build_info;
pub use crate::record::call::{instrument, run, run_never, run_unit, Instrumented};
pub use crate::record::outcome::probe::{
    Probe, ViaAnything, ViaBoth, ViaClassify, ViaErr, ViaOk, ViaResult,
};
pub use crate::record::outcome::Outcome;
pub use crate::record::site::{CallSite, Cells, Guard, Site, SiteMeta, SITES};

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
