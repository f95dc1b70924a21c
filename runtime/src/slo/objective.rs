//! [`Objective`]: a name and its targets, as declared in code.

use std::time::Duration;

use crate::error::Error;

/// A service level objective: what share of the calls of the functions that carry it must
/// succeed, and what share must be faster than a threshold.
///
/// The functions carry it with `#[instrument_metrics(objective = "checkout")]`; the objective
/// itself is declared once, with [`declare`](super::declare). Its methods are `const`, so the
/// objectives can live in a `const` or `static` beside the code they describe.
///
/// ```
/// use std::time::Duration;
/// use instrument_metrics::slo::Objective;
///
/// const CHECKOUT: Objective = Objective::new("checkout")
///     .success_ratio(0.999)                          // 99.9% of calls succeed
///     .latency(Duration::from_millis(250), 0.99);    // 99% of calls take at most 250 ms
///
/// assert_eq!(CHECKOUT.name(), "checkout");
/// assert_eq!(CHECKOUT.success_target(), Some(0.999));
/// assert_eq!(CHECKOUT.latency_target(), Some((Duration::from_millis(250), 0.99)));
/// ```
///
/// **Availability** counts a call as failed when its `result` is `error` or `panic`.
/// `cancelled` calls (a future dropped before it finished: the client went away, a caller's
/// timeout or `select!`) are neither good nor bad: they are left out of both sides of the
/// ratio, so clients that give up cannot spend the budget, and they do not dilute it either.
///
/// **Latency** counts a call as slow when it took longer than the threshold, whatever its
/// result (the duration histogram has no `result` label; a cancelled call that ran past the
/// threshold was slow). The threshold must be one of the bucket bounds of every function that
/// carries the objective (the default buckets have 5, 10, 25, 50, 75, 100, 250, 500 and 750 ms,
/// 1, 2.5, 5, 7.5 and 10 s), so that the share is exact; [`rules_yaml`](super::rules_yaml)
/// returns an error otherwise.
///
/// **A gRPC method** (feature `tonic`): with [`grpc_method`](Self::grpc_method), the objective
/// covers the calls a server answers on one method instead of functions, read from
/// `grpc_server_handled_total` and `grpc_server_handling_seconds`. A call fails when its code
/// says the server failed (`Unknown`, `DeadlineExceeded`, `Unimplemented`, `Internal`,
/// `Unavailable`, `DataLoss`), out of the calls of every code: a caller's mistake
/// (`NotFound`, `InvalidArgument`…) or a caller's cancellation spends no budget. Its latency
/// threshold must be one of the gRPC histogram's bounds (the default ones above).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    name: &'static str,
    success: Option<f64>,
    latency: Option<(Duration, f64)>,
    grpc: Option<(&'static str, &'static str)>,
}

