use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [1.0, 0.1])]
fn fetch() {}

fn main() {}
