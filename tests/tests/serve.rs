//! The standalone exporter over real HTTP on loopback: routing, content negotiation, gzip,
//! HEAD, the scrape limit, credentials, binding and shutdown, self-metrics.
//!
//! The tests share one process-wide registry and read exact counts back, so they run one at
//! a time (`serial()`).

use std::io::{BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use instrument_metrics::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use instrument_metrics::prometheus::core::{Collector, Desc};
use instrument_metrics::prometheus::proto::MetricFamily;
use instrument_metrics::prometheus::IntGauge;
use instrument_metrics::{instrument_metrics, serve, Error, Exporter};
use instrument_metrics_tests::http_client::{self, connect, read_reply, send, Reply};
use instrument_metrics_tests::metrics_endpoint::{
    OPENMETRICS_UTF8_CONTENT_TYPE, PROMETHEUS_2_ACCEPT, PROMETHEUS_3_ACCEPT,
};
use instrument_metrics_tests::{parse, value, Sample};

const ERROR_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Requests through the shared client, checked for the exporter's framing.

/// The exporter gives every response, HEAD included, a `Content-Length` and never chunks.
fn assert_framed(reply: &Reply) {
    assert_eq!(
        reply.header("transfer-encoding"),
        None,
        "bodies have a length"
    );
    let _length: usize = reply
        .header("content-length")
        .expect("content-length")
        .parse()
        .unwrap();
}

/// One request on a fresh connection ([`http_client::request`]: also checks the server then
/// closes it with nothing more sent), framed as the exporter frames.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let reply = http_client::request(addr, method, path, headers);
    assert_framed(&reply);
    reply
}

fn get(addr: SocketAddr, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", "/metrics", headers)
}

fn start() -> Exporter {
    serve("127.0.0.1:0").expect("serve on a free loopback port")
}

/// `instrument_metrics_scrapes_total{code}`, 0 while the code has never been served.
fn scrapes(text: &str, code: &str) -> f64 {
    let found: Vec<Sample> = parse(text)
        .into_iter()
        .filter(|s| {
            s.name == "instrument_metrics_scrapes_total"
                && s.labels.get("code").map(String::as_str) == Some(code)
        })
        .collect();
    assert!(found.len() <= 1, "{found:?}");
    found.first().map_or(0.0, |s| s.value)
}

fn function_samples(text: &str) -> Vec<Sample> {
    parse(text)
        .into_iter()
        .filter(|s| s.name.starts_with("function_calls"))
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[instrument_metrics]
fn exported_work(n: u32) -> Result<u32, String> {
    if n == 0 {
        Err("zero".to_owned())
    } else {
        Ok(n)
    }
}

#[instrument_metrics]
fn openmetrics_work() {}

#[instrument_metrics]
fn gzip_work() {}

#[test]
fn get_serves_text_format_with_exact_counts() {
    let _serial = serial();
    for n in [1, 2, 3] {
        exported_work(n).unwrap();
    }
    exported_work(0).unwrap_err();
    exported_work(0).unwrap_err();

    let exporter = start();
    let reply = get(exporter.local_addr(), &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.header("vary"), Some("Accept, Accept-Encoding"));
    let text = reply.text();
    assert!(!text.contains("# EOF"), "text 0.0.4 has no EOF marker");
    let f = ("function", "exported_work");
    assert_eq!(
        value(&text, "function_calls_total", &[f, ("result", "ok")]),
        3.0
    );
    assert_eq!(
        value(&text, "function_calls_total", &[f, ("result", "error")]),
        2.0
    );
    assert_eq!(
        value(&text, "function_calls_total", &[f, ("result", "panic")]),
        0.0
    );
    assert_eq!(
        value(&text, "function_calls_total", &[f, ("result", "cancelled")]),
        0.0
    );
    assert_eq!(
        value(&text, "function_calls_duration_seconds_count", &[f]),
        5.0
    );
    assert_eq!(
        value(
            &text,
            "function_calls_duration_seconds_bucket",
            &[f, ("le", "+Inf")]
        ),
        5.0
    );
    // Exactly what render() says about the functions, sample for sample.
    assert_eq!(
        function_samples(&text),
        function_samples(&instrument_metrics::render())
    );
}

#[test]
fn prometheus_2_and_3_get_openmetrics() {
    let _serial = serial();
    for _ in 0..4 {
        openmetrics_work();
    }
    let exporter = start();
    for (accept, content_type) in [
        (PROMETHEUS_2_ACCEPT, OPENMETRICS_CONTENT_TYPE),
        (PROMETHEUS_3_ACCEPT, OPENMETRICS_UTF8_CONTENT_TYPE),
    ] {
        let reply = get(exporter.local_addr(), &[("Accept", accept)]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some(content_type));
        assert_eq!(reply.header("vary"), Some("Accept, Accept-Encoding"));
        let text = reply.text();
        assert_eq!(text.lines().last(), Some("# EOF"));
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.lines().any(|l| l == "# TYPE function_calls counter"));
        assert!(text
            .lines()
            .any(|l| l == "# TYPE function_calls_duration_seconds histogram"));
        let f = ("function", "openmetrics_work");
        assert_eq!(
            value(&text, "function_calls_total", &[f, ("result", "ok")]),
            4.0
        );
        assert_eq!(
            value(&text, "function_calls_total", &[f, ("result", "error")]),
            0.0
        );
        assert_eq!(
            value(&text, "function_calls_duration_seconds_count", &[f]),
            4.0
        );
    }
    // A plain scraper still gets text 0.0.4.
    let reply = get(exporter.local_addr(), &[("Accept", "text/plain")]);
    assert_eq!(reply.header("content-type"), Some(TEXT_CONTENT_TYPE));
}

