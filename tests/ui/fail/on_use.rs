use instrument_metrics::instrument_metrics;

#[instrument_metrics]
use std::collections::HashMap;

fn main() {}
