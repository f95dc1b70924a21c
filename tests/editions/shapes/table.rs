//! `shape_table!`: one body tail written once, stamped into every kind of function, each kind
//! with its own test that calls it and checks the exact counts of its own series.
//!
//! The tail's tokens are passed as `tt`s, so the attribute sees them exactly as if they had
//! been written by hand inside each function (no invisible groups around them). Each row is a
//! module: its functions are labelled by kind (`free`, `by_ref`, `S::trait_block`…) and told
//! apart from other rows by the `module` label.
//!
//! Kinds, in groups a row names in `kinds: […]` (the `function` label in brackets); `sync`
//! is `sync_fns` + `sync_blocks`, `async` is `async_fns` + `futures` + `async_blocks`:
//! - `sync_fns`: free fn [`free`]; methods by `&self` [`by_ref`], `&mut self` [`by_mut`], `self`
//!   [`by_value`], `mut self` [`by_mut_value`], `self: Box<Self>` [`boxed`],
//!   `self: Pin<&mut Self>` [`pinned`]; associated fn [`assoc`]; trait default method
//!   [`trait_default`]; trait impl method with the attribute on the method [`trait_method`];
//!   generic fn (type and const parameters) [`generic_fn`]; `unsafe fn` [`unsafe_fn`];
//!   `extern "C-unwind" fn` [`extern_fn`] (`extern "C"` aborts on a panic, so it has its own
//!   rows in kinds.rs);
//! - `sync_blocks`, the attribute on the impl block: of a generic type, method and associated
//!   fn [`G::generic_type`, `G::generic_assoc`]; of a trait impl [`S::trait_block`];
//! - `async_fns`: `async fn` [`async_fn`]; `async fn` method [`async_method`];
//!   `#[async_trait]` impl with the attribute on the method [`async_trait_method`];
//! - `futures`: `fn -> impl Future` ending in `async move {}` [`impl_future`];
//!   `fn -> Pin<Box<dyn Future>>` ending in `Box::pin(async move {})` [`boxed_future`];
//! - `async_blocks`: `#[async_trait]` impl with the attribute on the block, outside
//!   `#[async_trait]` [`S::async_trait_block`].
//!
//! A row:
//! ```ignore
//! mod question_mark {
//!     shape_table! {
//!         kinds: [sync, async],
//!         fn (n) -> [Result<u32, String>],    // `fn (n)` alone for a unit fn
//!         inner: {},                           // inner attributes / `//!` of the body
//!         body: { let v = nonzero(n)?; Ok(v) },
//!         calls: [(1, Ok(Ok(1))), (0, Ok(Err("zero".to_owned())))], // Err("…") = panics with
//!         counts: [1, 1, 0, 0],                // ok, error, panic, cancelled
//!     }
//! }
//! ```
//! or `exits: 7` instead of `calls`/`counts`: each kind's test re-runs itself in a child
//! process that calls the function with 7 and must exit with status 7.

