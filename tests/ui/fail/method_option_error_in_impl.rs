use instrument_metrics::instrument_metrics;

struct S;

#[instrument_metrics]
impl S {
    fn a(&self) {}

    #[instrument_metrics(buckets = [])]
    fn b(&self) {}
}

fn main() {}
