use instrument_metrics::instrument_metrics;

#[instrument_metrics(in_flight = "yes")]
fn fetch() {}

fn main() {}
