//! `objective = "…"` on every kind of site: a sync fn, an async fn, a fn returning a future,
//! a labelled fn, an impl block (each method), a method overriding its block's objective.
use std::future::Future;

use instrument_metrics::{instrument_metrics, LabelValue};

#[instrument_metrics(objective = "checkout")]
fn pay(cents: u64) -> Result<u64, String> {
    Ok(cents)
}

#[instrument_metrics(objective = "checkout", name = "charge", buckets = [0.1, 0.25], in_flight)]
async fn charge(cents: u64) -> Result<u64, String> {
    Ok(cents)
}

#[instrument_metrics(objective = "checkout")]
fn later() -> impl Future<Output = u8> {
    async { 1 }
}

#[derive(Debug, LabelValue)]
enum PayError {
    Declined,
}

#[instrument_metrics(objective = "checkout", error_kind, labels(big = |r| matches!(r, Ok(n) if *n > 100)))]
fn settle(cents: u64) -> Result<u64, PayError> {
    if cents == 0 { Err(PayError::Declined) } else { Ok(cents) }
}

struct Cart;

#[instrument_metrics(objective = "cart")]
impl Cart {
    fn add(&self) {}

    #[instrument_metrics(objective = "checkout-api_2")]
    fn check_out(&self) -> u8 {
        1
    }
}

fn main() {
    let _ = pay(1);
    let _ = charge(1);
    let _ = later();
    let _ = settle(1);
    Cart.add();
    let _ = Cart.check_out();
}
