//! Process metrics (CPU seconds, resident and virtual memory, open and max fds, threads, start
//! time) under the default-on `process` feature, on Linux; nothing elsewhere.

use prometheus::Registry;

#[cfg(all(feature = "process", target_os = "linux"))]
pub(crate) fn register(registry: &Registry) {
    // Already there (the user registered it): fine, it is served either way.
    let _ = registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ));
}

#[cfg(not(all(feature = "process", target_os = "linux")))]
pub(crate) fn register(_registry: &Registry) {}
