//! Every option, alone and combined; generated code is fine under `forbid(unsafe_code)`.
#![forbid(unsafe_code)]
#![deny(warnings)]
#![deny(clippy::pedantic)]

use instrument_metrics::instrument_metrics;

#[instrument_metrics(name = "renamed")]
fn named() -> u8 {
    1
}

#[instrument_metrics(buckets = [0.001, 0.01, 0.1, 1.0])]
fn listed() -> u8 {
    1
}

#[instrument_metrics(buckets = [1, 2.5, 10,])]
fn integer_bounds() -> u8 {
    1
}

#[instrument_metrics(buckets = [1e-3, 5E-1])]
fn exponent_bounds() -> u8 {
    1
}

#[instrument_metrics(buckets = linear(0.1, 0.1, 5))]
fn linear() -> u8 {
    1
}

#[instrument_metrics(buckets = exponential(0.001, 2.0, 12))]
fn exponential() -> u8 {
    1
}

#[instrument_metrics(buckets = exponential(1, 10, 3))]
fn exponential_ints() -> u8 {
    1
}

#[instrument_metrics(in_flight)]
fn in_flight() -> u8 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_small(v: &u32) -> bool {
    *v < 10
}

#[instrument_metrics(ok_if = is_small)]
fn ok_if_path(v: u32) -> u32 {
    v
}

mod checks {
    pub fn is_err<T, E>(r: &Result<T, E>) -> bool {
        r.is_err()
    }
}

#[instrument_metrics(error_if = checks::is_err)]
fn error_if_generic_path(v: u32) -> Result<u32, ()> {
    if v == 0 {
        Err(())
    } else {
        Ok(v)
    }
}

#[instrument_metrics(ok_if = |v: &u32| *v < 10)]
fn ok_if_typed_closure(v: u32) -> u32 {
    v
}

#[instrument_metrics(ok_if = |v| *v < 10)]
fn ok_if_closure(v: u32) -> u32 {
    v
}

#[instrument_metrics(error_if = |r| r.is_none() || *r == Some(0))]
fn error_if_closure(v: Option<u32>) -> Option<u32> {
    v
}

#[instrument_metrics(error_if = |s: &String| s.is_empty())]
async fn error_if_async(s: String) -> String {
    s
}

#[instrument_metrics(labels(team = "core", tier = "1"))]
fn labelled() -> u8 {
    1
}

#[instrument_metrics(labels("quoted_key" = "x", _under = "y", r#raw = "z",))]
fn labelled_keys() -> u8 {
    1
}

#[instrument_metrics(labels())]
fn no_labels() -> u8 {
    1
}

#[instrument_metrics(crate = ::instrument_metrics)]
fn absolute_crate() -> u8 {
    1
}

#[instrument_metrics(crate = "instrument_metrics")]
fn string_crate() -> u8 {
    1
}

#[instrument_metrics(
    name = "everything",
    buckets = [0.5, 1.0],
    in_flight,
    error_if = |v: &u8| *v > 1,
    labels(team = "core"),
    crate = ::instrument_metrics,
)]
fn everything() -> u8 {
    1
}

#[instrument_metrics(histogram = native)]
fn native() -> u8 {
    1
}

#[instrument_metrics(histogram = both, buckets = [0.1, 1.0], in_flight)]
fn both() -> u8 {
    1
}

#[instrument_metrics(histogram = classic)]
fn classic() -> u8 {
    1
}

struct Sweep;

#[instrument_metrics(histogram = native)]
impl Sweep {
    fn inherits(&self) -> u8 {
        1
    }

    #[instrument_metrics(histogram = classic)]
    fn overrides(&self) -> u8 {
        1
    }
}

fn main() {
    assert_eq!(native() + both() + classic(), 3);
    assert_eq!(Sweep.inherits() + Sweep.overrides(), 2);
    assert_eq!(named(), 1);
    assert_eq!(listed(), 1);
    assert_eq!(integer_bounds(), 1);
    assert_eq!(exponent_bounds(), 1);
    assert_eq!(linear(), 1);
    assert_eq!(exponential(), 1);
    assert_eq!(exponential_ints(), 1);
    assert_eq!(in_flight(), 1);
    assert_eq!(ok_if_path(20), 20);
    assert_eq!(error_if_generic_path(0), Err(()));
    assert_eq!(ok_if_typed_closure(1), 1);
    assert_eq!(ok_if_closure(1), 1);
    assert_eq!(error_if_closure(None), None);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(error_if_async(String::new())), "");
    assert_eq!(labelled(), 1);
    assert_eq!(labelled_keys(), 1);
    assert_eq!(no_labels(), 1);
    assert_eq!(absolute_crate(), 1);
    assert_eq!(string_crate(), 1);
    assert_eq!(everything(), 1);

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"renamed\""));
    assert!(text.contains("le=\"0.001\""));
    assert!(text.contains("function_calls_in_flight{function=\"in_flight\""));
    assert!(text.contains("quoted_key=\"x\""));
    assert!(text.contains("raw=\"z\""));
    assert!(text.contains("function=\"everything\""));
}
