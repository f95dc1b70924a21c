//! `#[instrument_metrics(polls)]`: busy time (time inside `poll`) and slow polls per call,
//! read back by parsing the exposition. Each test has functions of its own, so no test
//! depends on what another does to the global registry.
//!
//! Time bounds are generous (the machine running the suite may be loaded): a poll that blocks
//! for 30 ms measures at least 30 ms, whatever the load, and an await of a 50 ms timer is
//! never 5 ms of polling on a machine that runs this suite at all.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::{find_value, histogram, parse};

/// `_count`, `_sum` (seconds) of `function_calls_busy_seconds` and `function_slow_polls_total`
/// of `function`, or `None` if the function has no such series.
fn polls_of(function: &str) -> Option<(u64, f64, u64)> {
    let samples = parse(&instrument_metrics::render());
    let labels = [("function", function)];
    let count = find_value(&samples, "function_calls_busy_seconds_count", &labels)?;
    let sum = find_value(&samples, "function_calls_busy_seconds_sum", &labels)?;
    let slow = find_value(&samples, "function_slow_polls_total", &labels)?;
    let inf = find_value(
        &samples,
        "function_calls_busy_seconds_bucket",
        &[("function", function), ("le", "+Inf")],
    )?;
    assert!(
        (inf - count).abs() < f64::EPSILON,
        "+Inf {inf} != count {count}"
    );
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((count as u64, sum, slow as u64))
}

fn polls(function: &str) -> (u64, f64, u64) {
    polls_of(function).unwrap_or_else(|| panic!("no busy-time series for {function}"))
}

/// Pending once (and wakes itself), then ready: one more poll.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

// ---- blocking the executor ----

#[instrument_metrics(polls)]
async fn blocks_executor_30ms() -> u32 {
    std::thread::sleep(Duration::from_millis(30));
    1
}

#[tokio::test]
async fn a_poll_that_blocks_30ms_is_one_slow_poll_and_30ms_busy() {
    assert_eq!(polls("blocks_executor_30ms"), (0, 0.0, 0));
    assert_eq!(blocks_executor_30ms().await, 1);
    let (count, busy, slow) = polls("blocks_executor_30ms");
    assert_eq!((count, slow), (1, 1));
    assert!(busy >= 0.030, "busy {busy}");
    assert!(busy < 30.0, "busy {busy}");
}

#[instrument_metrics(polls)]
async fn awaits_timer_50ms() -> u32 {
    tokio::time::sleep(Duration::from_millis(50)).await;
    2
}

#[tokio::test]
async fn awaiting_a_timer_is_not_busy() {
    assert_eq!(awaits_timer_50ms().await, 2);
    assert_eq!(awaits_timer_50ms().await, 2);
    let (count, busy, slow) = polls("awaits_timer_50ms");
    assert_eq!((count, slow), (2, 0));
    let (calls, _, duration) = histogram("awaits_timer_50ms");
    assert_eq!(calls, 2);
    assert!(duration >= 0.100, "two 50 ms sleeps: {duration}");
    // Generous: polling a timer twice per call takes microseconds.
    assert!(busy < 0.005, "busy {busy} of duration {duration}");
}

// ---- the threshold ----

#[instrument_metrics(slow_poll = "1ms")]
async fn three_slow_polls() -> u32 {
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(3));
        yield_once().await;
    }
    // The fourth poll returns at once.
    3
}

#[instrument_metrics(polls, slow_poll = "5s")]
async fn under_a_long_threshold() {
    std::thread::sleep(Duration::from_millis(3));
}

#[tokio::test]
async fn every_poll_over_the_threshold_counts() {
    assert_eq!(three_slow_polls().await, 3);
    let (count, busy, slow) = polls("three_slow_polls");
    assert_eq!((count, slow), (1, 3));
    assert!(busy >= 0.009, "busy {busy}");
    under_a_long_threshold().await;
    under_a_long_threshold().await;
    let (count, busy, slow) = polls("under_a_long_threshold");
    assert_eq!((count, slow), (2, 0));
    assert!(busy >= 0.006, "busy {busy}");
}

// ---- cancelled ----

#[instrument_metrics(slow_poll = "1ms")]
async fn cancelled_after_two_polls() -> u32 {
    std::thread::sleep(Duration::from_millis(3));
    yield_once().await;
    std::thread::sleep(Duration::from_millis(3));
    std::future::pending::<()>().await;
    4
}

#[test]
fn a_cancelled_call_records_its_polls() {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut fut = Box::pin(cancelled_after_two_polls());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    // Nothing is written before the call ends.
    assert_eq!(polls("cancelled_after_two_polls"), (0, 0.0, 0));
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    drop(fut);
    let (count, busy, slow) = polls("cancelled_after_two_polls");
    assert_eq!((count, slow), (1, 2));
    assert!(busy >= 0.006, "busy {busy}");
    assert_eq!(
        instrument_metrics_tests::calls("cancelled_after_two_polls"),
        [0, 0, 0, 1]
    );
}

#[instrument_metrics(slow_poll = "1ms")]
async fn panics_in_a_slow_poll() {
    std::thread::sleep(Duration::from_millis(3));
    panic!("on purpose");
}

#[test]
fn a_poll_that_panics_counts_its_time() {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut fut = Box::pin(panics_in_a_slow_poll());
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(&mut cx);
    }));
    assert!(unwound.is_err());
    drop(fut);
    let (count, busy, slow) = polls("panics_in_a_slow_poll");
    assert_eq!((count, slow), (1, 1));
    assert!(busy >= 0.003, "busy {busy}");
    assert_eq!(
        instrument_metrics_tests::calls("panics_in_a_slow_poll"),
        [0, 0, 1, 0]
    );
}

