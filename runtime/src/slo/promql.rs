//! The PromQL the rules are made of: label matchers for a function's series, escaped, and the
//! decimals of budgets written exactly.

use std::fmt::Write as _;

/// `value` as a PromQL double-quoted string's content: backslash, double quote and control
/// characters escaped (so the text never spans lines).
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `value` as a regular expression matching exactly it (RE2 metacharacters escaped).
pub(crate) fn regex_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The matcher of an `le` bound: its text-format spelling (`1`) and its OpenMetrics one
/// (`1.0`) differ for whole numbers, and Prometheus keeps whichever the scrape sent.
pub(crate) fn le_matcher(text: &str, openmetrics: &str) -> String {
    if text == openmetrics {
        format!("le=\"{}\"", escape(text))
    } else {
        format!(
            "le=~\"{}|{}\"",
            escape(&regex_quote(text)),
            escape(&regex_quote(openmetrics))
        )
    }
}

/// `1 - target` as an exact decimal (`0.999` gives `0.001`, not `0.0010000000000000009`),
/// and the same as a percentage (`0.1`). `target` is above 0 and below 1.
pub(crate) fn budget(target: f64) -> (String, String) {
    // Display writes the shortest decimal that reads back as `target`, never an exponent.
    let digits = format!("{target}");
    let fraction = digits.strip_prefix("0.").unwrap_or("");
    let scale = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
    let parsed = fraction.parse::<u128>().ok();
    match (parsed, 10u128.checked_pow(scale)) {
        (Some(d), Some(one)) if d < one && scale >= 1 => {
            let left = one - d;
            (decimal(left, scale), hundredfold(left, scale))
        }
        // Not reachable for a checked target; still an honest number.
        _ => (
            format!("{}", 1.0 - target),
            format!("{}", (1.0 - target) * 100.0),
        ),
    }
}

/// `ratio` (above 0, below 1) as an exact percentage: `0.999` gives `99.9`.
pub(crate) fn percent(ratio: f64) -> String {
    let digits = format!("{ratio}");
    let fraction = digits.strip_prefix("0.").unwrap_or("");
    match (fraction.parse::<u128>(), u32::try_from(fraction.len())) {
        (Ok(d), Ok(scale)) => hundredfold(d, scale),
        _ => format!("{}", ratio * 100.0),
    }
}

/// `100 × n / 10^scale` written in decimal.
fn hundredfold(n: u128, scale: u32) -> String {
    match scale.checked_sub(2) {
        Some(s) => decimal(n, s),
        None => decimal(n.saturating_mul(10u128.pow(2 - scale)), 0),
    }
}

/// `n / 10^scale` written in decimal, without trailing zeros.
fn decimal(n: u128, scale: u32) -> String {
    let digits = n.to_string();
    let scale = scale as usize;
    let (int, frac) = if digits.len() > scale {
        let (i, f) = digits.split_at(digits.len() - scale);
        (i.to_owned(), f.to_owned())
    } else {
        ("0".to_owned(), format!("{digits:0>scale$}"))
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::{budget, escape, le_matcher, percent};

    #[test]
    fn percentages_are_exact() {
        assert_eq!(percent(0.999), "99.9");
        assert_eq!(percent(0.99), "99");
        assert_eq!(percent(0.5), "50");
        assert_eq!(percent(0.9375), "93.75");
        assert_eq!(percent(0.001), "0.1");
    }

    #[test]
    fn budgets_are_exact_decimals() {
        assert_eq!(budget(0.999), ("0.001".into(), "0.1".into()));
        assert_eq!(budget(0.99), ("0.01".into(), "1".into()));
        assert_eq!(budget(0.9), ("0.1".into(), "10".into()));
        assert_eq!(budget(0.5), ("0.5".into(), "50".into()));
        assert_eq!(budget(0.9375), ("0.0625".into(), "6.25".into()));
        assert_eq!(budget(0.99999), ("0.00001".into(), "0.001".into()));
        assert_eq!(budget(1e-7), ("0.9999999".into(), "99.99999".into()));
    }

    #[test]
    fn values_are_escaped_and_whole_bounds_match_both_spellings() {
        assert_eq!(escape("a\"b\\c\nd\u{1}"), "a\\\"b\\\\c\\nd\\u0001");
        assert_eq!(le_matcher("0.25", "0.25"), "le=\"0.25\"");
        assert_eq!(le_matcher("1", "1.0"), "le=~\"1|1\\\\.0\"");
    }
}
