use instrument_metrics::instrument_metrics;

#[instrument_metrics]
struct Config {
    port: u16,
}

fn main() {}
