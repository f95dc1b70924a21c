use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(le = "x"))]
fn fetch() {}

fn main() {}
