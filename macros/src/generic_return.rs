//! A return type the outcome cannot be read from: a type parameter (`-> R`) or a projection on
//! one (`-> T::Output`). Classification picks its rule on the type the function body produces,
//! and for those that type is only known to each caller, so the generated code would count
//! every call `ok`, even an `Err`. The fix is the user's (`error_if`/`ok_if`, or a
//! `ClassifyOutcome` bound); the macro's part is to say so at compile time, as a warning
//! spanned on the return type that `#[allow(deprecated)]` silences.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{
    GenericArgument, GenericParam, Generics, PathArguments, ReturnType, Type, TypeParamBound,
    WherePredicate,
};

/// The warning to emit inside the function body, if its return type is generic.
pub(crate) fn warning(ty: &Type, generics: &[&Generics]) -> Option<TokenStream> {
    let params = unclassified_parameters(generics);
    let generic = peel(ty)
        .filter(|t| is_generic(t, &params))
        .filter(|t| !is_pinned_projection(t, generics))?;
    let shown = generic.to_token_stream().to_string().replace(" :: ", "::");
    let note = format!(
        "#[instrument_metrics] cannot see whether the returned `{shown}` is an error: the type \
         is generic, known only where the function is called, so every call counts `ok`. Say \
         how to classify it with `error_if = |value| …` or `ok_if = |value| …`, or bound the \
         type by `instrument_metrics::ClassifyOutcome`; `#[allow(deprecated)]` on the function \
         accepts `ok`"
    );
    Some(crate::diagnostic::warning(
        ty.span(),
        "instrument_metrics_generic_return_counts_ok",
        &note,
    ))
}

/// `Box<T>`, `(T)`: the outcome would be `T`'s. A reference is left alone: `-> &T` accessors
/// are everywhere in generic code, and a borrowed `Result` is rarely how a call fails.
fn peel(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Paren(p) => peel(&p.elem),
        Type::Group(g) => peel(&g.elem),
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let segment = &p.path.segments[0];
            match &segment.arguments {
                PathArguments::AngleBracketed(args) if segment.ident == "Box" => {
                    match args.args.first() {
                        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => peel(inner),
                        _ => Some(ty),
                    }
                }
                _ => Some(ty),
            }
        }
        other => Some(other),
    }
}

/// `R`, `T::Output`, `<T as Trait>::Output`, where `T` is a type parameter.
fn is_generic(ty: &Type, params: &[String]) -> bool {
    let Type::Path(p) = ty else {
        return false;
    };
    if let Some(qself) = &p.qself {
        return mentions(&qself.ty, params);
    }
    let Some(first) = p.path.segments.first() else {
        return false;
    };
    p.path.leading_colon.is_none()
        && first.arguments.is_empty()
        && params.iter().any(|n| first.ident == n)
}

/// `F::Output` with `F: FnOnce() -> X`, `I::Item` with `I: Iterator<Item = X>`: the bound fixes
/// the projection to a concrete type, which the classification sees.
fn is_pinned_projection(ty: &Type, generics: &[&Generics]) -> bool {
    let Type::Path(p) = ty else { return false };
    if p.qself.is_some() || p.path.segments.len() != 2 {
        return false;
    }
    let (param, assoc) = (&p.path.segments[0].ident, &p.path.segments[1].ident);
    let fixes = |bound: &TypeParamBound| {
        let TypeParamBound::Trait(t) = bound else {
            return false;
        };
        t.path.segments.iter().any(|seg| match &seg.arguments {
            PathArguments::Parenthesized(args) => {
                assoc == "Output" && !matches!(args.output, ReturnType::Default)
            }
            PathArguments::AngleBracketed(args) => args
                .args
                .iter()
                .any(|a| matches!(a, GenericArgument::AssocType(at) if at.ident == *assoc)),
            PathArguments::None => false,
        })
    };
    generics.iter().any(|g| {
        let inline = g.params.iter().any(|gp| {
            matches!(gp, GenericParam::Type(t) if t.ident == *param && t.bounds.iter().any(fixes))
        });
        let in_where = g.where_clause.as_ref().is_some_and(|w| {
            w.predicates.iter().any(|pred| match pred {
                WherePredicate::Type(pt) => {
                    matches!(&pt.bounded_ty, Type::Path(tp) if tp.path.is_ident(param))
                        && pt.bounds.iter().any(fixes)
                }
                _ => false,
            })
        });
        inline || in_where
    })
}

fn mentions(ty: &Type, params: &[String]) -> bool {
    ty.to_token_stream()
        .into_iter()
        .any(|tt| matches!(tt, proc_macro2::TokenTree::Ident(i) if params.iter().any(|n| i == n)))
}

/// Type parameters in scope, except those bounded by `ClassifyOutcome` (which classify).
fn unclassified_parameters(generics: &[&Generics]) -> Vec<String> {
    let classifies = |mut bounds: syn::punctuated::Iter<'_, TypeParamBound>| {
        bounds.any(|b| {
            matches!(b, TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "ClassifyOutcome"))
        })
    };
    let mut names = Vec::new();
    for g in generics {
        for param in &g.params {
            let GenericParam::Type(t) = param else {
                continue;
            };
            let bounded_inline = classifies(t.bounds.iter());
            let bounded_where = g.where_clause.as_ref().is_some_and(|w| {
                w.predicates.iter().any(|p| match p {
                    WherePredicate::Type(pt) => {
                        matches!(&pt.bounded_ty, Type::Path(tp) if tp.path.is_ident(&t.ident))
                            && classifies(pt.bounds.iter())
                    }
                    _ => false,
                })
            });
            if !bounded_inline && !bounded_where {
                names.push(t.ident.to_string());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warns(sig: &str) -> bool {
        let sig: syn::Signature = syn::parse_str(sig).unwrap();
        let ReturnType::Type(_, ty) = &sig.output else {
            return false;
        };
        warning(ty, &[&sig.generics]).is_some()
    }

    #[test]
    fn generic_returns_are_told_apart_from_concrete_ones() {
        assert!(warns("fn f<R>(g: impl FnOnce() -> R) -> R"));
        assert!(warns("fn f<T: Tr>(t: T) -> T::Output"));
        assert!(warns("fn f<T>(t: T) -> <T as Tr>::Output"));
        assert!(!warns("fn f<'a, R>(r: &'a R) -> &'a R"));
        assert!(warns("fn f<R>() -> Box<R>"));
        assert!(!warns("fn f<R>() -> Result<R, E>"));
        assert!(!warns("fn f<R>() -> Option<R>"));
        assert!(!warns("fn f<R: ClassifyOutcome>() -> R"));
        assert!(!warns(
            "fn f<R>() -> R where R: instrument_metrics::ClassifyOutcome"
        ));
        assert!(!warns("fn f() -> Response"));
        assert!(!warns("fn f<T>() -> Self::Output"));
        assert!(!warns(
            "fn f<F: FnOnce() -> Result<u8, String>>(f: F) -> F::Output"
        ));
        assert!(!warns(
            "fn f<I>(i: I) -> I::Item where I: Iterator<Item = Result<u8, E>>"
        ));
        assert!(warns("fn f<I: Iterator>(i: I) -> I::Item"));
    }
}
