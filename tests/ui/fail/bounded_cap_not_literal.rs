use instrument_metrics::instrument_metrics;

const TENANTS: usize = 50;

#[instrument_metrics(labels(tenant = bounded(tenant, TENANTS)))]
fn serve(tenant: &str) {}

fn main() {}