#[test]
fn gzip_when_the_scraper_accepts_it() {
    let _serial = serial();
    gzip_work();
    gzip_work();
    let exporter = start();
    let zipped = get(exporter.local_addr(), &[("Accept-Encoding", "gzip")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert_eq!(zipped.header("vary"), Some("Accept, Accept-Encoding"));
    assert_eq!(&zipped.body[..2], &[0x1f, 0x8b], "gzip magic");
    let text = zipped.gunzip();
    let f = ("function", "gzip_work");
    assert_eq!(
        value(&text, "function_calls_total", &[f, ("result", "ok")]),
        2.0
    );

    // The same function samples as an uncompressed scrape (nothing was called in between).
    let plain = get(exporter.local_addr(), &[("Accept-Encoding", "identity")]);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(function_samples(&text), function_samples(&plain.text()));

    // OpenMetrics and gzip together, the way Prometheus asks.
    let both = get(
        exporter.local_addr(),
        &[("Accept", PROMETHEUS_3_ACCEPT), ("Accept-Encoding", "gzip")],
    );
    assert_eq!(
        both.header("content-type"),
        Some(OPENMETRICS_UTF8_CONTENT_TYPE)
    );
    assert_eq!(both.header("content-encoding"), Some("gzip"));
    let om = both.gunzip();
    assert_eq!(om.lines().last(), Some("# EOF"));
    assert_eq!(
        value(&om, "function_calls_total", &[f, ("result", "ok")]),
        2.0
    );
}

#[test]
fn head_has_the_headers_and_no_body() {
    let _serial = serial();
    let exporter = start();
    for (accept, content_type) in [
        (None, TEXT_CONTENT_TYPE),
        (Some(PROMETHEUS_2_ACCEPT), OPENMETRICS_CONTENT_TYPE),
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        // `request` reads to the end and fails on any byte after the head.
        let reply = request(exporter.local_addr(), "HEAD", "/metrics", &headers);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some(content_type));
        assert_eq!(reply.header("vary"), Some("Accept, Accept-Encoding"));
        let length: usize = reply.header("content-length").unwrap().parse().unwrap();
        assert!(length > 100, "the length a GET would get, not {length}");
        assert!(reply.body.is_empty());
    }
    let zipped = request(
        exporter.local_addr(),
        "HEAD",
        "/metrics",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
}

#[test]
fn other_paths_are_404() {
    let _serial = serial();
    let exporter = start();
    // `/` and `/api/functions` are the live page's (tests/tests/live_api.rs).
    for path in ["/metric", "/metrics/", "/metrics/x", "/favicon.ico", "/api"] {
        for method in ["GET", "POST"] {
            let reply = request(exporter.local_addr(), method, path, &[]);
            assert_eq!(reply.status, 404, "{method} {path}");
            assert_eq!(reply.header("content-type"), Some(ERROR_CONTENT_TYPE));
            assert_eq!(reply.text(), "Not Found\n");
        }
    }
    // The query string is not part of the path.
    assert_eq!(
        request(exporter.local_addr(), "GET", "/metrics?x=1", &[]).status,
        200
    );
}

#[test]
fn other_methods_are_405_with_allow() {
    let _serial = serial();
    let exporter = start();
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let reply = request(exporter.local_addr(), method, "/metrics", &[]);
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        assert_eq!(reply.header("content-type"), Some(ERROR_CONTENT_TYPE));
        assert_eq!(reply.text(), "Method Not Allowed\n");
    }
}

#[test]
fn a_custom_path() {
    let _serial = serial();
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .path("internal/stats")
        .serve()
        .unwrap();
    let reply = request(exporter.local_addr(), "GET", "/internal/stats", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert_eq!(get(exporter.local_addr(), &[]).status, 404);
}

#[test]
fn keep_alive_serves_several_scrapes_on_one_connection() {
    let _serial = serial();
    let exporter = start();
    let stream = connect(exporter.local_addr());
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for i in 0..3 {
        let accept = if i % 2 == 0 {
            PROMETHEUS_2_ACCEPT
        } else {
            "text/plain"
        };
        send(&mut writer, "GET", "/metrics", &[("Accept", accept)], false);
        let reply = read_reply(&mut reader, false);
        assert_framed(&reply);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("connection"), None, "kept alive");
        let expected = if i % 2 == 0 {
            OPENMETRICS_CONTENT_TYPE
        } else {
            TEXT_CONTENT_TYPE
        };
        assert_eq!(reply.header("content-type"), Some(expected));
        assert!(!parse(&reply.text()).is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// The scrape limit, made deterministic with a collector that blocks until the test opens it.

#[derive(Clone)]
struct Gate {
    gauge: IntGauge,
    state: Arc<(Mutex<(usize, bool)>, Condvar)>,
}

impl Gate {
    fn new() -> Self {
        Gate {
            gauge: IntGauge::new("serve_test_gate", "Blocks scrapes until the test opens it.")
                .unwrap(),
            state: Arc::new((Mutex::new((0, false)), Condvar::new())),
        }
    }

    /// Waits (boundedly) until `n` scrapes are held in `collect`.
    fn wait_entered(&self, n: usize) {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut s = lock.lock().unwrap();
        while s.0 < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {n} scrapes reached the collector",
                s.0
            );
            s = cv.wait_timeout(s, left).unwrap().0;
        }
    }

    fn open(&self) {
        let (lock, cv) = &*self.state;
        lock.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        cv.notify_all();
    }
}

impl Collector for Gate {
    fn desc(&self) -> Vec<&Desc> {
        self.gauge.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (lock, cv) = &*self.state;
        let mut s = lock.lock().unwrap_or_else(PoisonError::into_inner);
        s.0 += 1;
        cv.notify_all();
        // Bounded, so nothing hangs if the test fails before opening the gate.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !s.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = cv
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(s);
        self.gauge.collect()
    }
}

/// Registered for one test; opened and unregistered when dropped, even on a failed assert.
struct Registered(Gate);

impl Registered {
    fn new() -> Self {
        let gate = Gate::new();
        instrument_metrics::registry()
            .register(Box::new(gate.clone()))
            .unwrap();
        Registered(gate)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.open();
        let _ = instrument_metrics::registry().unregister(Box::new(self.0.clone()));
    }
}

#[test]
fn beyond_max_concurrent_scrapes_is_503() {
    let _serial = serial();
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .max_concurrent_scrapes(2)
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    let before = get(addr, &[]).text();
    let gate = Registered::new();

    let held: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || get(addr, &[])))
        .collect();
    gate.0.wait_entered(2);

    // Both slots are taken: refused at once, not queued behind the blocked collector.
    let started = Instant::now();
    for method in ["GET", "HEAD"] {
        let refused = request(addr, method, "/metrics", &[]);
        assert_eq!(refused.status, 503, "{method}");
        assert_eq!(refused.header("content-type"), Some(ERROR_CONTENT_TYPE));
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Other paths are not scrapes and are still answered.
    assert_eq!(request(addr, "GET", "/other", &[]).status, 404);

    gate.0.open();
    for h in held {
        let reply = h.join().unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(value(&reply.text(), "serve_test_gate", &[]), 0.0);
    }
    // Slots are free again.
    let after = get(addr, &[]).text();
    drop(gate);
    assert_eq!(scrapes(&after, "503") - scrapes(&before, "503"), 2.0);
    // `before` itself, the two held ones.
    assert_eq!(scrapes(&after, "200") - scrapes(&before, "200"), 3.0);
}

// ---------------------------------------------------------------------------------------------
// Credentials.

#[test]
fn basic_auth_401_without_200_with() {
    let _serial = serial();
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .basic_auth("prometheus", "s3cret")
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    // base64("prometheus:s3cret"), base64("prometheus:wrong")
    let good = "Basic cHJvbWV0aGV1czpzM2NyZXQ=";
    for bad in [
        None,
        Some("Basic cHJvbWV0aGV1czp3cm9uZw=="),
        Some("Bearer s3cret"),
        Some("Basic not-base64!"),
    ] {
        let headers: Vec<(&str, &str)> = bad.map(|b| ("Authorization", b)).into_iter().collect();
        let reply = get(addr, &headers);
        assert_eq!(reply.status, 401, "{bad:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Basic realm="metrics", charset="UTF-8""#)
        );
        assert_eq!(reply.header("content-type"), Some(ERROR_CONTENT_TYPE));
        assert!(!reply.text().contains("function_calls"), "nothing leaks");
    }
    let reply = get(addr, &[("Authorization", good)]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert!(!parse(&reply.text()).is_empty());
    // Credentials come before the method check.
    assert_eq!(request(addr, "POST", "/metrics", &[]).status, 401);
    assert_eq!(
        request(addr, "POST", "/metrics", &[("Authorization", good)]).status,
        405
    );
}

#[test]
fn bearer_token_401_without_200_with() {
    let _serial = serial();
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .bearer_token("t0ken-42")
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    for bad in [
        None,
        Some("Bearer t0ken-4"),
        Some("Bearer t0ken-422"),
        Some("Basic dDBrZW4tNDI="),
        Some("t0ken-42"),
    ] {
        let headers: Vec<(&str, &str)> = bad.map(|b| ("Authorization", b)).into_iter().collect();
        let reply = get(addr, &headers);
        assert_eq!(reply.status, 401, "{bad:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="metrics""#)
        );
    }
    let reply = get(addr, &[("Authorization", "Bearer t0ken-42")]);
    assert_eq!(reply.status, 200);
    assert!(!parse(&reply.text()).is_empty());
    let head = request(
        addr,
        "HEAD",
        "/metrics",
        &[("Authorization", "bearer t0ken-42")],
    );
    assert_eq!(head.status, 200);
}

// ---------------------------------------------------------------------------------------------
// Binding and stopping.

#[test]
fn binding_a_taken_port_is_an_error() {
    let _serial = serial();
    let first = start();
    let addr = first.local_addr();
    match serve(addr) {
        Err(Error::Bind { addr: a, source }) => {
            assert_eq!(a, addr);
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("expected Error::Bind, got {other:?}"),
    }
    // The first one is unaffected.
    assert_eq!(get(addr, &[]).status, 200);

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = serve(taken.local_addr().unwrap()).unwrap_err();
    assert!(matches!(err, Error::Bind { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("cannot listen on 127.0.0.1:"),
        "{err}"
    );

    let err = serve("not an address").unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
}

#[test]
fn shutdown_frees_the_port() {
    let _serial = serial();
    let exporter = start();
    let addr = exporter.local_addr();
    assert_eq!(get(addr, &[]).status, 200);
    // An idle connection does not hold shutdown up, and is closed by it.
    let mut idle = connect(addr);
    let started = Instant::now();
    exporter.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut buf = [0u8; 16];
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0, "closed");
    assert!(
        TcpStream::connect(addr).is_err(),
        "nothing listens any more"
    );
    let again = TcpListener::bind(addr).expect("the port is free after shutdown");
    drop(again);
    // And an exporter can take it again.
    let second = serve(addr).unwrap();
    assert_eq!(get(addr, &[]).status, 200);
    second.shutdown();
}

#[test]
fn drop_frees_the_port() {
    let _serial = serial();
    let exporter = start();
    let addr = exporter.local_addr();
    assert_eq!(get(addr, &[]).status, 200);
    drop(exporter);
    assert!(
        TcpStream::connect(addr).is_err(),
        "nothing listens any more"
    );
    TcpListener::bind(addr).expect("the port is free after drop");
}

#[test]
fn shutdown_lets_a_scrape_in_progress_finish() {
    let _serial = serial();
    let exporter = start();
    let addr = exporter.local_addr();
    let gate = Registered::new();
    let held = std::thread::spawn(move || get(addr, &[]));
    gate.0.wait_entered(1);
    let stopper = std::thread::spawn(move || exporter.shutdown());
    std::thread::sleep(Duration::from_millis(200));
    gate.0.open();
    let reply = held.join().unwrap();
    assert_eq!(reply.status, 200);
    assert!(!parse(&reply.text()).is_empty());
    stopper.join().unwrap();
    drop(gate);
    TcpListener::bind(addr).expect("the port is free after shutdown");
}

// ---------------------------------------------------------------------------------------------
// Self-metrics and independence from the application's executor.

#[test]
fn self_metrics_count_every_answer_by_code() {
    let _serial = serial();
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .bearer_token("tok")
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    let auth = [("Authorization", "Bearer tok")];
    let before = get(addr, &auth).text();
    // While a scrape is rendered, it is the one in flight.
    assert_eq!(
        value(&before, "instrument_metrics_scrapes_in_flight", &[]),
        1.0
    );

    for _ in 0..3 {
        assert_eq!(get(addr, &auth).status, 200);
    }
    assert_eq!(request(addr, "HEAD", "/metrics", &auth).status, 200);
    for _ in 0..2 {
        assert_eq!(get(addr, &[]).status, 401);
    }
    assert_eq!(request(addr, "DELETE", "/metrics", &auth).status, 405);
    // Not the metrics path: not a scrape.
    for _ in 0..2 {
        assert_eq!(request(addr, "GET", "/nope", &auth).status, 404);
    }

    let after = get(addr, &auth).text();
    // `before` itself, three GETs and a HEAD.
    assert_eq!(scrapes(&after, "200") - scrapes(&before, "200"), 5.0);
    assert_eq!(scrapes(&after, "401") - scrapes(&before, "401"), 2.0);
    assert_eq!(scrapes(&after, "405") - scrapes(&before, "405"), 1.0);
    assert_eq!(scrapes(&after, "404"), 0.0);
    assert_eq!(scrapes(&after, "503") - scrapes(&before, "503"), 0.0);
    assert_eq!(
        value(&after, "instrument_metrics_scrapes_in_flight", &[]),
        1.0
    );
}

#[test]
fn scrapes_work_while_the_application_executor_is_blocked() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let exporter = start();
        let addr = exporter.local_addr();
        // Block the only executor thread; the exporter runs on its own.
        let reply = std::thread::spawn(move || get(addr, &[])).join().unwrap();
        assert_eq!(reply.status, 200);
        assert!(!parse(&reply.text()).is_empty());
        exporter.shutdown();
    });
}

#[test]
fn scrapes_answer_concurrently() {
    let _serial = serial();
    let exporter = Exporter::builder()
        .addr("127.0.0.1:0")
        .max_concurrent_scrapes(64)
        .serve()
        .unwrap();
    let addr = exporter.local_addr();
    let clients: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| {
                        let accept = if i % 2 == 0 {
                            PROMETHEUS_3_ACCEPT
                        } else {
                            "text/plain"
                        };
                        get(addr, &[("Accept", accept)])
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (i, c) in clients.into_iter().enumerate() {
        for reply in c.join().unwrap() {
            assert_eq!(reply.status, 200);
            let text = reply.text();
            assert!(!parse(&text).is_empty());
            assert_eq!(text.ends_with("# EOF\n"), i % 2 == 0);
        }
    }
}

#[test]
fn shutdown_does_not_wait_for_a_stuck_collector() {
    let _serial = serial();
    let exporter = start();
    let addr = exporter.local_addr();
    let gate = Registered::new();
    let client = std::thread::spawn(move || {
        let mut stream = connect(addr);
        send(&mut stream, "GET", "/metrics", &[], true);
        let mut got = Vec::new();
        // The connection is closed without a response (EOF or reset).
        let _ = stream.read_to_end(&mut got);
        got
    });
    gate.0.wait_entered(1);
    let started = Instant::now();
    exporter.shutdown();
    let took = started.elapsed();
    // The grace period (2 s) and not a moment for the collector, which is still blocked.
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(client.join().unwrap().is_empty(), "no partial response");
    TcpListener::bind(addr).expect("the port is free after shutdown");
    drop(gate);
}

#[test]
fn exporter_and_builder_can_be_shared() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Exporter>();
    send_sync::<instrument_metrics::ExporterBuilder>();
    send_sync::<Error>();
    // The builder is reusable, and never prints secrets.
    let builder = Exporter::builder()
        .addr("127.0.0.1:0")
        .bearer_token("hunter2");
    let debug = format!("{builder:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    let _serial = serial();
    let a = builder.serve().unwrap();
    let b = builder.clone().serve().unwrap();
    assert_ne!(a.local_addr(), b.local_addr());
}

#[test]
fn extreme_header_read_timeouts_are_clamped_not_fatal() {
    let _serial = serial();
    for timeout in [Duration::ZERO, Duration::MAX] {
        let exporter = Exporter::builder()
            .addr("127.0.0.1:0")
            .header_read_timeout(timeout)
            .serve()
            .expect("serve");
        let reply = http_client::request(exporter.local_addr(), "GET", "/metrics", &[]);
        assert_eq!(reply.status, 200, "timeout {timeout:?}");
        assert_eq!(reply.header("Content-Type"), Some(TEXT_CONTENT_TYPE));
        exporter.shutdown();
    }
}
