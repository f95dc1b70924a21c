use instrument_metrics::LabelValue;

#[derive(LabelValue)]
struct Tier {
    name: String,
}

fn main() {}
