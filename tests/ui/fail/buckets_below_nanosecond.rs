use instrument_metrics::instrument_metrics;

#[instrument_metrics(buckets = [0.0000000001, 0.1])]
fn tiny() {}

fn main() {
    tiny();
}
