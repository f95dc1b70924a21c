//! Prints the Prometheus rules (recording rules and burn-rate alerts) of the `services`
//! example's objectives, generated from the call sites linked into this binary: the same
//! `services` library the `services` example serves.
//!
//! `cargo run --example rules > rules.yml`, then add `rules.yml` to `rule_files` in
//! `prometheus.yml` (`promtool check rules rules.yml` checks it).

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Err(e) = instrument_metrics::slo::declare(services::OBJECTIVES) {
        eprintln!("objectives: {e}");
        return ExitCode::FAILURE;
    }
    // The router names every handler, and the handlers the store: building it (not serving
    // it) keeps all their call sites in this binary, as in the service.
    if let Err(e) = services::app() {
        eprintln!("services: {e}");
        return ExitCode::FAILURE;
    }
    match instrument_metrics::slo::rules_yaml() {
        Ok(rules) => {
            print!("{rules}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rules: {e}");
            ExitCode::FAILURE
        }
    }
}
