use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(tenant = bounded(tenant_id, 50)))]
fn serve(tenant_id: u64) {}

fn main() {}
