use instrument_metrics::instrument_metrics;

#[instrument_metrics(error_kind = true)]
fn read() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
