//! Code that type-checks by inference alone, in a crate that depends on `instrument-metrics`
//! with every feature on. A trait impl brought in by any crate of our dependency tree can make
//! such code ambiguous: the `protobuf` crate's `impl From<Empty> for ()` turns `r?` below into
//! E0282/E0283 ("multiple `impl`s satisfying `(): From<_>`"), which is how tower's own doc
//! tests stopped compiling once the attribute was put on them. If this crate builds, nothing
//! we depend on changed how a user's code type-checks.
#![deny(warnings)]
// The shapes are the point: `Result<_, ()>` and `Ok(r?)` are what leaves the error type to
// inference.
#![allow(clippy::result_unit_err, clippy::needless_question_mark)]

use instrument_metrics::instrument_metrics;

/// `?` on a `Result` whose error type comes only from the function's return type.
///
/// ```
/// assert_eq!(instrument_metrics_inference::question_mark_infers_the_error(3), Ok(3));
/// ```
///
/// # Errors
/// Never: the `Err` arm is there for inference.
pub fn question_mark_infers_the_error(x: u8) -> Result<u8, ()> {
    let r = Ok(x);
    let v = r?;
    Ok(v)
}

/// The same shape, inside an instrumented function.
///
/// # Errors
/// When `x` is 0.
#[instrument_metrics]
pub fn instrumented_question_mark(x: u8) -> Result<u8, ()> {
    let r = if x == 0 { Err(()) } else { Ok(x) };
    let v = r?;
    let widened = Ok(u16::from(v));
    Ok(u8::try_from(widened?).unwrap_or(u8::MAX))
}

/// Collecting `Result`s whose error type is the unit type.
///
/// # Errors
/// When an item is 0.
pub fn collect_results(items: &[u8]) -> Result<Vec<u8>, ()> {
    items
        .iter()
        .map(|&i| if i == 0 { Err(()) } else { Ok(i) })
        .map(|r| Ok(r?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{collect_results, instrumented_question_mark, question_mark_infers_the_error};

    #[test]
    fn the_inferred_code_runs() {
        assert_eq!(question_mark_infers_the_error(9), Ok(9));
        assert_eq!(instrumented_question_mark(0), Err(()));
        assert_eq!(instrumented_question_mark(4), Ok(4));
        assert_eq!(collect_results(&[1, 2]), Ok(vec![1, 2]));
        assert_eq!(collect_results(&[1, 0]), Err(()));
        // And the runtime counted them: one ok, one error.
        let text = instrument_metrics::render();
        for (result, n) in [("ok", 1), ("error", 1), ("panic", 0)] {
            let line = format!(
                "function_calls_total{{function=\"instrumented_question_mark\",module=\"instrument_metrics_inference\",result=\"{result}\"}} {n}"
            );
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
