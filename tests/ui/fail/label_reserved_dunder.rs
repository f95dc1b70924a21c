use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(__x = "x"))]
fn fetch() {}

fn main() {}
