use instrument_metrics::{instrument_metrics, LabelValue};

#[instrument_metrics(error_kind)]
fn fallible<E: LabelValue>(e: E) -> Result<(), E> {
    Err(e)
}

fn main() {}
