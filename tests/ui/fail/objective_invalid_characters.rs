use instrument_metrics::instrument_metrics;

#[instrument_metrics(objective = "check out")]
fn pay() {}

fn main() {}
