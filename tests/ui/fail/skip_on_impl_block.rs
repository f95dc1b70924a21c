use instrument_metrics::instrument_metrics;

struct S;

#[instrument_metrics(skip)]
impl S {
    fn a(&self) {}
}

fn main() {}
