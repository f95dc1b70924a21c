//! Metrics about serving metrics, like promhttp's: scrapes served by status code, and scrapes
//! in flight. Registered in [`registry`](crate::registry()) at the first scrape.
#![cfg_attr(
    not(any(feature = "exporter", feature = "axum", feature = "actix-web")),
    allow(dead_code)
)]

use std::sync::OnceLock;

use prometheus::{IntCounterVec, IntGauge, Opts};

struct SelfMetrics {
    scrapes: IntCounterVec,
    in_flight: IntGauge,
}

static SELF_METRICS: OnceLock<Option<SelfMetrics>> = OnceLock::new();

fn get() -> Option<&'static SelfMetrics> {
    SELF_METRICS
        .get_or_init(|| {
            let scrapes = IntCounterVec::new(
                Opts::new(
                    "instrument_metrics_scrapes_total",
                    "Scrapes of the metrics endpoint, by HTTP status code.",
                ),
                &["code"],
            )
            .ok()?;
            let in_flight = IntGauge::new(
                "instrument_metrics_scrapes_in_flight",
                "Scrapes of the metrics endpoint being served right now.",
            )
            .ok()?;
            // The usual codes exist from the start, at 0, like promhttp does.
            for code in ["200", "500", "503"] {
                let _ = scrapes.get_metric_with_label_values(&[code]);
            }
            let registry = crate::registry();
            // If the names are taken the scrape still works; it is just not counted.
            registry.register(Box::new(scrapes.clone())).ok()?;
            registry.register(Box::new(in_flight.clone())).ok()?;
            Some(SelfMetrics { scrapes, in_flight })
        })
        .as_ref()
}

/// Counts one scrape in flight until dropped.
pub(crate) struct ScrapeInFlight(());

impl Drop for ScrapeInFlight {
    fn drop(&mut self) {
        if let Some(m) = get() {
            m.in_flight.dec();
        }
    }
}

/// A scrape (or a refused request to the metrics endpoint) starts.
#[must_use]
pub(crate) fn scrape_started() -> ScrapeInFlight {
    if let Some(m) = get() {
        m.in_flight.inc();
    }
    ScrapeInFlight(())
}

/// A request to the metrics endpoint was answered with `code`.
pub(crate) fn scrape_served(code: u16) {
    if let Some(m) = get() {
        let mut buf = itoa::Buffer::new();
        if let Ok(c) = m.scrapes.get_metric_with_label_values(&[buf.format(code)]) {
            c.inc();
        }
    }
}
