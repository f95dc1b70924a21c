//! Scrapes of the metrics endpoint, counted as they are answered: one cell per status code
//! (100 to 599, no labels to hash) and the number in flight. The catalog reads them.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// The first status code with a cell.
const FIRST: u16 = 100;
static BY_CODE: [AtomicU64; 500] = [const { AtomicU64::new(0) }; 500];
static IN_FLIGHT: AtomicI64 = AtomicI64::new(0);

/// One scrape in flight until dropped.
pub(crate) struct InFlight(());

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Relaxed);
    }
}

/// A scrape starts.
pub(crate) fn started() -> InFlight {
    IN_FLIGHT.fetch_add(1, Relaxed);
    InFlight(())
}

/// A scrape was answered with `code` (one outside 100..=599 is not counted).
pub(crate) fn answered(code: u16) {
    if let Some(cell) = code
        .checked_sub(FIRST)
        .and_then(|i| BY_CODE.get(usize::from(i)))
    {
        cell.fetch_add(1, Relaxed);
    }
}

/// `(code, count)` for every code counted so far, or in `always`.
pub(crate) fn by_code(always: &[u16]) -> Vec<(u16, u64)> {
    BY_CODE
        .iter()
        .zip(FIRST..)
        .map(|(cell, code)| (code, cell.load(Relaxed)))
        .filter(|(code, n)| *n > 0 || always.contains(code))
        .collect()
}

/// Scrapes being answered now.
pub(crate) fn in_flight() -> i64 {
    IN_FLIGHT.load(Relaxed)
}
