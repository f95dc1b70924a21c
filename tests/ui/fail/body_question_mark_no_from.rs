use instrument_metrics::instrument_metrics;

#[derive(Debug)]
pub struct MyError;

#[instrument_metrics]
fn parse(s: &str) -> Result<u32, MyError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

fn main() {}
