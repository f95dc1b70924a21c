//! What the page shows, computed from two snapshots of one series: calls, rate, failure
//! ratios and latency quantiles over the time between them.

use std::collections::BTreeMap;

use super::snapshot::{Counts, GrpcCounts, OutboundCounts};

/// The quantiles reported, as fractions.
pub(crate) const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// One series over one window.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Window {
    /// The time the window actually covers (at most the asked one; less while history is short).
    pub seconds: f64,
    /// Calls that ended in the window, by result (ok, error, panic, cancelled).
    pub results: [u64; 4],
    /// p50, p90, p99 in seconds; `None` without calls.
    pub quantiles: [Option<f64>; 3],
}

impl Window {
    /// Between `base` (older; `None` means from zero) and `newest`, `seconds` apart.
    pub(crate) fn between(
        base: Option<&Counts>,
        newest: &Counts,
        seconds: f64,
        bounds: &[f64],
    ) -> Self {
        let mut results = newest.results;
        let mut deltas = newest.buckets.clone();
        if let Some(base) = base {
            for (n, b) in results.iter_mut().zip(base.results) {
                *n = n.wrapping_sub(b);
            }
            for (n, b) in deltas.iter_mut().zip(&base.buckets) {
                *n = n.wrapping_sub(*b);
            }
        }
        Window {
            seconds,
            results,
            quantiles: QUANTILES.map(|q| quantile(q, bounds, &deltas)),
        }
    }

    pub(crate) fn calls(&self) -> u64 {
        self.results.iter().fold(0, |a, n| a.wrapping_add(*n))
    }

    /// Calls per second; `None` for a window of no time.
    pub(crate) fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| to_f64(self.calls()) / self.seconds)
    }

    /// The share of calls that ended with result `index` (1 error, 2 panic, 3 cancelled), or
    /// with any of them (`None` index); `None` without calls.
    pub(crate) fn ratio(&self, index: Option<usize>) -> Option<f64> {
        let calls = self.calls();
        if calls == 0 {
            return None;
        }
        let failed = match index {
            Some(i) => self.results.get(i).copied().unwrap_or(0),
            None => self.results[1..]
                .iter()
                .fold(0u64, |a, n| a.wrapping_add(*n)),
        };
        Some(to_f64(failed) / to_f64(calls))
    }
}

/// One side of one gRPC method over one window.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GrpcWindow {
    pub seconds: f64,
    /// Calls that ended in the window, by code number.
    pub handled: [u64; 17],
    /// Calls started, and messages received and sent, in the window.
    pub started: u64,
    pub received: u64,
    pub sent: u64,
    /// p50, p90, p99 in seconds; `None` without calls.
    pub quantiles: [Option<f64>; 3],
}

impl GrpcWindow {
    /// Between `base` (older; `None` means from zero) and `newest`, `seconds` apart.
    pub(crate) fn between(
        base: Option<&GrpcCounts>,
        newest: &GrpcCounts,
        seconds: f64,
        bounds: &[f64],
    ) -> Self {
        let zero = GrpcCounts::default();
        let base = base.unwrap_or(&zero);
        let mut buckets = newest.buckets.clone();
        for (n, b) in buckets.iter_mut().zip(&base.buckets) {
            *n = n.wrapping_sub(*b);
        }
        GrpcWindow {
            seconds,
            handled: std::array::from_fn(|c| newest.handled[c].wrapping_sub(base.handled[c])),
            started: newest.started.wrapping_sub(base.started),
            received: newest.received.wrapping_sub(base.received),
            sent: newest.sent.wrapping_sub(base.sent),
            quantiles: QUANTILES.map(|q| quantile(q, bounds, &buckets)),
        }
    }

    /// Calls that ended in the window.
    pub(crate) fn calls(&self) -> u64 {
        self.handled.iter().fold(0, |a, n| a.wrapping_add(*n))
    }

    /// Calls ended per second; `None` for a window of no time.
    pub(crate) fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| to_f64(self.calls()) / self.seconds)
    }

    /// The share of the calls that ended with one of the codes `failures`; `None` without calls.
    pub(crate) fn error_ratio(&self, failures: &[usize]) -> Option<f64> {
        let calls = self.calls();
        if calls == 0 {
            return None;
        }
        let failed = failures
            .iter()
            .filter_map(|c| self.handled.get(*c))
            .fold(0u64, |a, n| a.wrapping_add(*n));
        Some(to_f64(failed) / to_f64(calls))
    }

    /// Messages received and sent per call started (`grpc_*_msg_received_total` over
    /// `grpc_*_started_total`); `None` when no call started.
    pub(crate) fn messages_per_call(&self) -> (Option<f64>, Option<f64>) {
        if self.started == 0 {
            return (None, None);
        }
        let started = to_f64(self.started);
        (
            Some(to_f64(self.received) / started),
            Some(to_f64(self.sent) / started),
        )
    }
}

