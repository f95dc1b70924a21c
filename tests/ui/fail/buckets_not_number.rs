use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [0.1, "a"])]
fn fetch() {}

fn main() {}
