use instrument_metrics::instrument_metrics;

#[instrument_metrics(histogram = "native")]
fn fetch() {}

fn main() {}
