use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(id = id))]
fn fetch(id: u64) -> u64 {
    id
}

fn main() {}
