use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [0.1, f64::INFINITY])]
fn fetch() {}

fn main() {}
