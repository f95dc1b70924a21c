//! Kinds whose signature is the point, so they cannot be stamped from one body by
//! `shape_table!`: `extern "C"`, `mut self` that mutates, other smart-pointer receivers,
//! nested items with their own `Self`, references returned from `&mut` parameters, generic
//! returns, `Drop::drop` in an instrumented `impl Drop`, and `_` / pattern parameters.

use std::future::Future;
use std::panic::catch_unwind;
use std::rc::Rc;
use std::sync::Arc;

use instrument_metrics::{instrument_metrics, ClassifyOutcome, Outcome};

use crate::support::{assert_counts, block_on, Noisy};

const MODULE: &str = module_path!();

// ---- extern "C" (a panic would abort, so only returning bodies) ----

#[instrument_metrics]
extern "C" fn c_value(n: u32) -> u32 {
    n + 1
}

#[instrument_metrics]
extern "C" fn c_unit(n: u32) {
    assert!(n < 100);
}

#[instrument_metrics(error_if = |code: &i32| *code != 0)]
extern "C" fn c_status(n: u32) -> i32 {
    if n == 0 {
        -1
    } else {
        0
    }
}

#[test]
fn extern_c() {
    assert_counts(MODULE, "c_value", [0, 0, 0, 0]);
    let through_pointer: extern "C" fn(u32) -> u32 = c_value;
    assert_eq!(c_value(1), 2);
    assert_eq!(through_pointer(2), 3);
    assert_counts(MODULE, "c_value", [2, 0, 0, 0]);
    c_unit(1);
    assert_counts(MODULE, "c_unit", [1, 0, 0, 0]);
    assert_eq!(c_status(0), -1);
    assert_eq!(c_status(1), 0);
    assert_counts(MODULE, "c_status", [1, 1, 0, 0]);
}

// ---- receivers beyond the table's ----

pub struct Acc(u32);

impl Acc {
    #[instrument_metrics]
    fn add(mut self, n: u32) -> u32 {
        self.0 += n;
        self.0
    }

    #[instrument_metrics]
    fn shared(self: Rc<Self>, n: u32) -> u32 {
        self.0 + n
    }

    #[instrument_metrics]
    fn arced(self: Arc<Self>, n: u32) -> Result<u32, String> {
        self.0.checked_sub(n).ok_or_else(|| "below zero".to_owned())
    }

    #[allow(clippy::needless_arbitrary_self_type)] // the spelled-out receiver is the shape
    #[instrument_metrics]
    fn by_ref_self(self: &Self, n: u32) -> u32 {
        self.0 * n
    }
}

#[test]
fn mut_self_and_smart_pointer_receivers() {
    assert_eq!(Acc(1).add(2), 3);
    assert_counts(MODULE, "add", [1, 0, 0, 0]);
    assert_eq!(Rc::new(Acc(1)).shared(2), 3);
    assert_counts(MODULE, "shared", [1, 0, 0, 0]);
    assert_eq!(Arc::new(Acc(1)).arced(1), Ok(0));
    assert_eq!(Arc::new(Acc(1)).arced(2), Err("below zero".to_owned()));
    assert_counts(MODULE, "arced", [1, 1, 0, 0]);
    assert_eq!(Acc(3).by_ref_self(2), 6);
    assert_counts(MODULE, "by_ref_self", [1, 0, 0, 0]);
}

// ---- nested items with their own `Self`, and `Self` in the body ----

#[derive(Debug, PartialEq)]
pub struct Nest(u32);

impl Nest {
    #[instrument_metrics]
    fn build(n: u32) -> Self {
        struct Local(u32);
        impl Local {
            fn helper() -> Self {
                Local(2)
            }
        }
        impl Default for Local {
            fn default() -> Self {
                Self(1)
            }
        }
        trait Twice {
            fn twice(&self) -> Self;
        }
        impl Twice for u32 {
            fn twice(&self) -> Self {
                self * 2
            }
        }
        fn plain() -> u32 {
            3
        }
        let made: Self = Self(n.twice() + Local::helper().0 + Local::default().0 + plain());
        made
    }

    #[instrument_metrics]
    async fn build_async(n: u32) -> Self {
        struct Local(u32);
        impl Local {
            fn helper() -> Self {
                Local(2)
            }
        }
        crate::support::yield_once().await;
        Self(n + Local::helper().0)
    }
}

