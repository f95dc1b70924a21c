//! What the generated code names. Not public API: no semver promise.

pub use linkme;

pub use crate::expose::build_info::register_build_info;
pub use crate::record::outcome::probe::{Probe, ViaAnything, ViaClassify, ViaResult};
pub use crate::record::outcome::Outcome;
pub use crate::record::site::{CallSite, Cells, Guard, Site, SiteMeta, SITES};

/// Runs a sync body as a closure, so `return` and `?` keep meaning what they meant.
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Applies an `ok_if` / `error_if` predicate; the bound lets closures infer `&R`.
#[inline(always)]
pub fn judge<R: ?Sized>(value: &R, predicate: impl FnOnce(&R) -> bool) -> bool {
    predicate(value)
}
