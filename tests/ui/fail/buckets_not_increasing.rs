use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [0.1, 0.5, 0.5, 1.0])]
fn fetch() {}

fn main() {}
