//! Sync functions of every shape: values read back from the parsed exposition.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use instrument_metrics::{instrument_metrics, ClassifyOutcome, Outcome};
use instrument_metrics_tests::{calls, histogram, value};

#[derive(Debug)]
struct AppError(String);

impl From<std::num::ParseIntError> for AppError {
    fn from(e: std::num::ParseIntError) -> Self {
        AppError(e.to_string())
    }
}

/// Doc comments stay.
#[must_use]
#[instrument_metrics]
fn question_mark(s: &str) -> Result<u32, AppError> {
    let n: u32 = s.parse()?; // From conversion through `?`
    Ok(n * 2)
}

#[test]
fn question_mark_converts_and_counts_errors() {
    assert_eq!(question_mark("21").unwrap(), 42);
    assert_eq!(
        question_mark("x").unwrap_err().0,
        "invalid digit found in string"
    );
    assert_eq!(calls("question_mark"), [1, 1, 0, 0]);
}

#[instrument_metrics]
fn early_return(n: i32) -> Result<i32, String> {
    if n < 0 {
        return Err("negative".into());
    }
    if n == 0 {
        return Ok(0);
    }
    Ok(n + 1)
}

#[test]
fn early_return_keeps_its_value() {
    assert_eq!(early_return(-1), Err("negative".into()));
    assert_eq!(early_return(0), Ok(0));
    assert_eq!(early_return(5), Ok(6));
    assert_eq!(calls("early_return"), [2, 1, 0, 0]);
}

#[instrument_metrics]
fn first_mut(v: &mut Vec<u32>) -> &u32 {
    v.push(7);
    &v[0]
}

#[instrument_metrics]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[test]
fn returned_references_derive_from_arguments() {
    let mut v = vec![3];
    assert_eq!(*first_mut(&mut v), 3);
    assert_eq!(v, [3, 7]);
    assert_eq!(longest("abc", "z"), "abc");
    assert_eq!(calls("first_mut"), [1, 0, 0, 0]);
    assert_eq!(calls("longest"), [1, 0, 0, 0]);
}

#[instrument_metrics]
fn moves_and_shadows(s: String, mut n: u32) -> String {
    let s = s + "!";
    n += 1;
    let n = n * 2;
    format!("{s}{n}")
}

#[test]
fn moves_and_shadowing() {
    assert_eq!(moves_and_shadows("hi".into(), 1), "hi!4");
    assert_eq!(calls("moves_and_shadows"), [1, 0, 0, 0]);
}

#[instrument_metrics]
fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[test]
fn recursion_counts_every_call() {
    assert_eq!(fib(10), 55);
    assert_eq!(calls("fib"), [177, 0, 0, 0]);
    let (count, inf, _) = histogram("fib");
    assert_eq!((count, inf), (177, 177));
}

// `-> T` warns that the outcome cannot be seen; a sum is never an error, so `ok` is accepted.
#[instrument_metrics]
#[allow(deprecated)]
fn generic_sum<'a, T, const N: usize>(items: &'a [T; N]) -> T
where
    T: Copy + std::iter::Sum<T> + 'a,
{
    items.iter().copied().sum()
}

#[instrument_metrics]
fn generic_result<T: std::str::FromStr>(s: &str) -> Result<T, T::Err> {
    s.parse()
}

#[test]
fn generics_share_one_series() {
    assert_eq!(generic_sum(&[1, 2, 3]), 6);
    assert!((generic_sum(&[1.5f64, 2.5]) - 4.0).abs() < f64::EPSILON);
    assert_eq!(calls("generic_sum"), [2, 0, 0, 0]);
    assert_eq!(generic_result::<u8>("300").ok(), None);
    assert_eq!(generic_result::<u16>("300").ok(), Some(300));
    assert_eq!(calls("generic_result"), [1, 1, 0, 0]);
}

#[instrument_metrics]
unsafe fn read_raw(p: *const u32) -> u32 {
    // SAFETY: callers pass a valid pointer.
    unsafe { *p }
}

