//! The families this crate owns: names, help and types in one table, and the registry's
//! decorations (prefix, constant labels), applied by every encoder in one place.

use crate::expose::snapshot::{Family, Kind, Sample};

/// What a family is, whatever is in it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Describe {
    /// The name; a counter's ends in `_total` (OpenMetrics drops it for the family).
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub unit: Option<&'static str>,
}

const fn family(name: &'static str, help: &'static str, kind: Kind) -> Describe {
    Describe {
        name,
        help,
        kind,
        unit: None,
    }
}

pub(crate) const CALLS: Describe = family(
    "function_calls_total",
    "Calls of instrumented functions, by how they ended.",
    Kind::Counter,
);
pub(crate) const DURATION: Describe = Describe {
    unit: Some("seconds"),
    ..family(
        "function_calls_duration_seconds",
        "Time spent in instrumented functions, in seconds.",
        Kind::Histogram,
    )
};
pub(crate) const IN_FLIGHT: Describe = family(
    "function_calls_in_flight",
    "Calls of instrumented functions currently running.",
    Kind::Gauge,
);
pub(crate) const BUSY: Describe = Describe {
    unit: Some("seconds"),
    ..family(
        "function_calls_busy_seconds",
        "Time spent inside poll per call of instrumented async functions (with polls), in seconds.",
        Kind::Histogram,
    )
};
pub(crate) const SLOW_POLLS: Describe = family(
    "function_slow_polls_total",
    "Polls of instrumented async functions (with polls) longer than their slow_poll threshold.",
    Kind::Counter,
);
pub(crate) const OVERFLOW: Describe = family(
    "instrument_metrics_label_overflow_total",
    "Calls whose bounded label value was counted as _OTHER because the label's N values were taken.",
    Kind::Counter,
);

pub(crate) const HTTP_DURATION: Describe = family(
    "http_server_request_duration_seconds",
    "Duration of HTTP server requests, until the response body was sent.",
    Kind::Histogram,
);
pub(crate) const HTTP_BUSY: Describe = family(
    "http_server_request_busy_seconds",
    "Time HTTP server requests spent inside poll (handler and response body), per request.",
    Kind::Histogram,
);
pub(crate) const HTTP_SLOW_POLLS: Describe = family(
    "http_server_request_slow_polls_total",
    "Polls of HTTP server requests longer than the slow-poll threshold.",
    Kind::Counter,
);
pub(crate) const HTTP_ACTIVE: Describe = family(
    "http_server_active_requests",
    "Number of active HTTP server requests.",
    Kind::Gauge,
);
pub(crate) const HTTP_REQUEST_SIZE: Describe = family(
    "http_server_request_body_size_bytes",
    "Size of HTTP server request bodies, for requests whose length was known.",
    Kind::Histogram,
);
pub(crate) const HTTP_RESPONSE_SIZE: Describe = family(
    "http_server_response_body_size_bytes",
    "Size of HTTP server response bodies, as bytes sent.",
    Kind::Histogram,
);
pub(crate) const HTTP_ROUTE_OVERFLOW: Describe = family(
    "instrument_metrics_http_route_overflow_total",
    "HTTP requests whose route value was past the route limit and counted as _OTHER.",
    Kind::Counter,
);

pub(crate) const GRPC_SERVER_STARTED: Describe = family(
    "grpc_server_started_total",
    "Total number of RPCs started on the server.",
    Kind::Counter,
);
pub(crate) const GRPC_SERVER_HANDLED: Describe = family(
    "grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or failure.",
    Kind::Counter,
);
pub(crate) const GRPC_SERVER_RECEIVED: Describe = family(
    "grpc_server_msg_received_total",
    "Total number of RPC stream messages received on the server.",
    Kind::Counter,
);
pub(crate) const GRPC_SERVER_SENT: Describe = family(
    "grpc_server_msg_sent_total",
    "Total number of gRPC stream messages sent by the server.",
    Kind::Counter,
);
pub(crate) const GRPC_SERVER_HANDLING: Describe = Describe {
    unit: Some("seconds"),
    ..family(
        "grpc_server_handling_seconds",
        "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
        Kind::Histogram,
    )
};
pub(crate) const GRPC_CLIENT_STARTED: Describe = family(
    "grpc_client_started_total",
    "Total number of RPCs started on the client.",
    Kind::Counter,
);
pub(crate) const GRPC_CLIENT_HANDLED: Describe = family(
    "grpc_client_handled_total",
    "Total number of RPCs completed by the client, regardless of success or failure.",
    Kind::Counter,
);
pub(crate) const GRPC_CLIENT_RECEIVED: Describe = family(
    "grpc_client_msg_received_total",
    "Total number of RPC stream messages received by the client.",
    Kind::Counter,
);
pub(crate) const GRPC_CLIENT_SENT: Describe = family(
    "grpc_client_msg_sent_total",
    "Total number of gRPC stream messages sent by the client.",
    Kind::Counter,
);
pub(crate) const GRPC_CLIENT_HANDLING: Describe = Describe {
    unit: Some("seconds"),
    ..family(
        "grpc_client_handling_seconds",
        "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
        Kind::Histogram,
    )
};
pub(crate) const GRPC_TRANSPORT_ERRORS: Describe = family(
    "instrument_metrics_grpc_transport_errors_total",
    "gRPC calls that ended by a transport failure (also counted in handled, by the code the caller saw).",
    Kind::Counter,
);
pub(crate) const GRPC_METHOD_OVERFLOW: Describe = family(
    "instrument_metrics_grpc_method_overflow_total",
    "gRPC calls of undeclared methods counted as _OTHER because the limit of distinct methods was reached.",
    Kind::Counter,
);

