use instrument_metrics::instrument_metrics;

#[instrument_metrics(name = "")]
fn fetch() {}

fn main() {}