#[test]
fn unsafe_fn() {
    let x = 9u32;
    // SAFETY: `x` is alive and aligned.
    assert_eq!(unsafe { read_raw(&raw const x) }, 9);
    assert_eq!(calls("read_raw"), [1, 0, 0, 0]);
}

#[instrument_metrics]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[test]
fn impl_trait_return() {
    assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
    assert_eq!(calls("evens"), [1, 0, 0, 0]);
}

#[instrument_metrics]
fn explode(n: u32) -> u32 {
    assert!(n < 3, "too big");
    n
}

#[test]
fn panics_are_counted_and_continue() {
    assert_eq!(explode(1), 1);
    let caught = catch_unwind(AssertUnwindSafe(|| explode(5)));
    let message = caught.unwrap_err();
    assert_eq!(message.downcast_ref::<&str>(), Some(&"too big"));
    assert_eq!(calls("explode"), [1, 0, 1, 0]);
    let (count, inf, _) = histogram("explode");
    assert_eq!((count, inf), (2, 2), "duration is recorded for panics too");
}

#[instrument_metrics]
fn nap(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn sum_matches_sleeping_body() {
    nap(20);
    nap(30);
    let (count, inf, sum) = histogram("nap");
    assert_eq!((count, inf), (2, 2));
    // A sleep never ends early; on a loaded machine it may end late, so the bounds above are
    // generous: each call may take up to 0.5 s (470 ms of scheduling delay).
    assert!(
        (0.050..1.0).contains(&sum),
        "sum {sum} should be a little over 0.05 s"
    );
    let text = instrument_metrics::render();
    // 20 ms and 30 ms: nothing at or under 10 ms, both at or under 0.5 s.
    let le = |b: &str| {
        value(
            &text,
            "function_calls_duration_seconds_bucket",
            &[("function", "nap"), ("le", b)],
        )
    };
    assert!((le("0.01") - 0.0).abs() < f64::EPSILON);
    assert!((le("0.5") - 2.0).abs() < f64::EPSILON);
}

#[instrument_metrics(name = "renamed", buckets = [0.001, 0.002, 0.5])]
fn custom_name_and_buckets() {
    std::thread::sleep(Duration::from_millis(3));
}

#[instrument_metrics(buckets = linear(0.01, 0.01, 10))]
fn linear_buckets() {}

#[instrument_metrics(buckets = exponential(0.001, 10, 4))]
fn exponential_buckets() {}

#[test]
fn names_and_buckets() {
    custom_name_and_buckets();
    let text = instrument_metrics::render();
    let bucket = |f: &str, le: &str| {
        value(
            &text,
            "function_calls_duration_seconds_bucket",
            &[("function", f), ("le", le)],
        )
    };
    assert!((bucket("renamed", "0.001") - 0.0).abs() < f64::EPSILON);
    assert!((bucket("renamed", "0.002") - 0.0).abs() < f64::EPSILON);
    assert!((bucket("renamed", "0.5") - 1.0).abs() < f64::EPSILON);
    assert_eq!(calls("renamed"), [1, 0, 0, 0]);
    let les = |f: &str| -> Vec<String> {
        instrument_metrics_tests::parse(&text)
            .into_iter()
            .filter(|s| {
                s.name == "function_calls_duration_seconds_bucket" && s.labels["function"] == f
            })
            .map(|s| s.labels["le"].clone())
            .collect()
    };
    assert_eq!(
        les("linear_buckets"),
        ["0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.07", "0.08", "0.09", "0.1", "+Inf"]
    );
    assert_eq!(
        les("exponential_buckets"),
        ["0.001", "0.01", "0.1", "1", "+Inf"]
    );
    assert!(!text.contains("function=\"custom_name_and_buckets\""));
}

#[instrument_metrics(labels(team = "core", tier = "1"))]
fn labelled() {}

#[test]
fn constant_labels() {
    labelled();
    let text = instrument_metrics::render();
    let v = value(
        &text,
        "function_calls_total",
        &[
            ("function", "labelled"),
            ("team", "core"),
            ("tier", "1"),
            ("result", "ok"),
        ],
    );
    assert!((v - 1.0).abs() < f64::EPSILON);
}

fn is_positive(n: &i32) -> bool {
    *n > 0
}

#[instrument_metrics(ok_if = is_positive)]
fn ok_if_path(n: i32) -> i32 {
    n
}

#[instrument_metrics(error_if = |v: &Option<u8>| v.is_none())]
fn error_if_closure(n: u8) -> Option<u8> {
    n.checked_mul(2)
}

#[instrument_metrics(ok_if = |r| r.len() > 1)]
fn ok_if_inferred(s: &str) -> String {
    s.to_owned()
}

#[test]
fn ok_if_and_error_if() {
    ok_if_path(1);
    ok_if_path(-1);
    ok_if_path(0);
    assert_eq!(calls("ok_if_path"), [1, 2, 0, 0]);
    error_if_closure(1);
    error_if_closure(200);
    assert_eq!(calls("error_if_closure"), [1, 1, 0, 0]);
    ok_if_inferred("ab");
    ok_if_inferred("a");
    assert_eq!(calls("ok_if_inferred"), [1, 1, 0, 0]);
}

enum Verdict {
    Fine,
    Broken,
}

impl ClassifyOutcome for Verdict {
    fn outcome(&self) -> Outcome {
        match self {
            Verdict::Fine => Outcome::Ok,
            Verdict::Broken => Outcome::Error,
        }
    }
}

#[instrument_metrics]
fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Fine
    } else {
        Verdict::Broken
    }
}

