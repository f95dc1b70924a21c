use instrument_metrics::instrument_metrics;

#[instrument_metrics]
enum Mode {
    Fast,
    Slow,
}

fn main() {}
