use instrument_metrics::LabelValue;

#[derive(LabelValue)]
enum Tier {
    #[label_value(name = "free")]
    Free,
    Pro,
}

fn main() {}