/// The calls of one method to one server address and port over one window.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OutboundWindow {
    pub seconds: f64,
    /// Calls that ended in the window by (status, 0 for none; `error_type`); no zeros.
    pub endings: BTreeMap<(u16, Option<&'static str>), u64>,
    /// Of those, the failed ones (a 5xx or any error type).
    pub failed: u64,
    /// Calls that received a response head in the window, and the body bytes they received.
    pub responses: u64,
    pub response_bytes: u64,
    /// p50, p90, p99 in seconds; `None` without calls.
    pub quantiles: [Option<f64>; 3],
}

impl OutboundWindow {
    /// Between `base` (older; `None` means from zero) and `newest`, `seconds` apart.
    pub(crate) fn between(
        base: Option<&OutboundCounts>,
        newest: &OutboundCounts,
        seconds: f64,
        bounds: &[f64],
    ) -> Self {
        let zero = OutboundCounts::default();
        let base = base.unwrap_or(&zero);
        let mut buckets = newest.buckets.clone();
        for (n, b) in buckets.iter_mut().zip(&base.buckets) {
            *n = n.wrapping_sub(*b);
        }
        let endings = newest
            .endings
            .iter()
            .map(|(k, n)| {
                (
                    *k,
                    n.wrapping_sub(base.endings.get(k).copied().unwrap_or(0)),
                )
            })
            .filter(|(_, n)| *n != 0)
            .collect();
        OutboundWindow {
            seconds,
            endings,
            failed: newest.failed.wrapping_sub(base.failed),
            responses: newest.responses.wrapping_sub(base.responses),
            response_bytes: newest.response_bytes.wrapping_sub(base.response_bytes),
            quantiles: QUANTILES.map(|q| quantile(q, bounds, &buckets)),
        }
    }

    /// Calls that ended in the window.
    pub(crate) fn calls(&self) -> u64 {
        self.endings.values().fold(0, |a, n| a.wrapping_add(*n))
    }

    /// Calls per second; `None` for a window of no time.
    pub(crate) fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| to_f64(self.calls()) / self.seconds)
    }

    /// The share of the calls that failed; `None` without calls.
    pub(crate) fn error_ratio(&self) -> Option<f64> {
        let calls = self.calls();
        (calls > 0).then(|| to_f64(self.failed) / to_f64(calls))
    }

    /// Response body bytes per call that received a response head (the mean of
    /// `http_client_response_body_size_bytes`); `None` without one.
    pub(crate) fn bytes_received_per_call(&self) -> Option<f64> {
        (self.responses > 0).then(|| to_f64(self.response_bytes) / to_f64(self.responses))
    }
}

pub(crate) fn to_f64(n: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 calls
    let f = n as f64;
    f
}

/// The `q` quantile of observations counted per bucket (`counts`, not cumulative, `+Inf`
/// last) against upper `bounds`, interpolated linearly inside the bucket the way PromQL's
/// `histogram_quantile` does: the first bucket starts at 0, and a rank in `+Inf` answers the
/// highest finite bound. `None` without observations.
pub(crate) fn quantile(q: f64, bounds: &[f64], counts: &[u64]) -> Option<f64> {
    let total = counts.iter().fold(0u64, |a, n| a.wrapping_add(*n));
    if total == 0 || bounds.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let rank = q * to_f64(total);
    let mut below = 0u64;
    for (i, upper) in bounds.iter().enumerate() {
        let here = counts.get(i).copied().unwrap_or(0);
        let cumulative = below.wrapping_add(here);
        if to_f64(cumulative) >= rank {
            if i == 0 && *upper <= 0.0 {
                return Some(*upper);
            }
            let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
            if here == 0 {
                return Some(lower);
            }
            return Some(lower + (upper - lower) * ((rank - to_f64(below)) / to_f64(here)));
        }
        below = cumulative;
    }
    bounds.last().copied()
}

#[cfg(test)]
mod tests {
    use super::{quantile, GrpcWindow, OutboundWindow, Window};
    use crate::live::snapshot::{Counts, GrpcCounts, OutboundCounts};

    #[test]
    fn quantiles_interpolate_as_histogram_quantile_does() {
        let bounds = [0.05, 0.5, 5.0];
        // 6 in the first bucket, 4 in the second.
        let counts = [6, 4, 0, 0];
        assert_eq!(quantile(0.5, &bounds, &counts), Some(0.05 * (5.0 / 6.0)));
        // The arithmetic of histogram_quantile: lower + (upper - lower) * (rank - below) / here.
        let p = |q: f64| 0.05 + (0.5 - 0.05) * ((q * 10.0 - 6.0) / 4.0);
        assert_eq!(quantile(0.9, &bounds, &counts), Some(p(0.9)));
        assert_eq!(quantile(0.99, &bounds, &counts), Some(p(0.99)));
        assert_eq!(p(0.99), 0.48875);
        // A rank in +Inf: the highest finite bound.
        assert_eq!(quantile(0.99, &bounds, &[0, 0, 1, 9]), Some(5.0));
        assert_eq!(quantile(0.5, &bounds, &[0, 0, 0, 0]), None);
        assert_eq!(quantile(1.0, &bounds, &counts), Some(0.5));
    }