pub struct NestBlock;

#[instrument_metrics]
impl NestBlock {
    fn make(n: u32) -> Result<Nest, String> {
        #[derive(Default)]
        struct Local(u32);
        impl Local {
            fn new(v: u32) -> Self {
                Self(v)
            }
        }
        if n == 0 {
            return Err(format!("{}", Local::default().0));
        }
        Ok(Nest(Local::new(n).0))
    }
}

#[test]
fn nested_items_keep_their_own_self() {
    assert_eq!(Nest::build(1), Nest(8));
    assert_counts(MODULE, "build", [1, 0, 0, 0]);
    assert_eq!(block_on(Nest::build_async(1)), Nest(3));
    assert_counts(MODULE, "build_async", [1, 0, 0, 0]);
    assert_eq!(NestBlock::make(4), Ok(Nest(4)));
    assert_eq!(NestBlock::make(0), Err("0".to_owned()));
    assert_counts(MODULE, "NestBlock::make", [1, 1, 0, 0]);
}

// ---- references returned from `&mut` parameters ----

#[instrument_metrics]
fn push_get(v: &mut Vec<u32>, n: u32) -> &mut u32 {
    v.push(n);
    let last = v.len() - 1;
    &mut v[last]
}

#[instrument_metrics]
fn slot(v: &mut [u32], i: usize) -> Result<&mut u32, String> {
    let len = v.len();
    v.get_mut(i).ok_or_else(|| format!("{i} out of {len}"))
}

#[instrument_metrics]
fn iter_mut(v: &mut [u32]) -> impl Iterator<Item = &mut u32> + '_ {
    v.iter_mut().filter(|x| **x > 0)
}

#[instrument_metrics]
async fn first_async(v: &mut Vec<u32>) -> &mut u32 {
    crate::support::yield_once().await;
    if v.is_empty() {
        v.push(0);
    }
    &mut v[0]
}

pub struct Cell2(u32, u32);

#[instrument_metrics]
impl Cell2 {
    fn pick(&mut self, second: bool) -> &mut u32 {
        if second {
            &mut self.1
        } else {
            &mut self.0
        }
    }
}

#[test]
fn references_from_mut_parameters() {
    let mut v = vec![1];
    *push_get(&mut v, 2) += 10;
    assert_eq!(v, [1, 12]);
    assert_counts(MODULE, "push_get", [1, 0, 0, 0]);
    *slot(&mut v, 0).unwrap() = 5;
    assert_eq!(slot(&mut v, 9), Err("9 out of 2".to_owned()));
    assert_eq!(v, [5, 12]);
    assert_counts(MODULE, "slot", [1, 1, 0, 0]);
    for x in iter_mut(&mut v) {
        *x += 1;
    }
    assert_eq!(v, [6, 13]);
    assert_counts(MODULE, "iter_mut", [1, 0, 0, 0]);
    let mut empty = Vec::new();
    *block_on(first_async(&mut empty)) = 4;
    assert_eq!(empty, [4]);
    assert_counts(MODULE, "first_async", [1, 0, 0, 0]);
    let mut c = Cell2(0, 0);
    *c.pick(true) = 2;
    *c.pick(false) = 1;
    assert_eq!((c.0, c.1), (1, 2));
    assert_counts(MODULE, "Cell2::pick", [2, 0, 0, 0]);
}

// ---- generic returns ----

/// What `error_if` asks of a generic return.
pub trait Failed {
    fn failed(&self) -> bool;
}

impl<T, E> Failed for Result<T, E> {
    fn failed(&self) -> bool {
        self.is_err()
    }
}

#[instrument_metrics(error_if = Failed::failed)]
fn retry_error_if<R: Failed>(f: impl FnOnce() -> R) -> R {
    f()
}

#[instrument_metrics(error_if = |r: &R| r.failed())]
fn retry_error_if_closure<R: Failed>(f: impl FnOnce() -> R) -> R {
    f()
}

