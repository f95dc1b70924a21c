//! The rules generated from this binary's own objectives, checked and unit-tested by a real
//! `promtool` (Debian package `prometheus`): `promtool check rules` on the generated file, and
//! `promtool test rules` on `tests/slo/*.yml` (synthetic series, written by
//! `tests/slo/generate.py`): each burn-rate alert, availability and latency, fires just above
//! its rate and stays silent just below it, and the short windows stop a page once a burst ends.
//!
//! The binary is `$PROMTOOL`, else `promtool` on `PATH`, else `/usr/bin/promtool`. Without it
//! the tests fail, saying what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use instrument_metrics::instrument_metrics;
use instrument_metrics::slo::{self, Objective};
use instrument_metrics_tests::promtool;

/// 99.9% of calls succeed; 99% take at most 250 ms (a default bucket bound).
const CHECKOUT: Objective = Objective::new("checkout")
    .success_ratio(0.999)
    .latency(Duration::from_millis(250), 0.99);

/// 99% within 1 s: a whole-second bound, whose `le` is `1` in text scrapes and `1.0` in
/// OpenMetrics ones.
const SEARCH: Objective = Objective::new("search").latency(Duration::from_secs(1), 0.99);

#[instrument_metrics(objective = "checkout")]
fn pay(cents: u64) -> Result<u64, String> {
    if cents == 0 {
        Err("nothing to pay".to_owned())
    } else {
        Ok(cents)
    }
}

struct Refunds;

#[instrument_metrics(objective = "checkout")]
impl Refunds {
    fn issue(&self, cents: u64) -> u64 {
        cents
    }
}

#[instrument_metrics(objective = "search", buckets = [0.5, 1.0, 2.0])]
fn find(query: &str) -> usize {
    query.len()
}

/// Not part of any objective: never selected by the rules.
#[instrument_metrics]
fn unrelated() {}

/// The generated rules (declared once for the whole binary), written to a fresh directory
/// beside copies of the promtool test files.
fn workdir(name: &str, rules: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slo-rules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("slo");
    for file in ["availability.yml", "latency.yml"] {
        std::fs::copy(tests.join(file), dir.join(file)).unwrap();
    }
    dir
}

fn rules() -> String {
    static DECLARED: std::sync::Once = std::sync::Once::new();
    DECLARED.call_once(|| slo::declare([CHECKOUT, SEARCH]).unwrap());
    // Called, so their call sites are linked in (as they would be in a service).
    pay(1).unwrap();
    assert_eq!(Refunds.issue(2), 2);
    assert_eq!(find("q"), 1);
    unrelated();
    slo::rules_yaml().unwrap()
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
    assert!(out.status.success(), "{}", text(&out));
    // checkout: 7 + 7 recorded ratios, 4 + 4 alerts; search: 7 and 4.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Checking rules.yml\n  SUCCESS: 33 rules found\n\n",
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn promtool_unit_tests_fire_each_alert_at_its_burn_rate_and_not_below() {
    let dir = workdir("test", &rules());
    let out = run(&dir, &["test", "rules", "availability.yml", "latency.yml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Unit Testing:  availability.yml\n  SUCCESS\n\nUnit Testing:  latency.yml\n  SUCCESS\n\n",
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The unit tests can fail: with the page's burn rate nudged past the test's margin, or the
/// cancelled calls counted, they do.
#[test]
fn promtool_unit_tests_catch_a_wrong_rule() {
    let rules = rules();
    for (what, from, to) in [
        ("page rate", "(14.4 * 0.001)", "(14.5 * 0.001)"),
        (
            "cancelled counted",
            "result!=\"cancelled\"",
            "result=~\".+\"",
        ),
    ] {
        assert!(rules.contains(from), "{what}: {from} not in the rules");
        let dir = workdir("wrong", &rules.replace(from, to));
        let out = run(&dir, &["test", "rules", "availability.yml"]);
        assert!(!out.status.success(), "{what}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("FAILED"),
            "{what}: {}",
            text(&out)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The whole-second threshold selects both spellings of its bucket.
#[test]
fn a_whole_second_threshold_matches_both_le_spellings() {
    let rules = rules();
    assert!(rules.contains(
        r#"rate(function_calls_duration_seconds_bucket{function="find",module="slo_rules",le=~"1|1\\.0"}[5m])"#
    ), "{rules}");
    assert!(!rules.contains("unrelated"), "{rules}");
}
