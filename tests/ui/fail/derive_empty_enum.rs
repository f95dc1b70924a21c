use instrument_metrics::LabelValue;

#[derive(LabelValue)]
enum Never {}

fn main() {}
