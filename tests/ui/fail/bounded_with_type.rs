use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(tenant: String = bounded(tenant, 50)))]
fn serve(tenant: &str) {}

fn main() {}
