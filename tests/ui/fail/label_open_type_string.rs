use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(user = user))]
fn greet(user: String) -> String {
    user
}

fn main() {}
