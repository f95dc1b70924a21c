use instrument_metrics::instrument_metrics;

trait Store {
    #[instrument_metrics]
    fn load(&self) -> u32;
}

fn main() {}