/// The gRPC families, server then client.
pub(crate) const GRPC_SERVER_BUSY: Describe = family(
    "grpc_server_handling_busy_seconds",
    "Time gRPC calls spent inside poll on the server (handler and response stream), per call.",
    Kind::Histogram,
);
pub(crate) const GRPC_SERVER_SLOW_POLLS: Describe = family(
    "grpc_server_slow_polls_total",
    "Polls of gRPC calls on the server longer than the slow-poll threshold.",
    Kind::Counter,
);

pub(crate) const GRPC_FAMILIES: [Describe; 14] = [
    GRPC_SERVER_STARTED,
    GRPC_SERVER_HANDLED,
    GRPC_SERVER_RECEIVED,
    GRPC_SERVER_SENT,
    GRPC_SERVER_HANDLING,
    GRPC_CLIENT_STARTED,
    GRPC_CLIENT_HANDLED,
    GRPC_CLIENT_RECEIVED,
    GRPC_CLIENT_SENT,
    GRPC_CLIENT_HANDLING,
    GRPC_TRANSPORT_ERRORS,
    GRPC_METHOD_OVERFLOW,
    GRPC_SERVER_BUSY,
    GRPC_SERVER_SLOW_POLLS,
];

pub(crate) const HTTP_CLIENT_DURATION: Describe = family(
    "http_client_request_duration_seconds",
    "Duration of HTTP client requests, until the response body was received.",
    Kind::Histogram,
);
pub(crate) const HTTP_CLIENT_ACTIVE: Describe = family(
    "http_client_active_requests",
    "Number of active HTTP client requests.",
    Kind::Gauge,
);
pub(crate) const HTTP_CLIENT_REQUEST_SIZE: Describe = family(
    "http_client_request_body_size_bytes",
    "Size of HTTP client request bodies, for requests whose length was known.",
    Kind::Histogram,
);
pub(crate) const HTTP_CLIENT_RESPONSE_SIZE: Describe = family(
    "http_client_response_body_size_bytes",
    "Size of HTTP client response bodies, as bytes received.",
    Kind::Histogram,
);
pub(crate) const HTTP_CLIENT_ADDRESS_OVERFLOW: Describe = family(
    "instrument_metrics_http_client_address_overflow_total",
    "HTTP client requests whose server address was past the address limit and counted as _OTHER.",
    Kind::Counter,
);

pub(crate) const PROCESS_CPU: Describe = family(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    Kind::Counter,
);
pub(crate) const PROCESS_OPEN_FDS: Describe = family(
    "process_open_fds",
    "Number of open file descriptors.",
    Kind::Gauge,
);
pub(crate) const PROCESS_MAX_FDS: Describe = family(
    "process_max_fds",
    "Maximum number of open file descriptors.",
    Kind::Gauge,
);
pub(crate) const PROCESS_VIRTUAL: Describe = family(
    "process_virtual_memory_bytes",
    "Virtual memory size in bytes.",
    Kind::Gauge,
);
pub(crate) const PROCESS_RESIDENT: Describe = family(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    Kind::Gauge,
);
pub(crate) const PROCESS_START: Describe = family(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    Kind::Gauge,
);
pub(crate) const PROCESS_THREADS: Describe = family(
    "process_threads",
    "Number of OS threads in the process.",
    Kind::Gauge,
);

