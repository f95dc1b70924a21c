//! Spanned errors, in one place: how a mistake is shown beside the code it is about.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::ParseStream;

/// The item untouched, beside the error: one clear message, no follow-up errors.
pub(crate) fn with_error(item: TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// The next token, for an error span, without failing on end of input.
pub(crate) fn next_span(input: ParseStream) -> Span {
    input
        .cursor()
        .token_tree()
        .map_or_else(|| input.span(), |(tt, _)| tt.span())
}
