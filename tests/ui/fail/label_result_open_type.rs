use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(size = |r| r.len()))]
fn list() -> Vec<u8> {
    Vec::new()
}

fn main() {}
