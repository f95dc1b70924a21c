//! The live page's JSON (`/api/functions`) by exact values, with snapshots taken at chosen
//! times (`__private::live_sample_at`), and the page and JSON as the exporter, axum and actix-web
//! serve them.
//!
//! The snapshots are process-wide, so the tests run one at a time (`serial()`).

use std::future::Future;
use std::panic::catch_unwind;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use instrument_metrics::http::{HttpMetrics, MetricsLayer};
use instrument_metrics::{instrument_metrics, live, Exporter};
use instrument_metrics_tests::http_client::request;
use serde_json::Value;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 0: ok at once; 1: error at once; 2: panics at once; 3: ok after 100 ms.
#[instrument_metrics(buckets = [0.05, 0.5, 5.0], in_flight)]
fn job(kind: u8) -> Result<(), String> {
    match kind {
        0 => Ok(()),
        1 => Err("failed".to_owned()),
        2 => panic!("job panicked (on purpose)"),
        _ => {
            std::thread::sleep(Duration::from_millis(100));
            Ok(())
        }
    }
}

#[instrument_metrics(buckets = [0.05, 0.5, 5.0], in_flight)]
async fn waits_forever() {
    std::future::pending::<()>().await;
}

#[instrument_metrics]
fn never_called_live() {}

fn json() -> Value {
    serde_json::from_str(&live::functions_json()).expect("valid JSON")
}

fn entry<'a>(doc: &'a Value, function: &str) -> &'a Value {
    doc["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == function && f["module"] == "live_api")
        .unwrap_or_else(|| panic!("{function} in {doc}"))
}

fn route<'a>(doc: &'a Value, route: &str) -> &'a Value {
    doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == route && r["method"] == "GET")
        .unwrap_or_else(|| panic!("{route} in {doc}"))
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// What `histogram_quantile` gives for rank `q * total` inside `(lower, upper]`, holding
/// `here` observations above `below`.
fn interpolated(q: f64, total: f64, lower: f64, upper: f64, below: f64, here: f64) -> f64 {
    lower + (upper - lower) * ((q * total - below) / here)
}

fn results(v: &Value) -> [u64; 4] {
    ["ok", "error", "panic", "cancelled"].map(|r| v[r].as_u64().unwrap())
}

async fn get(app: &axum::Router, path: &str) -> u16 {
    use tower::ServiceExt as _;
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    // Read to the end: the exchange is complete (and measured) once its body is sent.
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    status
}

