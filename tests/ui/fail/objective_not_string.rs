use instrument_metrics::instrument_metrics;

#[instrument_metrics(objective = checkout)]
fn pay() {}

fn main() {}
