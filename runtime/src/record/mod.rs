//! The caller's side: what one instrumented call touches.
//!
//! - `site`: one static call site per function, its sharded counters and the guard that records;
//! - `clock`: the raw clock read at both ends of a call;
//! - `outcome`: how a call ended, and how a returned value says so.
//!
//! Nothing here knows about exposition, serving or HTTP: data flows out of this module only.

pub(crate) mod clock;
pub(crate) mod outcome;
pub(crate) mod site;
