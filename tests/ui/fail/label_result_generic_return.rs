use instrument_metrics::instrument_metrics;

#[instrument_metrics(labels(hit = |r| r.is_some()))]
fn first<T: Clone>(items: &[T]) -> Option<T> {
    items.first().cloned()
}

fn main() {}
