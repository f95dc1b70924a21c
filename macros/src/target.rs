//! What the attribute sits on, parsed speculatively: a function's signature is parsed but its
//! body is kept as raw tokens, so that errors inside the body stay rustc's own.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Item, ItemImpl, Signature, Token, Visibility};

/// A function whose body may be missing (a trait method declaration).
pub(crate) struct MaybeFn {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    /// `default` (specialization), between the visibility and the signature.
    pub defaultness: Option<Token![default]>,
    pub sig: Signature,
    /// The brace-delimited body, untouched.
    pub body: Option<proc_macro2::Group>,
    pub semi: Option<Token![;]>,
}

impl Parse for MaybeFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let defaultness: Option<Token![default]> =
            if input.peek(Token![default]) && !input.peek2(Token![!]) {
                Some(input.parse()?)
            } else {
                None
            };
        let sig: Signature = input.parse()?;
        if input.peek(Token![;]) {
            let semi: Token![;] = input.parse()?;
            return Ok(MaybeFn {
                attrs,
                vis,
                defaultness,
                sig,
                body: None,
                semi: Some(semi),
            });
        }
        let body = match input.parse::<TokenTree>()? {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => g,
            // A `$body:block` from `macro_rules!` arrives wrapped in an invisible group.
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                match g.stream().into_iter().collect::<Vec<_>>().as_slice() {
                    [TokenTree::Group(inner)] if inner.delimiter() == Delimiter::Brace => {
                        inner.clone()
                    }
                    _ => return Err(syn::Error::new(g.span(), "expected a function body")),
                }
            }
            other => return Err(syn::Error::new(other.span(), "expected a function body")),
        };
        Ok(MaybeFn {
            attrs,
            vis,
            defaultness,
            sig,
            body: Some(body),
            semi: None,
        })
    }
}

/// What the attribute was put on.
pub(crate) enum Target {
    Fn(MaybeFn),
    Impl(ItemImpl),
    /// Something that is not a function; `what` names it, `span` is its keyword.
    Other {
        what: &'static str,
        hint: &'static str,
        span: Span,
    },
    /// Does not parse at all: hand it back untouched and let rustc speak.
    Unparsed,
}

impl Target {
    pub(crate) fn parse(item: TokenStream) -> Target {
        if looks_like_impl(&item) {
            return match syn::parse2::<ItemImpl>(item) {
                Ok(i) => Target::Impl(i),
                Err(_) => Target::Unparsed,
            };
        }
        if let Ok(f) = syn::parse2::<MaybeFn>(item.clone()) {
            return Target::Fn(f);
        }
        let Ok(parsed) = syn::parse2::<Item>(item) else {
            return Target::Unparsed;
        };
        let on_type = "put it on the type's `impl` block or on its methods";
        let (what, hint, span) = match &parsed {
            Item::Struct(i) => ("a struct", on_type, span_of(&i.struct_token)),
            Item::Enum(i) => ("an enum", on_type, span_of(&i.enum_token)),
            Item::Union(i) => ("a union", on_type, span_of(&i.union_token)),
            Item::Const(i) => ("a const", "put it on a function", span_of(&i.const_token)),
            Item::Static(i) => ("a static", "put it on a function", span_of(&i.static_token)),
            Item::Mod(i) => (
                "a module",
                "put it on the functions or impl blocks inside",
                span_of(&i.mod_token),
            ),
            Item::Use(i) => (
                "a `use` declaration",
                "put it on a function",
                span_of(&i.use_token),
            ),
            Item::Trait(i) => (
                "a trait definition",
                "put it on the trait's default methods, or on the `impl` blocks of the trait",
                span_of(&i.trait_token),
            ),
            Item::Type(i) => (
                "a type alias",
                "put it on a function",
                span_of(&i.type_token),
            ),
            Item::ExternCrate(i) => (
                "an `extern crate`",
                "put it on a function",
                span_of(&i.extern_token),
            ),
            Item::ForeignMod(i) => (
                "an `extern` block",
                "wrap the foreign function in a Rust function and put it there",
                span_of(&i.abi),
            ),
            Item::Macro(i) => ("a macro", "put it on a function", span_of(&i.mac.path)),
            _ => (
                "this item",
                "put it on a function, a method or an impl block",
                Span::call_site(),
            ),
        };
        Target::Other { what, hint, span }
    }
}

fn span_of(t: &impl ToTokens) -> Span {
    t.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |tt| tt.span())
}

/// Attributes, `unsafe`, `default`, then `impl`: worth parsing as an impl block.
fn looks_like_impl(item: &TokenStream) -> bool {
    let mut tokens = item.clone().into_iter().peekable();
    while let Some(tt) = tokens.next() {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                // `#` `[...]` of an outer attribute.
                tokens.next();
            }
            TokenTree::Ident(i) if i == "unsafe" || i == "default" => {}
            TokenTree::Ident(i) => return i == "impl",
            _ => return false,
        }
    }
    false
}
