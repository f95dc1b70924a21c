use instrument_metrics::{instrument_metrics, LabelValue};

#[derive(LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

struct Account {
    tier: Tier,
}

impl Account {
    #[instrument_metrics(labels(tier = self.tier))]
    fn charge(&self) -> u32 {
        1
    }
}

fn main() {}
