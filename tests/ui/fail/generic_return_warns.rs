// A generic return type cannot be classified at the definition: the attribute says so, as a
// warning on the return type (an error here, under `deny`), naming the fix.
#![deny(deprecated)]

use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn retry<R>(f: impl FnOnce() -> R) -> R {
    f()
}

trait Job {
    type Output;
    fn run(self) -> Self::Output;
}

#[instrument_metrics]
fn run_job<J: Job>(job: J) -> J::Output {
    job.run()
}

// Silent: the caller says how, or the type classifies itself.
#[instrument_metrics(error_if = |_r: &R| false)]
fn decided<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[instrument_metrics]
fn bounded<R: instrument_metrics::ClassifyOutcome>(f: impl FnOnce() -> R) -> R {
    f()
}

fn main() {
    let _ = retry(|| 1);
    let _ = decided(|| 1);
    let _ = bounded(|| instrument_metrics::Outcome::Ok);
    struct J;
    impl Job for J {
        type Output = u8;
        fn run(self) -> u8 {
            0
        }
    }
    let _ = run_job(J);
}
