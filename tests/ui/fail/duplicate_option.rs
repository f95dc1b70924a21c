use instrument_metrics::instrument_metrics;

#[instrument_metrics(name = "a", name = "b")]
fn fetch() {}

fn main() {}
