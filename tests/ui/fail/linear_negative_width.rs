use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = linear(0.1, -0.1, 5))]
fn fetch() {}

fn main() {}
