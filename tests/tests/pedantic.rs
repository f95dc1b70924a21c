//! The generated code is clean under the user's strictest lints: `cargo clippy --all-targets
//! -- -D warnings` checks this file with `clippy::pedantic` denied.
#![deny(warnings, clippy::all, clippy::pedantic)]

use std::future::Future;

use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::calls;

/// Unit return.
#[instrument_metrics]
fn unit() {}

/// Explicit unit return.
#[instrument_metrics]
#[allow(clippy::unused_unit)]
fn explicit_unit() -> () {}

/// A `Result` with `?`.
///
/// # Errors
/// When `s` is not a number.
#[instrument_metrics(in_flight, labels(layer = "parse"), buckets = [0.001, 0.01])]
fn parse(s: &str) -> Result<u8, std::num::ParseIntError> {
    let n = s.parse::<u8>()?;
    Ok(n)
}

struct Thing(u8);

#[instrument_metrics]
impl Thing {
    /// `-> Self`.
    #[must_use]
    fn new() -> Self {
        Thing(1)
    }

    #[must_use]
    fn get(&self) -> u8 {
        self.0
    }

    async fn twice(&self) -> u8 {
        self.0 * 2
    }

    // The shape under test is exactly what this lint would rewrite.
    #[allow(clippy::manual_async_fn)]
    fn later(&self) -> impl Future<Output = u8> + '_ {
        async move { self.0 }
    }
}

#[instrument_metrics(error_if = |v: &u8| *v == 0)]
async fn checked(v: u8) -> u8 {
    v
}

/// An objective: a side table entry beside the call site.
#[instrument_metrics(objective = "strict")]
fn with_objective() -> u8 {
    1
}

/// An objective on a labelled site (`error_kind`).
///
/// # Errors
/// When `s` is not a number.
#[instrument_metrics(objective = "strict", error_kind)]
fn with_objective_and_kinds(s: &str) -> std::io::Result<u8> {
    s.parse().map_err(std::io::Error::other)
}

#[tokio::test]
async fn pedantic_shapes_work() {
    assert_eq!(with_objective(), 1);
    assert_eq!(with_objective_and_kinds("1").ok(), Some(1));
    unit();
    explicit_unit();
    assert_eq!(parse("7"), Ok(7));
    let t = Thing::new();
    assert_eq!(t.get(), 1);
    assert_eq!(t.twice().await, 2);
    assert_eq!(t.later().await, 1);
    assert_eq!(checked(0).await, 0);
    assert_eq!(calls("unit"), [1, 0, 0, 0]);
    assert_eq!(calls("explicit_unit"), [1, 0, 0, 0]);
    assert_eq!(calls("parse"), [1, 0, 0, 0]);
    assert_eq!(calls("Thing::new"), [1, 0, 0, 0]);
    assert_eq!(calls("Thing::twice"), [1, 0, 0, 0]);
    assert_eq!(calls("Thing::later"), [1, 0, 0, 0]);
    assert_eq!(calls("checked"), [0, 1, 0, 0]);
}
