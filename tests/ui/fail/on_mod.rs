use instrument_metrics::instrument_metrics;

#[instrument_metrics]
mod handlers {
    pub fn index() {}
}

fn main() {}
