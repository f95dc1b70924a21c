//! The `#[instrument_metrics]` attribute. Use it through the `instrument-metrics` crate, which
//! re-exports it and holds the runtime the generated code calls.
//!
//! This crate only parses and generates code:
//! - `attribute`: our own attribute told apart from the others;
//! - `options`: the attribute's arguments, checked at compile time;
//! - `buckets`: histogram bucket lists (`[…]`, `linear(…)`, `exponential(…)`);
//! - `target`: what the attribute was put on, parsed speculatively;
//! - `expand`: the rewrite of one function;
//! - `body`: what moves when a body is wrapped (inner attributes, parameters);
//! - `generic_return`: the warning for return types whose outcome cannot be seen;
//! - `impl_block`: the rewrite of every method of an `impl` block;
//! - `labels`: dynamic labels (`labels(tier = expr)`, `bounded(…)`, result closures) and
//!   `error_kind`: what the site static and the call emit for them;
//! - `objective`: `objective = "…"`, checked, and the site's registration under it;
//! - `derive`: `#[derive(LabelValue)]`;
//! - `diagnostic`: spanned errors, in one place.

mod attribute;
mod body;
mod buckets;
mod derive;
mod diagnostic;
mod expand;
mod generic_return;
mod impl_block;
mod labels;
mod objective;
mod options;
mod target;

#[cfg(test)]
mod never_panics;

use proc_macro::TokenStream;

/// Counts and times every call of a function, a method, or each method of an `impl` block.
///
/// See the `instrument-metrics` crate for the metrics, the options and examples.
#[proc_macro_attribute]
pub fn instrument_metrics(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}

/// Derives `instrument_metrics::LabelValue` for an enum: the values are the variant names (or
/// `#[label_value(rename = "…")]`), in declaration order.
///
/// See the `instrument-metrics` crate for examples.
#[proc_macro_derive(LabelValue, attributes(label_value))]
pub fn derive_label_value(item: TokenStream) -> TokenStream {
    derive::derive(item.into()).into()
}
