use instrument_metrics::instrument_metrics;

#[instrument_metrics(name = 5)]
fn fetch() {}

fn main() {}
