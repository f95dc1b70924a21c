//! `polls` / `slow_poll` on each future shape, with exact counts: the poll site static and
//! the wrapper the attribute emits compile and count alike in every edition (and a sync
//! method of an impl block with `polls` is left as it was).

use std::future::Future;
use std::pin::Pin;

use instrument_metrics::instrument_metrics;

use crate::support::{block_on, fail, poll_once, yield_once};

/// `_count` of `function_calls_busy_seconds` and `function_slow_polls_total` of `function` in
/// this module; `None` if it has neither.
fn polls(function: &str) -> Option<(u64, u64)> {
    let module = module_path!();
    let samples = instrument_metrics_tests::parse(&instrument_metrics::render());
    let labels = [("function", function), ("module", module)];
    let count = instrument_metrics_tests::find_value(
        &samples,
        "function_calls_busy_seconds_count",
        &labels,
    );
    let slow = instrument_metrics_tests::find_value(&samples, "function_slow_polls_total", &labels);
    match (count, slow) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        (Some(c), Some(s)) => Some((c as u64, s as u64)),
        (None, None) => None,
        other => fail(format!(
            "{function}: only one of the two families: {other:?}"
        )),
    }
}

#[instrument_metrics(slow_poll = "1ns")]
async fn polls_async_fn(n: u32) -> Result<u32, String> {
    yield_once().await;
    if n == 0 {
        return Err("zero".to_owned());
    }
    Ok(n)
}

#[allow(clippy::manual_async_fn)] // the shape under test
#[instrument_metrics(slow_poll = "1ns")]
fn polls_impl_future(n: u32) -> impl Future<Output = u32> {
    async move {
        yield_once().await;
        n
    }
}

#[instrument_metrics(polls)]
fn polls_boxed(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        yield_once().await;
        n
    })
}

pub struct PollsService;

#[instrument_metrics(slow_poll = "1ns")]
impl PollsService {
    pub async fn handle(&self, n: u32) -> u32 {
        yield_once().await;
        n
    }

    pub fn name(&self) -> &'static str {
        "polls"
    }
}

#[test]
fn polls_on_every_future_shape() {
    for f in [
        "polls_async_fn",
        "polls_impl_future",
        "polls_boxed",
        "PollsService::handle",
    ] {
        assert_eq!(polls(f), Some((0, 0)), "{}", f);
    }
    assert_eq!(polls("PollsService::name"), None);
    assert_eq!(block_on(polls_async_fn(1)), Ok(1));
    assert_eq!(block_on(polls_async_fn(0)), Err("zero".to_owned()));
    assert_eq!(block_on(polls_impl_future(2)), 2);
    assert_eq!(block_on(polls_boxed(3)), 3);
    assert_eq!(block_on(PollsService.handle(4)), 4);
    assert_eq!(PollsService.name(), "polls");
    // Two polls per call, each longer than 1 ns.
    assert_eq!(polls("polls_async_fn"), Some((2, 4)));
    assert_eq!(polls("polls_impl_future"), Some((1, 2)));
    // The default threshold (10 ms) is far above two quick polls.
    assert_eq!(polls("polls_boxed"), Some((1, 0)));
    assert_eq!(polls("PollsService::handle"), Some((1, 2)));
    // Cancelled after one poll: its one poll counts.
    let mut cancelled = Box::pin(polls_async_fn(5));
    assert!(poll_once(cancelled.as_mut()).is_pending());
    drop(cancelled);
    assert_eq!(polls("polls_async_fn"), Some((3, 5)));
}
