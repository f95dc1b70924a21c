//! The Prometheus rule file: for each objective one group of recording rules (the failed and
//! the slow share of calls over every window of [`WINDOWS`]) and of the multi-window,
//! multi-burn-rate alerts of [`ALERTS`] on them.

use std::fmt::Write as _;

use super::burn::{alert, record, Indicator, ERROR_BUDGET_BURN, LATENCY_BUDGET_BURN};
use super::declared::{carried, objectives, Declared};
use super::objective::Objective;
use super::promql::{budget, escape, le_matcher, percent};
use super::windows::{ALERTS, WINDOWS};
use crate::error::Error;

/// The Prometheus rules (a rule file, YAML) for every [declared](super::declare) objective,
/// selecting the series of the functions in this binary that carry it.
///
/// For an objective `checkout` carried by functions, one group `objective-checkout`:
/// - `objective:function_calls_errors:ratio_rateW{objective="checkout"}` for W in 5m, 30m, 1h,
///   2h, 6h, 1d, 3d: the share of its functions' calls that ended `error` or `panic` (calls
///   that ended `cancelled` left out), with a success target;
/// - `objective:function_calls_slow:ratio_rateW{objective="checkout"}`: the share of calls
///   slower than the threshold (from the `le` bucket equal to it), with a latency target;
/// - alerts `ObjectiveErrorBudgetBurn` and `ObjectiveLatencyBudgetBurn`, labelled
///   `objective`, `severity` (`page` or `ticket`), `long_window` and `short_window`, firing
///   while both windows are above the burn rate times the budget (1 - target): 1h and 5m
///   above 14.4 and 6h and 30m above 6 page; 1d and 2h above 3 and 3d and 6h above 1 open a
///   ticket (the Google SRE workbook's rates for a 30-day objective). Their annotations name
///   the objective, the budget and how long it lasts at that rate.
///
/// For an objective on a gRPC method ([`Objective::grpc_method`], feature `tonic`), the
/// same group with `objective:grpc_server_handled_errors:ratio_rateW` (the share of the
/// server's calls of the method whose `grpc_code` says the server failed, over the calls of
/// every code) and `objective:grpc_server_handling_slow:ratio_rateW` (from
/// `grpc_server_handling_seconds`), and the same alerts on them.
///
/// Recording rules and alerts share a group, so each evaluation's alerts see that
/// evaluation's ratios. Functions are selected by their `function` and `module` labels (any
/// job, instance or further label): the objective is not a label of their series.
///
/// ```
/// use std::time::Duration;
/// use instrument_metrics::{instrument_metrics, slo::{self, Objective}};
///
/// #[instrument_metrics(objective = "checkout")]
/// fn pay(cents: u64) -> Result<u64, String> { Ok(cents) }
///
/// slo::declare([
///     Objective::new("checkout").success_ratio(0.999).latency(Duration::from_millis(250), 0.99),
/// ])?;
/// let rules = slo::rules_yaml()?;
/// assert!(rules.contains(r#"sum(rate(function_calls_total{function="pay",module="rust_out",result=~"error|panic"}[5m]))"#));
/// assert!(rules.contains("- alert: ObjectiveLatencyBudgetBurn"));
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`], saying what to change, when a declared objective is carried by
/// no function of this binary (and is not on a gRPC method), a function carries an objective
/// that is not declared or one on a gRPC method, or a latency threshold is not one of the
/// bucket bounds of every function carrying it (of the gRPC histogram, for a gRPC method).
pub fn rules_yaml() -> Result<String, Error> {
    let declared = objectives();
    if let Some(missing) = carried()
        .into_iter()
        .find(|c| !declared.iter().any(|d| d.objective().name() == *c))
    {
        return Err(Error::InvalidConfig(format!(
            "functions carry objective `{missing}`, which is not declared: add Objective::new(\"{missing}\").success_ratio(…) to instrument_metrics::slo::declare([…])"
        )));
    }
    let inputs: Vec<(Objective, Vec<Target>)> = declared
        .iter()
        .map(|d| (*d.objective(), targets(d)))
        .collect();
    render(&inputs)
}

/// One function's series as the rules select them.
pub(crate) struct Target {
    pub function: String,
    pub module: String,
    /// Bucket bounds, in nanoseconds, and their `le` spellings (text, OpenMetrics).
    pub bounds_nanos: Vec<u64>,
    pub le: Vec<(String, String)>,
}

fn targets(declared: &Declared) -> Vec<Target> {
    declared
        .functions()
        .iter()
        .map(|f| {
            let series = f.series();
            Target {
                function: series.function.clone(),
                module: series.module.to_owned(),
                bounds_nanos: series
                    .sites
                    .first()
                    .map(|s| s.meta().bounds_nanos.to_vec())
                    .unwrap_or_default(),
                le: series
                    .bounds
                    .text
                    .iter()
                    .cloned()
                    .zip(series.bounds.openmetrics.iter().cloned())
                    .collect(),
            }
        })
        .collect()
}

/// The rule file for these objectives and their functions.
pub(crate) fn render(inputs: &[(Objective, Vec<Target>)]) -> Result<String, Error> {
    let mut out = String::from(
        "# Generated by instrument-metrics (instrument_metrics::slo::rules_yaml) from the\n\
         # objectives declared in code: regenerate it, do not edit it.\n",
    );
    if inputs.is_empty() {
        out.push_str("groups: []\n");
        return Ok(out);
    }
    out.push_str("groups:\n");
    for (objective, targets) in inputs {
        group(&mut out, objective, targets)?;
    }
    Ok(out)
}

fn group(out: &mut String, objective: &Objective, targets: &[Target]) -> Result<(), Error> {
    let name = objective.name();
    #[cfg(feature = "tonic")]
    if let Some((service, method)) = objective.grpc_target() {
        if let Some(t) = targets.first() {
            return Err(Error::InvalidConfig(format!(
                "objective `{name}` is on the gRPC method {service}/{method}, and functions carry it too (`{}` in module `{}`): remove objective = \"{name}\" from their attribute, or declare another objective for them",
                t.function, t.module
            )));
        }
        return super::grpc::group(out, objective, service, method);
    }
    if targets.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "objective `{name}` is declared, but no function in this binary carries it: put #[instrument_metrics(objective = \"{name}\")] on the functions it covers"
        )));
    }
    let latency = match objective.latency_target() {
        Some((threshold, target)) => Some((latency_matchers(name, threshold, targets)?, target)),
        None => None,
    };
    let _ = writeln!(out, "  - name: \"objective-{name}\"\n    rules:");
    if let Some(target) = objective.success_target() {
        for w in WINDOWS {
            let failed = sum(
                "function_calls_total",
                targets,
                |_| ",result=~\"error|panic\"".to_owned(),
                w,
            );
            let judged = sum(
                "function_calls_total",
                targets,
                |_| ",result!=\"cancelled\"".to_owned(),
                w,
            );
            record(
                out,
                FUNCTION_ERRORS,
                w,
                name,
                &format!("{failed}\n/\n{judged}"),
            );
        }
        let (ratio, budget_percent) = budget(target);
        let target_percent = percent(target);
        for a in &ALERTS {
            let what = format!(
                "More than {} x {budget_percent}% of the calls of objective {name} failed (result error or panic) over the last {} and the last {}; at this rate a 30-day error budget lasts {}. Objective: {target_percent}% of calls succeed.",
                a.burn_rate, a.long, a.short, a.budget_lasts
            );
            let summary = format!(
                "Objective {name}: failures burn its error budget ({budget_percent}% of calls) at {} times the sustainable rate",
                a.burn_rate
            );
            let indicator = Indicator {
                alert: ERROR_BUDGET_BURN,
                record: FUNCTION_ERRORS,
                objective: name,
                budget: &ratio,
            };
            alert(out, &indicator, a, &summary, &what);
        }
    }
    if let Some((matchers, target)) = latency {
        for w in WINDOWS {
            let all = sum(
                "function_calls_duration_seconds_count",
                targets,
                |_| String::new(),
                w,
            );
            let fast = sum(
                "function_calls_duration_seconds_bucket",
                targets,
                |t| {
                    matchers
                        .iter()
                        .find(|(f, m, _)| *f == t.function && *m == t.module)
                        .map_or_else(String::new, |(_, _, le)| format!(",{le}"))
                },
                w,
            );
            let expr = format!("(\n  {all}\n  -\n  {fast}\n)\n/\n{all}");
            record(out, FUNCTION_SLOW, w, name, &expr);
        }
        let (ratio, budget_percent) = budget(target);
        let target_percent = percent(target);
        let seconds = objective
            .latency_target()
            .map(|(t, _)| format!("{}s", t.as_secs_f64()))
            .unwrap_or_default();
        for a in &ALERTS {
            let what = format!(
                "More than {} x {budget_percent}% of the calls of objective {name} took longer than {seconds} over the last {} and the last {}; at this rate a 30-day latency budget lasts {}. Objective: {target_percent}% of calls within {seconds}.",
                a.burn_rate, a.long, a.short, a.budget_lasts
            );
            let summary = format!(
                "Objective {name}: slow calls burn its latency budget ({budget_percent}% of calls over {seconds}) at {} times the sustainable rate",
                a.burn_rate
            );
            let indicator = Indicator {
                alert: LATENCY_BUDGET_BURN,
                record: FUNCTION_SLOW,
                objective: name,
                budget: &ratio,
            };
            alert(out, &indicator, a, &summary, &what);
        }
    }
    Ok(())
}

/// For each target, the `le` matcher of the bucket bound equal to `threshold`.
fn latency_matchers(
    name: &str,
    threshold: std::time::Duration,
    targets: &[Target],
) -> Result<Vec<(String, String, String)>, Error> {
    let nanos = u64::try_from(threshold.as_nanos()).unwrap_or(u64::MAX);
    targets
        .iter()
        .map(|t| {
            let found = t.bounds_nanos.iter().position(|b| *b == nanos);
            match found.and_then(|i| t.le.get(i)) {
                Some((text, openmetrics)) => Ok((
                    t.function.clone(),
                    t.module.clone(),
                    le_matcher(text, openmetrics),
                )),
                None => {
                    let bounds: Vec<&str> = t.le.iter().map(|(text, _)| text.as_str()).filter(|b| *b != "+Inf").collect();
                    Err(Error::InvalidConfig(format!(
                        "objective `{name}`: the latency threshold {threshold:?} is not a bucket bound of `{}` (module `{}`), whose bounds are [{}] seconds: add {} to its `buckets = […]`, or make the threshold one of those",
                        t.function,
                        t.module,
                        bounds.join(", "),
                        threshold.as_secs_f64()
                    )))
                }
            }
        })
        .collect()
}

/// `sum(rate(metric{function,module…}[w]) or …)` over the targets.
fn sum(metric: &str, targets: &[Target], extra: impl Fn(&Target) -> String, w: &str) -> String {
    let terms: Vec<String> = targets
        .iter()
        .map(|t| {
            format!(
                "rate({metric}{{function=\"{}\",module=\"{}\"{}}}[{w}])",
                escape(&t.function),
                escape(&t.module),
                extra(t)
            )
        })
        .collect();
    format!("sum({})", terms.join(" or "))
}

/// The recorded ratios of an objective carried by functions: `objective:function_calls_errors:ratio_rateW`…
const FUNCTION_ERRORS: &str = "objective:function_calls_errors";
const FUNCTION_SLOW: &str = "objective:function_calls_slow";
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{render, Target};
    use crate::slo::objective::Objective;

    fn target(function: &str, module: &str, bounds: &[(u64, &str, &str)]) -> Target {
        Target {
            function: function.to_owned(),
            module: module.to_owned(),
            bounds_nanos: bounds.iter().map(|b| b.0).collect(),
            le: bounds
                .iter()
                .map(|b| (b.1.to_owned(), b.2.to_owned()))
                .chain([("+Inf".to_owned(), "+Inf".to_owned())])
                .collect(),
        }
    }

    /// The whole file for one objective carried by two functions, one with a whole-second
    /// bound (whose `le` has two spellings).
    #[test]
    fn one_objective_gives_exactly_this_file() {
        let o = Objective::new("checkout")
            .success_ratio(0.999)
            .latency(Duration::from_secs(1), 0.95);
        let pay = target(
            "pay",
            "shop",
            &[(250_000_000, "0.25", "0.25"), (1_000_000_000, "1", "1.0")],
        );
        let refund = target(
            "Refunds::\"issue\"",
            "shop::admin",
            &[(1_000_000_000, "1", "1.0")],
        );
        let rules = render(&[(o, vec![pay, refund])]).unwrap();
        assert_eq!(rules, include_str!("testdata/checkout.yml"));
    }

    #[test]
    fn no_objectives_give_an_empty_file() {
        assert_eq!(
            render(&[]).unwrap(),
            "# Generated by instrument-metrics (instrument_metrics::slo::rules_yaml) from the\n# objectives declared in code: regenerate it, do not edit it.\ngroups: []\n"
        );
    }

    #[test]
    fn a_threshold_that_is_no_bucket_bound_is_an_error_saying_what_to_change() {
        let o = Objective::new("search").latency(Duration::from_millis(300), 0.99);
        let t = target(
            "find",
            "index",
            &[(250_000_000, "0.25", "0.25"), (500_000_000, "0.5", "0.5")],
        );
        assert_eq!(
            render(&[(o, vec![t])]).unwrap_err().to_string(),
            "invalid configuration: objective `search`: the latency threshold 300ms is not a bucket bound of `find` (module `index`), whose bounds are [0.25, 0.5] seconds: add 0.3 to its `buckets = […]`, or make the threshold one of those"
        );
    }

    #[test]
    fn an_objective_no_function_carries_is_an_error() {
        let o = Objective::new("orphan").success_ratio(0.9);
        assert_eq!(
            render(&[(o, vec![])]).unwrap_err().to_string(),
            "invalid configuration: objective `orphan` is declared, but no function in this binary carries it: put #[instrument_metrics(objective = \"orphan\")] on the functions it covers"
        );
    }
}
