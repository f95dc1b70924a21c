use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [0.1, NaN])]
fn fetch() {}

fn main() {}
