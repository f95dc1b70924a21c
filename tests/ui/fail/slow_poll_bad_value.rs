use instrument_metrics::instrument_metrics;

#[instrument_metrics(slow_poll = "10 sec")]
async fn unknown_unit() {}

#[instrument_metrics(slow_poll = "10")]
async fn no_unit() {}

#[instrument_metrics(slow_poll = 10)]
async fn not_a_string() {}

#[instrument_metrics(slow_poll = "0ms")]
async fn zero() {}

#[instrument_metrics(polls = true)]
async fn polls_with_value() {}

#[instrument_metrics(polls, polls)]
async fn twice() {}

fn main() {}
