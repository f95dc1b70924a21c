use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = exponential(0.1, 2.0, 0))]
fn fetch() {}

fn main() {}
