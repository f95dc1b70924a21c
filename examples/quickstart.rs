//! The smallest tour: instrument a few functions, call them, print what Prometheus would scrape.
//!
//! `cargo run --example quickstart`

use instrument_metrics::instrument_metrics;

#[derive(Debug)]
struct NotFound;

#[instrument_metrics]
fn lookup(id: u32) -> Result<&'static str, NotFound> {
    match id {
        1 => Ok("ada"),
        2 => Ok("grace"),
        _ => Err(NotFound),
    }
}

struct Greeter;

#[instrument_metrics]
impl Greeter {
    fn greet(&self, id: u32) -> String {
        match lookup(id) {
            Ok(name) => format!("hello, {name}"),
            Err(NotFound) => "hello, stranger".to_owned(),
        }
    }

    #[instrument_metrics(skip)]
    fn quiet(&self) {}
}

/// Never called, yet exported from the start with every result at 0.
#[allow(dead_code)]
#[instrument_metrics(buckets = exponential(0.000_01, 10, 6), in_flight)]
fn never_called() {}

fn main() {
    let g = Greeter;
    for id in 0..4 {
        println!("{}", g.greet(id));
    }
    g.quiet();
    print!("{}", instrument_metrics::render());
}
