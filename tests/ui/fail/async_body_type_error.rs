use instrument_metrics::instrument_metrics;

#[instrument_metrics]
async fn count() -> u32 {
    "not a number"
}

fn main() {}
