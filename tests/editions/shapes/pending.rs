//! Cells of the table (tails.rs) that do not compile, or not clippy-clean, with the macro of
//! today, written the same way. The crates leave this file out unless built with
//! `RUSTFLAGS="--cfg instrument_metrics_pending"`. A row's kinds can be split between the two
//! files (`kinds: [sync]` here, `kinds: [async]` in tails.rs); once the attribute handles a
//! group of kinds, it moves into tails.rs.
//!
//! Why each is here (macro as of commit 65fe924, all three editions alike):
//! - `inner_attributes`, `inner_attributes_unit`: `sync_fns`, `async_fns`, `futures`: error
//!   E0658 "attributes on expressions are experimental" and warning "unused doc comment";
//!   `sync_blocks`: error "an inner attribute is not permitted in this context";
//!   `async_blocks` compiles, but the `#![allow(clippy::identity_op)]` no longer applies
//!   (clippy: "this operation has no effect"), though plain `#[async_trait]` keeps it;
//! - `panic_unit`, `todo_unit`, `unimplemented_unit`, `exit_unit`, `sync` kinds: error E0277
//!   "the trait bound `(): ClassifyOutcome` is not satisfied" (their `async` kinds compile and
//!   run in tails.rs).

/// Inner attributes and an inner doc comment opening the body: still valid, still applied
/// (clippy's `identity_op` would fire on `n * 1` otherwise).
mod inner_attributes {
    shape_table! {
        kinds: [sync, async],
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
        kinds: [sync, async],
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

/// A unit fn whose whole body is `panic!`.
/// (The async kinds of this row run in tails.rs.)
mod panic_unit {
    shape_table! {
        kinds: [sync],
        fn (n),
        inner: {},
        body: { panic!("unit boom {}", n) },
        calls: [(1, Err("unit boom 1"))],
        counts: [0, 0, 1, 0],
    }
}

/// A unit fn whose body is `todo!()`.
/// (The async kinds of this row run in tails.rs.)
mod todo_unit {
    shape_table! {
        kinds: [sync],
        fn (_n),
        inner: {},
        body: { todo!() },
        calls: [(1, Err("not yet implemented"))],
        counts: [0, 0, 1, 0],
    }
}

/// A unit fn whose body is `unimplemented!()`.
/// (The async kinds of this row run in tails.rs.)
mod unimplemented_unit {
    shape_table! {
        kinds: [sync],
        fn (_n),
        inner: {},
        body: { unimplemented!() },
        calls: [(1, Err("not implemented"))],
        counts: [0, 0, 1, 0],
    }
}

/// A unit fn whose body is `std::process::exit`: run in a child process.
/// (The async kinds of this row run in tails.rs.)
mod exit_unit {
    shape_table! {
        kinds: [sync],
        fn (n),
        inner: {},
        body: { std::process::exit(if n == 7 { 7 } else { 1 }) },
        exits: 7,
    }
}