macro_rules! shape_table {
    // Entry, unit fn.
    (
        kinds: [$($group:ident),+ $(,)?],
        fn ($n:ident),
        inner: { $($inner:tt)* },
        body: { $($body:tt)* },
        $($mode:ident: $spec:tt),+ $(,)?
    ) => {
        shape_table!(@row [$($group)+] [] [()] $n { $($inner)* } { $($body)* } [$($mode $spec)+]);
    };
    // Entry, fn returning a value.
    (
        kinds: [$($group:ident),+ $(,)?],
        fn ($n:ident) -> [$($ret:tt)+],
        inner: { $($inner:tt)* },
        body: { $($body:tt)* },
        $($mode:ident: $spec:tt),+ $(,)?
    ) => {
        shape_table!(@row [$($group)+] [-> $($ret)+] [$($ret)+] $n { $($inner)* } { $($body)* } [$($mode $spec)+]);
    };

    (@row [$($group:ident)+] $sig:tt $ty:tt $n:ident $inner:tt $body:tt $mode:tt) => {
        #[allow(unused_imports)]
        use crate::support::*;
        #[allow(unused_imports)]
        use instrument_metrics::instrument_metrics;

        /// The receiver of the method kinds.
        #[allow(dead_code)]
        pub struct S;
        /// A generic type whose impl block carries the attribute (`sync_blocks`).
        #[allow(dead_code)]
        pub struct G<T>(pub T);

        /// The module label of this row's functions.
        #[allow(dead_code)] // rows that exit read no counts
        const MODULE: &str = module_path!();

        shape_table!(@expect $ty $mode);

        $(shape_table!(@items $group $sig $ty $n $inner $body);)+

        mod kinds {
            $(shape_table!(@tests $group $mode);)+
        }
    };

    (@expect [$($ty:tt)*] [calls $calls:tt counts $counts:tt]) => {
        fn calls() -> Vec<(u32, Expect<$($ty)*>)> {
            vec! $calls
        }
        const COUNTS: [u64; 4] = $counts;
    };
    (@expect $ty:tt [exits $code:tt]) => {
        const EXIT_CODE: u8 = $code;
    };

    (@check [calls $calls:tt counts $counts:tt] $test:ident, $label:expr, $call:expr) => {
        crate::support::run_cell(super::MODULE, $label, $call, super::calls(), super::COUNTS)
    };
    (@check [exits $code:tt] $test:ident, $label:expr, $call:expr) => {
        crate::support::run_exit_cell(
            module_path!(),
            stringify!($test),
            $call,
            super::EXIT_CODE,
        )
    };

    (@items sync $($rest:tt)*) => {
        shape_table!(@items sync_fns $($rest)*);
        shape_table!(@items sync_blocks $($rest)*);
    };
    (@items async $($rest:tt)*) => {
        shape_table!(@items async_fns $($rest)*);
        shape_table!(@items futures $($rest)*);
        shape_table!(@items async_blocks $($rest)*);
    };

    (@items sync_fns [$($sig:tt)*] [$($ty:tt)*] $n:ident { $($inner:tt)* } { $($body:tt)* }) => {
        #[instrument_metrics]
        pub fn free($n: u32) $($sig)* { $($inner)* $($body)* }

        impl S {
            #[instrument_metrics]
            pub fn by_ref(&self, $n: u32) $($sig)* { $($inner)* $($body)* }

            #[instrument_metrics]
            pub fn by_mut(&mut self, $n: u32) $($sig)* { $($inner)* $($body)* }

            #[instrument_metrics]
            pub fn by_value(self, $n: u32) $($sig)* { $($inner)* $($body)* }

            // The body does not touch `self`; kinds.rs has a `mut self` that does.
            #[allow(unused_mut)]
            #[instrument_metrics]
            pub fn by_mut_value(mut self, $n: u32) $($sig)* { $($inner)* $($body)* }

            #[allow(clippy::boxed_local)] // the body does not touch `self`, nor would plain code
            #[instrument_metrics]
            pub fn boxed(self: Box<Self>, $n: u32) $($sig)* { $($inner)* $($body)* }

            #[instrument_metrics]
            pub fn pinned(self: std::pin::Pin<&mut Self>, $n: u32) $($sig)* { $($inner)* $($body)* }

            #[instrument_metrics]
            pub fn assoc($n: u32) $($sig)* { $($inner)* $($body)* }
        }

        pub trait Defaults {
            #[instrument_metrics]
            fn trait_default(&self, $n: u32) $($sig)* { $($inner)* $($body)* }
        }
        impl Defaults for S {}

        pub trait OnMethod {
            fn trait_method(&self, $n: u32) $($sig)*;
        }
        impl OnMethod for S {
            #[instrument_metrics]
            fn trait_method(&self, $n: u32) $($sig)* { $($inner)* $($body)* }
        }

        #[instrument_metrics]
        pub fn generic_fn<T: Copy, const K: usize>($n: u32, _tag: [T; K]) $($sig)* { $($inner)* $($body)* }

        /// # Safety
        /// Nothing to uphold: `unsafe` is the shape under test.
        #[instrument_metrics]
        pub unsafe fn unsafe_fn($n: u32) $($sig)* { $($inner)* $($body)* }

        #[allow(improper_ctypes_definitions)]
        #[instrument_metrics]
        pub extern "C-unwind" fn extern_fn($n: u32) $($sig)* { $($inner)* $($body)* }
    };

    (@items sync_blocks [$($sig:tt)*] [$($ty:tt)*] $n:ident { $($inner:tt)* } { $($body:tt)* }) => {
        #[instrument_metrics]
        impl<T: Copy> G<T> {
            pub fn generic_type(&self, $n: u32) $($sig)* { $($inner)* $($body)* }

            pub fn generic_assoc($n: u32) $($sig)* { $($inner)* $($body)* }
        }

        pub trait OnBlock {
            fn trait_block(&self, $n: u32) $($sig)*;
        }
        #[instrument_metrics]
        impl OnBlock for S {
            fn trait_block(&self, $n: u32) $($sig)* { $($inner)* $($body)* }
        }
    };

    (@items async_fns [$($sig:tt)*] [$($ty:tt)*] $n:ident { $($inner:tt)* } { $($body:tt)* }) => {
        #[instrument_metrics]
        pub async fn async_fn($n: u32) $($sig)* { $($inner)* $($body)* }

        impl S {
            #[instrument_metrics]
            pub async fn async_method(&self, $n: u32) $($sig)* { $($inner)* $($body)* }
        }

        #[async_trait::async_trait]
        pub trait AsyncTraitMethod {
            async fn async_trait_method(&self, $n: u32) $($sig)*;
        }
        #[async_trait::async_trait]
        impl AsyncTraitMethod for S {
            #[instrument_metrics]
            async fn async_trait_method(&self, $n: u32) $($sig)* { $($inner)* $($body)* }
        }
    };

    (@items futures [$($sig:tt)*] [$($ty:tt)*] $n:ident { $($inner:tt)* } { $($body:tt)* }) => {
        #[instrument_metrics]
        pub fn impl_future($n: u32) -> impl std::future::Future<Output = $($ty)*> {
            $($inner)*
            async move { $($body)* }
        }

        #[instrument_metrics]
        pub fn boxed_future(
            $n: u32,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = $($ty)*> + Send>> {
            $($inner)*
            Box::pin(async move { $($body)* })
        }
    };

    (@items async_blocks [$($sig:tt)*] [$($ty:tt)*] $n:ident { $($inner:tt)* } { $($body:tt)* }) => {
        #[async_trait::async_trait]
        pub trait AsyncTraitBlock {
            async fn async_trait_block(&self, $n: u32) $($sig)*;
        }
        #[instrument_metrics]
        #[async_trait::async_trait]
        impl AsyncTraitBlock for S {
            async fn async_trait_block(&self, $n: u32) $($sig)* { $($inner)* $($body)* }
        }
    };

    (@tests sync $mode:tt) => {
        shape_table!(@tests sync_fns $mode);
        shape_table!(@tests sync_blocks $mode);
    };
    (@tests async $mode:tt) => {
        shape_table!(@tests async_fns $mode);
        shape_table!(@tests futures $mode);
        shape_table!(@tests async_blocks $mode);
    };

    (@tests sync_fns $mode:tt) => {
        #[test]
        fn free() {
            shape_table!(@check $mode free, "free", |n| super::free(n));
        }
        #[test]
        fn by_ref() {
            shape_table!(@check $mode by_ref, "by_ref", |n| super::S.by_ref(n));
        }
        #[test]
        fn by_mut() {
            shape_table!(@check $mode by_mut, "by_mut", |n| super::S.by_mut(n));
        }
        #[test]
        fn by_value() {
            shape_table!(@check $mode by_value, "by_value", |n| super::S.by_value(n));
        }
        #[test]
        fn by_mut_value() {
            shape_table!(@check $mode by_mut_value, "by_mut_value", |n| super::S.by_mut_value(n));
        }
        #[test]
        fn boxed() {
            shape_table!(@check $mode boxed, "boxed", |n| Box::new(super::S).boxed(n));
        }
        #[test]
        fn pinned() {
            shape_table!(@check $mode pinned, "pinned", |n| {
                let mut s = super::S;
                std::pin::Pin::new(&mut s).pinned(n)
            });
        }
        #[test]
        fn assoc() {
            shape_table!(@check $mode assoc, "assoc", super::S::assoc);
        }
        #[test]
        fn trait_default() {
            use super::Defaults as _;
            shape_table!(@check $mode trait_default, "trait_default", |n| super::S.trait_default(n));
        }
        #[test]
        fn trait_method() {
            use super::OnMethod as _;
            shape_table!(@check $mode trait_method, "trait_method", |n| super::S.trait_method(n));
        }
        #[test]
        fn generic_fn() {
            shape_table!(@check $mode generic_fn, "generic_fn", |n| super::generic_fn(n, [0_u8; 2]));
        }
        #[test]
        fn unsafe_fn() {
            // SAFETY: `unsafe_fn` has no precondition.
            shape_table!(@check $mode unsafe_fn, "unsafe_fn", |n| unsafe { super::unsafe_fn(n) });
        }
        #[test]
        fn extern_fn() {
            shape_table!(@check $mode extern_fn, "extern_fn", |n| super::extern_fn(n));
        }
    };

    (@tests sync_blocks $mode:tt) => {
        #[test]
        fn generic_type() {
            shape_table!(@check $mode generic_type, "G::generic_type", |n| super::G('g').generic_type(n));
        }
        #[test]
        fn generic_assoc() {
            shape_table!(@check $mode generic_assoc, "G::generic_assoc", super::G::<u8>::generic_assoc);
        }
        #[test]
        fn trait_block() {
            use super::OnBlock as _;
            shape_table!(@check $mode trait_block, "S::trait_block", |n| super::S.trait_block(n));
        }
    };

    (@tests async_fns $mode:tt) => {
        #[test]
        fn async_fn() {
            shape_table!(@check $mode async_fn, "async_fn", |n| crate::support::block_on(super::async_fn(n)));
        }
        #[test]
        fn async_method() {
            shape_table!(@check $mode async_method, "async_method", |n| crate::support::block_on(super::S.async_method(n)));
        }
        #[test]
        fn async_trait_method() {
            use super::AsyncTraitMethod as _;
            shape_table!(@check $mode async_trait_method, "async_trait_method", |n| crate::support::block_on(super::S.async_trait_method(n)));
        }
    };

    (@tests futures $mode:tt) => {
        #[test]
        fn impl_future() {
            shape_table!(@check $mode impl_future, "impl_future", |n| crate::support::block_on(super::impl_future(n)));
        }
        #[test]
        fn boxed_future() {
            shape_table!(@check $mode boxed_future, "boxed_future", |n| crate::support::block_on(super::boxed_future(n)));
        }
    };

    (@tests async_blocks $mode:tt) => {
        #[test]
        fn async_trait_block() {
            use super::AsyncTraitBlock as _;
            shape_table!(@check $mode async_trait_block, "S::async_trait_block", |n| crate::support::block_on(super::S.async_trait_block(n)));
        }
    };
}
