use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(flag = flag))]
fn make(flag: bool) -> impl Fn() -> bool {
    move || flag
}

fn main() {}
