use instrument_metrics::instrument_metrics;

#[instrument_metrics(in_flight, polls)]
fn compute(x: u64) -> u64 {
    x * 2
}

fn main() {}
