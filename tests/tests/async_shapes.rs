//! Async functions and futures: results, cancellation, and the async-trait shapes.

use std::future::Future;
use std::time::Duration;

use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::{calls, histogram, value};

#[instrument_metrics]
async fn fetch(id: u32) -> Result<u32, String> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    if id == 0 {
        return Err("no such id".into());
    }
    let doubled: u32 = id.checked_mul(2).ok_or("overflow")?;
    Ok(doubled)
}

#[tokio::test]
async fn async_fn_results_and_timing() {
    assert_eq!(fetch(2).await, Ok(4));
    assert_eq!(fetch(0).await, Err("no such id".into()));
    assert_eq!(fetch(u32::MAX).await, Err("overflow".into()));
    assert_eq!(calls("fetch"), [1, 2, 0, 0]);
    let (count, inf, sum) = histogram("fetch");
    assert_eq!((count, inf), (3, 3));
    assert!(sum >= 0.015, "three 5 ms sleeps: {sum}");
}

#[instrument_metrics(in_flight)]
async fn slow(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[tokio::test]
async fn dropped_future_is_cancelled() {
    // Created but never polled: not a call at all.
    drop(slow(1));
    assert_eq!(calls("slow"), [0, 0, 0, 0]);

    // Started, then dropped mid-way.
    let mut fut = Box::pin(slow(10_000));
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    let text = instrument_metrics::render();
    assert!(
        (value(&text, "function_calls_in_flight", &[("function", "slow")]) - 1.0).abs()
            < f64::EPSILON
    );
    drop(fut);

    // Timed out by tokio.
    let timed_out = tokio::time::timeout(Duration::from_millis(10), slow(10_000)).await;
    assert!(timed_out.is_err());
    assert_eq!(slow(1).await, 1);

    assert_eq!(calls("slow"), [1, 0, 0, 2]);
    let (count, inf, _) = histogram("slow");
    assert_eq!((count, inf), (3, 3), "cancelled calls are timed too");
    let text = instrument_metrics::render();
    assert!(value(&text, "function_calls_in_flight", &[("function", "slow")]).abs() < f64::EPSILON);
}

#[instrument_metrics]
async fn async_panics() -> u32 {
    tokio::task::yield_now().await;
    panic!("async boom")
}

#[tokio::test]
async fn async_panic_is_counted() {
    let joined = tokio::spawn(async_panics()).await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(calls("async_panics"), [0, 0, 1, 0]);
}

#[instrument_metrics]
fn future_builder(n: u32) -> impl Future<Output = Result<u32, String>> {
    let label = format!("n={n}"); // construction, not measured
    async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if n == 0 {
            return Err(label);
        }
        Ok(n)
    }
}

#[tokio::test]
async fn impl_future_measures_the_future_not_its_construction() {
    let fut = future_builder(0);
    tokio::time::sleep(Duration::from_millis(30)).await; // not counted: before first poll
    assert_eq!(fut.await, Err("n=0".into()));
    assert_eq!(future_builder(3).await, Ok(3));
    assert_eq!(calls("future_builder"), [1, 1, 0, 0]);
    let (count, _, sum) = histogram("future_builder");
    assert_eq!(count, 2);
    assert!(
        (0.040..0.055).contains(&sum),
        "two 20 ms bodies, construction excluded: {sum}"
    );
}

#[instrument_metrics]
fn boxed_future(fail: bool) -> std::pin::Pin<Box<dyn Future<Output = Result<(), ()>> + Send>> {
    Box::pin(async move {
        if fail {
            Err(())
        } else {
            Ok(())
        }
    })
}

#[tokio::test]
async fn box_pin_future() {
    boxed_future(true).await.unwrap_err();
    boxed_future(false).await.unwrap();
    assert_eq!(calls("boxed_future"), [1, 1, 0, 0]);
}

trait Store {
    async fn load(&self, key: &str) -> Result<String, String>;
}

struct Memory;

impl Store for Memory {
    #[instrument_metrics]
    async fn load(&self, key: &str) -> Result<String, String> {
        if key.is_empty() {
            Err("empty key".into())
        } else {
            Ok(key.to_uppercase())
        }
    }
}

#[tokio::test]
async fn async_fn_in_trait_impl() {
    assert_eq!(Memory.load("a").await, Ok("A".into()));
    Memory.load("").await.unwrap_err();
    assert_eq!(calls("load"), [1, 1, 0, 0]);
}

#[async_trait::async_trait]
trait Repo {
    async fn get(&self, id: u32) -> Result<u32, String>;
    async fn put(&self, id: u32) -> Result<(), String>;
}

struct Inner;

// async-trait outside, our attribute on the method: we see `Box::pin(async move {…})`.
#[async_trait::async_trait]
impl Repo for Inner {
    #[instrument_metrics(name = "inner_get")]
    async fn get(&self, id: u32) -> Result<u32, String> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if id == 0 {
            return Err("zero".into());
        }
        Ok(id)
    }

    async fn put(&self, _id: u32) -> Result<(), String> {
        Ok(())
    }
}

struct Outer;

// Our attribute on the block, before async-trait: we see plain `async fn`s.
#[instrument_metrics]
#[async_trait::async_trait]
impl Repo for Outer {
    async fn get(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    async fn put(&self, id: u32) -> Result<(), String> {
        if id == 0 {
            Err("zero".into())
        } else {
            Ok(())
        }
    }
}

struct After;

// async-trait first, then ours on the rewritten block.
#[async_trait::async_trait]
#[instrument_metrics]
impl Repo for After {
    async fn get(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    async fn put(&self, _id: u32) -> Result<(), String> {
        Err("read only".into())
    }
}

#[tokio::test]
async fn async_trait_in_every_order() {
    assert_eq!(Inner.get(1).await, Ok(1));
    Inner.get(0).await.unwrap_err();
    Inner.put(1).await.unwrap();
    assert_eq!(calls("inner_get"), [1, 1, 0, 0]);
    let (count, _, sum) = histogram("inner_get");
    assert_eq!(count, 2);
    assert!(sum >= 0.010, "the future is measured: {sum}");

    let repo: &dyn Repo = &Outer;
    repo.get(1).await.unwrap();
    repo.put(0).await.unwrap_err();
    repo.put(1).await.unwrap();
    assert_eq!(calls("Outer::get"), [1, 0, 0, 0]);
    assert_eq!(calls("Outer::put"), [1, 1, 0, 0]);

    After.get(3).await.unwrap();
    After.put(3).await.unwrap_err();
    assert_eq!(calls("After::get"), [1, 0, 0, 0]);
    assert_eq!(calls("After::put"), [0, 1, 0, 0]);
}