impl Objective {
    /// An objective named `name`, without targets yet. The name is what
    /// `#[instrument_metrics(objective = "…")]` refers to: up to 64 ASCII letters, digits, `_`
    /// and `-`, starting with a letter (checked by [`declare`](super::declare)).
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Objective {
            name,
            success: None,
            latency: None,
            grpc: None,
        }
    }

    /// The share of calls that must succeed, above 0 and below 1 (0.999: 99.9%, an error
    /// budget of 0.1%).
    #[must_use]
    pub const fn success_ratio(mut self, target: f64) -> Self {
        self.success = Some(target);
        self
    }

    /// The share of calls that must take at most `threshold`, above 0 and below 1.
    #[must_use]
    pub const fn latency(mut self, threshold: Duration, target: f64) -> Self {
        self.latency = Some((threshold, target));
        self
    }

    /// Makes this an objective on the calls a gRPC server answers on one method (feature
    /// `tonic`): `service` is the full service name (`package.Service`, as `grpc_service`
    /// says it), `method` the method's name. No function carries such an objective: its
    /// rules select `grpc_server_handled_total` and `grpc_server_handling_seconds` by
    /// `grpc_service` and `grpc_method`, and [`Declared::counts`](super::Declared::counts)
    /// reads the server layer's counts of the method.
    ///
    /// ```
    /// use std::time::Duration;
    /// use instrument_metrics::slo::{self, Objective};
    ///
    /// const FEATURES: Objective = Objective::new("features")
    ///     .grpc_method("routeguide.RouteGuide", "GetFeature")
    ///     .success_ratio(0.999)                          // 99.9% answered without a server failure
    ///     .latency(Duration::from_millis(250), 0.99);    // 99% within 250 ms
    /// assert_eq!(FEATURES.grpc_target(), Some(("routeguide.RouteGuide", "GetFeature")));
    ///
    /// slo::declare([FEATURES])?;
    /// let rules = slo::rules_yaml()?;
    /// assert!(rules.contains(r#"sum(rate(grpc_server_handled_total{grpc_service="routeguide.RouteGuide",grpc_method="GetFeature",grpc_code=~"Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss"}[5m]))"#));
    /// assert!(rules.contains(r#"grpc_server_handling_seconds_bucket{grpc_service="routeguide.RouteGuide",grpc_method="GetFeature",le="0.25"}"#));
    /// assert!(rules.contains("- alert: ObjectiveErrorBudgetBurn"));
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[cfg(feature = "tonic")]
    #[must_use]
    pub const fn grpc_method(mut self, service: &'static str, method: &'static str) -> Self {
        self.grpc = Some((service, method));
        self
    }

    /// The gRPC service and method the objective covers (server side), if it is one
    /// ([`grpc_method`](Self::grpc_method)); `None` for an objective carried by functions.
    #[must_use]
    pub const fn grpc_target(&self) -> Option<(&'static str, &'static str)> {
        self.grpc
    }

    /// The name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The availability target, if any.
    #[must_use]
    pub const fn success_target(&self) -> Option<f64> {
        self.success
    }

    /// The latency threshold and target, if any.
    #[must_use]
    pub const fn latency_target(&self) -> Option<(Duration, f64)> {
        self.latency
    }

    /// The share of the availability budget left after `failed` of `calls` calls failed
    /// (`calls` without the cancelled ones): 1 untouched, 0 spent, below 0 overspent. `None`
    /// without an availability target or without calls.
    ///
    /// ```
    /// use instrument_metrics::slo::Objective;
    ///
    /// let o = Objective::new("checkout").success_ratio(0.99);
    /// // 1% may fail; 0.25% did: three quarters of the budget are left.
    /// assert!((o.availability_budget_left(10_000, 25).unwrap() - 0.75).abs() < 1e-9);
    /// assert_eq!(o.availability_budget_left(0, 0), None);
    /// ```
    #[must_use]
    pub fn availability_budget_left(&self, calls: u64, failed: u64) -> Option<f64> {
        budget_left(self.success?, calls, failed)
    }

    /// The share of the latency budget left after `slow` of `calls` calls took longer than the
    /// threshold: 1 untouched, 0 spent, below 0 overspent. `None` without a latency target or
    /// without calls.
    ///
    /// ```
    /// use std::time::Duration;
    /// use instrument_metrics::slo::Objective;
    ///
    /// let o = Objective::new("search").latency(Duration::from_millis(100), 0.9);
    /// assert!((o.latency_budget_left(1_000, 150).unwrap() + 0.5).abs() < 1e-9); // overspent by half
    /// ```
    #[must_use]
    pub fn latency_budget_left(&self, calls: u64, slow: u64) -> Option<f64> {
        budget_left(self.latency?.1, calls, slow)
    }

    /// Checks the name and the targets; what [`declare`](super::declare) refuses.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let name = self.name;
        if !is_valid_name(name) {
            return Err(Error::InvalidConfig(format!(
                "objective name {name:?} is not valid: use at most 64 ASCII letters, digits, `_` and `-`, starting with a letter, e.g. Objective::new(\"checkout\")"
            )));
        }
        if self.success.is_none() && self.latency.is_none() {
            return Err(Error::InvalidConfig(format!(
                "objective `{name}` has no target: add .success_ratio(0.999) or .latency(Duration::from_millis(250), 0.99)"
            )));
        }
        if let Some(t) = self.success {
            check_target(name, "success_ratio", t)?;
        }
        if let Some((service, method)) = self.grpc {
            let valid =
                |s: &str| !s.is_empty() && !s.contains('/') && !s.chars().any(char::is_control);
            if !valid(service) || !valid(method) {
                return Err(Error::InvalidConfig(format!(
                    "objective `{name}`: the gRPC method {service:?}, {method:?} is not valid: give the full service name and the method's, without `/`, e.g. .grpc_method(\"routeguide.RouteGuide\", \"GetFeature\")"
                )));
            }
        }
        if let Some((threshold, t)) = self.latency {
            check_target(name, "latency", t)?;
            if threshold.is_zero() || u64::try_from(threshold.as_nanos()).is_err() {
                return Err(Error::InvalidConfig(format!(
                    "objective `{name}`: the latency threshold {threshold:?} must be above 0 and at most 584 years"
                )));
            }
        }
        Ok(())
    }
}

