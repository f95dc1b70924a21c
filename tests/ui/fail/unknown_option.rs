use instrument_metrics::instrument_metrics;

#[instrument_metrics(nmae = "fetch")]
fn fetch() {}

fn main() {}
