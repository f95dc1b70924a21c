//! Objectives on a gRPC method (feature `tonic`): the rules read the server's
//! `grpc_server_handled_total` (a call failed when its code says the server failed, out of
//! the calls of every code) and `grpc_server_handling_seconds` (slow: above the bucket bound
//! equal to the threshold); the counts come from the catalog's reading of the same families.

use std::fmt::Write as _;
use std::time::Duration;

use super::burn::{alert, record, Indicator, ERROR_BUDGET_BURN, LATENCY_BUDGET_BURN};
use super::counts::Counts;
use super::objective::Objective;
use super::promql::{budget, escape, le_matcher, percent};
use super::windows::{ALERTS, WINDOWS};
use crate::error::Error;
use crate::expose::catalog::grpc::{readings, BOUNDS_SECONDS, CODE_NAMES, SERVER_FAILURE_CODES};
use crate::expose::snapshot::Bounds;

/// The recorded ratios of an objective on a gRPC method.
const ERRORS: &str = "objective:grpc_server_handled_errors";
const SLOW: &str = "objective:grpc_server_handling_slow";

/// The rule group of `objective`, on the server side of `service`/`method`.
pub(super) fn group(
    out: &mut String,
    objective: &Objective,
    service: &str,
    method: &str,
) -> Result<(), Error> {
    let name = objective.name();
    let selector = format!(
        "grpc_service=\"{}\",grpc_method=\"{}\"",
        escape(service),
        escape(method)
    );
    let latency = match objective.latency_target() {
        Some((threshold, target)) => Some((le(name, threshold)?, target)),
        None => None,
    };
    let what = format!("{service}/{method}");
    let _ = writeln!(out, "  - name: \"objective-{name}\"\n    rules:");
    if let Some(target) = objective.success_target() {
        let failures: Vec<&str> = SERVER_FAILURE_CODES
            .iter()
            .map(|c| CODE_NAMES[*c])
            .collect();
        let codes = failures.join("|");
        for w in WINDOWS {
            let failed = format!(
                "sum(rate(grpc_server_handled_total{{{selector},grpc_code=~\"{codes}\"}}[{w}]))"
            );
            let all = format!("sum(rate(grpc_server_handled_total{{{selector}}}[{w}]))");
            record(out, ERRORS, w, name, &format!("{failed}\n/\n{all}"));
        }
        let (ratio, budget_percent) = budget(target);
        let target_percent = percent(target);
        let listed = failures.join(", ");
        for a in &ALERTS {
            let description = format!(
                "More than {} x {budget_percent}% of the calls the server answered on {what} (objective {name}) failed (code {listed}) over the last {} and the last {}; at this rate a 30-day error budget lasts {}. Objective: {target_percent}% of calls succeed.",
                a.burn_rate, a.long, a.short, a.budget_lasts
            );
            let summary = format!(
                "Objective {name}: failures of {what} burn its error budget ({budget_percent}% of calls) at {} times the sustainable rate",
                a.burn_rate
            );
            let indicator = Indicator {
                alert: ERROR_BUDGET_BURN,
                record: ERRORS,
                objective: name,
                budget: &ratio,
            };
            alert(out, &indicator, a, &summary, &description);
        }
    }
    if let Some((le, target)) = latency {
        for w in WINDOWS {
            let all = format!("sum(rate(grpc_server_handling_seconds_count{{{selector}}}[{w}]))");
            let fast =
                format!("sum(rate(grpc_server_handling_seconds_bucket{{{selector},{le}}}[{w}]))");
            record(
                out,
                SLOW,
                w,
                name,
                &format!("(\n  {all}\n  -\n  {fast}\n)\n/\n{all}"),
            );
        }
        let (ratio, budget_percent) = budget(target);
        let target_percent = percent(target);
        let seconds = objective
            .latency_target()
            .map(|(t, _)| format!("{}s", t.as_secs_f64()))
            .unwrap_or_default();
        for a in &ALERTS {
            let description = format!(
                "More than {} x {budget_percent}% of the calls the server answered on {what} (objective {name}) took longer than {seconds} over the last {} and the last {}; at this rate a 30-day latency budget lasts {}. Objective: {target_percent}% of calls within {seconds}.",
                a.burn_rate, a.long, a.short, a.budget_lasts
            );
            let summary = format!(
                "Objective {name}: slow calls of {what} burn its latency budget ({budget_percent}% of calls over {seconds}) at {} times the sustainable rate",
                a.burn_rate
            );
            let indicator = Indicator {
                alert: LATENCY_BUDGET_BURN,
                record: SLOW,
                objective: name,
                budget: &ratio,
            };
            alert(out, &indicator, a, &summary, &description);
        }
    }
    Ok(())
}

