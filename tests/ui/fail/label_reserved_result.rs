use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(result = "x"))]
fn fetch() {}

fn main() {}
