//! Functions returning `impl Trait` that is not a future.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::fmt::Display;

use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[instrument_metrics]
fn show(n: u32) -> impl Display {
    if n == 0 {
        return String::from("zero");
    }
    format!("n={n}")
}

#[instrument_metrics]
fn borrowed<'a>(v: &'a [u32]) -> impl Iterator<Item = &'a u32> + 'a {
    v.iter().rev()
}

#[instrument_metrics]
fn adder(k: u32) -> impl Fn(u32) -> u32 {
    move |x| x + k
}

#[instrument_metrics]
fn nested() -> Result<impl Display, String> {
    Ok(1)
}

#[instrument_metrics]
fn boxed_iter() -> Box<dyn Iterator<Item = u8>> {
    Box::new([1_u8, 2].into_iter())
}

fn main() {
    assert_eq!(evens(6).collect::<Vec<_>>(), vec![0, 2, 4]);
    assert_eq!(show(0).to_string(), "zero");
    assert_eq!(show(2).to_string(), "n=2");
    assert_eq!(borrowed(&[1, 2]).copied().collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(adder(2)(3), 5);
    assert_eq!(nested().unwrap().to_string(), "1");
    assert_eq!(boxed_iter().count(), 2);
}
