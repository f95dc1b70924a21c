//! The attribute changes nothing but the metrics: diverging bodies compile, inner attributes
//! stay valid, parameters drop in rustc's order, outcomes are read from the value (an `Err`
//! carrying a 4xx status is ok), and `panic` means this call's own body unwound.

use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use instrument_metrics::{instrument_metrics, ClassifyOutcome, Outcome};
use instrument_metrics_tests::calls;

thread_local!(static LOG: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) });

/// Logs its name when dropped.
struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        LOG.with(|l| l.borrow_mut().push(self.0));
    }
}

fn dropped() -> Vec<&'static str> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn noisy() -> (Noisy, Noisy, Noisy, (Noisy, Noisy), Noisy) {
    (
        Noisy("a"),
        Noisy("b"),
        Noisy("_unused"),
        (Noisy("c"), Noisy("d")),
        Noisy("_"),
    )
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

// 1. Diverging bodies of unit fns.

#[instrument_metrics]
fn worker_loop(jobs: &mut Vec<u32>) {
    loop {
        match jobs.pop() {
            Some(0) => panic!("job 0 is poison"),
            Some(_) => {}
            None => return,
        }
    }
}

#[instrument_metrics]
#[allow(clippy::diverging_sub_expression)]
fn not_yet() {
    todo!()
}

#[instrument_metrics]
#[allow(dead_code)]
fn leave() {
    std::process::exit(0)
}

#[instrument_metrics]
fn bump_then_panic(x: &mut u32) {
    *x += 1;
    panic!("after the bump");
}

struct Exploding;

#[instrument_metrics]
impl Drop for Exploding {
    fn drop(&mut self) {
        panic!("boom in drop");
    }
}

#[test]
fn unit_fns_with_diverging_bodies_compile_and_count() {
    worker_loop(&mut vec![1, 2]);
    catch_unwind(|| worker_loop(&mut vec![0])).unwrap_err();
    assert_eq!(calls("worker_loop"), [1, 0, 1, 0]);
    catch_unwind(not_yet).unwrap_err();
    assert_eq!(calls("not_yet"), [0, 0, 1, 0]);
    let mut x = 1;
    catch_unwind(AssertUnwindSafe(|| bump_then_panic(&mut x))).unwrap_err();
    assert_eq!(x, 2);
    assert_eq!(calls("bump_then_panic"), [0, 0, 1, 0]);
    catch_unwind(|| drop(Exploding)).unwrap_err();
    assert_eq!(calls("Exploding::drop"), [0, 0, 1, 0]);
    assert_eq!(calls("leave"), [0, 0, 0, 0]);
}

// 2. Inner attributes and inner doc comments, sync, async and tail future.

#[instrument_metrics]
#[deny(clippy::identity_op)]
fn inner_attribute() -> u32 {
    #![allow(clippy::identity_op)]
    //! An inner doc comment.
    1 + 0
}

#[instrument_metrics]
async fn inner_attribute_async() -> u32 {
    #![allow(clippy::identity_op)]
    //! An inner doc comment.
    2 + 0
}

#[instrument_metrics]
fn inner_attribute_tail() -> impl Future<Output = u32> {
    #![allow(clippy::identity_op)]
    async move {
        #![allow(unused_mut)]
        let mut three = 3 + 0;
        three += 0;
        three
    }
}

#[test]
fn inner_attributes_stay_valid() {
    assert_eq!(inner_attribute(), 1);
    assert_eq!(block_on(inner_attribute_async()), 2);
    assert_eq!(block_on(inner_attribute_tail()), 3);
    for f in [
        "inner_attribute",
        "inner_attribute_async",
        "inner_attribute_tail",
    ] {
        assert_eq!(calls(f), [1, 0, 0, 0], "{f}");
    }
}

// 3. Drop order: each instrumented fn beside an identical plain twin.

#[allow(clippy::needless_pass_by_value)]
fn params_plain(a: Noisy, b: Noisy, _unused: Noisy, (c, _d): (Noisy, Noisy), _: Noisy) {
    let _ = (&a, &b, &c);
    let _local = Noisy("local");
}

