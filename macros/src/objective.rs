//! `objective = "checkout"`: the objective a function serves. Parsed and checked here; the
//! call site is registered under it in the runtime's side table (no label, no extra series).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::ParseStream;
use syn::LitStr;

/// What to write, for every error message.
const EXAMPLE: &str = "write `objective = \"checkout\"`";

/// Whether `name` is a valid objective name: an ASCII letter, then ASCII letters, digits, `_`
/// or `-`, at most 64 bytes (the runtime checks declared objectives the same way).
pub(crate) fn is_valid(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `= "name"` after the `objective` keyword (spanned at `keyword`): a non-empty string literal
/// naming a valid objective.
pub(crate) fn parse(input: ParseStream, keyword: Span) -> syn::Result<LitStr> {
    if !input.peek(syn::Token![=]) {
        return Err(syn::Error::new(
            keyword,
            format!("`objective` needs the objective's name: {EXAMPLE}"),
        ));
    }
    input.parse::<syn::Token![=]>()?;
    if !input.peek(LitStr) {
        return Err(syn::Error::new(
            crate::diagnostic::next_span(input),
            format!("`objective` takes the objective's name as a string literal: {EXAMPLE}, and declare it with `instrument_metrics::slo::declare([Objective::new(\"checkout\")…])`"),
        ));
    }
    let lit: LitStr = input.parse()?;
    let value = lit.value();
    if value.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!("`objective` cannot be empty: {EXAMPLE}"),
        ));
    }
    if !is_valid(&value) {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{}` is not a valid objective name: use at most 64 ASCII letters, digits, `_` and `-`, starting with a letter; {EXAMPLE}", value.escape_debug()),
        ));
    }
    Ok(lit)
}

/// The registration of the site static `__IM_SITE` under the objective, if there is one
/// (placed in the block that defines the static).
pub(crate) fn registration(objective: Option<&LitStr>, p: &TokenStream) -> TokenStream {
    match objective {
        Some(name) => quote!(#p::register_objective!(__IM_SITE, #name);),
        None => TokenStream::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn names() {
        for ok in ["checkout", "a", "Checkout-API_2", &"a".repeat(64)] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "1st",
            "-x",
            "_x",
            "check out",
            "a.b",
            "é",
            &"a".repeat(65),
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
