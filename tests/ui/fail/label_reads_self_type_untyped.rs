use instrument_metrics::{instrument_metrics, LabelValue};

#[derive(LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

struct Plan;

impl Plan {
    const TIER: Tier = Tier::Pro;

    #[instrument_metrics(labels(tier = Self::TIER))]
    fn price() -> u32 {
        1
    }
}

fn main() {}
