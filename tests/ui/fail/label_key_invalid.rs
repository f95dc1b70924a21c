use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels("a-b" = "x"))]
fn fetch() {}

fn main() {}
