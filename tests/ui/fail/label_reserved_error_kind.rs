use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(error_kind = "io"))]
fn read() {}

fn main() {}
