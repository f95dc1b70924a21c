//! Async outcomes beyond the table: cancellation (dropped after a poll, timed out, lost a
//! `select!`), a future dropped while something else unwinds (must be `cancelled`, not
//! `panic`), and panics travelling through nested instrumented futures.

use std::future::Future;
use std::panic::catch_unwind;
use std::pin::Pin;
use std::time::Duration;

use instrument_metrics::instrument_metrics;

use crate::support::{assert_counts, block_on, fail, message, poll_once, yield_once};

const MODULE: &str = module_path!();

// ---- one never-ending future of each async kind ----

#[instrument_metrics]
async fn forever_async_fn(n: u32) -> Result<u32, String> {
    yield_once().await;
    if n == 0 {
        return Err("zero".to_owned());
    }
    std::future::pending::<()>().await;
    Ok(n)
}

#[allow(clippy::manual_async_fn)] // the shape under test
#[instrument_metrics]
fn forever_impl_future(n: u32) -> impl Future<Output = Result<u32, String>> {
    async move {
        yield_once().await;
        if n == 0 {
            return Err("zero".to_owned());
        }
        std::future::pending::<()>().await;
        Ok(n)
    }
}

#[instrument_metrics]
fn forever_boxed(n: u32) -> Pin<Box<dyn Future<Output = Result<u32, String>> + Send>> {
    Box::pin(async move {
        yield_once().await;
        if n == 0 {
            return Err("zero".to_owned());
        }
        std::future::pending::<()>().await;
        Ok(n)
    })
}

#[async_trait::async_trait]
pub trait Forever {
    async fn forever_async_trait(&self, n: u32) -> Result<u32, String>;
}

pub struct Svc;

