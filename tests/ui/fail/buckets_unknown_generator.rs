use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = geometric(0.1, 2.0, 5))]
fn fetch() {}

fn main() {}
