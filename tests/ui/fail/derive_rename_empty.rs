use instrument_metrics::LabelValue;

#[derive(LabelValue)]
enum Tier {
    #[label_value(rename = "")]
    Free,
    Pro,
}

fn main() {}
