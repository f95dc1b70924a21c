use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = exponential(0.1, 1.0, 5))]
fn fetch() {}

fn main() {}
