use instrument_metrics::instrument_metrics;

struct S;

#[instrument_metrics]
impl S {
    #[instrument_metrics(name = "limit")]
    const fn limit() -> u32 {
        1
    }
}

fn main() {}