/// The index of the gRPC bucket bound equal to `threshold`.
fn bound_index(threshold: Duration) -> Option<usize> {
    let nanos = threshold.as_nanos();
    BOUNDS_SECONDS.iter().position(|b| {
        // The bounds are whole microseconds or coarser: exact once in nanoseconds.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bound = (b * 1e9).round() as u128;
        bound == nanos
    })
}

/// The `le` matcher of the bucket bound equal to `threshold`.
fn le(name: &str, threshold: Duration) -> Result<String, Error> {
    let bounds = Bounds::new(BOUNDS_SECONDS.to_vec());
    match bound_index(threshold) {
        Some(i) => Ok(le_matcher(&bounds.text[i], &bounds.openmetrics[i])),
        None => {
            let listed: Vec<&str> = bounds.text[..BOUNDS_SECONDS.len()]
                .iter()
                .map(String::as_str)
                .collect();
            Err(Error::InvalidConfig(format!(
                "objective `{name}`: the latency threshold {threshold:?} is not a bucket bound of grpc_server_handling_seconds, whose bounds are [{}] seconds: make the threshold one of those",
                listed.join(", ")
            )))
        }
    }
}

/// The server's calls of `service`/`method` since the process started (zero before its first
/// call or declaration): every code is a call, the server-failure codes failed.
pub(super) fn counts(service: &str, method: &str, threshold: Option<Duration>) -> Counts {
    let mut counts = Counts::default();
    let slow_from = threshold.and_then(bound_index).map(|i| i + 1);
    for r in readings() {
        if r.side != "server" || r.service != service || r.method != method {
            continue;
        }
        let sum = |values: &[u64]| values.iter().fold(0u64, |a, n| a.wrapping_add(*n));
        counts.calls = counts.calls.wrapping_add(sum(&r.handled));
        for c in SERVER_FAILURE_CODES {
            counts.failed = counts.failed.wrapping_add(r.handled[c]);
        }
        counts.timed = counts.timed.wrapping_add(sum(&r.buckets));
        if let Some(from) = slow_from {
            counts.slow = counts
                .slow
                .wrapping_add(sum(r.buckets.get(from..).unwrap_or(&[])));
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::slo::objective::Objective;
    use crate::slo::rules::render;

    /// The whole file for one objective on a gRPC method, with a whole-second threshold (whose
    /// `le` has two spellings).
    #[test]
    fn an_objective_on_a_grpc_method_gives_exactly_this_file() {
        let o = Objective::new("features")
            .grpc_method("routeguide.RouteGuide", "GetFeature")
            .success_ratio(0.999)
            .latency(Duration::from_secs(1), 0.95);
        let rules = render(&[(o, vec![])]).unwrap();
        assert_eq!(rules, include_str!("testdata/features.yml"));
    }

    #[test]
    fn a_threshold_that_is_no_grpc_bound_is_an_error_saying_what_to_change() {
        let o = Objective::new("features")
            .grpc_method("routeguide.RouteGuide", "GetFeature")
            .latency(Duration::from_millis(300), 0.99);
        assert_eq!(
            render(&[(o, vec![])]).unwrap_err().to_string(),
            "invalid configuration: objective `features`: the latency threshold 300ms is not a bucket bound of grpc_server_handling_seconds, whose bounds are [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] seconds: make the threshold one of those"
        );
    }

    #[test]
    fn functions_cannot_carry_an_objective_on_a_grpc_method() {
        let o = Objective::new("features")
            .grpc_method("routeguide.RouteGuide", "GetFeature")
            .success_ratio(0.99);
        let t = crate::slo::rules::Target {
            function: "get_feature".into(),
            module: "guide".into(),
            bounds_nanos: vec![],
            le: vec![],
        };
        assert_eq!(
            render(&[(o, vec![t])]).unwrap_err().to_string(),
            "invalid configuration: objective `features` is on the gRPC method routeguide.RouteGuide/GetFeature, and functions carry it too (`get_feature` in module `guide`): remove objective = \"features\" from their attribute, or declare another objective for them"
        );
    }
}
