use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(tenant = bounded(tenant)))]
fn serve(tenant: &str) {}

fn main() {}
