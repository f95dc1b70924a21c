//! What an objective's calls came to: the counts its budgets are computed from.

/// Calls of an objective's functions, counted since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls that ended `ok`, `error` or `panic` (availability's denominator; `cancelled`
    /// calls are left out).
    pub calls: u64,
    /// Calls that ended `error` or `panic`.
    pub failed: u64,
    /// Every timed call, `cancelled` included (latency's denominator).
    pub timed: u64,
    /// Timed calls slower than the latency threshold (0 without a latency target).
    pub slow: u64,
}

impl Counts {
    /// What happened between `earlier` and `self` (saturating, so a reading that went
    /// backwards gives 0, never a panic).
    #[must_use]
    pub fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            calls: self.calls.saturating_sub(earlier.calls),
            failed: self.failed.saturating_sub(earlier.failed),
            timed: self.timed.saturating_sub(earlier.timed),
            slow: self.slow.saturating_sub(earlier.slow),
        }
    }
}
