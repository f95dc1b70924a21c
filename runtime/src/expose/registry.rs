//! The registry everything is served from.
//!
//! The function metrics are a collector in `prometheus`'s default registry from process start
//! (a constructor attaches it before `main`), so code that gathers the default registry itself
//! sees them too. [`use_registry`] moves them to another registry until the first use.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use prometheus::{IntGauge, Registry};

use crate::error::Error;
use crate::expose::catalog::{Group, Groups};
use crate::expose::collector::OwnedCollector;
use crate::expose::families::Decorations;
use crate::expose::snapshot::escape_label_value;
use crate::record::heap;

struct Chosen {
    registry: &'static Registry,
    /// False only if something else already took the function family names.
    collector_registered: bool,
    decorations: Decorations,
}

static CHOSEN: OnceLock<Chosen> = OnceLock::new();

/// Set when the constructor attached the collector to the default registry.
static ATTACHED_TO_DEFAULT: AtomicBool = AtomicBool::new(false);

// Before `main`: only registers a collector (no I/O, no threads), so that a program gathering
// `prometheus::default_registry()` directly sees every instrumented function from the start.
#[ctor::ctor(unsafe)]
fn attach_to_default_registry() {
    if let Ok(c) = OwnedCollector::new(Group::Functions) {
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
            if let Ok(c) = OwnedCollector::new(Group::Functions) {
                let _ = prometheus::default_registry().unregister(Box::new(c));
            }
        }
        OwnedCollector::new(Group::Functions).and_then(|c| registry.register(Box::new(c)))
    };
    // The default registry has neither prefix nor labels: no need to probe it.
    let decorations = if is_default(registry) {
        Decorations::default()
    } else {
        decorations_of(registry)
    };
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
    let families = crate::expose::collector::without_our_families(|| registry.gather());
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
    let registry = chosen_registry();
    join_process_families();
    join_heap_families();
    registry
}

fn chosen_registry() -> &'static Registry {
    CHOSEN
        .get_or_init(|| choose(prometheus::default_registry()).0)
        .registry
}

/// The process families join the registry once it is chosen (they read `/proc` only when
/// gathered). A process collector of the user's with the same names keeps its place.
fn join_process_families() {
    #[cfg(all(feature = "process", target_os = "linux"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let _ = register_group(Group::Process);
        });
    }
}

/// The heap families join the registry at the first [`registry`] (every scrape asks for it)
/// after a counting global allocator has counted something: never from inside the allocator,
/// which only stores a flag.
fn join_heap_families() {
    static JOINED: AtomicBool = AtomicBool::new(false);
    if !JOINED.load(Ordering::Relaxed) && heap::installed() {
        JOINED.store(true, Ordering::Relaxed);
        let _ = register_group(Group::Heap);
    }
}

/// Serve `registry` instead of the default one. Must come before the first [`registry`],
/// [`render`](crate::render()) or scrape; later it returns [`Error::RegistryAlreadyChosen`]. A prefix and
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
    join_process_families();
    join_heap_families();
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

/// Groups whose collector joined the chosen registry (the function families' bit is set by
/// [`choose`]), and groups whose registration was tried.
static REGISTERED: AtomicU16 = AtomicU16::new(0);
static TRIED: Mutex<u16> = Mutex::new(0);

/// Which of our groups of families are in the chosen registry (each is left out when the
/// user's registry already held its names).
pub(crate) fn groups() -> Groups {
    let mut g = REGISTERED.load(Ordering::Acquire);
    if function_families_registered() {
        g |= Group::Functions.bit();
    }
    Groups(g)
}

/// Registers `group`'s collector in the chosen registry, once: the HTTP families when the
/// first HTTP table is made, the scrape families at the first scrape, process families with
/// the registry, build info when the application asks. `Err` if the registry already has
/// families with these names (the user's own); ours then stay out of the exposition.
pub(crate) fn register_group(group: Group) -> Result<(), prometheus::Error> {
    // Every scrape asks for its group: once joined, a load answers, no lock.
    if REGISTERED.load(Ordering::Acquire) & group.bit() != 0 {
        return Ok(());
    }
    let registry = chosen_registry();
    let mut tried = TRIED.lock().unwrap_or_else(PoisonError::into_inner);
    if *tried & group.bit() == 0 {
        *tried |= group.bit();
        let joined = OwnedCollector::new(group).and_then(|c| registry.register(Box::new(c)));
        if joined.is_ok() {
            REGISTERED.fetch_or(group.bit(), Ordering::AcqRel);
        }
        return joined;
    }
    if REGISTERED.load(Ordering::Acquire) & group.bit() != 0 {
        Ok(())
    } else {
        Err(prometheus::Error::AlreadyReg)
    }
}