#[async_trait::async_trait]
impl Forever for Svc {
    #[instrument_metrics]
    async fn forever_async_trait(&self, n: u32) -> Result<u32, String> {
        yield_once().await;
        if n == 0 {
            return Err("zero".to_owned());
        }
        std::future::pending::<()>().await;
        Ok(n)
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<u32, String>> + Send>>;

type MakeFuture = fn(u32) -> BoxFuture;

/// The four kinds, each with the label it is counted under.
fn forever_kinds() -> [(&'static str, MakeFuture); 4] {
    [
        ("forever_async_fn", |n| Box::pin(forever_async_fn(n))),
        ("forever_impl_future", |n| Box::pin(forever_impl_future(n))),
        ("forever_boxed", forever_boxed),
        ("forever_async_trait", |n| Svc.forever_async_trait(n)),
    ]
}

#[test]
fn dropped_after_first_poll_is_cancelled() {
    for (label, make) in forever_kinds() {
        assert_counts(MODULE, label, [0, 0, 0, 0]);
        // Built, never polled: not a call.
        drop(make(1));
        assert_counts(MODULE, label, [0, 0, 0, 0]);
        // Polled once (suspended at the first await), then dropped.
        let mut fut = make(1);
        if poll_once(fut.as_mut()).is_ready() {
            fail(format!("{label} ended at its first poll"));
        }
        drop(fut);
        assert_counts(MODULE, label, [0, 0, 0, 1]);
        // Polled to the end: an error.
        assert_eq!(block_on(make(0)), Err("zero".to_owned()), "{label}");
        assert_counts(MODULE, label, [0, 1, 0, 1]);
    }
}

#[instrument_metrics]
async fn slow_for_timeout() -> u32 {
    tokio::time::sleep(Duration::from_secs(60)).await;
    1
}

#[instrument_metrics]
async fn loses_select() -> u32 {
    std::future::pending::<()>().await;
    2
}

#[test]
fn timeout_and_select_cancel() {
    let timed_out = block_on(async {
        tokio::time::timeout(Duration::from_millis(5), slow_for_timeout()).await
    });
    assert!(timed_out.is_err());
    assert_counts(MODULE, "slow_for_timeout", [0, 0, 0, 1]);
    let won = block_on(async {
        tokio::select! {
            biased;
            v = loses_select() => v,
            () = yield_once() => 3,
        }
    });
    assert_eq!(won, 3);
    assert_counts(MODULE, "loses_select", [0, 0, 0, 1]);
}

// ---- dropped while something else unwinds: cancelled, not panic ----

#[instrument_metrics]
async fn bystander() -> u32 {
    std::future::pending::<()>().await;
    0
}

#[test]
fn dropped_by_a_panic_elsewhere_is_cancelled() {
    let caught = catch_unwind(|| {
        let mut fut = Box::pin(bystander());
        assert!(poll_once(fut.as_mut()).is_pending());
        // `fut` is a local of this closure: the unwinding below drops it.
        panic!("elsewhere");
    });
    assert_eq!(message(&*caught.unwrap_err()), "elsewhere");
    assert_counts(MODULE, "bystander", [0, 0, 0, 1]);
}

#[instrument_metrics]
async fn join_sibling() -> u32 {
    std::future::pending::<()>().await;
    0
}

#[instrument_metrics]
async fn join_panicker() -> u32 {
    yield_once().await;
    panic!("sibling boom")
}

#[test]
fn sibling_in_join_panics_in_block_on() {
    // `block_on` keeps the joined future on its stack: the panic drops `join_sibling`
    // while unwinding.
    let caught = catch_unwind(|| block_on(async { tokio::join!(join_sibling(), join_panicker()) }));
    assert_eq!(message(&*caught.unwrap_err()), "sibling boom");
    assert_counts(MODULE, "join_panicker", [0, 0, 1, 0]);
    assert_counts(MODULE, "join_sibling", [0, 0, 0, 1]);
}

#[instrument_metrics]
async fn task_sibling() -> u32 {
    std::future::pending::<()>().await;
    0
}

#[instrument_metrics]
async fn task_panicker() -> u32 {
    yield_once().await;
    panic!("task boom")
}

#[test]
fn sibling_in_join_panics_in_a_task() {
    // tokio drops a task's future from a guard while the panic of its poll unwinds.
    let joined = block_on(async {
        tokio::spawn(async { tokio::join!(task_sibling(), task_panicker()) }).await
    });
    assert!(joined.unwrap_err().is_panic());
    assert_counts(MODULE, "task_panicker", [0, 0, 1, 0]);
    assert_counts(MODULE, "task_sibling", [0, 0, 0, 1]);
}

#[instrument_metrics]
async fn held_by_a_sync_fn() -> u32 {
    std::future::pending::<()>().await;
    0
}

/// An instrumented sync fn polls a future once, then panics: it is `panic`, the future it
/// held is `cancelled`.
#[instrument_metrics]
fn holds_then_panics(n: u32) -> u32 {
    let mut fut = Box::pin(held_by_a_sync_fn());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert!(n != 0, "holder boom");
    n
}

#[test]
fn instrumented_holder_panics() {
    let caught = catch_unwind(|| holds_then_panics(0));
    assert_eq!(message(&*caught.unwrap_err()), "holder boom");
    assert_eq!(holds_then_panics(1), 1);
    assert_counts(MODULE, "holds_then_panics", [1, 0, 1, 0]);
    assert_counts(MODULE, "held_by_a_sync_fn", [0, 0, 0, 2]);
}

// ---- panics through nested instrumented futures ----

#[instrument_metrics]
async fn inner_panics(n: u32) -> u32 {
    yield_once().await;
    assert!(n != 0, "inner boom");
    n
}

#[instrument_metrics]
async fn outer_awaits(n: u32) -> u32 {
    yield_once().await;
    inner_panics(n).await + 1
}

#[test]
fn panic_through_nested_futures() {
    let caught = catch_unwind(|| block_on(outer_awaits(0)));
    assert_eq!(message(&*caught.unwrap_err()), "inner boom");
    assert_eq!(block_on(outer_awaits(1)), 2);
    assert_counts(MODULE, "inner_panics", [1, 0, 1, 0]);
    assert_counts(MODULE, "outer_awaits", [1, 0, 1, 0]);
}

#[instrument_metrics]
async fn inner_pending() -> u32 {
    std::future::pending::<()>().await;
    0
}

#[instrument_metrics]
async fn outer_pending() -> u32 {
    inner_pending().await
}

#[test]
fn cancellation_through_nested_futures() {
    let mut fut = Box::pin(outer_pending());
    assert!(poll_once(fut.as_mut()).is_pending());
    drop(fut);
    assert_counts(MODULE, "outer_pending", [0, 0, 0, 1]);
    assert_counts(MODULE, "inner_pending", [0, 0, 0, 1]);
}

#[instrument_metrics]
async fn spawned_panics() -> Result<u32, String> {
    yield_once().await;
    panic!("spawned boom")
}

#[test]
fn panic_in_a_spawned_task() {
    let joined = block_on(async { tokio::spawn(spawned_panics()).await });
    let err = joined.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(message(&*err.into_panic()), "spawned boom");
    assert_counts(MODULE, "spawned_panics", [0, 0, 1, 0]);
}
