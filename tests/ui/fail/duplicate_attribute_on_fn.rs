use instrument_metrics::instrument_metrics;

#[instrument_metrics]
#[instrument_metrics(name = "twice")]
fn counted_twice() -> u8 {
    1
}

fn main() {
    counted_twice();
}