#[test]
fn generic_return_with_error_if() {
    assert_eq!(retry_error_if(|| Err::<u8, _>("no")), Err("no"));
    assert_eq!(retry_error_if(|| Ok::<_, ()>(1)), Ok(1));
    assert_counts(MODULE, "retry_error_if", [1, 1, 0, 0]);
    assert_eq!(retry_error_if_closure(|| Err::<u8, _>("no")), Err("no"));
    assert_counts(MODULE, "retry_error_if_closure", [0, 1, 0, 0]);
}

#[instrument_metrics]
fn retry_classified<R: ClassifyOutcome>(f: impl FnOnce() -> R) -> R {
    f()
}

pub struct Verdict(bool);

impl ClassifyOutcome for Verdict {
    fn outcome(&self) -> Outcome {
        if self.0 {
            Outcome::Ok
        } else {
            Outcome::Error
        }
    }
}

#[test]
fn generic_return_bounded_by_classify_outcome() {
    assert!(!retry_classified(|| Verdict(false)).0);
    assert!(retry_classified(|| Verdict(true)).0);
    assert_counts(MODULE, "retry_classified", [1, 1, 0, 0]);
}

/// `F::Output` is generic in form only: the bound pins it to a `Result`, which the body's
/// concrete type shows, so no warning is due and an `Err` counts `error`.
#[instrument_metrics]
fn apply<F: FnOnce() -> Result<u8, String>>(f: F) -> F::Output {
    f()
}

#[test]
fn projection_return_pinned_to_a_result() {
    assert_eq!(apply(|| Err("no".to_owned())), Err("no".to_owned()));
    assert_eq!(apply(|| Ok(1)), Ok(1));
    assert_counts(MODULE, "apply", [1, 1, 0, 0]);
}

/// The default, no option: `R` is a `Result` only at each call site, so the attribute cannot
/// see the `Err` (DESIGN: "classify correctly if possible, else warn at compile time and name
/// `ok_if`/`error_if`"). The macro's warning is a deprecation on the return type, which
/// `#[allow(deprecated)]` accepts; accepted, every call counts `ok`, an `Err` too. (Whether the
/// warning appears is for a UI test; this row pins what accepting it means.)
#[allow(deprecated)]
#[instrument_metrics]
fn retry<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[test]
fn generic_return_by_default_counts_ok() {
    assert_eq!(retry(|| Err::<u8, _>("no")), Err("no"));
    assert_eq!(retry(|| Ok::<u8, ()>(1)), Ok(1));
    assert_counts(MODULE, "retry", [2, 0, 0, 0]);
}

// ---- `Drop::drop` in an instrumented `impl Drop` ----

pub struct Quiet(u32);

#[instrument_metrics]
impl Drop for Quiet {
    fn drop(&mut self) {
        self.0 += 1;
    }
}

pub struct Panicky(bool);

#[instrument_metrics]
impl Drop for Panicky {
    fn drop(&mut self) {
        assert!(!self.0, "drop boom");
    }
}

pub struct MethodOnly;

impl Drop for MethodOnly {
    #[instrument_metrics(name = "MethodOnly::drop")]
    fn drop(&mut self) {}
}

#[test]
fn drop_in_an_instrumented_impl_drop() {
    drop(Quiet(0));
    {
        let _q = Quiet(1);
    }
    assert_counts(MODULE, "Quiet::drop", [2, 0, 0, 0]);
    drop(Panicky(false));
    let caught = catch_unwind(|| drop(Panicky(true)));
    assert_eq!(crate::support::message(&*caught.unwrap_err()), "drop boom");
    assert_counts(MODULE, "Panicky::drop", [1, 0, 1, 0]);
    drop(MethodOnly);
    assert_counts(MODULE, "MethodOnly::drop", [1, 0, 0, 0]);
}

// ---- `_` and pattern parameters ----

pub struct Wrap(u32);

#[instrument_metrics]
fn patterns(
    (a, b): (u32, u32),
    _: Noisy,
    _unused: Noisy,
    Wrap(c): Wrap,
    [d, e]: [u32; 2],
    mut f: u32,
) -> u32 {
    f += 1;
    a + b + c + d + e + f
}

impl Wrap {
    #[instrument_metrics]
    fn method_patterns(&self, (a, _): (u32, Noisy), _: Noisy) -> u32 {
        self.0 + a
    }
}

