use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(tenant = bounded(tenant, 0)))]
fn serve(tenant: &str) {}

fn main() {}
