//! The macro must answer every input with code or a `compile_error!`, never a panic.
use proc_macro2::TokenStream;

fn has_compile_error(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => i == "compile_error",
        proc_macro2::TokenTree::Group(g) => has_compile_error(&g.stream()),
        _ => false,
    })
}
