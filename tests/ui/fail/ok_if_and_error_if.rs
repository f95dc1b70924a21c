use instrument_metrics::instrument_metrics;

#[instrument_metrics(ok_if = |r| r.is_ok(), error_if = |r| r.is_err())]
fn fetch() -> Result<(), ()> {
    Ok(())
}

fn main() {}
