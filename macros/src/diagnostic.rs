//! Spanned errors and warnings, in one place: how a mistake is shown beside the code it is
//! about.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::ParseStream;

/// The item untouched, beside the error: one clear message, no follow-up errors.
pub(crate) fn with_error(item: TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// A warning at `span`, which `#[allow(deprecated)]` silences: stable Rust gives proc macros no
/// warning of their own, so it is the call of a deprecated fn named `name` (rustc prints the
/// name and `note`). A block: a statement in a body, or the value of `const _: () = …;`.
pub(crate) fn warning(span: Span, name: &str, note: &str) -> TokenStream {
    let name = Ident::new(name, span);
    quote_spanned! {span=>
        {
            #[deprecated(note = #note)]
            const fn #name() {}
            #name();
        }
    }
}

/// The next token, for an error span, without failing on end of input.
pub(crate) fn next_span(input: ParseStream) -> Span {
    input
        .cursor()
        .token_tree()
        .map_or_else(|| input.span(), |(tt, _)| tt.span())
}
