use instrument_metrics::instrument_metrics;

#[instrument_metrics]
static NAME: &str = "x";

fn main() {}
