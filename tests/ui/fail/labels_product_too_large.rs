use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(tenant = bounded(tenant, 1000), cached = cached))]
fn serve(tenant: &str, cached: bool) {}

fn main() {}
