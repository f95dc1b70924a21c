use instrument_metrics::instrument_metrics;

#[instrument_metrics(histogram = native, histogram = both)]
fn fetch() {}

fn main() {}