#[instrument_metrics]
#[allow(clippy::needless_pass_by_value)]
fn params_instrumented(a: Noisy, b: Noisy, _unused: Noisy, (c, _d): (Noisy, Noisy), _: Noisy) {
    let _ = (&a, &b, &c);
    let _local = Noisy("local");
}

#[allow(clippy::needless_pass_by_value, clippy::unused_async)]
async fn params_plain_async(a: Noisy, b: Noisy, _unused: Noisy, (c, _d): (Noisy, Noisy), _: Noisy) {
    let _ = (&a, &b, &c);
    let _local = Noisy("local");
}

#[instrument_metrics]
#[allow(clippy::needless_pass_by_value, clippy::unused_async)]
async fn params_instrumented_async(
    a: Noisy,
    b: Noisy,
    _unused: Noisy,
    (c, _d): (Noisy, Noisy),
    _: Noisy,
) {
    let _ = (&a, &b, &c);
    let _local = Noisy("local");
}

struct Receiver(#[allow(dead_code)] Noisy);

impl Receiver {
    #[allow(clippy::needless_pass_by_value)]
    fn plain(self, x: Noisy, _y: Noisy) {
        let _ = &x;
    }
}

#[instrument_metrics(name = "Receiver::instrumented")]
impl Receiver {
    #[allow(clippy::needless_pass_by_value)]
    fn instrumented(self, x: Noisy, _y: Noisy) {
        let _ = &x;
    }
}

#[test]
fn parameters_drop_in_rustcs_order() {
    let (a, b, u, cd, w) = noisy();
    params_plain(a, b, u, cd, w);
    let expected = dropped();
    assert_eq!(expected, ["local", "_", "d", "c", "_unused", "b", "a"]);
    let (a, b, u, cd, w) = noisy();
    params_instrumented(a, b, u, cd, w);
    assert_eq!(dropped(), expected);

    let (a, b, u, cd, w) = noisy();
    block_on(params_plain_async(a, b, u, cd, w));
    assert_eq!(dropped(), expected);
    let (a, b, u, cd, w) = noisy();
    block_on(params_instrumented_async(a, b, u, cd, w));
    assert_eq!(dropped(), expected);

    Receiver(Noisy("self")).plain(Noisy("x"), Noisy("y"));
    let expected = dropped();
    assert_eq!(expected, ["y", "x", "self"]);
    Receiver(Noisy("self")).instrumented(Noisy("x"), Noisy("y"));
    assert_eq!(dropped(), expected);
}

// 4. Generic returns: classified where the caller says how.

#[instrument_metrics(error_if = |r: &R| format!("{r:?}").starts_with("Err"))]
fn retry<R: std::fmt::Debug>(f: impl FnOnce() -> R) -> R {
    f()
}

#[test]
fn a_generic_return_is_classified_by_error_if() {
    let _ = retry(|| Err::<u8, &str>("no"));
    let _ = retry(|| Ok::<u8, &str>(1));
    assert_eq!(calls("retry"), [1, 1, 0, 0]);
}

// `impl Trait` inside a return type still guides `?` (the type is erased to `_`, not dropped).

#[derive(Debug)]
struct WrappedError;

impl From<std::num::ParseIntError> for WrappedError {
    fn from(_: std::num::ParseIntError) -> Self {
        WrappedError
    }
}

#[instrument_metrics]
fn impl_in_result(s: &str) -> Result<impl std::fmt::Display, WrappedError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[test]
fn impl_trait_in_a_result_keeps_question_mark_conversions() {
    assert_eq!(impl_in_result("7").unwrap().to_string(), "7");
    assert!(impl_in_result("x").is_err());
    assert_eq!(calls("impl_in_result"), [1, 1, 0, 0]);
}

// 6. `panic` only when this call's own body unwound.

struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

#[instrument_metrics]
async fn sibling_of_a_panic() {
    PendingOnce(false).await;
}

#[instrument_metrics]
async fn panics_itself() {
    PendingOnce(false).await;
    panic!("my own panic");
}

#[test]
fn a_future_dropped_during_another_panic_is_cancelled() {
    let result = catch_unwind(|| {
        let mut cx = Context::from_waker(Waker::noop());
        let mut mine = Box::pin(sibling_of_a_panic());
        assert!(mine.as_mut().poll(&mut cx).is_pending());
        // A sibling panics; unwinding drops `mine`, which never panicked itself.
        panic!("the sibling's panic");
    });
    result.unwrap_err();
    assert_eq!(calls("sibling_of_a_panic"), [0, 0, 0, 1]);

    let result = catch_unwind(|| {
        let mut cx = Context::from_waker(Waker::noop());
        let mut mine = Box::pin(panics_itself());
        assert!(mine.as_mut().poll(&mut cx).is_pending());
        let _ = mine.as_mut().poll(&mut cx);
    });
    result.unwrap_err();
    assert_eq!(calls("panics_itself"), [0, 0, 1, 0]);
}

// 9. An `Err` carrying an HTTP status is classified by that status.

enum AppError {
    NotFound,
    Unavailable,
}

impl ClassifyOutcome for AppError {
    fn outcome(&self) -> Outcome {
        match self {
            AppError::NotFound => Outcome::from_http_status(404),
            AppError::Unavailable => Outcome::from_http_status(503),
        }
    }
}

#[instrument_metrics]
fn lookup(id: u32) -> Result<String, AppError> {
    match id {
        0 => Err(AppError::NotFound),
        1 => Err(AppError::Unavailable),
        _ => Ok(format!("user {id}")),
    }
}

#[instrument_metrics]
fn lookup_tuple(id: u32) -> Result<&'static str, (axum::http::StatusCode, &'static str)> {
    match id {
        0 => Err((axum::http::StatusCode::NOT_FOUND, "no such user")),
        1 => Err((axum::http::StatusCode::BAD_GATEWAY, "upstream down")),
        _ => Ok("user"),
    }
}