    #[test]
    fn grpc_windows_subtract_the_base_and_count_the_failure_codes() {
        let base = GrpcCounts {
            started: 2,
            received: 2,
            sent: 1,
            handled: std::array::from_fn(|c| u64::from(c == 0) * 2),
            buckets: vec![2, 0, 0],
        };
        let mut newest = base.clone();
        newest.started = 12;
        newest.received = 32;
        newest.sent = 6;
        newest.handled[0] = 8; // 6 more OK
        newest.handled[5] = 2; // NotFound: the caller's
        newest.handled[13] = 1; // Internal
        newest.handled[4] = 1; // DeadlineExceeded
        newest.buckets = vec![6, 4, 2];
        let w = GrpcWindow::between(Some(&base), &newest, 20.0, &[0.1, 1.0]);
        assert_eq!(w.calls(), 10);
        assert_eq!(w.rate(), Some(0.5));
        assert_eq!(w.error_ratio(&[2, 4, 12, 13, 14, 15]), Some(0.2));
        assert_eq!(w.messages_per_call(), (Some(3.0), Some(0.5)));
        assert_eq!(w.quantiles[0], quantile(0.5, &[0.1, 1.0], &[4, 4, 2]));
        let empty = GrpcWindow::between(Some(&newest), &newest, 5.0, &[0.1, 1.0]);
        assert_eq!(
            (
                empty.error_ratio(&[2]),
                empty.messages_per_call(),
                empty.quantiles[1]
            ),
            (None, (None, None), None)
        );
        let from_zero = GrpcWindow::between(None, &base, 0.0, &[0.1, 1.0]);
        assert_eq!((from_zero.calls(), from_zero.rate()), (2, None));
    }

    #[test]
    fn outbound_windows_subtract_the_base_and_count_what_failed() {
        let base = OutboundCounts {
            endings: [((200, None), 3), ((0, Some("connect")), 1)].into(),
            failed: 1,
            buckets: vec![3, 1, 0],
            responses: 3,
            response_bytes: 30,
            ..OutboundCounts::default()
        };
        let mut newest = base.clone();
        newest.endings.insert((200, None), 9); // 6 more
        newest.endings.insert((404, None), 1); // a caller's mistake, not a failure
        newest.endings.insert((503, None), 2);
        newest.endings.insert((200, Some("body_error")), 1);
        newest.failed = 4; // 3 more: the 503s and the broken body
        newest.buckets = vec![8, 4, 2];
        newest.responses = 13;
        newest.response_bytes = 130;
        let w = OutboundWindow::between(Some(&base), &newest, 20.0, &[0.1, 1.0]);
        assert_eq!(w.calls(), 10);
        assert_eq!(
            w.endings.iter().map(|(k, n)| (*k, *n)).collect::<Vec<_>>(),
            [
                ((200, None), 6),
                ((200, Some("body_error")), 1),
                ((404, None), 1),
                ((503, None), 2)
            ]
        );
        assert_eq!(w.rate(), Some(0.5));
        assert_eq!(w.error_ratio(), Some(0.3));
        assert_eq!(w.bytes_received_per_call(), Some(10.0));
        assert_eq!(w.quantiles[2], quantile(0.99, &[0.1, 1.0], &[5, 3, 2]));
        let empty = OutboundWindow::between(Some(&newest), &newest, 5.0, &[0.1, 1.0]);
        assert_eq!(
            (
                empty.calls(),
                empty.error_ratio(),
                empty.bytes_received_per_call(),
                empty.quantiles[0]
            ),
            (0, None, None, None)
        );
        let connect_only = OutboundCounts {
            endings: [((0, Some("connect")), 2)].into(),
            failed: 2,
            buckets: vec![2, 0, 0],
            ..OutboundCounts::default()
        };
        let from_zero = OutboundWindow::between(None, &connect_only, 0.0, &[0.1, 1.0]);
        assert_eq!(
            (
                from_zero.calls(),
                from_zero.rate(),
                from_zero.error_ratio(),
                from_zero.bytes_received_per_call()
            ),
            (2, None, Some(1.0), None)
        );
    }

    #[test]
    fn windows_subtract_the_base() {
        let base = Counts {
            results: [1, 1, 0, 0],
            buckets: vec![2, 0, 0, 0],
            in_flight: None,
        };
        let newest = Counts {
            results: [4, 2, 0, 1],
            buckets: vec![2, 5, 0, 0],
            in_flight: None,
        };
        let w = Window::between(Some(&base), &newest, 60.0, &[0.05, 0.5, 5.0]);
        assert_eq!(w.results, [3, 1, 0, 1]);
        assert_eq!(w.calls(), 5);
        assert_eq!(w.rate(), Some(5.0 / 60.0));
        assert_eq!(w.ratio(Some(1)), Some(0.2));
        assert_eq!(w.ratio(None), Some(0.4));
        assert_eq!(
            w.quantiles[0],
            Some(0.05 + (0.5 - 0.05) * ((0.5 * 5.0 - 0.0) / 5.0))
        );
        let empty = Window::between(Some(&newest), &newest, 0.0, &[0.05, 0.5, 5.0]);
        assert_eq!(
            (empty.rate(), empty.ratio(None), empty.quantiles[2]),
            (None, None, None)
        );
    }
}
