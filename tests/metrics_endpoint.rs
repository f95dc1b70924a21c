//! The contract every `/metrics` handler keeps (the exporter, axum, actix-web), checked once
//! here and run against each framework's real server.

use std::net::SocketAddr;

use instrument_metrics::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

use crate::http_client::request;
use crate::{find_value, parse, value};

/// The `Accept` header Prometheus 2.x sends.
pub const PROMETHEUS_2_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// What we answer [`PROMETHEUS_3_ACCEPT`] with.
pub const OPENMETRICS_UTF8_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8";
/// The `Accept` header Prometheus 3.x sends.
pub const PROMETHEUS_3_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// Calls `probe_path` three times (its handler, `probe_function`, must be called by nothing
/// else), then checks `/metrics` on `addr` in every format the scrapers ask for:
/// - plain: text 0.0.4, `Vary`, no encoding, the probe at exactly 3 ok, `never_called` at 0 for
///   every result;
/// - Prometheus 2.x and 3.x `Accept`: OpenMetrics, `# EOF` last, `# TYPE function_calls counter`,
///   the same exact values;
/// - gzip (also with OpenMetrics) decoded to the same values, and no gzip when refused;
/// - the scrapes served so far counted in `instrument_metrics_scrapes_total{code="200"}`.
///
/// # Panics
/// When any of it does not hold.
pub fn assert_serves_metrics(
    addr: SocketAddr,
    probe_path: &str,
    probe_function: &str,
    never_called: &str,
) {
    for _ in 0..3 {
        let status = request(addr, "GET", probe_path, &[]).status;
        assert!((200..300).contains(&status), "{probe_path}: {status}");
    }
    let probe_ok = [("function", probe_function), ("result", "ok")];
    let exact = |text: &str| {
        let samples = parse(text);
        assert_eq!(
            find_value(&samples, "function_calls_total", &probe_ok),
            Some(3.0),
            "{text}"
        );
        assert_eq!(
            find_value(
                &samples,
                "function_calls_duration_seconds_count",
                &[("function", probe_function)]
            ),
            Some(3.0)
        );
        for result in ["ok", "error", "panic", "cancelled"] {
            let labels = [("function", never_called), ("result", result)];
            assert_eq!(
                find_value(&samples, "function_calls_total", &labels),
                Some(0.0),
                "{never_called} {result}"
            );
        }
    };

    let plain = request(addr, "GET", "/metrics", &[]);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), Some(TEXT_CONTENT_TYPE));
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept, Accept-Encoding"));
    let text = plain.text();
    assert!(
        !text.lines().any(|l| l == "# EOF"),
        "no OpenMetrics marker in text 0.0.4"
    );
    exact(&text);

    // Prometheus 3 asks for UTF-8 names and hears that it gets them (our names need no escaping).
    for (accept, content_type) in [
        (PROMETHEUS_2_ACCEPT, OPENMETRICS_CONTENT_TYPE),
        (PROMETHEUS_3_ACCEPT, OPENMETRICS_UTF8_CONTENT_TYPE),
    ] {
        let om = request(addr, "GET", "/metrics", &[("Accept", accept)]);
        assert_eq!(om.status, 200);
        assert_eq!(om.header("content-type"), Some(content_type));
        let text = om.text();
        assert_eq!(text.lines().last(), Some("# EOF"));
        assert!(text.lines().any(|l| l == "# TYPE function_calls counter"));
        exact(&text);
    }

    let zipped = request(
        addr,
        "GET",
        "/metrics",
        &[("Accept-Encoding", "br, gzip;q=0.9")],
    );
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some(TEXT_CONTENT_TYPE));
    exact(&zipped.gunzip());

    let om_zipped = request(
        addr,
        "GET",
        "/metrics",
        &[("Accept", PROMETHEUS_3_ACCEPT), ("Accept-Encoding", "gzip")],
    );
    assert_eq!(om_zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(
        om_zipped.header("content-type"),
        Some(OPENMETRICS_UTF8_CONTENT_TYPE)
    );
    let text = om_zipped.gunzip();
    assert_eq!(text.lines().last(), Some("# EOF"));
    exact(&text);

    let refused = request(
        addr,
        "GET",
        "/metrics",
        &[("Accept-Encoding", "gzip;q=0, identity")],
    );
    assert_eq!(refused.header("content-encoding"), None);
    let text = refused.text();
    exact(&text);
    // A scrape is counted once served: the five before this one at least (tests running
    // beside this one may scrape too).
    let served = value(
        &text,
        "instrument_metrics_scrapes_total",
        &[("code", "200")],
    );
    assert!(served >= 5.0, "scrapes counted: {served}");
}
