use instrument_metrics::instrument_metrics;

#[derive(Debug)]
enum StoreError {
    NotFound,
    Conflict,
}

#[instrument_metrics(error_kind)]
fn store(flag: bool) -> Result<(), StoreError> {
    if flag {
        Err(StoreError::NotFound)
    } else {
        Err(StoreError::Conflict)
    }
}

fn main() {}
