//! The YAML of one recording rule and of one burn-rate alert, written the same way whatever an
//! objective covers (functions, gRPC methods).

use std::fmt::Write as _;

use super::windows::BurnAlert;

/// The alerts, whatever the objective covers.
pub(crate) const ERROR_BUDGET_BURN: &str = "ObjectiveErrorBudgetBurn";
pub(crate) const LATENCY_BUDGET_BURN: &str = "ObjectiveLatencyBudgetBurn";

/// The recording rule `{record}:ratio_rate{w}` of `objective`.
pub(crate) fn record(out: &mut String, record: &str, w: &str, objective: &str, expr: &str) {
    let _ = writeln!(
        out,
        "      - record: {record}:ratio_rate{w}\n        expr: |\n{}        labels:\n          objective: \"{objective}\"",
        indent(expr, 10)
    );
}

/// What the alerts of one indicator of one objective share.
pub(crate) struct Indicator<'a> {
    /// The alert's name.
    pub alert: &'a str,
    /// The recorded ratios it reads (their name without `:ratio_rateW`).
    pub record: &'a str,
    pub objective: &'a str,
    /// The budget, `1 - target`, as an exact decimal.
    pub budget: &'a str,
}

/// One burn-rate alert on the recorded ratios of an indicator.
pub(crate) fn alert(
    out: &mut String,
    i: &Indicator<'_>,
    a: &BurnAlert,
    summary: &str,
    description: &str,
) {
    let Indicator {
        alert,
        record,
        objective,
        budget: ratio,
    } = *i;
    let above = |w: &str| {
        format!(
            "{record}:ratio_rate{w}{{objective=\"{objective}\"}} > ({} * {ratio})",
            a.burn_rate
        )
    };
    let expr = format!("{}\nand\n{}", above(a.long), above(a.short));
    let _ = writeln!(
        out,
        "      - alert: {alert}\n        expr: |\n{}        labels:\n          objective: \"{objective}\"\n          severity: \"{}\"\n          long_window: \"{}\"\n          short_window: \"{}\"\n        annotations:\n          summary: \"{}\"\n          description: \"{}\"",
        indent(&expr, 10),
        a.severity,
        a.long,
        a.short,
        yaml_escape(summary),
        yaml_escape(description)
    );
}

/// Every line of `text` indented by `n` spaces, each ending in a newline (a YAML block).
pub(crate) fn indent(text: &str, n: usize) -> String {
    text.lines().fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "{:n$}{line}", "");
        out
    })
}

/// A YAML double-quoted scalar's content.
pub(crate) fn yaml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
