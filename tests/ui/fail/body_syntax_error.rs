use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn fetch() -> u32 {
    let x = ;
    1
}

fn main() {}
