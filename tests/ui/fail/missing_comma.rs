use instrument_metrics::instrument_metrics;

#[instrument_metrics(name = "a" in_flight)]
fn fetch() {}

fn main() {}
