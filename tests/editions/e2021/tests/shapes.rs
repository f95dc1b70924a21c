//! The shape table under edition 2021: the same files as under every other edition
//! (tests/editions/shapes/), so one table is compiled and run by 2018, 2021 and 2024.

#[path = "../../shapes/support.rs"]
mod support;
#[macro_use]
#[path = "../../shapes/table.rs"]
mod table;

#[path = "../../shapes/tails.rs"]
mod tails;

#[path = "../../shapes/kinds.rs"]
mod kinds;

#[path = "../../shapes/drops.rs"]
mod drops;

#[path = "../../shapes/asyncs.rs"]
mod asyncs;

#[path = "../../shapes/labels.rs"]
mod labels;

#[path = "../../shapes/polls.rs"]
mod polls;

/// Rows that do not compile today (`RUSTFLAGS="--cfg instrument_metrics_pending"`).
#[cfg(instrument_metrics_pending)]
#[path = "../../shapes/pending.rs"]
mod pending;
