use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = exponential(1e300, 1e10, 5))]
fn fetch() {}

fn main() {}
