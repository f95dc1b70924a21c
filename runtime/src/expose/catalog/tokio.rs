//! The tokio runtime families, read at scrape time from each registered runtime's own
//! counters (`Handle::metrics()`): nothing is recorded on any task's path. The stable metrics
//! always; with `--cfg tokio_unstable`, tokio's unstable ones too.
//!
//! [`readings`] reads the busy time of every worker as plain numbers: what the live page's
//! snapshots are made of.

use std::borrow::Cow;
use std::sync::Arc;

use tokio::runtime::RuntimeMetrics;

use crate::expose::families::TOKIO_FAMILIES;
use crate::expose::snapshot::{Extra, Family, Labels, Number, Sample, Value};
use crate::record::runtimes;

/// One runtime's workers' busy time, in seconds, worker by worker.
pub(crate) struct RuntimeReading {
    pub name: Arc<str>,
    pub busy_seconds: Vec<f64>,
}

/// Every registered runtime's busy time per worker, in registration order.
pub(crate) fn readings() -> Vec<RuntimeReading> {
    runtimes::all()
        .into_iter()
        .map(|r| {
            let metrics = r.handle.metrics();
            RuntimeReading {
                busy_seconds: (0..metrics.num_workers())
                    .map(|w| busy_seconds(&metrics, w))
                    .collect(),
                name: r.name,
            }
        })
        .collect()
}

#[cfg(target_has_atomic = "64")]
fn busy_seconds(metrics: &RuntimeMetrics, worker: usize) -> f64 {
    metrics.worker_total_busy_duration(worker).as_secs_f64()
}

/// tokio counts busy time only where 64-bit atomics exist.
#[cfg(not(target_has_atomic = "64"))]
fn busy_seconds(_metrics: &RuntimeMetrics, _worker: usize) -> f64 {
    0.0
}

/// The samples of every family, filled runtime by runtime, then appended family by family.
struct Rows {
    samples: Vec<Vec<Sample>>,
}

impl Rows {
    fn gauge(&mut self, family: usize, labels: &Labels, value: Number) {
        self.samples[family].push(Sample {
            labels: Cow::Owned(labels.clone()),
            extra: Extra::NONE,
            value: Value::Gauge(value),
        });
    }

    fn counter(&mut self, family: usize, labels: &Labels, value: Number) {
        self.samples[family].push(Sample {
            labels: Cow::Owned(labels.clone()),
            extra: Extra::NONE,
            value: Value::Counter {
                value,
                exemplar: None,
                created: None,
            },
        });
    }
}

fn int(n: usize) -> Number {
    Number::Int(n as u64)
}

/// Appends the tokio families (none until a runtime is registered).
pub(crate) fn families(out: &mut Vec<Family>) {
    let registered = runtimes::all();
    if registered.is_empty() {
        return;
    }
    let describes = TOKIO_FAMILIES;
    let mut rows = Rows {
        samples: describes.iter().map(|_| Vec::new()).collect(),
    };
    for runtime in &registered {
        let metrics = runtime.handle.metrics();
        let labels = Labels::new([("runtime", &*runtime.name)]);
        rows.gauge(WORKERS, &labels, int(metrics.num_workers()));
        rows.gauge(ALIVE_TASKS, &labels, int(metrics.num_alive_tasks()));
        rows.gauge(
            GLOBAL_QUEUE_DEPTH,
            &labels,
            int(metrics.global_queue_depth()),
        );
        #[cfg(tokio_unstable)]
        unstable::runtime_rows(&mut rows, &metrics, &labels);
        for worker in 0..metrics.num_workers() {
            let mut worker_labels = labels.clone();
            worker_labels.push("worker", itoa::Buffer::new().format(worker));
            #[cfg(target_has_atomic = "64")]
            {
                rows.counter(
                    WORKER_BUSY,
                    &worker_labels,
                    Number::Float(busy_seconds(&metrics, worker)),
                );
                rows.counter(
                    WORKER_PARKS,
                    &worker_labels,
                    Number::Int(metrics.worker_park_count(worker)),
                );
            }
            #[cfg(tokio_unstable)]
            unstable::worker_rows(&mut rows, &metrics, worker, &worker_labels);
            let _ = &worker_labels;
        }
    }
    for (describe, samples) in describes.iter().zip(rows.samples) {
        if !samples.is_empty() {
            out.push(Family::ours(*describe, samples));
        }
    }
}

