use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(team: String = "core"))]
fn read() {}

fn main() {}