fn check_target(name: &str, what: &str, target: f64) -> Result<(), Error> {
    if target > 0.0 && target < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "objective `{name}`: the {what} target {target} must be above 0 and below 1 (0.999 for 99.9%; 1 would leave no error budget)"
        )))
    }
}

#[allow(clippy::cast_precision_loss)] // counts beyond 2^53 lose precision only past the 16th digit
fn budget_left(target: f64, calls: u64, bad: u64) -> Option<f64> {
    if calls == 0 {
        return None;
    }
    let bad_ratio = bad as f64 / calls as f64;
    Some(1.0 - bad_ratio / (1.0 - target))
}

/// The rule the macro applies to `objective = "…"`, applied to declared names.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::Objective;
    use std::time::Duration;

    #[test]
    fn refused_declarations_say_what_to_write() {
        let message = |o: Objective| o.check().unwrap_err().to_string();
        assert_eq!(
            message(Objective::new("check out").success_ratio(0.9)),
            "invalid configuration: objective name \"check out\" is not valid: use at most 64 ASCII letters, digits, `_` and `-`, starting with a letter, e.g. Objective::new(\"checkout\")"
        );
        assert_eq!(
            message(Objective::new("x")),
            "invalid configuration: objective `x` has no target: add .success_ratio(0.999) or .latency(Duration::from_millis(250), 0.99)"
        );
        assert_eq!(
            message(Objective::new("x").success_ratio(1.0)),
            "invalid configuration: objective `x`: the success_ratio target 1 must be above 0 and below 1 (0.999 for 99.9%; 1 would leave no error budget)"
        );
        assert_eq!(
            message(Objective::new("x").latency(Duration::from_millis(1), f64::NAN)),
            "invalid configuration: objective `x`: the latency target NaN must be above 0 and below 1 (0.999 for 99.9%; 1 would leave no error budget)"
        );
        assert_eq!(
            message(Objective::new("x").latency(Duration::ZERO, 0.9)),
            "invalid configuration: objective `x`: the latency threshold 0ns must be above 0 and at most 584 years"
        );
        assert!(Objective::new("a-b_1").success_ratio(0.5).check().is_ok());
        #[cfg(feature = "tonic")]
        {
            assert_eq!(
                message(Objective::new("x").success_ratio(0.9).grpc_method("/routeguide.RouteGuide", "GetFeature")),
                "invalid configuration: objective `x`: the gRPC method \"/routeguide.RouteGuide\", \"GetFeature\" is not valid: give the full service name and the method's, without `/`, e.g. .grpc_method(\"routeguide.RouteGuide\", \"GetFeature\")"
            );
            assert!(
                message(Objective::new("x").success_ratio(0.9).grpc_method("s", ""))
                    .contains("is not valid")
            );
            assert!(Objective::new("x")
                .success_ratio(0.9)
                .grpc_method("s.S", "M")
                .check()
                .is_ok());
        }
    }
}
