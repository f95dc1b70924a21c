//! `#[label_value(crate = path)]` and `crate = path` for crates that re-export the runtime.
#![deny(warnings)]

mod reexport {
    pub use instrument_metrics;
}

use reexport::instrument_metrics::{instrument_metrics, LabelValue};

#[derive(LabelValue)]
#[label_value(crate = reexport::instrument_metrics)]
enum Mode {
    Fast,
    Slow,
}

#[instrument_metrics(crate = reexport::instrument_metrics, labels(mode = mode), error_kind)]
fn run(mode: Mode) -> std::io::Result<u8> {
    match mode {
        Mode::Fast => Ok(1),
        Mode::Slow => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

fn main() {
    assert_eq!(Mode::VALUES, ["Fast", "Slow"]);
    let _ = run(Mode::Fast);
}
