//! Metrics about serving metrics, like promhttp's: scrapes answered by status code (200, 500
//! and 503 there from the start at 0, others once seen) and scrapes in flight. The first
//! scrape registers them in [`registry`](crate::registry()); the counting is
//! `record::scrapes`, the rows `catalog::scrapes`.
#![cfg_attr(
    not(any(feature = "exporter", feature = "axum", feature = "actix-web")),
    allow(dead_code)
)]

use crate::expose::catalog::Group;
use crate::expose::registry::register_group;
use crate::record::scrapes;

/// Counts one scrape in flight until dropped.
#[must_use]
pub(crate) struct ScrapeInFlight(#[allow(dead_code)] scrapes::InFlight);

/// A scrape (or a refused request to the metrics endpoint) starts.
pub(crate) fn scrape_started() -> ScrapeInFlight {
    // If the names are taken in the user's registry, the scrape still works; it is just not
    // shown.
    let _ = register_group(Group::Scrapes);
    ScrapeInFlight(scrapes::started())
}

/// A request to the metrics endpoint was answered with `code`.
pub(crate) fn scrape_served(code: u16) {
    scrapes::answered(code);
}
