use instrument_metrics::LabelValue;

#[derive(LabelValue)]
enum Tier {
    Free,
    #[label_value(rename = "Free")]
    Trial,
}

fn main() {}
