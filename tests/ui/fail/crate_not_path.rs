use instrument_metrics::instrument_metrics;

#[instrument_metrics(crate = "not a path")]
fn fetch() {}

fn main() {}
