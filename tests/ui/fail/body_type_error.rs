use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn count() -> u32 {
    "not a number"
}

fn main() {}
