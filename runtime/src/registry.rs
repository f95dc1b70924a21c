//! The registry everything is served from, and `render()`.

use std::sync::OnceLock;

use prometheus::{Encoder as _, Registry, TextEncoder};

use crate::collect::{without_function_families, FunctionCollector};
use crate::error::Error;

struct Chosen {
    registry: &'static Registry,
    /// False only if something else already took the function family names.
    collector_registered: bool,
}

static CHOSEN: OnceLock<Chosen> = OnceLock::new();

fn choose(registry: &'static Registry) -> Chosen {
    crate::clock::warm_up();
    crate::process::register(registry);
    let collector_registered = FunctionCollector::new()
        .and_then(|c| registry.register(Box::new(c)))
        .is_ok();
    Chosen {
        registry,
        collector_registered,
    }
}

/// The registry that is rendered and served: `prometheus`'s default registry, unless
/// [`use_registry`] picked another first. Metrics you register there yourself are served
/// beside the function metrics, and the function metrics are a collector in it, so anything
/// that gathers it sees them.
///
/// ```
/// use instrument_metrics::prometheus::{register_int_counter_with_registry, IntCounter};
///
/// let jobs: IntCounter = register_int_counter_with_registry!(
///     "jobs_done_total", "Jobs finished.", instrument_metrics::registry()
/// ).unwrap();
/// jobs.inc();
/// assert!(instrument_metrics::render().lines().any(|l| l == "jobs_done_total 1"));
/// ```
pub fn registry() -> &'static Registry {
    CHOSEN
        .get_or_init(|| choose(prometheus::default_registry()))
        .registry
}

/// Serve `registry` instead of the default one. Must come before the first [`registry`],
/// [`render`] or scrape; later it returns [`Error::RegistryAlreadyChosen`].
///
/// ```
/// let mine: &'static instrument_metrics::prometheus::Registry =
///     Box::leak(Box::new(instrument_metrics::prometheus::Registry::new_custom(
///         Some("app".into()), None).unwrap()));
/// instrument_metrics::use_registry(mine).unwrap();
/// assert!(std::ptr::eq(instrument_metrics::registry(), mine));
/// ```
///
/// # Errors
/// [`Error::RegistryAlreadyChosen`] when a registry is already in use, or
/// [`Error::Prometheus`] if the function families cannot be registered in `registry`
/// (it already holds metrics with those names).
pub fn use_registry(registry: &'static Registry) -> Result<(), Error> {
    let mut ours = false;
    let chosen = CHOSEN.get_or_init(|| {
        ours = true;
        choose(registry)
    });
    if !ours {
        return Err(Error::RegistryAlreadyChosen);
    }
    if chosen.collector_registered {
        Ok(())
    } else {
        // Say why, with prometheus's own words.
        Err(FunctionCollector::new()
            .and_then(|c| registry.register(Box::new(c)))
            .err()
            .map_or(Error::RegistryAlreadyChosen, Error::Prometheus))
    }
}

/// False only if the chosen registry already had metrics with the function family names.
pub(crate) fn function_families_registered() -> bool {
    CHOSEN.get().is_some_and(|c| c.collector_registered)
}

/// Everything in [`registry`], function metrics included, in the Prometheus text format 0.0.4.
///
/// Every instrumented function is there from the start, with each `result` at 0.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// fn never_called_in_this_example() {}
///
/// let text = instrument_metrics::render();
/// assert!(text.lines().any(|l| l.starts_with(
///     "function_calls_total{function=\"never_called_in_this_example\"") && l.ends_with(" 0")));
/// ```
#[must_use]
pub fn render() -> String {
    let registry = registry();
    let mut out = String::with_capacity(16 * 1024);
    if function_families_registered() {
        crate::encode::encode_text(&mut out);
    }
    let others = without_function_families(|| registry.gather());
    // Encoding only fails on malformed families, which gather() never yields.
    let mut rest = Vec::new();
    if TextEncoder::new().encode(&others, &mut rest).is_ok() {
        out.push_str(&String::from_utf8_lossy(&rest));
    }
    out
}
