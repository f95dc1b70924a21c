use instrument_metrics::instrument_metrics;

struct Cart;

#[instrument_metrics(objective = "1st")]
impl Cart {
    fn add(&self) {}
}

fn main() {}
