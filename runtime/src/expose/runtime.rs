//! What the async runtime is doing: a tokio runtime's statistics, read from tokio itself at
//! every scrape (feature `tokio`, on with `exporter`). Nothing runs on any task's path.
//!
//! | family | type | labels |
//! |---|---|---|
//! | `tokio_runtime_workers` | gauge | `runtime` |
//! | `tokio_runtime_alive_tasks` | gauge | `runtime` |
//! | `tokio_runtime_global_queue_depth` | gauge | `runtime` |
//! | `tokio_runtime_worker_busy_seconds_total` | counter | `runtime`, `worker` |
//! | `tokio_runtime_worker_parks_total` | counter | `runtime`, `worker` |
//!
//! An application built with `RUSTFLAGS="--cfg tokio_unstable"` gets tokio's unstable metrics
//! too: blocking pool threads (`tokio_runtime_blocking_threads`, `…_idle_blocking_threads`,
//! `…_blocking_queue_depth`), `tokio_runtime_spawned_tasks_total`,
//! `…_remote_schedules_total`, `…_budget_forced_yields_total`, and per worker
//! `tokio_runtime_worker_polls_total`, `…_steals_total`, `…_steal_operations_total`,
//! `…_noops_total`, `…_local_schedules_total`, `…_overflows_total`,
//! `…_local_queue_depth` and `…_mean_poll_time_seconds`.
//!
//! `rate(tokio_runtime_worker_busy_seconds_total[1m])` is the fraction of the time a worker
//! was running tasks; summed by `runtime` and divided by `tokio_runtime_workers`, the
//! runtime's. The live page shows both; the generated alerts warn when a runtime's workers
//! stay saturated.

use tokio::runtime::Handle;

use crate::error::Error;
use crate::expose::catalog::Group;
use crate::expose::registry::register_group;
use crate::record::runtimes;

/// Exposes the statistics of the tokio runtime behind `handle`, labelled `runtime="<name>"`.
/// Register each runtime of the application once, under its own name (an application's main
/// runtime and a background one side by side). Reading them costs the scrape, not the tasks.
///
/// ```
/// let runtime = tokio::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .build()
///     .unwrap();
/// instrument_metrics::runtime::register_tokio(runtime.handle(), "doc_main").unwrap();
///
/// let text = instrument_metrics::render();
/// assert!(text.contains("tokio_runtime_workers{runtime=\"doc_main\"} 2\n"));
/// assert!(text.contains("tokio_runtime_worker_parks_total{runtime=\"doc_main\",worker=\"1\"} "));
///
/// // A name is taken once.
/// assert!(instrument_metrics::runtime::register_tokio(runtime.handle(), "doc_main").is_err());
/// ```
///
/// Inside the runtime, `tokio::runtime::Handle::current()` is its handle:
///
/// ```
/// #[tokio::main]
/// async fn main() {
///     instrument_metrics::runtime::register_tokio(&tokio::runtime::Handle::current(), "main")
///         .unwrap();
/// }
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] if `name` is empty or already registered (unregister it first with
/// [`unregister_tokio`]); [`Error::Prometheus`] if the registry already holds families with
/// these names (the application's own collector).
pub fn register_tokio(handle: &Handle, name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::InvalidConfig(
            "register_tokio: the runtime's name is its `runtime` label and cannot be empty: \
             name it, e.g. \"main\""
                .to_owned(),
        ));
    }
    register_group(Group::Tokio)?;
    if runtimes::add(name, handle) {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "register_tokio: a runtime named {name:?} is already registered: give each runtime \
             its own name, or unregister_tokio({name:?}) first"
        )))
    }
}

/// Stops exposing the runtime registered as `name` (its series leave the exposition, and the
/// handle kept to read it is dropped); `false` if none was. Call it before shutting down a
/// runtime registered for part of the program's life.
///
/// ```
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// instrument_metrics::runtime::register_tokio(runtime.handle(), "doc_batch").unwrap();
/// assert!(instrument_metrics::render().contains("tokio_runtime_workers{runtime=\"doc_batch\"} 1\n"));
///
/// assert!(instrument_metrics::runtime::unregister_tokio("doc_batch"));
/// assert!(!instrument_metrics::render().contains("runtime=\"doc_batch\""));
/// assert!(!instrument_metrics::runtime::unregister_tokio("doc_batch"));
/// ```
pub fn unregister_tokio(name: &str) -> bool {
    runtimes::remove(name)
}
