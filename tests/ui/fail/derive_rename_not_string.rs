use instrument_metrics::LabelValue;

#[derive(LabelValue)]
enum Tier {
    #[label_value(rename = free)]
    Free,
    Pro,
}

fn main() {}
