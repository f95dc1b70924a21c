//! The rules shipped in examples/prometheus/rules.yml, unit-tested by a real `promtool`
//! (Debian package `prometheus`; scripts/test installs it): `promtool test rules` on the files
//! of tests/prometheus/, with synthetic series whose values are exact in binary, so each
//! recorded value is compared to the digit.

use std::path::{Path, PathBuf};
use std::process::Command;

use instrument_metrics_tests::promtool;

const TESTS: [&str; 1] = ["tokio_runtime.test.yml"];

/// `rules` as rules.yml in a fresh directory, beside copies of the test files.
fn workdir(name: &str, rules: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shipped-rules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("prometheus");
    for file in TESTS {
        std::fs::copy(tests.join(file), dir.join(file)).unwrap();
    }
    dir
}

fn shipped() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prometheus/rules.yml");
    std::fs::read_to_string(path).unwrap()
}

fn test_rules(dir: &Path) -> (bool, String) {
    let out = Command::new(promtool())
        .arg("test")
        .arg("rules")
        .args(TESTS)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_tokio_runtime_rule_and_alert_pass_their_unit_tests() {
    let dir = workdir("ok", &shipped());
    let (ok, said) = test_rules(&dir);
    assert!(ok, "{said}");
    assert_eq!(said, "Unit Testing:  tokio_runtime.test.yml\n  SUCCESS\n\n");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_unit_tests_catch_a_wrong_threshold_or_ratio() {
    let rules = shipped();
    for (name, from, to) in [
        (
            "threshold",
            "tokio_runtime:busy_ratio:rate5m > 0.9",
            "tokio_runtime:busy_ratio:rate5m > 0.8",
        ),
        (
            "ratio",
            "/ sum by (job, instance, runtime) (tokio_runtime_workers)",
            "/ 1",
        ),
        (
            "for",
            "expr: tokio_runtime:busy_ratio:rate5m > 0.9\n        for: 15m",
            "expr: tokio_runtime:busy_ratio:rate5m > 0.9\n        for: 5m",
        ),
    ] {
        assert!(rules.contains(from), "{name}: {from:?} is in rules.yml");
        let dir = workdir(name, &rules.replace(from, to));
        let (ok, said) = test_rules(&dir);
        assert!(
            !ok && said.contains("FAILED"),
            "{name}: a broken rule must fail:\n{said}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