#[test]
fn windows_rates_ratios_and_quantiles_are_exact() {
    let _serial = serial();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let http = HttpMetrics::builder()
        .label("app", "live_api")
        .duration_buckets([0.5, 5.0])
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/ok", axum::routing::get(|| async { "fine" }))
        .route(
            "/fail",
            axum::routing::get(|| async { (axum::http::StatusCode::BAD_GATEWAY, "no") }),
        )
        .layer(MetricsLayer::new(http));

    // CPU time is counted in whole clock ticks: one used before the snapshots, so the
    // process's CPU seconds below must be above 0.
    instrument_metrics_tests::use_a_cpu_tick();
    instrument_metrics::__private::live_sample_at(0.0);
    // Before any call: everything at 0, every window empty.
    let doc = json();
    assert_eq!(doc["schema"], 1);
    assert_eq!(f(&doc["now_seconds"]), Some(0.0));
    assert_eq!(doc["objectives"], serde_json::json!([]));
    let idle = entry(&doc, "never_called_live");
    assert_eq!(idle["total"], 0);
    assert_eq!(idle["in_flight"], Value::Null);
    assert_eq!(idle["windows"]["1m"]["seconds"], 0);
    assert_eq!(idle["windows"]["1m"]["calls_per_second"], Value::Null);
    assert_eq!(idle["windows"]["1m"]["failure_ratio"], Value::Null);
    assert_eq!(idle["windows"]["1m"]["p99_seconds"], Value::Null);

    // Ten minutes' worth: 7 ok (2 of them slow), 2 errors, 1 panic; 3 + 1 requests.
    for kind in [0, 0, 0, 0, 0, 1, 1, 3, 3] {
        let _ = job(kind);
    }
    // A silent hook: printing a backtrace happens inside the call and would make it slow.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = catch_unwind(|| job(2)).is_err();
    std::panic::set_hook(hook);
    assert!(panicked);
    rt.block_on(async {
        for path in ["/ok", "/ok", "/ok", "/fail"] {
            get(&app, path).await;
        }
    });
    instrument_metrics::__private::live_sample_at(600.0);

    // The last minute: 3 ok, 1 error, all fast; 1 more request of each route.
    for kind in [0, 0, 0, 1] {
        let _ = job(kind);
    }
    rt.block_on(async {
        get(&app, "/ok").await;
        get(&app, "/fail").await;
    });
    // One call running at the snapshot.
    let mut pending = Box::pin(waits_forever());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(pending.as_mut().poll(&mut cx) == Poll::Pending);
    instrument_metrics::__private::live_sample_at(660.0);

    let doc = json();
    assert_eq!(f(&doc["now_seconds"]), Some(660.0));
    assert_eq!(f(&doc["history_seconds"]), Some(660.0));
    assert_eq!(doc["snapshots"], 3);

    let job = entry(&doc, "job");
    assert_eq!(job["labels"], serde_json::json!({}));
    assert_eq!(job["total"], 14);
    assert_eq!(results(&job["results"]), [10, 3, 1, 0]);
    assert_eq!(job["in_flight"], 0);
    // 1 and 5 minutes: from the snapshot at 600 s (the oldest inside both).
    for window in ["1m", "5m"] {
        let w = &job["windows"][window];
        assert_eq!(f(&w["seconds"]), Some(60.0), "{window}");
        assert_eq!(w["calls"], 4);
        assert_eq!(results(&w["results"]), [3, 1, 0, 0]);
        assert_eq!(f(&w["calls_per_second"]), Some(4.0 / 60.0));
        assert_eq!(f(&w["failure_ratio"]), Some(0.25));
        assert_eq!(f(&w["failure_ratio_by_result"]["error"]), Some(0.25));
        assert_eq!(f(&w["failure_ratio_by_result"]["panic"]), Some(0.0));
        assert_eq!(f(&w["failure_ratio_by_result"]["cancelled"]), Some(0.0));
        // All four in (0, 0.05].
        for (q, key) in [
            (0.5, "p50_seconds"),
            (0.9, "p90_seconds"),
            (0.99, "p99_seconds"),
        ] {
            assert_eq!(
                f(&w[key]),
                Some(interpolated(q, 4.0, 0.0, 0.05, 0.0, 4.0)),
                "{window} {key}"
            );
        }
    }
    // 15 minutes: all the history, 660 s.
    let w = &job["windows"]["15m"];
    assert_eq!(f(&w["seconds"]), Some(660.0));
    assert_eq!(w["calls"], 14);
    assert_eq!(f(&w["calls_per_second"]), Some(14.0 / 660.0));
    assert_eq!(f(&w["failure_ratio"]), Some(4.0 / 14.0));
    assert_eq!(f(&w["failure_ratio_by_result"]["error"]), Some(3.0 / 14.0));
    assert_eq!(f(&w["failure_ratio_by_result"]["panic"]), Some(1.0 / 14.0));
    // 12 fast (the panic too: every outcome is timed), 2 slow in (0.05, 0.5].
    assert_eq!(
        f(&w["p50_seconds"]),
        Some(interpolated(0.5, 14.0, 0.0, 0.05, 0.0, 12.0))
    );
    assert_eq!(
        f(&w["p90_seconds"]),
        Some(interpolated(0.9, 14.0, 0.05, 0.5, 12.0, 2.0))
    );
    assert_eq!(
        f(&w["p99_seconds"]),
        Some(interpolated(0.99, 14.0, 0.05, 0.5, 12.0, 2.0))
    );
    // One point per interval.
    let h = &job["history"];
    assert_eq!(h["at_seconds"], serde_json::json!([600, 660]));
    assert_eq!(f(&h["calls_per_second"][0]), Some(10.0 / 600.0));
    assert_eq!(f(&h["calls_per_second"][1]), Some(4.0 / 60.0));
    assert_eq!(f(&h["failure_ratio"][0]), Some(3.0 / 10.0));
    assert_eq!(f(&h["failure_ratio"][1]), Some(0.25));
    assert_eq!(
        f(&h["p99_seconds"][0]),
        Some(interpolated(0.99, 10.0, 0.05, 0.5, 8.0, 2.0))
    );

    let waiting = entry(&doc, "waits_forever");
    assert_eq!(waiting["in_flight"], 1);
    assert_eq!(waiting["total"], 0);

    // Routes: 5xx is an error; bounds are the layer's own.
    let ok = route(&doc, "/ok");
    assert_eq!(ok["labels"], serde_json::json!({"app": "live_api"}));
    assert_eq!(ok["total"], 4);
    assert_eq!(results(&ok["results"]), [4, 0, 0, 0]);
    assert_eq!(ok["in_flight"], Value::Null);
    assert_eq!(ok["windows"]["1m"]["calls"], 1);
    assert_eq!(
        f(&ok["windows"]["15m"]["calls_per_second"]),
        Some(4.0 / 660.0)
    );
    assert_eq!(f(&ok["windows"]["15m"]["failure_ratio"]), Some(0.0));
    assert_eq!(
        f(&ok["windows"]["15m"]["p90_seconds"]),
        Some(interpolated(0.9, 4.0, 0.0, 0.5, 0.0, 4.0))
    );
    let fail = route(&doc, "/fail");
    assert_eq!(fail["total"], 2);
    assert_eq!(results(&fail["results"]), [0, 2, 0, 0]);
    assert_eq!(f(&fail["windows"]["1m"]["failure_ratio"]), Some(1.0));
    assert_eq!(
        f(&fail["windows"]["1m"]["failure_ratio_by_result"]["error"]),
        Some(1.0)
    );

    // The pending call dropped: cancelled, and no longer in flight.
    drop(pending);
    instrument_metrics::__private::live_sample_at(720.0);
    let doc = json();
    let waiting = entry(&doc, "waits_forever");
    assert_eq!(waiting["in_flight"], 0);
    assert_eq!(results(&waiting["results"]), [0, 0, 0, 1]);
    let w = &waiting["windows"]["1m"];
    assert_eq!(w["calls"], 1);
    assert_eq!(f(&w["failure_ratio_by_result"]["cancelled"]), Some(1.0));
    // The 5 minute window now starts at 600 s (the oldest snapshot in [420, 720]).
    let job = entry(&doc, "job");
    assert_eq!(f(&job["windows"]["5m"]["seconds"]), Some(120.0));
    assert_eq!(job["windows"]["5m"]["calls"], 4);
    assert_eq!(job["windows"]["1m"]["calls"], 0);
    assert_eq!(job["windows"]["1m"]["failure_ratio"], Value::Null);
    assert_eq!(f(&job["windows"]["1m"]["calls_per_second"]), Some(0.0));

    // Process: CPU and memory from /proc.
    let process = &doc["process"];
    assert!(f(&process["cpu_seconds_total"]).unwrap() > 0.0, "{process}");
    assert!(f(&process["resident_memory_bytes"]).unwrap() > 0.0);
    assert_eq!(f(&process["windows"]["1m"]["seconds"]), Some(60.0));
}

