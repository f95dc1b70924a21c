use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(team = "a", team = "b"))]
fn fetch() {}

fn main() {}
