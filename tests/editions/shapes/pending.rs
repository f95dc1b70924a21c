//! Cells of the table (tails.rs) that do not compile, or not clippy-clean, with the macro of
//! today, written the same way. The crates leave this file out unless built with
//! `RUSTFLAGS="--cfg instrument_metrics_pending"`. A row's kinds can be split between the two
//! files (`kinds: [sync_blocks]` here, `kinds: [sync_fns]` in tails.rs); once the attribute
//! handles a group of kinds, it moves into tails.rs.
//!
//! Why each is here (macro as of commit f7a548e, all three editions alike):
//! - `inner_attributes`, `inner_attributes_unit`, `sync_blocks` (the attribute on an impl
//!   block): error "an inner attribute is not permitted in this context", pointing at the
//!   method (the body's `#![…]`/`//!` end up outside the body);
//! - the same rows, `async_blocks` (`#[instrument_metrics] #[async_trait] impl …`): compiles,
//!   but the body's `#![allow(clippy::identity_op)]` no longer applies (clippy: "this
//!   operation has no effect"), while plain `#[async_trait]` keeps it applied;
//! - `block_fragment`: a fn whose whole body is a `macro_rules!` `$body:block` fragment is
//!   refused: "`#[instrument_metrics]` cannot be put on this item; it applies to functions,
//!   methods and impl blocks" (the body arrives as an invisible group around the braces).

/// Inner attributes and an inner doc comment opening the body: still valid, still applied
/// (clippy's `identity_op` would fire on `n * 1` otherwise).
mod inner_attributes {
    shape_table! {
        kinds: [sync_blocks, async_blocks], // the other kinds: tails.rs
        fn (n) -> [u32],
        inner: {
            #![allow(clippy::identity_op)]
            //! An inner doc comment of the body.
        },
        body: { n * 1 },
        calls: [(3, Ok(3))],
        counts: [1, 0, 0, 0],
    }
}

/// The same in a unit fn.
mod inner_attributes_unit {
    shape_table! {
        kinds: [sync_blocks, async_blocks], // the other kinds: tails.rs
        fn (n),
        inner: {
            #![allow(clippy::identity_op)]
            //! An inner doc comment of the body.
        },
        body: { assert_eq!(n * 1, n) },
        calls: [(3, Ok(()))],
        counts: [1, 0, 0, 0],
    }
}

/// A `macro_rules!` `block` fragment as a function's whole body.
mod block_fragment {
    use crate::support::assert_counts;
    use instrument_metrics::instrument_metrics;

    macro_rules! from_block {
        ($name:ident($n:ident) -> $ret:ty, $body:block) => {
            #[instrument_metrics]
            fn $name($n: u32) -> $ret $body
        };
    }

    from_block!(tripled(n) -> u32, { n * 3 });
    from_block!(checked(n) -> Result<u32, String>, {
        n.checked_sub(1).ok_or_else(|| "zero".to_owned())
    });

    #[test]
    fn block_fragment_bodies() {
        assert_eq!(tripled(2), 6);
        assert_counts(module_path!(), "tripled", [1, 0, 0, 0]);
        assert_eq!(checked(0), Err("zero".to_owned()));
        assert_counts(module_path!(), "checked", [0, 1, 0, 0]);
    }
}
