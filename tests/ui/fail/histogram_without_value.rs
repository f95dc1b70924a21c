use instrument_metrics::instrument_metrics;

#[instrument_metrics(histogram)]
fn fetch() {}

fn main() {}