// Each family's place in `TOKIO_FAMILIES`, in exposition order (checked by a test below).
const WORKERS: usize = 0;
const ALIVE_TASKS: usize = 1;
const GLOBAL_QUEUE_DEPTH: usize = 2;
#[cfg(target_has_atomic = "64")]
const WORKER_BUSY: usize = 3;
#[cfg(target_has_atomic = "64")]
const WORKER_PARKS: usize = 4;

#[cfg(tokio_unstable)]
mod unstable {
    //! tokio's unstable metrics (the application builds with `--cfg tokio_unstable`), after
    //! the stable ones in `TOKIO_FAMILIES`: six runtime-wide, then eight per worker.

    use tokio::runtime::RuntimeMetrics;

    use super::{int, Rows};
    use crate::expose::snapshot::{Labels, Number};

    pub(super) const FIRST: usize = 5;
    pub(super) const FIRST_PER_WORKER: usize = FIRST + 6;

    pub(super) fn runtime_rows(rows: &mut Rows, metrics: &RuntimeMetrics, labels: &Labels) {
        rows.gauge(FIRST, labels, int(metrics.num_blocking_threads()));
        rows.gauge(FIRST + 1, labels, int(metrics.num_idle_blocking_threads()));
        rows.gauge(FIRST + 2, labels, int(metrics.blocking_queue_depth()));
        #[cfg(target_has_atomic = "64")]
        {
            rows.counter(
                FIRST + 3,
                labels,
                Number::Int(metrics.spawned_tasks_count()),
            );
            rows.counter(
                FIRST + 4,
                labels,
                Number::Int(metrics.remote_schedule_count()),
            );
            rows.counter(
                FIRST + 5,
                labels,
                Number::Int(metrics.budget_forced_yield_count()),
            );
        }
    }

    pub(super) fn worker_rows(
        rows: &mut Rows,
        metrics: &RuntimeMetrics,
        worker: usize,
        labels: &Labels,
    ) {
        let at = FIRST_PER_WORKER;
        #[cfg(target_has_atomic = "64")]
        {
            rows.counter(at, labels, Number::Int(metrics.worker_poll_count(worker)));
            rows.counter(
                at + 1,
                labels,
                Number::Int(metrics.worker_steal_count(worker)),
            );
            rows.counter(
                at + 2,
                labels,
                Number::Int(metrics.worker_steal_operations(worker)),
            );
            rows.counter(
                at + 3,
                labels,
                Number::Int(metrics.worker_noop_count(worker)),
            );
            rows.counter(
                at + 4,
                labels,
                Number::Int(metrics.worker_local_schedule_count(worker)),
            );
            rows.counter(
                at + 5,
                labels,
                Number::Int(metrics.worker_overflow_count(worker)),
            );
        }
        rows.gauge(
            at + 6,
            labels,
            int(metrics.worker_local_queue_depth(worker)),
        );
        rows.gauge(
            at + 7,
            labels,
            Number::Float(metrics.worker_mean_poll_time(worker).as_secs_f64()),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::expose::families::TOKIO_FAMILIES;

    #[test]
    fn each_row_index_names_its_family() {
        let name = |i: usize| TOKIO_FAMILIES[i].name;
        assert_eq!(name(super::WORKERS), "tokio_runtime_workers");
        assert_eq!(name(super::ALIVE_TASKS), "tokio_runtime_alive_tasks");
        assert_eq!(
            name(super::GLOBAL_QUEUE_DEPTH),
            "tokio_runtime_global_queue_depth"
        );
        #[cfg(target_has_atomic = "64")]
        {
            assert_eq!(
                name(super::WORKER_BUSY),
                "tokio_runtime_worker_busy_seconds_total"
            );
            assert_eq!(
                name(super::WORKER_PARKS),
                "tokio_runtime_worker_parks_total"
            );
        }
        #[cfg(tokio_unstable)]
        {
            use super::unstable::{FIRST, FIRST_PER_WORKER};
            assert_eq!(name(FIRST), "tokio_runtime_blocking_threads");
            assert_eq!(name(FIRST + 5), "tokio_runtime_budget_forced_yields_total");
            assert_eq!(name(FIRST_PER_WORKER), "tokio_runtime_worker_polls_total");
            assert_eq!(
                name(FIRST_PER_WORKER + 7),
                "tokio_runtime_worker_mean_poll_time_seconds"
            );
            assert_eq!(TOKIO_FAMILIES.len(), FIRST_PER_WORKER + 8);
        }
        #[cfg(not(tokio_unstable))]
        assert_eq!(TOKIO_FAMILIES.len(), 5);
    }
}
