//! Cells of the table (tails.rs) that do not compile, or not clippy-clean, with the macro of
//! today, written the same way. The crates leave this file out unless built with
//! `RUSTFLAGS="--cfg instrument_metrics_pending"`. A row's kinds can be split between the two
//! files (`kinds: [sync_blocks]` here, `kinds: [sync_fns]` in tails.rs); once the attribute
//! handles a group of kinds, it moves into tails.rs.
//!
//! Nothing is pending. What was here moved into the table once the macro handled it (macro as
//! of 23e1b21, all three editions alike):
//! - `inner_attributes`, `inner_attributes_unit`, `sync_blocks` (attribute on an impl block):
//!   the body's `#![…]`/`//!` go back into the body, where they apply (tails.rs);
//! - the same rows, `async_blocks` (`#[instrument_metrics] #[async_trait] impl …`): the inner
//!   attributes reach `#[async_trait]` inside the body, which puts them where plain
//!   `#[async_trait]` does, so `#![allow(clippy::identity_op)]` applies (tails.rs);
//! - `block_fragment`: a `macro_rules!` `$body:block` fragment as the whole body of a fn, a
//!   unit fn, an `async fn` and a method of an instrumented impl block (kinds.rs,
//!   `macro_rules_block_fragment_as_the_body`).