#[instrument_metrics]
async fn async_patterns((a, b): (u32, u32), _: Noisy, Wrap(c): Wrap) -> Result<u32, String> {
    crate::support::yield_once().await;
    if c == 0 {
        return Err("c is zero".to_owned());
    }
    Ok(a + b + c)
}

#[allow(clippy::manual_async_fn)] // the shape under test
#[instrument_metrics]
fn future_patterns((a, b): (u32, u32), _: Noisy) -> impl Future<Output = u32> {
    async move {
        crate::support::yield_once().await;
        a * b
    }
}

#[test]
fn underscore_and_pattern_parameters() {
    let got = patterns((1, 2), Noisy("_"), Noisy("_unused"), Wrap(3), [4, 5], 6);
    assert_eq!(got, 22);
    assert_counts(MODULE, "patterns", [1, 0, 0, 0]);
    assert_eq!(Wrap(1).method_patterns((2, Noisy("t")), Noisy("_")), 3);
    assert_counts(MODULE, "method_patterns", [1, 0, 0, 0]);
    assert_eq!(block_on(async_patterns((1, 2), Noisy("_"), Wrap(3))), Ok(6));
    assert_eq!(
        block_on(async_patterns((1, 2), Noisy("_"), Wrap(0))),
        Err("c is zero".to_owned())
    );
    assert_counts(MODULE, "async_patterns", [1, 1, 0, 0]);
    assert_eq!(block_on(future_patterns((2, 3), Noisy("_"))), 6);
    assert_counts(MODULE, "future_patterns", [1, 0, 0, 0]);
}

// ---- inner attributes inside the async block of an `-> impl Future` ----

#[allow(clippy::manual_async_fn)] // the shape under test
#[instrument_metrics]
fn inner_attribute_in_async_block(n: u32) -> impl Future<Output = u32> {
    async move {
        #![allow(clippy::identity_op)]
        n * 1
    }
}

#[test]
fn inner_attribute_inside_the_returned_async_block() {
    assert_eq!(block_on(inner_attribute_in_async_block(3)), 3);
    assert_counts(MODULE, "inner_attribute_in_async_block", [1, 0, 0, 0]);
}

// ---- a `Drop::drop` whose whole body panics (a diverging unit body) ----

pub struct AlwaysPanics;

#[instrument_metrics]
impl Drop for AlwaysPanics {
    fn drop(&mut self) {
        panic!("always boom")
    }
}

#[test]
fn drop_whose_body_always_panics() {
    let caught = catch_unwind(|| drop(AlwaysPanics));
    assert_eq!(
        crate::support::message(&*caught.unwrap_err()),
        "always boom"
    );
    assert_counts(MODULE, "AlwaysPanics::drop", [0, 0, 1, 0]);
}

// ---- syntax newer editions care about, valid in all three ----

/// Precise capturing (`use<…>`, Rust 1.82): the returned closure captures `T` but no lifetime.
#[instrument_metrics]
fn len_getter<T: AsRef<[u8]>>(t: &T) -> impl Fn() -> usize + use<T> {
    let n = t.as_ref().len();
    move || n
}

/// `use<'_>`: the iterator borrows the slice.
#[instrument_metrics]
fn firsts(v: &[u32]) -> impl Iterator<Item = u32> + use<'_> {
    v.iter().copied().take(2)
}

/// An unsafe operation in its own `unsafe {}` block, as 2024 wants (`unsafe_op_in_unsafe_fn`).
///
/// # Safety
/// `p` must be valid for reads.
#[instrument_metrics]
unsafe fn read_raw(p: *const u32) -> u32 {
    // SAFETY: the caller promises `p` is valid.
    unsafe { *p }
}

/// `gen` is reserved from 2024 on and `async` from 2018 on: raw identifiers, labelled unraw.
#[instrument_metrics]
fn r#gen(n: u32) -> u32 {
    n + 1
}

#[instrument_metrics]
fn r#async(n: u32) -> Result<u32, String> {
    if n == 0 {
        Err("zero".to_owned())
    } else {
        Ok(n)
    }
}

