use instrument_metrics::instrument_metrics;

#[instrument_metrics(histogram = fast)]
fn fetch() {}

fn main() {}
