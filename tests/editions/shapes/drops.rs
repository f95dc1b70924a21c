//! Drop order: every row is written once and compiled twice by `twins!`, with and without
//! the attribute, and the drop log of the instrumented twin must equal the plain one. The
//! expected order is rustc's own (for the edition compiling it), never a hand-written guess.

use crate::support::{assert_counts, block_on, logged, note, poll_once, Noisy};

/// `twins! { prelude: { items } item: { the item to instrument } }` defines modules
/// `instrumented` (the item under `#[instrument_metrics]`) and `plain` (the same tokens
/// without it), both with the prelude items and everything of the enclosing module in scope.
macro_rules! twins {
    (prelude: { $($prelude:tt)* } item: { $($item:tt)* }) => {
        pub mod instrumented {
            #[allow(unused_imports)]
            use super::*;
            $($prelude)*
            #[instrument_metrics::instrument_metrics]
            $($item)*
            /// The module label of the instrumented twin.
            pub const MODULE: &str = module_path!();
        }
        pub mod plain {
            #[allow(unused_imports)]
            use super::*;
            $($prelude)*
            $($item)*
        }
    };
    (item: { $($item:tt)* }) => {
        twins!(prelude: {} item: { $($item)* });
    };
}

/// `same_drops!(call)`: the drop log of `instrumented::call` equals that of `plain::call`
/// (and is not empty); the calls are written once, as `tokens` after the module name.
macro_rules! same_drops {
    (|$m:ident| $($call:tt)*) => {{
        let plain = {
            use plain as $m;
            logged(|| { $($call)* })
        };
        let instrumented = {
            use instrumented as $m;
            logged(|| { $($call)* })
        };
        assert!(!plain.is_empty());
        assert_eq!(instrumented, plain, "instrumented (left) vs plain (right)");
        plain
    }};
}

/// Parameters, one unused: rustc drops `_unused`, `b`, `a` (reverse declaration order).
mod params {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy, b: Noisy, _unused: Noisy) {
                let _ = (&a, &b);
                note("body");
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| m::f(Noisy("a"), Noisy("b"), Noisy("_unused")));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// `self` by value among the parameters (attribute on the impl block).
mod self_by_value {
    use super::*;
    twins! {
        prelude: {
            #[allow(dead_code)] // only dropped
            pub struct Holder(pub Noisy);
        }
        item: {
            impl Holder {
                pub fn consume(self, a: Noisy, _unused: Noisy) {
                    let _ = (&self, &a);
                    note("body");
                }
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| m::Holder(Noisy("self")).consume(Noisy("a"), Noisy("_unused")));
        assert_counts(instrumented::MODULE, "Holder::consume", [1, 0, 0, 0]);
    }
}

/// The same parameters in an `async fn`: the body awaits before it ends.
mod async_params {
    use super::*;
    twins! {
        item: {
            pub async fn f(a: Noisy, b: Noisy, _unused: Noisy) {
                let _ = (&a, &b);
                crate::support::yield_once().await;
                note("body");
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| {
            let fut = m::f(Noisy("a"), Noisy("b"), Noisy("_unused"));
            note("built");
            block_on(fut);
        });
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// `self` by value in an `async fn` method.
mod async_self_by_value {
    use super::*;
    twins! {
        prelude: {
            #[allow(dead_code)] // only dropped
            pub struct Holder(pub Noisy);
        }
        item: {
            impl Holder {
                pub async fn consume(self, a: Noisy, _unused: Noisy) {
                    let _ = (&self, &a);
                    crate::support::yield_once().await;
                    note("body");
                }
            }
        }
    }

    #[test]
    fn async_method() {
        same_drops!(|m| {
            let fut = m::Holder(Noisy("self")).consume(Noisy("a"), Noisy("_unused"));
            note("built");
            block_on(fut);
        });
        assert_counts(instrumented::MODULE, "Holder::consume", [1, 0, 0, 0]);
    }
}

/// Through an `-> impl Future`: what the trailing `async move` captures drops when it ends,
/// the rest when the function returns.
mod impl_future_params {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy, b: Noisy, _unused: Noisy) -> impl std::future::Future<Output = ()> {
                let _ = &b;
                let local = Noisy("local");
                async move {
                    let _ = (&a, &local);
                    crate::support::yield_once().await;
                    note("body");
                }
            }
        }
    }

