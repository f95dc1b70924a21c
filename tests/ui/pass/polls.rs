//! `polls` and `slow_poll` on every shape that is a future: `async fn`s, methods, a whole impl
//! block (its sync methods are left without it), fns returning `impl Future` or a boxed future,
//! `#[async_trait]` methods, labelled and with custom buckets; clean under strict lints, and
//! the futures stay `Send`.
#![deny(warnings)]
#![deny(clippy::pedantic)]
#![allow(clippy::unused_async)] // trivial bodies: the shapes are under test

use std::future::Future;
use std::pin::Pin;

use instrument_metrics::{instrument_metrics, LabelValue};

#[instrument_metrics(polls)]
async fn plain() -> u8 {
    1
}

#[instrument_metrics(slow_poll = "250us")]
async fn threshold_only() {}

#[instrument_metrics(polls, slow_poll = "1.5ms", buckets = [0.001, 0.01], in_flight)]
async fn custom_buckets(x: u8) -> Result<u8, String> {
    Ok(x)
}

#[instrument_metrics(slow_poll = "2s", labels(tier = "gold"), histogram = both)]
async fn constant_labels() {}

#[derive(LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Paid,
}

#[derive(LabelValue, Debug)]
enum StoreError {
    NotFound,
}

#[instrument_metrics(polls, labels(tier = tier))]
async fn dynamic_labels(tier: Tier) -> u8 {
    match tier {
        Tier::Free => 0,
        Tier::Paid => 1,
    }
}

#[instrument_metrics(polls, error_kind)]
async fn with_error_kind(fail: bool) -> Result<u8, StoreError> {
    if fail {
        return Err(StoreError::NotFound);
    }
    Ok(1)
}

#[allow(clippy::manual_async_fn)] // the shape under test
#[instrument_metrics(polls)]
fn returns_impl_future(x: u8) -> impl Future<Output = u8> {
    async move { x }
}

#[instrument_metrics(slow_poll = "100ms")]
fn returns_boxed(x: u8) -> Pin<Box<dyn Future<Output = u8> + Send>> {
    Box::pin(async move { x })
}

#[instrument_metrics(polls, labels(tier = tier))]
fn returns_labelled(tier: Tier) -> impl Future<Output = u8> {
    async move { tier as u8 }
}

struct Service(u8);

#[instrument_metrics(polls, slow_poll = "1ms")]
impl Service {
    async fn handle(&self) -> u8 {
        self.0
    }

    // Sync: left without `polls`.
    fn name(&self) -> u8 {
        self.0
    }

    #[instrument_metrics(slow_poll = "3ms")]
    async fn own_threshold(&self) -> u8 {
        self.0
    }
}

#[async_trait::async_trait]
trait Handler {
    async fn run(&self) -> u8;
}

#[async_trait::async_trait]
#[instrument_metrics(polls)]
impl Handler for Service {
    async fn run(&self) -> u8 {
        self.0
    }
}

fn assert_send<T: Send>(_: &T) {}

fn main() {
    let s = Service(1);
    assert_send(&plain());
    assert_send(&threshold_only());
    assert_send(&custom_buckets(1));
    assert_send(&constant_labels());
    assert_send(&dynamic_labels(Tier::Paid));
    assert_send(&with_error_kind(false));
    assert_send(&returns_impl_future(1));
    assert_send(&returns_boxed(1));
    assert_send(&returns_labelled(Tier::Free));
    assert_send(&s.handle());
    assert_send(&s.own_threshold());
    assert_send(&s.run());
    let _ = s.name();
}