fn check_page(status: u16, content_type: Option<&str>, csp: Option<&str>, body: &str) {
    assert_eq!(status, 200);
    assert_eq!(content_type, Some("text/html; charset=utf-8"));
    assert!(csp.is_some_and(|c| c.contains("connect-src 'self'")));
    assert!(body.starts_with("<!doctype html>"));
    assert!(body.contains("<table id=\"functions\""));
    assert!(body.len() < 100 * 1024);
}

fn check_json(status: u16, content_type: Option<&str>, body: &str) -> Value {
    assert_eq!(status, 200);
    assert_eq!(content_type, Some("application/json"));
    let doc: Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(doc["schema"], 1);
    assert!(doc["functions"].is_array());
    doc
}

#[test]
fn the_exporter_serves_the_page_and_its_json_like_metrics() {
    let _serial = serial();
    let exporter = instrument_metrics::serve("127.0.0.1:0").unwrap();
    let addr = exporter.local_addr();
    let page = request(addr, "GET", "/", &[]);
    check_page(
        page.status,
        page.header("content-type"),
        page.header("content-security-policy"),
        &page.text(),
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let api = request(addr, "GET", "/api/functions", &[]);
    let doc = check_json(api.status, api.header("content-type"), &api.text());
    assert!(doc["functions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["function"] == "never_called_live"));
    // HEAD: the headers and length of a GET, no body.
    let head = request(addr, "HEAD", "/", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(live::page().len().to_string().as_str())
    );
    assert!(head.body.is_empty());
    for path in ["/", "/api/functions"] {
        let post = request(addr, "POST", path, &[]);
        assert_eq!(post.status, 405, "{path}");
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
    }
    assert_eq!(request(addr, "GET", "/api/other", &[]).status, 404);
    exporter.shutdown();

    // Credentials: as on /metrics.
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .bearer_token("s3cret")
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    for path in ["/", "/api/functions", "/metrics"] {
        let refused = request(addr, "GET", path, &[]);
        assert_eq!(refused.status, 401, "{path}");
        assert_eq!(
            refused.header("www-authenticate"),
            Some(r#"Bearer realm="metrics""#)
        );
        let allowed = request(addr, "GET", path, &[("Authorization", "Bearer s3cret")]);
        assert_eq!(allowed.status, 200, "{path}");
    }
    exporter.shutdown();

    // Elsewhere, and off.
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .live_page("debug/")
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    assert_eq!(request(addr, "GET", "/debug/", &[]).status, 200);
    assert_eq!(
        request(addr, "GET", "/debug/api/functions", &[]).status,
        200
    );
    assert_eq!(request(addr, "GET", "/", &[]).status, 404);
    assert_eq!(request(addr, "GET", "/api/functions", &[]).status, 404);
    exporter.shutdown();

    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .without_live_page()
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    for path in ["/", "/api/functions"] {
        let reply = request(addr, "GET", path, &[]);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.text(), "Not Found\n");
    }
    assert_eq!(request(addr, "GET", "/metrics", &[]).status, 200);
}

#[test]
fn the_axum_handlers_serve_the_page_and_its_json() {
    let _serial = serial();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use tower::ServiceExt as _;
        let app = axum::Router::new()
            .route("/", axum::routing::get(instrument_metrics::axum::live_page))
            .route(
                "/api/functions",
                axum::routing::get(instrument_metrics::axum::live_api),
            );
        for path in ["/", "/api/functions"] {
            let request = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let body = String::from_utf8(body.to_vec()).unwrap();
            if path == "/" {
                check_page(
                    status,
                    header("content-type"),
                    header("content-security-policy"),
                    &body,
                );
            } else {
                check_json(status, header("content-type"), &body);
            }
        }
    });
}

#[test]
fn the_actix_handlers_serve_the_page_and_its_json() {
    let _serial = serial();
    actix_web::rt::System::new().block_on(async {
        use actix_web::{test, web, App};
        let app = test::init_service(
            App::new()
                .route("/", web::get().to(instrument_metrics::actix::live_page))
                .route(
                    "/api/functions",
                    web::get().to(instrument_metrics::actix::live_api),
                ),
        )
        .await;
        for path in ["/", "/api/functions"] {
            let response =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let body = test::read_body(response).await;
            let body = String::from_utf8(body.to_vec()).unwrap();
            if path == "/" {
                check_page(
                    status,
                    header("content-type"),
                    header("content-security-policy"),
                    &body,
                );
            } else {
                check_json(status, header("content-type"), &body);
            }
        }
    });
}
