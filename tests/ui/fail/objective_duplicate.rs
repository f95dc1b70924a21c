use instrument_metrics::instrument_metrics;

#[instrument_metrics(objective = "checkout", objective = "search")]
fn pay() {}

fn main() {}
