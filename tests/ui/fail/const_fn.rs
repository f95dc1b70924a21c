use instrument_metrics::instrument_metrics;

#[instrument_metrics]
const fn double(x: u32) -> u32 {
    x * 2
}

fn main() {}
