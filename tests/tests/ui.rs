//! trybuild UI tests: every supported shape compiles (`ui/pass`), every misuse is one clear
//! compile error spanned on the offending token (`ui/fail`, with `.stderr` snapshots).
//!
//! Refresh the snapshots with `TRYBUILD=overwrite cargo test -p instrument-metrics-tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