    #[test]
    fn impl_future() {
        same_drops!(|m| {
            let fut = m::f(Noisy("a"), Noisy("b"), Noisy("_unused"));
            note("built");
            block_on(fut);
        });
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// `#[async_trait]`, attribute on the method inside it.
mod async_trait_params {
    use super::*;
    twins! {
        prelude: {
            #[async_trait::async_trait]
            pub trait Consume {
                async fn consume(&self, a: Noisy, b: Noisy, _unused: Noisy);
            }
            pub struct Holder;
        }
        item: {
            #[async_trait::async_trait]
            impl Consume for Holder {
                async fn consume(&self, a: Noisy, b: Noisy, _unused: Noisy) {
                    let _ = (&a, &b);
                    let local = Noisy("local");
                    crate::support::yield_once().await;
                    let _ = &local;
                    note("body");
                }
            }
        }
    }

    #[test]
    fn async_trait() {
        same_drops!(|m| {
            use m::Consume as _;
            let fut = m::Holder.consume(Noisy("a"), Noisy("b"), Noisy("_unused"));
            note("built");
            block_on(fut);
        });
        assert_counts(instrumented::MODULE, "Holder::consume", [1, 0, 0, 0]);
    }
}

/// Pattern and `_` parameters.
mod patterns {
    use super::*;
    twins! {
        item: {
            pub fn f((a, b): (Noisy, Noisy), _: Noisy, _unused: Noisy, c: Noisy) {
                let _ = (&a, &b, &c);
                note("body");
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| m::f(
            (Noisy("a"), Noisy("b")),
            Noisy("_"),
            Noisy("_unused"),
            Noisy("c")
        ));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// Pattern and `_` parameters of an `async fn`.
mod async_patterns {
    use super::*;
    twins! {
        item: {
            pub async fn f((a, b): (Noisy, Noisy), _: Noisy, _unused: Noisy, c: Noisy) {
                let _ = (&a, &b, &c);
                crate::support::yield_once().await;
                note("body");
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| {
            let fut = m::f(
                (Noisy("a"), Noisy("b")),
                Noisy("_"),
                Noisy("_unused"),
                Noisy("c"),
            );
            note("built");
            block_on(fut);
        });
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// A local declared in the body drops before the parameters.
mod local {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy, _b: Noisy) -> usize {
                let local = Noisy("local");
                let _ = (&a, &local);
                note("body");
                local.len()
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| assert_eq!(m::f(Noisy("a"), Noisy("_b")), 5));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// The same in an `async fn`, the local alive across an `.await`.
mod async_local {
    use super::*;
    twins! {
        item: {
            pub async fn f(a: Noisy, _b: Noisy) -> usize {
                let local = Noisy("local");
                crate::support::yield_once().await;
                let _ = (&a, &local);
                note("body");
                local.len()
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| {
            let fut = m::f(Noisy("a"), Noisy("_b"));
            note("built");
            assert_eq!(block_on(fut), 5);
        });
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// A temporary in the tail expression: dropped after the locals up to edition 2021, before
/// them from 2024 on. The instrumented twin must follow its own edition's rule.
mod tail_temporary {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy) -> usize {
                let local = Noisy("local");
                let _ = &a;
                Noisy("temporary").len() + local.len()
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| assert_eq!(m::f(Noisy("a")), 14));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// The same tail temporary in an `async fn`.
mod async_tail_temporary {
    use super::*;
    twins! {
        item: {
            pub async fn f(a: Noisy) -> usize {
                let local = Noisy("local");
                crate::support::yield_once().await;
                let _ = &a;
                Noisy("temporary").len() + local.len()
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| assert_eq!(block_on(m::f(Noisy("a"))), 14));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// `if let` scrutinee temporary: alive through `else` up to 2021, dropped before it in 2024.
mod if_let_scrutinee {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy) -> usize {
                let _ = &a;
                if let Some(n) = Noisy("scrutinee").len().checked_sub(100) {
                    n
                } else {
                    note("else");
                    0
                }
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| assert_eq!(m::f(Noisy("a")), 0));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// A tail temporary in a unit fn (the tail's value is `()`): the same edition rule.
mod unit_tail_temporary {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy) {
                let local = Noisy("local");
                let _ = &a;
                assert_eq!(Noisy("temporary").len() + local.len(), 14)
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| m::f(Noisy("a")));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// The same in an `async fn`.
mod async_unit_tail_temporary {
    use super::*;
    twins! {
        item: {
            pub async fn f(a: Noisy) {
                let local = Noisy("local");
                crate::support::yield_once().await;
                let _ = &a;
                assert_eq!(Noisy("temporary").len() + local.len(), 14)
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| block_on(m::f(Noisy("a"))));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// The `if let` scrutinee in an `async fn`.
mod async_if_let_scrutinee {
    use super::*;
    twins! {
        item: {
            pub async fn f(a: Noisy) -> usize {
                crate::support::yield_once().await;
                let _ = &a;
                if let Some(n) = Noisy("scrutinee").len().checked_sub(100) {
                    n
                } else {
                    note("else");
                    0
                }
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| assert_eq!(block_on(m::f(Noisy("a"))), 0));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// The `if let` scrutinee as the tail of a unit fn, and of a method of an instrumented impl
/// block.
mod unit_if_let_scrutinee {
    use super::*;
    twins! {
        prelude: {
            pub struct Holder;
        }
        item: {
            impl Holder {
                pub fn f(&self, a: Noisy) {
                    let _ = &a;
                    if let Some(n) = Noisy("scrutinee").len().checked_sub(100) {
                        let _ = n;
                        note("then")
                    } else {
                        note("else")
                    }
                }
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| m::Holder.f(Noisy("a")));
        assert_counts(instrumented::MODULE, "Holder::f", [1, 0, 0, 0]);
    }
}

/// A field used by the body: closures capture only that field from edition 2021 on, so a
/// body moved into a closure would drop it apart from its sibling.
mod disjoint_field {
    use super::*;
    twins! {
        prelude: {
            #[allow(dead_code)] // `.0` is only dropped
            pub struct Pair(pub Noisy, pub Noisy);
        }
        item: {
            pub fn f(p: Pair) -> usize {
                note("body");
                p.1.len()
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| assert_eq!(m::f(m::Pair(Noisy("p.0"), Noisy("p.1"))), 3));
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// The same field moved out by the body.
mod moved_field {
    use super::*;
    twins! {
        prelude: {
            #[allow(dead_code)] // `.0` is only dropped
            pub struct Pair(pub Noisy, pub Noisy);
        }
        item: {
            pub fn f(p: Pair, _q: Noisy) -> Noisy {
                note("body");
                p.1
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| {
            let kept = m::f(m::Pair(Noisy("p.0"), Noisy("p.1")), Noisy("_q"));
            note("returned");
            drop(kept);
        });
        assert_counts(instrumented::MODULE, "f", [1, 0, 0, 0]);
    }
}

/// Unwinding: a panicking body drops its locals and parameters in the same order.
mod unwinding {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy, b: Noisy, _unused: Noisy) -> u32 {
                let local = Noisy("local");
                let _ = (&a, &b, &local);
                panic!("unwinding")
            }
        }
    }

    #[test]
    fn sync() {
        let log = same_drops!(|m| {
            m::f(Noisy("a"), Noisy("b"), Noisy("_unused"));
        });
        assert_eq!(log.last(), Some(&"<unwound>"));
        assert_counts(instrumented::MODULE, "f", [0, 0, 1, 0]);
    }
}

/// `?` leaving early drops what was declared so far, then the parameters.
mod question_mark {
    use super::*;
    twins! {
        item: {
            pub fn f(a: Noisy, n: u32, _unused: Noisy) -> Result<u32, String> {
                let early = Noisy("early");
                let v = crate::tails::nonzero(n)?;
                let late = Noisy("late");
                let _ = (&a, &early, &late);
                Ok(v)
            }
        }
    }

    #[test]
    fn sync() {
        same_drops!(|m| assert_eq!(
            m::f(Noisy("a"), 0, Noisy("_unused")),
            Err("zero".to_owned())
        ));
        same_drops!(|m| assert_eq!(m::f(Noisy("a"), 1, Noisy("_unused")), Ok(1)));
        assert_counts(instrumented::MODULE, "f", [1, 1, 0, 0]);
    }
}

/// A future dropped after its first poll drops what it holds in the same order.
mod cancelled {
    use super::*;
    twins! {
        item: {
            pub async fn f(a: Noisy, _unused: Noisy) {
                let local = Noisy("local");
                let _ = (&a, &local);
                std::future::pending::<()>().await;
            }
        }
    }

    #[test]
    fn async_fn() {
        same_drops!(|m| {
            let mut fut = Box::pin(m::f(Noisy("a"), Noisy("_unused")));
            assert!(poll_once(fut.as_mut()).is_pending());
            note("polled");
            drop(fut);
        });
        assert_counts(instrumented::MODULE, "f", [0, 0, 0, 1]);
    }
}
