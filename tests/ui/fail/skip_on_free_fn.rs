use instrument_metrics::instrument_metrics;

#[instrument_metrics(skip)]
fn fetch() {}

fn main() {}
