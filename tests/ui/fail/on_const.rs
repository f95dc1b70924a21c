use instrument_metrics::instrument_metrics;

#[instrument_metrics]
const LIMIT: u32 = 10;

fn main() {}
