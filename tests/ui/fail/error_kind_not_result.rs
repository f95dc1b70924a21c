use instrument_metrics::instrument_metrics;

#[instrument_metrics(error_kind)]
fn count() -> u32 {
    3
}

fn main() {}