// ---- the other shapes ----

struct Service;

#[instrument_metrics(polls, slow_poll = "2ms")]
impl Service {
    async fn handle(&self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        yield_once().await;
        ms
    }

    // A sync method in the block: the option is for the async ones, nothing to measure here.
    fn name(&self) -> &'static str {
        "service"
    }
}

#[tokio::test]
async fn impl_block_async_methods() {
    assert_eq!(polls("Service::handle"), (0, 0.0, 0));
    assert!(polls_of("Service::name").is_none());
    assert_eq!(Service.handle(5).await, 5);
    assert_eq!(Service.handle(0).await, 0);
    assert_eq!(Service.name(), "service");
    let (count, busy, slow) = polls("Service::handle");
    assert_eq!((count, slow), (2, 1));
    assert!(busy >= 0.005, "busy {busy}");
}

#[allow(clippy::manual_async_fn)] // the shape under test
#[instrument_metrics(slow_poll = "2ms")]
fn returns_impl_future(ms: u64) -> impl Future<Output = u64> {
    async move {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }
}

#[instrument_metrics(polls)]
fn returns_boxed(ms: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    })
}

#[tokio::test]
async fn fns_returning_a_future() {
    let built = returns_impl_future(5);
    // Building the future is not a call.
    assert_eq!(polls("returns_impl_future"), (0, 0.0, 0));
    assert_eq!(built.await, 5);
    let (count, busy, slow) = polls("returns_impl_future");
    assert_eq!((count, slow), (1, 1));
    assert!(busy >= 0.005, "busy {busy}");
    assert_eq!(returns_boxed(20).await, 20);
    let (count, busy, slow) = polls("returns_boxed");
    assert_eq!((count, slow), (1, 0));
    assert!(busy < 0.015, "busy {busy}");
}

// ---- which functions have the series ----

#[instrument_metrics]
async fn without_polls() {}

#[instrument_metrics(polls, labels(tier = "gold"), buckets = [0.001, 0.01])]
async fn with_labels_and_buckets() {
    std::thread::sleep(Duration::from_millis(2));
}

#[tokio::test]
async fn only_sites_with_the_option_have_series_at_zero_from_the_start() {
    without_polls().await;
    assert!(polls_of("without_polls").is_none());
    let samples = parse(&instrument_metrics::render());
    // Present before any call, every bucket at 0, with the site's own buckets and labels.
    let labels = [("function", "with_labels_and_buckets"), ("tier", "gold")];
    for le in ["0.001", "0.01", "+Inf"] {
        let bucket = [
            ("function", "with_labels_and_buckets"),
            ("tier", "gold"),
            ("le", le),
        ];
        assert_eq!(
            find_value(&samples, "function_calls_busy_seconds_bucket", &bucket),
            Some(0.0),
            "le {le}"
        );
    }
    assert_eq!(
        find_value(&samples, "function_slow_polls_total", &labels),
        Some(0.0)
    );
    for _ in 0..3 {
        with_labels_and_buckets().await;
    }
    let samples = parse(&instrument_metrics::render());
    let bucket = |le| {
        find_value(
            &samples,
            "function_calls_busy_seconds_bucket",
            &[("function", "with_labels_and_buckets"), ("le", le)],
        )
    };
    // Each call polled once for at least 2 ms: above 1 ms, so not in the first bucket.
    assert_eq!(bucket("0.001"), Some(0.0));
    assert_eq!(bucket("+Inf"), Some(3.0));
    assert_eq!(
        find_value(&samples, "function_calls_busy_seconds_count", &labels),
        Some(3.0)
    );
}

// ---- what other parsers read ----

#[instrument_metrics(polls)]
async fn read_by_others() {
    std::thread::sleep(Duration::from_millis(1));
}

#[tokio::test]
async fn promtool_openmetrics_and_protobuf_read_the_families() {
    read_by_others().await;
    instrument_metrics_tests::assert_promtool_finds_nothing(&instrument_metrics::render());
    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(om.contains("# TYPE function_calls_busy_seconds histogram\n"));
    assert!(om.contains("# UNIT function_calls_busy_seconds seconds\n"));
    assert!(om.contains("# TYPE function_slow_polls counter\n"));
    let samples = instrument_metrics_tests::parse_openmetrics(&om);
    let one = |name: &str| {
        let found: Vec<_> = samples
            .iter()
            .filter(|s| {
                s.name == name
                    && s.labels.get("function").map(String::as_str) == Some("read_by_others")
            })
            .collect();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        found[0].value
    };
    assert!((one("function_calls_busy_seconds_count") - 1.0).abs() < f64::EPSILON);
    assert!(one("function_slow_polls_total").abs() < f64::EPSILON);
    let families = instrument_metrics_tests::decode_protobuf(
        &instrument_metrics::exposition::render_protobuf(),
    );
    let family = |name: &str| {
        families
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("no family {name}"))
    };
    let busy = family("function_calls_busy_seconds")
        .metric
        .iter()
        .find(|m| {
            m.label
                .iter()
                .any(|l| l.name() == "function" && l.value() == "read_by_others")
        })
        .and_then(|m| m.histogram.clone())
        .expect("a busy histogram");
    assert_eq!(busy.sample_count(), 1);
    assert!(busy.sample_sum() >= 0.001, "{}", busy.sample_sum());
    let slow = family("function_slow_polls_total")
        .metric
        .iter()
        .find(|m| {
            m.label
                .iter()
                .any(|l| l.name() == "function" && l.value() == "read_by_others")
        })
        .and_then(|m| m.counter.clone())
        .expect("a slow-poll counter");
    assert!(slow.value().abs() < f64::EPSILON);
}
