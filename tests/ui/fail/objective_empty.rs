use instrument_metrics::instrument_metrics;

#[instrument_metrics(objective = "")]
fn pay() {}

fn main() {}
