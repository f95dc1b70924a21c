//! The future a body ends with and returns (`async {…}`, `Box::pin(async {…})`: `-> impl
//! Future`, `#[async_trait]`), which is measured instead of its construction, and its output
//! type as the signature names it.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;
use syn::{Expr, GenericArgument, PathArguments, ReturnType, Stmt, Type, TypeParamBound};

/// The body parsed, if it ends in a future it returns.
pub(crate) fn tail_future_block(statements: &TokenStream) -> Option<syn::Block> {
    if !may_end_in_future(statements) {
        return None;
    }
    let mut block = syn::parse2::<syn::Block>(quote!({ #statements })).ok()?;
    tail_future(&mut block)?;
    Some(block)
}

/// Whether the last tokens could be a returned future: `async {…}`, `async move {…}` or
/// `…pin(…)`, `…pin::<…>(…)`. Most bodies end otherwise, and this look at their last tokens spares parsing
/// them (the macro runs unoptimized in the user's build; parsing every body was most of its
/// time).
fn may_end_in_future(statements: &TokenStream) -> bool {
    let mut last: [Option<TokenTree>; 3] = [None, None, None];
    for tt in statements.clone() {
        last = [last[1].take(), last[2].take(), Some(tt)];
    }
    let is =
        |tt: &Option<TokenTree>, word: &str| matches!(tt, Some(TokenTree::Ident(i)) if i == word);
    match &last {
        [_, before, Some(TokenTree::Group(g))] if g.delimiter() == Delimiter::Parenthesis => {
            // `Box::pin(…)`, or `Box::pin::<…>(…)`.
            is(before, "pin") || matches!(before, Some(TokenTree::Punct(p)) if p.as_char() == '>')
        }
        [first, before, Some(TokenTree::Group(g))] if g.delimiter() == Delimiter::Brace => {
            is(before, "async") || (is(first, "async") && is(before, "move"))
        }
        _ => false,
    }
}

/// The async block a body ends with, bare or inside `Box::pin(…)`.
pub(crate) fn tail_future(block: &mut syn::Block) -> Option<&mut Expr> {
    let Some(Stmt::Expr(tail, None)) = block.stmts.last_mut() else {
        return None;
    };
    match tail {
        Expr::Async(_) => Some(tail),
        Expr::Call(call) if call.args.len() == 1 && is_pin_call(&call.func) => {
            match call.args.first_mut() {
                Some(a @ Expr::Async(_)) => Some(a),
                _ => None,
            }
        }
        _ => None,
    }
}

fn is_pin_call(func: &Expr) -> bool {
    let Expr::Path(p) = func else { return false };
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.len() >= 2
        && segments[segments.len() - 1] == "pin"
        && segments[segments.len() - 2] == "Box"
}

/// `T` from `impl Future<Output = T>`, `Pin<Box<dyn Future<Output = T> + Send>>` and the like.
pub(crate) fn future_output(output: &ReturnType) -> Option<&Type> {
    match output {
        ReturnType::Type(_, ty) => find_output(ty),
        ReturnType::Default => None,
    }
}

fn find_output(ty: &Type) -> Option<&Type> {
    let bounds = match ty {
        Type::ImplTrait(t) => &t.bounds,
        Type::TraitObject(t) => &t.bounds,
        Type::Paren(p) => return find_output(&p.elem),
        Type::Group(g) => return find_output(&g.elem),
        Type::Path(p) => {
            return p.path.segments.iter().find_map(|seg| match &seg.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                    GenericArgument::Type(t) => find_output(t),
                    _ => None,
                }),
                _ => None,
            })
        }
        _ => return None,
    };
    bounds.iter().find_map(|b| match b {
        TypeParamBound::Trait(t) => t.path.segments.last().and_then(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(args) if seg.ident == "Future" => {
                args.args.iter().find_map(|a| match a {
                    GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
                    _ => None,
                })
            }
            _ => None,
        }),
        _ => None,
    })
}
