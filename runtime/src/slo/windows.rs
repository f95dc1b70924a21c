//! The windows and burn rates of the Google SRE workbook's multi-window, multi-burn-rate
//! alerts ("Alerting on SLOs", for a 30-day objective).
//!
//! A burn rate is how fast the error budget goes: 1 spends exactly the 30-day budget in 30
//! days, 14.4 spends 2% of it in one hour. Each alert needs both a long window (is the budget
//! really burning?) and a short one, a twelfth of it (is it still burning now?), above the same
//! rate, so it fires fast and stops soon after the problem does.

/// The windows every objective has a recorded ratio for, shortest first.
pub(crate) const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// One burn-rate alert: both windows above `burn_rate` times the budget.
pub(crate) struct BurnAlert {
    pub severity: &'static str,
    pub long: &'static str,
    pub short: &'static str,
    /// As written in the rule (a decimal Prometheus reads exactly as Rust would).
    pub burn_rate: &'static str,
    /// How long a 30-day budget lasts at this rate, for the annotation.
    pub budget_lasts: &'static str,
}

/// Page on the fast burns, ticket on the slow ones.
pub(crate) const ALERTS: [BurnAlert; 4] = [
    BurnAlert {
        severity: "page",
        long: "1h",
        short: "5m",
        burn_rate: "14.4",
        budget_lasts: "50 hours",
    },
    BurnAlert {
        severity: "page",
        long: "6h",
        short: "30m",
        burn_rate: "6",
        budget_lasts: "5 days",
    },
    BurnAlert {
        severity: "ticket",
        long: "1d",
        short: "2h",
        burn_rate: "3",
        budget_lasts: "10 days",
    },
    BurnAlert {
        severity: "ticket",
        long: "3d",
        short: "6h",
        burn_rate: "1",
        budget_lasts: "30 days",
    },
];

#[cfg(test)]
mod tests {
    use super::{ALERTS, WINDOWS};

    #[test]
    fn every_alert_window_is_recorded_and_short_is_a_twelfth_of_long() {
        let minutes = |w: &str| -> u32 {
            let (n, unit) = w.split_at(w.len() - 1);
            let n: u32 = n.parse().unwrap();
            n * match unit {
                "m" => 1,
                "h" => 60,
                "d" => 1440,
                _ => unreachable!(),
            }
        };
        for a in &ALERTS {
            assert!(WINDOWS.contains(&a.long) && WINDOWS.contains(&a.short));
            assert_eq!(minutes(a.long), 12 * minutes(a.short));
            let rate: f64 = a.burn_rate.parse().unwrap();
            // The share of a 30-day budget the long window spends at this rate.
            let share = rate * f64::from(minutes(a.long)) / f64::from(30 * 1440);
            assert!(
                [0.02, 0.05, 0.1].iter().any(|s| (share - s).abs() < 1e-12),
                "{share}"
            );
        }
    }
}
