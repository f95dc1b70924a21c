use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(function = "x"))]
fn fetch() {}

fn main() {}
