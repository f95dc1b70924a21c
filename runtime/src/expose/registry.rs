//! The registry everything is served from, and `render()`.
//!
//! The function metrics are a collector in `prometheus`'s default registry from process start
//! (a constructor attaches it before `main`), so code that gathers the default registry itself
//! sees them too. [`use_registry`] moves them to another registry until the first use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use prometheus::{Encoder as _, IntGauge, Registry, TextEncoder};

use crate::error::Error;
use crate::expose::catalog::escape_label_value;
use crate::expose::collect::{without_function_families, FunctionCollector};

struct Chosen {
    registry: &'static Registry,
    /// False only if something else already took the function family names.
    collector_registered: bool,
    decorations: Decorations,
}

/// What a registry built with `Registry::new_custom(prefix, labels)` does to every family it
/// gathers; the direct encoder must do the same to the function families.
#[derive(Default)]
pub(crate) struct Decorations {
    /// Prepended to family names (`app_`), or empty.
    pub prefix: String,
    /// Appended to every series' labels (`,region="eu"`), escaped, or empty.
    pub labels: String,
    /// The same labels as name/value pairs, unescaped (for the protobuf encoder).
    pub pairs: Vec<(String, String)>,
}

static CHOSEN: OnceLock<Chosen> = OnceLock::new();

/// Set when the constructor attached the collector to the default registry.
static ATTACHED_TO_DEFAULT: AtomicBool = AtomicBool::new(false);

// Before `main`: only registers a collector (no I/O, no threads), so that a program gathering
// `prometheus::default_registry()` directly sees every instrumented function from the start.
#[ctor::ctor(unsafe)]
fn attach_to_default_registry() {
    if let Ok(c) = FunctionCollector::new() {
        if prometheus::default_registry().register(Box::new(c)).is_ok() {
            ATTACHED_TO_DEFAULT.store(true, Ordering::Release);
        }
    }
}

fn is_default(registry: &Registry) -> bool {
    std::ptr::eq(registry, prometheus::default_registry())
}

/// Picks `registry`; the error says why the function families could not join it.
fn choose(registry: &'static Registry) -> (Chosen, Option<prometheus::Error>) {
    let attached = ATTACHED_TO_DEFAULT.load(Ordering::Acquire);
    let registration = if is_default(registry) && attached {
        Ok(())
    } else {
        if attached {
            // Moving to another registry: leave the default one.
            if let Ok(c) = FunctionCollector::new() {
                let _ = prometheus::default_registry().unregister(Box::new(c));
            }
        }
        FunctionCollector::new().and_then(|c| registry.register(Box::new(c)))
    };
    // The default registry has neither prefix nor labels: no need to probe it.
    let decorations = if is_default(registry) {
        Decorations::default()
    } else {
        decorations_of(registry)
    };
    crate::expose::process::register(registry);
    let chosen = Chosen {
        registry,
        collector_registered: registration.is_ok(),
        decorations,
    };
    (chosen, registration.err())
}

/// Learns a registry's name prefix and constant labels by gathering one probe gauge.
fn decorations_of(registry: &Registry) -> Decorations {
    const PROBE: &str = "instrument_metrics_registry_probe";
    let Ok(probe) = IntGauge::new(PROBE, "Probe for the registry's prefix and labels.") else {
        return Decorations::default();
    };
    if registry.register(Box::new(probe.clone())).is_err() {
        return Decorations::default();
    }
    let families = registry.gather();
    let _ = registry.unregister(Box::new(probe));
    let Some(family) = families.iter().find(|f| f.name().ends_with(PROBE)) else {
        return Decorations::default();
    };
    let prefix = family.name()[..family.name().len() - PROBE.len()].to_owned();
    let mut labels = String::new();
    let mut pairs = Vec::new();
    if let Some(metric) = family.get_metric().first() {
        for pair in metric.get_label() {
            pairs.push((pair.name().to_owned(), pair.value().to_owned()));
            labels.push(',');
            labels.push_str(pair.name());
            labels.push_str("=\"");
            escape_label_value(pair.value(), &mut labels);
            labels.push('"');
        }
    }
    Decorations {
        prefix,
        labels,
        pairs,
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
        .get_or_init(|| choose(prometheus::default_registry()).0)
        .registry
}

/// Serve `registry` instead of the default one. Must come before the first [`registry`],
/// [`render`] or scrape; later it returns [`Error::RegistryAlreadyChosen`]. A prefix and
/// constant labels given to `Registry::new_custom` apply to the function metrics too.
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
/// [`Error::Prometheus`] if the function families cannot be registered in `registry` (it
/// already holds metrics with those names). The choice is made either way: `registry` is
/// served, without the function metrics in the second case.
pub fn use_registry(registry: &'static Registry) -> Result<(), Error> {
    let mut outcome = Err(Error::RegistryAlreadyChosen);
    CHOSEN.get_or_init(|| {
        let (chosen, failure) = choose(registry);
        outcome = failure.map_or(Ok(()), |e| Err(Error::Prometheus(e)));
        chosen
    });
    outcome
}

/// False only if the chosen registry already had metrics with the function family names.
pub(crate) fn function_families_registered() -> bool {
    CHOSEN.get().is_some_and(|c| c.collector_registered)
}

/// The chosen registry's prefix and constant labels.
pub(crate) fn decorations() -> &'static Decorations {
    static NONE: Decorations = Decorations {
        prefix: String::new(),
        labels: String::new(),
        pairs: Vec::new(),
    };
    CHOSEN.get().map_or(&NONE, |c| &c.decorations)
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
        crate::expose::encode::encode_text(&mut out);
    }
    let others = without_function_families(|| registry.gather());
    // Encoding only fails on malformed families, which gather() never yields.
    let mut rest = Vec::new();
    if TextEncoder::new().encode(&others, &mut rest).is_ok() {
        out.push_str(&String::from_utf8_lossy(&rest));
    }
    out
}
