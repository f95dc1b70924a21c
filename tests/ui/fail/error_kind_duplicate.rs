use instrument_metrics::instrument_metrics;

#[instrument_metrics(error_kind, error_kind)]
fn read() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
