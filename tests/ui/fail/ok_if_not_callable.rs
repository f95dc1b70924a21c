use instrument_metrics::instrument_metrics;

#[instrument_metrics(ok_if = 5)]
fn fetch() -> u32 {
    1
}

fn main() {}
