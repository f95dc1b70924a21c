use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(module = "x"))]
fn fetch() {}

fn main() {}
