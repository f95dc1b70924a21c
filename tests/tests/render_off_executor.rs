//! The axum and actix-web `/metrics` handlers gather the registry off the executor's thread,
//! like the standalone exporter: a slow collector must not hold up the tasks scheduled there.

use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use instrument_metrics::prometheus::core::{Collector, Desc};
use instrument_metrics::prometheus::proto::{Gauge, Metric, MetricFamily, MetricType};

const PROBE: &str = "render_thread_probe";

/// Every thread a gather of the registry ran `collect()` on.
static COLLECTED_ON: Mutex<Vec<ThreadId>> = Mutex::new(Vec::new());

struct ThreadRecorder {
    desc: Desc,
}

impl Collector for ThreadRecorder {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        COLLECTED_ON
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(std::thread::current().id());
        let mut gauge = Gauge::default();
        gauge.set_value(1.0);
        let mut family = MetricFamily::default();
        family.set_name(PROBE.to_owned());
        family.set_help("Records the thread it is collected on (test).".to_owned());
        family.set_field_type(MetricType::GAUGE);
        family.set_metric(vec![Metric::from_gauge(gauge)]);
        vec![family]
    }
}

fn register_recorder() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let desc = Desc::new(
            PROBE.to_owned(),
            "Records the thread it is collected on (test).".to_owned(),
            Vec::new(),
            Default::default(),
        )
        .unwrap();
        instrument_metrics::registry()
            .register(Box::new(ThreadRecorder { desc }))
            .unwrap();
    });
}

/// Checks that the gather behind `body` ran, and never on `executor`.
fn assert_gathered_elsewhere(executor: ThreadId, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    assert!(
        text.lines().any(|l| l == format!("{PROBE} 1")),
        "the recorder was gathered: {text}"
    );
    let seen = COLLECTED_ON
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert!(!seen.is_empty());
    assert!(
        !seen.contains(&executor),
        "collect() ran on the executor's thread {executor:?} (all: {seen:?})"
    );
}

#[test]
fn axum_handler_gathers_off_the_executor_thread() {
    register_recorder();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (executor, response) = rt.block_on(async {
        let executor = std::thread::current().id();
        let response = instrument_metrics::axum::metrics(axum::http::HeaderMap::new()).await;
        (executor, response)
    });
    assert_eq!(response.status(), 200);
    let body = rt
        .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
        .unwrap();
    assert_gathered_elsewhere(executor, &body);
}

#[test]
fn actix_handler_gathers_off_the_executor_thread() {
    register_recorder();
    let request = actix_web::test::TestRequest::get().to_http_request();
    let (executor, response) = actix_web::rt::System::new().block_on(async {
        let executor = std::thread::current().id();
        (executor, instrument_metrics::actix::metrics(request).await)
    });
    assert_eq!(response.status(), 200);
    let body = actix_web::body::to_bytes(response.into_body());
    let body = actix_web::rt::System::new().block_on(body).unwrap();
    assert_gathered_elsewhere(executor, &body);
}
