use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(path = path))]
fn route(path: &str) -> usize {
    path.len()
}

fn main() {}