#[test]
fn newer_syntax_and_raw_identifiers() {
    let get = len_getter(&vec![1_u8, 2, 3]);
    assert_eq!(get(), 3);
    assert_counts(MODULE, "len_getter", [1, 0, 0, 0]);
    assert_eq!(firsts(&[5, 6, 7]).collect::<Vec<_>>(), [5, 6]);
    assert_counts(MODULE, "firsts", [1, 0, 0, 0]);
    let x = 9_u32;
    // SAFETY: `x` is alive and aligned.
    assert_eq!(unsafe { read_raw(&x) }, 9);
    assert_counts(MODULE, "read_raw", [1, 0, 0, 0]);
    assert_eq!(r#gen(1), 2);
    assert_counts(MODULE, "gen", [1, 0, 0, 0]);
    assert_eq!(r#async(0), Err("zero".to_owned()));
    assert_counts(MODULE, "async", [0, 1, 0, 0]);
}

// ---- fns stamped out by `macro_rules!` with `expr` and `ty` fragments ----
//
// Fragments reach the attribute wrapped in invisible groups (unlike the `tt`s of the table);
// `expr` matches more from 2024 on (`const {}`, `_`), which the table's `tt`s never see; a
// `block` fragment is the whole body, braces included, inside its invisible group.

macro_rules! fragments {
    ($name:ident($n:ident) -> $ret:ty, $body:expr) => {
        #[instrument_metrics]
        fn $name($n: u32) -> $ret {
            $body
        }
    };
}

fragments!(from_expr(n) -> Result<u32, String>, n.checked_sub(1).ok_or_else(|| "zero".to_owned()));
fragments!(from_const_block_expr(n) -> u32, n + const { 2 });

#[test]
fn macro_rules_fragments() {
    assert_eq!(from_expr(0), Err("zero".to_owned()));
    assert_eq!(from_expr(2), Ok(1));
    assert_counts(MODULE, "from_expr", [1, 1, 0, 0]);
    assert_eq!(from_const_block_expr(1), 3);
    assert_counts(MODULE, "from_const_block_expr", [1, 0, 0, 0]);
}

macro_rules! block_fragments {
    ($name:ident($n:ident) -> $ret:ty, $body:block) => {
        #[instrument_metrics]
        fn $name($n: u32) -> $ret $body
    };
    ($name:ident($n:ident), $body:block) => {
        #[instrument_metrics]
        fn $name($n: u32) $body
    };
    (async $name:ident($n:ident) -> $ret:ty, $body:block) => {
        #[instrument_metrics]
        async fn $name($n: u32) -> $ret $body
    };
    (impl $ty:ident { $name:ident($n:ident) -> $ret:ty, $body:block }) => {
        #[instrument_metrics]
        impl $ty {
            fn $name($n: u32) -> $ret $body
        }
    };
}

block_fragments!(from_block(n) -> u32, { n * 3 });
block_fragments!(from_block_result(n) -> Result<u32, String>, {
    n.checked_sub(1).ok_or_else(|| "zero".to_owned())
});
block_fragments!(from_block_unit(n), { assert!(n < 10, "unit block boom") });
block_fragments!(async from_block_async(n) -> Result<u32, String>, {
    crate::support::yield_once().await;
    n.checked_sub(1).ok_or_else(|| "zero".to_owned())
});

pub struct Blocks;
block_fragments!(impl Blocks { from_block_method(n) -> Option<u32>, { n.checked_sub(1) } });

#[test]
fn macro_rules_block_fragment_as_the_body() {
    assert_eq!(from_block(2), 6);
    assert_counts(MODULE, "from_block", [1, 0, 0, 0]);
    assert_eq!(from_block_result(0), Err("zero".to_owned()));
    assert_eq!(from_block_result(2), Ok(1));
    assert_counts(MODULE, "from_block_result", [1, 1, 0, 0]);
    from_block_unit(1);
    let caught = catch_unwind(|| from_block_unit(10));
    assert_eq!(
        crate::support::message(&*caught.unwrap_err()),
        "unit block boom"
    );
    assert_counts(MODULE, "from_block_unit", [1, 0, 1, 0]);
    assert_eq!(block_on(from_block_async(0)), Err("zero".to_owned()));
    assert_eq!(block_on(from_block_async(1)), Ok(0));
    assert_counts(MODULE, "from_block_async", [1, 1, 0, 0]);
    assert_eq!(Blocks::from_block_method(0), None);
    assert_counts(MODULE, "Blocks::from_block_method", [1, 0, 0, 0]);
}