pub(crate) const HEAP_ALLOCATED: Describe = family(
    "process_heap_allocated_bytes",
    "Bytes allocated on the heap and not yet freed, through the counting global allocator.",
    Kind::Gauge,
);
pub(crate) const HEAP_ALLOCATIONS: Describe = family(
    "process_heap_allocations_total",
    "Allocations made through the counting global allocator, reallocations included.",
    Kind::Counter,
);

pub(crate) const SCRAPES: Describe = family(
    "instrument_metrics_scrapes_total",
    "Scrapes of the metrics endpoint, by HTTP status code.",
    Kind::Counter,
);
pub(crate) const SCRAPES_IN_FLIGHT: Describe = family(
    "instrument_metrics_scrapes_in_flight",
    "Scrapes of the metrics endpoint being served right now.",
    Kind::Gauge,
);

pub(crate) const BUILD_INFO: Describe = family(
    "app_build_info",
    "The application's crate name and version; the value is always 1.",
    Kind::Gauge,
);

/// The function families, as the registry's collector describes them.
pub(crate) const FUNCTION_FAMILIES: [Describe; 6] =
    [CALLS, DURATION, IN_FLIGHT, BUSY, SLOW_POLLS, OVERFLOW];

// The tokio runtime families: label `runtime`, and `worker` on the per-worker ones.
pub(crate) const TOKIO_WORKERS: Describe = family(
    "tokio_runtime_workers",
    "Worker threads of the tokio runtime.",
    Kind::Gauge,
);
pub(crate) const TOKIO_ALIVE_TASKS: Describe = family(
    "tokio_runtime_alive_tasks",
    "Tasks spawned on the tokio runtime that have not finished yet.",
    Kind::Gauge,
);
pub(crate) const TOKIO_GLOBAL_QUEUE_DEPTH: Describe = family(
    "tokio_runtime_global_queue_depth",
    "Tasks waiting in the tokio runtime's global (injection) queue.",
    Kind::Gauge,
);
pub(crate) const TOKIO_WORKER_BUSY: Describe = Describe {
    unit: Some("seconds"),
    ..family(
        "tokio_runtime_worker_busy_seconds_total",
        "Time the tokio worker spent running tasks, in seconds.",
        Kind::Counter,
    )
};
pub(crate) const TOKIO_WORKER_PARKS: Describe = family(
    "tokio_runtime_worker_parks_total",
    "Times the tokio worker parked (went idle waiting for work).",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_BLOCKING_THREADS: Describe = family(
    "tokio_runtime_blocking_threads",
    "Threads of the tokio runtime's blocking pool.",
    Kind::Gauge,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_IDLE_BLOCKING_THREADS: Describe = family(
    "tokio_runtime_idle_blocking_threads",
    "Threads of the tokio runtime's blocking pool waiting for work.",
    Kind::Gauge,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_BLOCKING_QUEUE_DEPTH: Describe = family(
    "tokio_runtime_blocking_queue_depth",
    "Blocking tasks waiting for a thread of the tokio runtime's blocking pool.",
    Kind::Gauge,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_SPAWNED_TASKS: Describe = family(
    "tokio_runtime_spawned_tasks_total",
    "Tasks spawned on the tokio runtime.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_REMOTE_SCHEDULES: Describe = family(
    "tokio_runtime_remote_schedules_total",
    "Tasks scheduled on the tokio runtime from outside its workers.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_FORCED_YIELDS: Describe = family(
    "tokio_runtime_budget_forced_yields_total",
    "Times a task was made to yield because it used up its cooperative budget.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_POLLS: Describe = family(
    "tokio_runtime_worker_polls_total",
    "Tasks the tokio worker polled.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_STEALS: Describe = family(
    "tokio_runtime_worker_steals_total",
    "Tasks the tokio worker stole from other workers.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_STEAL_OPERATIONS: Describe = family(
    "tokio_runtime_worker_steal_operations_total",
    "Times the tokio worker stole tasks from another worker.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_NOOPS: Describe = family(
    "tokio_runtime_worker_noops_total",
    "Times the tokio worker woke up and found no work.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_LOCAL_SCHEDULES: Describe = family(
    "tokio_runtime_worker_local_schedules_total",
    "Tasks the tokio worker scheduled on its own local queue.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_OVERFLOWS: Describe = family(
    "tokio_runtime_worker_overflows_total",
    "Times the tokio worker's local queue overflowed into the global queue.",
    Kind::Counter,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_LOCAL_QUEUE_DEPTH: Describe = family(
    "tokio_runtime_worker_local_queue_depth",
    "Tasks waiting in the tokio worker's local queue.",
    Kind::Gauge,
);
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_WORKER_MEAN_POLL_TIME: Describe = Describe {
    unit: Some("seconds"),
    ..family(
        "tokio_runtime_worker_mean_poll_time_seconds",
        "Moving average of the time the tokio worker spent in one poll, in seconds.",
        Kind::Gauge,
    )
};

/// The tokio runtime families (with `--cfg tokio_unstable`, the unstable ones too).
#[cfg(not(tokio_unstable))]
pub(crate) const TOKIO_FAMILIES: &[Describe] = &[
    TOKIO_WORKERS,
    TOKIO_ALIVE_TASKS,
    TOKIO_GLOBAL_QUEUE_DEPTH,
    TOKIO_WORKER_BUSY,
    TOKIO_WORKER_PARKS,
];
/// The tokio runtime families (with `--cfg tokio_unstable`, the unstable ones too).
#[cfg(tokio_unstable)]
pub(crate) const TOKIO_FAMILIES: &[Describe] = &[
    TOKIO_WORKERS,
    TOKIO_ALIVE_TASKS,
    TOKIO_GLOBAL_QUEUE_DEPTH,
    TOKIO_WORKER_BUSY,
    TOKIO_WORKER_PARKS,
    TOKIO_BLOCKING_THREADS,
    TOKIO_IDLE_BLOCKING_THREADS,
    TOKIO_BLOCKING_QUEUE_DEPTH,
    TOKIO_SPAWNED_TASKS,
    TOKIO_REMOTE_SCHEDULES,
    TOKIO_FORCED_YIELDS,
    TOKIO_WORKER_POLLS,
    TOKIO_WORKER_STEALS,
    TOKIO_WORKER_STEAL_OPERATIONS,
    TOKIO_WORKER_NOOPS,
    TOKIO_WORKER_LOCAL_SCHEDULES,
    TOKIO_WORKER_OVERFLOWS,
    TOKIO_WORKER_LOCAL_QUEUE_DEPTH,
    TOKIO_WORKER_MEAN_POLL_TIME,
];

/// The process families.
pub(crate) const PROCESS_FAMILIES: [Describe; 7] = [
    PROCESS_CPU,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
    PROCESS_VIRTUAL,
    PROCESS_RESIDENT,
    PROCESS_START,
    PROCESS_THREADS,
];

/// The heap families (with `alloc::Counting` as the global allocator).
pub(crate) const HEAP_FAMILIES: [Describe; 2] = [HEAP_ALLOCATED, HEAP_ALLOCATIONS];

/// The HTTP server families.
pub(crate) const HTTP_FAMILIES: [Describe; 7] = [
    HTTP_DURATION,
    HTTP_ACTIVE,
    HTTP_REQUEST_SIZE,
    HTTP_RESPONSE_SIZE,
    HTTP_ROUTE_OVERFLOW,
    HTTP_BUSY,
    HTTP_SLOW_POLLS,
];

/// The HTTP client families.
pub(crate) const HTTP_CLIENT_FAMILIES: [Describe; 5] = [
    HTTP_CLIENT_DURATION,
    HTTP_CLIENT_ACTIVE,
    HTTP_CLIENT_REQUEST_SIZE,
    HTTP_CLIENT_RESPONSE_SIZE,
    HTTP_CLIENT_ADDRESS_OVERFLOW,
];

impl Family {
    /// One of our families, with its samples.
    pub(crate) fn ours(describe: Describe, samples: Vec<Sample>) -> Family {
        Family {
            name: describe.name.into(),
            help: describe.help.into(),
            kind: describe.kind,
            unit: describe.unit,
            decorated: true,
            samples,
        }
    }
}

/// What a registry built with `Registry::new_custom(prefix, labels)` does to every family it
/// gathers; the encoders do the same to ours.
#[derive(Default)]
pub(crate) struct Decorations {
    /// Prepended to family names (`app_`), or empty.
    pub prefix: String,
    /// Appended to every series' labels (`,region="eu"`), escaped, or empty.
    pub labels: String,
    /// The same labels as name/value pairs, unescaped (for protobuf).
    pub pairs: Vec<(String, String)>,
}

/// Nanoseconds summed in a `u128`, as seconds.
pub(crate) fn nanos_to_seconds(nanos: u128) -> f64 {
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 ns (104 days of summed time)
    let n = nanos as f64;
    n / 1e9
}