#[instrument_metrics]
fn verdict_in_result(v: u8) -> Result<Verdict, ()> {
    match v {
        0 => Ok(Verdict::Fine),
        1 => Ok(Verdict::Broken),
        _ => Err(()),
    }
}

type IoResult<T> = std::io::Result<T>;

#[instrument_metrics]
fn through_alias(fail: bool) -> IoResult<()> {
    if fail {
        Err(std::io::Error::other("nope"))
    } else {
        Ok(())
    }
}

#[test]
fn outcome_from_concrete_types() {
    verdict(true);
    verdict(false);
    verdict(false);
    assert_eq!(calls("verdict"), [1, 2, 0, 0]);
    let _ = verdict_in_result(0);
    let _ = verdict_in_result(1);
    let _ = verdict_in_result(2);
    assert_eq!(calls("verdict_in_result"), [1, 2, 0, 0]);
    through_alias(true).unwrap_err();
    through_alias(false).unwrap();
    assert_eq!(calls("through_alias"), [1, 1, 0, 0]);
}

#[instrument_metrics]
fn never_called() -> Result<(), ()> {
    Ok(())
}

#[test]
fn series_exist_before_the_first_call() {
    assert_eq!(calls("never_called"), [0, 0, 0, 0]);
    let (count, inf, sum) = histogram("never_called");
    assert_eq!((count, inf), (0, 0));
    assert!(sum.abs() < f64::EPSILON);
}

#[instrument_metrics(in_flight)]
fn in_flight_sync(fail: bool) {
    let text = instrument_metrics::render();
    let now = value(
        &text,
        "function_calls_in_flight",
        &[("function", "in_flight_sync")],
    );
    assert!((now - 1.0).abs() < f64::EPSILON, "one call running: {now}");
    assert!(!fail, "asked to fail");
}

#[test]
fn in_flight_gauge_never_leaks() {
    in_flight_sync(false);
    let _ = catch_unwind(|| in_flight_sync(true));
    let text = instrument_metrics::render();
    let now = value(
        &text,
        "function_calls_in_flight",
        &[("function", "in_flight_sync")],
    );
    assert!(
        now.abs() < f64::EPSILON,
        "gauge back to 0 after a panic: {now}"
    );
    assert_eq!(calls("in_flight_sync"), [1, 0, 1, 0]);
}

#[instrument_metrics]
fn diverge(msg: &str) -> ! {
    panic!("{msg}")
}

#[test]
fn never_returning_fn_counts_its_panic() {
    let caught = catch_unwind(|| diverge("stop"));
    assert_eq!(
        caught
            .unwrap_err()
            .downcast_ref::<String>()
            .map(String::as_str),
        Some("stop")
    );
    assert_eq!(calls("diverge"), [0, 0, 1, 0]);
}