#[test]
fn an_err_answering_4xx_is_ok_and_5xx_is_an_error() {
    for id in 0..3 {
        let _ = lookup(id);
        let _ = lookup_tuple(id);
    }
    assert_eq!(calls("lookup"), [2, 1, 0, 0]);
    assert_eq!(calls("lookup_tuple"), [2, 1, 0, 0]);
}

// Found on published crates (tests/real-crates/FINDINGS.md): the declared return type still
// drives coercions in the tail, and a returned closure still gets its signature from
// `-> impl Fn(&T) -> U`.

#[instrument_metrics]
fn split_off(dst: &mut [u8]) -> Result<Option<(usize, &[u8])>, ()> {
    Ok(Some((dst.len(), dst))) // `&mut [u8]` coerced to `&[u8]` by the return type
}

#[instrument_metrics]
fn index_into<'a, K: Eq>(key: &'a K, keys: &'a [K]) -> impl Fn(&usize) -> bool + 'a {
    move |&i| K::eq(key, &keys[i])
}

#[test]
fn return_type_coercions_and_returned_closures_still_infer() {
    let mut buf = [1u8, 2, 3];
    assert_eq!(split_off(&mut buf), Ok(Some((3, &[1u8, 2, 3][..]))));
    assert_eq!(calls("split_off"), [1, 0, 0, 0]);
    let keys = [3, 4];
    let is_four = index_into(&4, &keys);
    assert!(is_four(&1) && !is_four(&0));
    assert_eq!(calls("index_into"), [1, 0, 0, 0]);
}

// A `-> impl Fn…` body is measured in place: its parameters keep their `mut` and patterns.
#[instrument_metrics]
fn adder(mut base: u32, (a, b): (u32, u32)) -> impl Fn(u32) -> u32 {
    base += a + b;
    move |x| x + base
}

#[test]
fn an_impl_fn_body_keeps_mut_and_pattern_parameters() {
    assert_eq!(adder(1, (2, 3))(4), 10);
    assert_eq!(calls("adder"), [1, 0, 0, 0]);
}
