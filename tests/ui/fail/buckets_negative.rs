use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [-0.5, 1.0])]
fn fetch() {}

fn main() {}
