use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(team = 5))]
fn fetch() {}

fn main() {}
