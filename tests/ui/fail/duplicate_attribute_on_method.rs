use instrument_metrics::instrument_metrics;

struct S;

#[instrument_metrics]
impl S {
    #[instrument_metrics(name = "a")]
    #[instrument_metrics(name = "b")]
    fn a(&self) {}
}

fn main() {}
