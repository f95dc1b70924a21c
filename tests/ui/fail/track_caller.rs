use instrument_metrics::instrument_metrics;

#[instrument_metrics]
#[track_caller]
fn checked(n: u32) -> u32 {
    assert!(n > 0);
    n
}

fn main() {
    checked(1);
}
