//! The live page's JSON (`/api/functions`, written by hand in src/live/json.rs) with function
//! names and label values that break hand-written JSON: quotes, backslashes, newlines, every
//! kind of control character, JavaScript's line separators, non-ASCII of every UTF-8 length.
//! The document is read back with serde_json and the values compared, not the text.
//!
//! Its own test binary: the hostile names live in this process's registry only.

use instrument_metrics::http::{HttpMetrics, MetricsLayer};
use instrument_metrics::{instrument_metrics, live};
use serde_json::{json, Value};

/// The `name = …` below, written once more to compare with (an attribute takes a literal).
const NAME: &str = "q\"uote b\\ack\\\\slash\nnew\r\nline\ttab \u{0}\u{1}\u{8}\u{c}\u{1b}\u{1f}\u{7f} \u{2028}\u{2029}\u{feff} é 日本 🦀 </script> {\"x\":1}";
/// The `labels(team = …)` below.
const TEAM: &str = "\\u0041 is not A\", \"injected\": \"yes";
/// The HTTP layer's constant label.
const APP: &str = "naïve\n\"app\"\\\u{0}\u{10ffff}";

#[instrument_metrics(
    name = "q\"uote b\\ack\\\\slash\nnew\r\nline\ttab \u{0}\u{1}\u{8}\u{c}\u{1b}\u{1f}\u{7f} \u{2028}\u{2029}\u{feff} é 日本 🦀 </script> {\"x\":1}",
    labels(team = "\\u0041 is not A\", \"injected\": \"yes")
)]
fn hostile(fail: bool) -> Result<(), String> {
    if fail {
        Err("no".to_owned())
    } else {
        Ok(())
    }
}

/// A plain neighbour: the entries around a hostile one still read right.
#[instrument_metrics]
fn plain_neighbour() {}

#[test]
fn hostile_names_and_label_values_read_back_unchanged() {
    hostile(false).unwrap();
    hostile(true).unwrap_err();
    plain_neighbour();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let http = HttpMetrics::builder().label("app", APP).build().unwrap();
    let app = axum::Router::new()
        .route("/thing", axum::routing::get(|| async { "fine" }))
        .layer(MetricsLayer::new(http));
    rt.block_on(async {
        use tower::ServiceExt as _;
        let request = axum::http::Request::get("/thing")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        // The exchange is measured once its body is sent.
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
    });

    instrument_metrics::__private::live_sample_at(0.0);
    let text = live::functions_json();
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));

    let functions = doc["functions"].as_array().unwrap();
    let ours: Vec<&Value> = functions
        .iter()
        .filter(|f| f["module"] == "live_json_hostile")
        .collect();
    let hostile = ours
        .iter()
        .find(|f| f["function"] == NAME)
        .unwrap_or_else(|| panic!("{NAME:?} not among {ours:#?}"));
    assert_eq!(hostile["labels"], json!({ "team": TEAM }));
    assert_eq!(
        hostile["results"],
        json!({"ok": 1, "error": 1, "panic": 0, "cancelled": 0})
    );
    assert_eq!(hostile["total"], 2);
    let neighbour = ours
        .iter()
        .find(|f| f["function"] == "plain_neighbour")
        .unwrap();
    assert_eq!(neighbour["labels"], json!({}));
    assert_eq!(neighbour["total"], 1);
    // Nothing leaked out of a string into a field of its own.
    assert!(ours
        .iter()
        .all(|f| f.get("injected").is_none() && f["labels"].get("injected").is_none()));

    let route = doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "/thing" && r["method"] == "GET")
        .unwrap_or_else(|| panic!("/thing in {doc}"));
    assert_eq!(route["labels"], json!({ "app": APP }));
    assert_eq!(route["total"], 1);
}
