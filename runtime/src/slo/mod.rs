//! Service level objectives declared in code, and the Prometheus rules generated from them.
//!
//! 1. Put `#[instrument_metrics(objective = "checkout")]` on the functions an objective covers
//!    (or on an impl block: every method). The call sites are listed in a side table: no
//!    label is added, so no series is added or changed. Or let the objective cover the calls
//!    a gRPC server answers on one method, with
//!    [`Objective::grpc_method`](Objective::grpc_method) (feature `tonic`).
//! 2. Declare the objective once, at start: [`declare`] with an [`Objective`].
//! 3. Write the rules with [`rules_yaml`] (at deploy time, from a binary that links the same
//!    functions: e.g. a `--print-rules` flag of the service itself) and load them into
//!    Prometheus; [`objectives`] gives the functions and counts a status page shows.
//!
//! ```
//! use std::time::Duration;
//! use instrument_metrics::{instrument_metrics, slo::{self, Objective}};
//!
//! #[instrument_metrics(objective = "checkout")]
//! fn pay(cents: u64) -> Result<u64, String> {
//!     if cents == 0 { Err("nothing to pay".into()) } else { Ok(cents) }
//! }
//!
//! slo::declare([
//!     Objective::new("checkout").success_ratio(0.999).latency(Duration::from_millis(250), 0.99),
//! ])?;
//! let rules: String = slo::rules_yaml()?; // write it to rules.yml for Prometheus
//! assert!(rules.contains("- record: objective:function_calls_errors:ratio_rate5m"));
//! # Ok::<(), instrument_metrics::Error>(())
//! ```
//!
//! **Why a side table, not a label.** A label would be on every series of each function (each
//! `result` counter, every histogram bucket), and moving a function to another objective, or
//! renaming one, would end its series and start new ones: `rate()` breaks across the deploy,
//! dashboards keep the old value. The side table costs no series and no bytes per sample;
//! reassigning a function changes only the generated rules, which select it by `function` and
//! `module`.
//!
//! **Cancelled calls** are neither good nor bad for availability (left out of both sides of the
//! ratio: clients giving up cannot spend the budget), and count for latency like any other
//! timed call; see [`Objective`].
//!
//! - `objective`: [`Objective`], its targets and its budget arithmetic;
//! - `declared`: the objectives of this process, their functions and counts;
//! - `grpc`: objectives on a gRPC method (feature `tonic`): their rules and counts;
//! - `counts`: [`Counts`], what an objective's calls came to;
//! - `burn`: one recording rule and one burn-rate alert, as YAML;
//! - `windows`: the SRE workbook's windows and burn rates;
//! - `promql`: matchers and exact decimals;
//! - `rules`: the rule file.

mod burn;
mod counts;
mod declared;
#[cfg(feature = "tonic")]
mod grpc;
mod objective;
mod promql;
mod rules;
mod windows;

pub use counts::Counts;
pub use declared::{declare, objectives, Declared, Function};
pub use objective::Objective;
pub use rules::rules_yaml;
