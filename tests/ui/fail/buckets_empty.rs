use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [])]
fn fetch() {}

fn main() {}
