use instrument_metrics::instrument_metrics;

struct Cache;

// On the block, `slow_poll` is for the async methods; on a sync method's own attribute it is
// a mistake.
#[instrument_metrics(slow_poll = "5ms")]
impl Cache {
    async fn load(&self) -> u8 {
        1
    }

    #[instrument_metrics(slow_poll = "1ms")]
    fn get(&self) -> u8 {
        2
    }
}

fn main() {}
