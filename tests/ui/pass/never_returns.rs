#![deny(warnings)]
#![deny(clippy::pedantic)]

use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn stop(code: i32) -> ! {
    std::process::exit(code)
}

fn main() {
    if std::env::args().count() > 100 {
        stop(0);
    }
}
