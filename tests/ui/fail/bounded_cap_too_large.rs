use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(tenant = bounded(tenant, 5000)))]
fn serve(tenant: &str) {}

fn main() {}
