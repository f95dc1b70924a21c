use instrument_metrics::{instrument_metrics, LabelValue};

#[instrument_metrics(labels(kind = kind))]
fn handle<K: LabelValue>(kind: K) -> usize {
    kind.index()
}

fn main() {}
