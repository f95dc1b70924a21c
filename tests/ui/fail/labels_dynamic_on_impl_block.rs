use instrument_metrics::instrument_metrics;

struct Cache;

#[instrument_metrics(labels(team = "core", hit = |r| r.is_some()))]
impl Cache {
    fn get(&self, key: &str) -> Option<usize> {
        Some(key.len())
    }
}

fn main() {}
