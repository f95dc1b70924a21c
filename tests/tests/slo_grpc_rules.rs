//! The rules generated for an objective on a gRPC method (`Objective::grpc_method`), checked
//! and unit-tested by a real `promtool` (Debian package `prometheus`): `promtool check rules`
//! on the generated file, and `promtool test rules` on `tests/slo/grpc_*.yml` (synthetic
//! series, written by `tests/slo/generate.py`): each burn-rate alert, availability and latency,
//! fires just above its rate and stays silent just below it, the short windows stop a page once
//! a burst ends, and the calls of another method or service are never counted.
//!
//! The binary is `$PROMTOOL`, else `promtool` on `PATH`, else `/usr/bin/promtool`. Without it
//! the tests fail, saying what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use instrument_metrics::slo::{self, Objective};
use instrument_metrics_tests::promtool;

/// 99.9% of the server's GetFeature calls end without a server failure; 99% within 250 ms.
const FEATURES: Objective = Objective::new("features")
    .grpc_method("routeguide.RouteGuide", "GetFeature")
    .success_ratio(0.999)
    .latency(Duration::from_millis(250), 0.99);

fn rules() -> String {
    static DECLARED: std::sync::Once = std::sync::Once::new();
    DECLARED.call_once(|| slo::declare([FEATURES]).unwrap());
    slo::rules_yaml().unwrap()
}

/// The rules, written to a fresh directory beside copies of the promtool test files.
fn workdir(name: &str, rules: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slo-grpc-rules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("slo");
    for file in ["grpc_availability.yml", "grpc_latency.yml"] {
        std::fs::copy(tests.join(file), dir.join(file)).unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(promtool())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn promtool_checks_the_generated_rules() {
    let dir = workdir("check", &rules());
    let out = run(&dir, &["check", "rules", "rules.yml"]);
    // 7 + 7 recorded ratios, 4 + 4 alerts.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Checking rules.yml\n  SUCCESS: 22 rules found\n\n",
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn promtool_unit_tests_fire_each_alert_at_its_burn_rate_and_not_below() {
    let dir = workdir("test", &rules());
    let out = run(
        &dir,
        &["test", "rules", "grpc_availability.yml", "grpc_latency.yml"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Unit Testing:  grpc_availability.yml\n  SUCCESS\n\nUnit Testing:  grpc_latency.yml\n  SUCCESS\n\n",
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The unit tests can fail: with the page's burn rate nudged past the test's margin, a
/// caller's mistake counted as a failure, the cancelled calls left out, or the service not
/// selected, they do.
#[test]
fn promtool_unit_tests_catch_a_wrong_rule() {
    let rules = rules();
    // Every window's calls (the failures' selector has `grpc_code` before its brace).
    let all = r#"grpc_server_handled_total{grpc_service="routeguide.RouteGuide",grpc_method="GetFeature"}["#;
    for (what, file, from, to) in [
        (
            "page rate",
            "grpc_availability.yml",
            "(14.4 * 0.001)",
            "(14.5 * 0.001)",
        ),
        (
            "NotFound counted as a failure",
            "grpc_availability.yml",
            "Unavailable|DataLoss",
            "Unavailable|DataLoss|NotFound",
        ),
        (
            "Canceled left out of the calls",
            "grpc_availability.yml",
            all,
            r#"grpc_server_handled_total{grpc_service="routeguide.RouteGuide",grpc_method="GetFeature",grpc_code!="Canceled"}["#,
        ),
        (
            "any service's GetFeature",
            "grpc_latency.yml",
            r#"grpc_service="routeguide.RouteGuide","#,
            "",
        ),
    ] {
        assert!(rules.contains(from), "{what}: {from} not in the rules");
        let dir = workdir("wrong", &rules.replace(from, to));
        let out = run(&dir, &["test", "rules", file]);
        assert!(!out.status.success(), "{what}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("FAILED"),
            "{what}: {}",
            text(&out)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// What a status page reads: the counts of an objective on a gRPC method are the server
/// layer's, zero while the method was never called in this process.
#[test]
fn counts_are_the_server_layers() {
    let _ = rules();
    let features = slo::objectives()
        .into_iter()
        .find(|d| d.objective().name() == "features")
        .unwrap();
    assert!(features.functions().is_empty());
    assert_eq!(features.counts(), slo::Counts::default());
}
