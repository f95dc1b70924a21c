//! What moves when a body is wrapped: its inner attributes go up to the function, and the
//! parameters are rebound at the top of the wrapped body so they drop where rustc drops them.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::{FnArg, Pat, PatIdent, Signature};

/// Splits `#![…]` (and `//!`, which arrives as `#![doc = …]`) off the front of a body: they
/// are only valid at the start of the function's own block, not of the closure or async block
/// the body moves into.
pub(crate) fn split_inner_attributes(body: TokenStream) -> (TokenStream, TokenStream) {
    // Most bodies have none: hand the stream back without taking it apart.
    let starts_with_hash = matches!(
        body.clone().into_iter().next(),
        Some(TokenTree::Punct(p)) if p.as_char() == '#'
    );
    if !starts_with_hash {
        return (TokenStream::new(), body);
    }
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut i = 0;
    while let [TokenTree::Punct(hash), TokenTree::Punct(bang), TokenTree::Group(group), ..] =
        &tokens[i..]
    {
        if hash.as_char() != '#' || bang.as_char() != '!' || group.delimiter() != Delimiter::Bracket
        {
            break;
        }
        i += 3;
    }
    let (inner, rest) = tokens.split_at(i);
    (
        inner.iter().cloned().collect(),
        rest.iter().cloned().collect(),
    )
}

/// Rewrites the parameters so the wrapped body can take each of them over, in order, and
/// returns the statements that do it.
///
/// Without the attribute, rustc drops parameters after the body's locals, in reverse order, the
/// unused ones included. A `move` closure or `async move` block would instead capture only the
/// parameters it uses, in the order it first mentions them, and leave the others to the outer
/// function. Rebinding every parameter as a local of the wrapped body, first thing, in
/// declaration order, restores rustc's order exactly (it is how rustc lowers `async fn`
/// parameters). `self` cannot be rebound; it is the first parameter, so whether the body
/// captures it or leaves it to the function, it drops last, as without the attribute.
///
/// A parameter bound by a plain name keeps it (its `mut` moves to the rebinding, where the
/// mutation happens); any other pattern (`_`, tuples, structs, `ref`) gets a hidden name in the
/// signature and is destructured by the rebinding, as rustc would.
pub(crate) fn rebind_parameters(sig: &mut Signature) -> TokenStream {
    let mut statements = TokenStream::new();
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(typed) = input else {
            continue;
        };
        match &mut *typed.pat {
            Pat::Ident(PatIdent {
                by_ref: None,
                mutability,
                ident,
                subpat: None,
                attrs,
            }) if attrs.is_empty() => {
                let mutability = mutability.take();
                statements.extend(quote!(let #mutability #ident = #ident;));
            }
            pat => {
                let hidden =
                    format_ident!("__instrument_metrics_arg{}", i, span = Span::mixed_site());
                let original = std::mem::replace(pat, hidden_pattern(&hidden));
                statements.extend(quote!(let #hidden = #hidden;));
                if !matches!(original, Pat::Wild(_)) {
                    statements.extend(quote!(let #original = #hidden;));
                }
            }
        }
    }
    statements
}

fn hidden_pattern(ident: &Ident) -> Pat {
    Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident: ident.clone(),
        subpat: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_attributes_and_doc_comments_come_off_the_front() {
        let body: TokenStream =
            "#![allow(unused)] #![doc = \"x\"] let a = 1; #[inline] fn g() {} a"
                .parse()
                .unwrap();
        let (inner, rest) = split_inner_attributes(body);
        assert_eq!(inner.to_string(), "#! [allow (unused)] #! [doc = \"x\"]");
        assert_eq!(rest.to_string(), "let a = 1 ; # [inline] fn g () { } a");
    }

    #[test]
    fn parameters_are_rebound_in_order_with_patterns_behind_hidden_names() {
        let mut sig: Signature =
            syn::parse_str("fn f(&self, mut a: A, (b, c): (B, C), _: D, ref e: E)").unwrap();
        let statements = rebind_parameters(&mut sig).to_string();
        assert_eq!(
            statements,
            "let mut a = a ; \
             let __instrument_metrics_arg2 = __instrument_metrics_arg2 ; let (b , c) = __instrument_metrics_arg2 ; \
             let __instrument_metrics_arg3 = __instrument_metrics_arg3 ; \
             let __instrument_metrics_arg4 = __instrument_metrics_arg4 ; let ref e = __instrument_metrics_arg4 ;"
        );
        assert_eq!(
            quote!(#sig).to_string(),
            "fn f (& self , a : A , __instrument_metrics_arg2 : (B , C) , __instrument_metrics_arg3 : D , __instrument_metrics_arg4 : E)"
        );
    }
}
