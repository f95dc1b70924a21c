use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels = "team")]
fn fetch() {}

fn main() {}
