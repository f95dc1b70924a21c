//! The `#[instrument_metrics]` attribute. Use it through the `instrument-metrics` crate, which
//! re-exports it and holds the runtime the generated code calls.
//!
//! This crate only parses and generates code:
//! - `attribute`: our own attribute told apart from the others;
//! - `options`: the attribute's arguments, checked at compile time;
//! - `buckets`: histogram bucket lists (`[…]`, `linear(…)`, `exponential(…)`);
//! - `target`: what the attribute was put on, parsed speculatively;
//! - `expand`: the rewrite of one function;
//! - `recording`: how a call is recorded (the site's statics, the outcome);
//! - `tail_future`: the future a body ends with, measured instead of its construction;
//! - `body`: what moves when a body is wrapped (inner attributes, parameters);
//! - `generic_return`: the warning for return types whose outcome cannot be seen;
//! - `impl_block`: the rewrite of every method of an `impl` block;
//! - `labels`: dynamic labels (`labels(tier = expr)`, `bounded(…)`, result closures) and
//!   `error_kind`: what the site static and the call emit for them;
//! - `objective`: `objective = "…"`, checked, and the site's registration under it;
//! - `derive`: `#[derive(LabelValue)]`;
//! - `diagnostic`: spanned errors and warnings, in one place.

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
mod recording;
mod tail_future;
mod target;

#[cfg(test)]
mod never_panics;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

use crate::diagnostic::with_error;
use crate::options::Options;
use crate::target::Target;

/// Counts and times every call of a function, a method, or each method of an `impl` block.
///
/// See the `instrument-metrics` crate for the metrics, the options and examples.
#[proc_macro_attribute]
pub fn instrument_metrics(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    dispatch(attr.into(), item.into()).into()
}

/// Derives `instrument_metrics::LabelValue` for an enum: the values are the variant names (or
/// `#[label_value(rename = "…")]`), in declaration order.
///
/// See the `instrument-metrics` crate for examples.
#[proc_macro_derive(LabelValue, attributes(label_value))]
pub fn derive_label_value(item: proc_macro::TokenStream) -> proc_macro::TokenStream {
    derive::derive(item.into()).into()
}

/// The attribute's arguments and the item they sit on, sent to the rewrite that fits the item.
fn dispatch(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = match syn::parse2::<Options>(attr) {
        Ok(o) => o,
        Err(e) => {
            let item = match Target::parse(item.clone()) {
                // Leave the methods bare too, or their own attributes would add errors.
                Target::Impl(mut i) => {
                    attribute::strip_inner_attributes(&mut i);
                    i.into_token_stream()
                }
                _ => item,
            };
            return with_error(item, &e);
        }
    };
    match Target::parse(item.clone()) {
        Target::Fn(f) => {
            if let Some(span) = options.skip {
                return with_error(
                    item,
                    &syn::Error::new(
                        span,
                        "`skip` only applies to a method inside an `#[instrument_metrics]` impl block; to leave this function alone, remove the attribute",
                    ),
                );
            }
            if let Some(again) = f.attrs.iter().find(|a| attribute::is_ours(a)) {
                return with_error(
                    item,
                    &syn::Error::new_spanned(
                        again,
                        "`#[instrument_metrics]` appears twice on this function; merge the options into one attribute",
                    ),
                );
            }
            let label = syn::ext::IdentExt::unraw(&f.sig.ident).to_string();
            match expand::instrument_fn(&options, f, &label, None) {
                Ok(tokens) => tokens,
                Err(e) => with_error(item, &e),
            }
        }
        Target::Impl(i) => impl_block::expand(&options, i),
        // `allow(unused)`: the item is kept so no second error appears, and not a warning either.
        Target::Other { what, hint, span } => with_error(
            quote!(#[allow(unused)] #item),
            &syn::Error::new(
                span,
                format!("`#[instrument_metrics]` cannot be put on {what}; it applies to functions, methods and impl blocks: {hint}"),
            ),
        ),
        // Syntax syn does not know yet (rustc may): leave it alone, but say it is not measured.
        Target::Unparsed => {
            let warning = diagnostic::warning(
                proc_macro2::Span::call_site(),
                "instrument_metrics_not_applied",
                "#[instrument_metrics] could not parse this item, so it is not instrumented; if rustc accepts it, please report it",
            );
            quote!(#item const _: () = #warning;)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dispatch;
    use proc_macro2::TokenStream;

    fn expanded(attr: &str, item: &str) -> String {
        let attr: TokenStream = attr.parse().unwrap();
        let item: TokenStream = item.parse().unwrap();
        dispatch(attr, item).to_string()
    }

    #[test]
    fn default_comes_after_attributes_and_visibility() {
        let out = expanded(
            "",
            "impl<T> Tr for T { #[inline] pub default fn f(&self) -> u8 { 1 } }",
        );
        assert!(out.contains("# [inline] pub default fn f"), "{out}");
        assert!(!out.contains("default # [inline]"), "{out}");
    }

    #[test]
    fn an_item_that_does_not_parse_is_kept_with_a_warning() {
        // An `impl` syn cannot read (a body that is not a list of items).
        let out = expanded("", "impl X { 1 + 1 }");
        assert!(out.starts_with("impl X { 1 + 1 }"), "{out}");
        assert!(out.contains("deprecated"), "{out}");
        assert!(out.contains("instrument_metrics_not_applied"), "{out}");
    }
}
