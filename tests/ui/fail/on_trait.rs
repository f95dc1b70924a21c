use instrument_metrics::instrument_metrics;

#[instrument_metrics]
trait Store {
    fn load(&self) -> u32;
}

fn main() {}
