//! `#[instrument_metrics]` on an `impl` block: every method, labelled `Type::method`, with
//! each method's own `#[instrument_metrics(…)]` refining the block's options or, with `skip`,
//! leaving it out.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Attribute, ImplItem, ItemImpl, Type};

use crate::attribute::{is_ours, strip_inner_attributes};
use crate::diagnostic::with_error;
use crate::expand::instrument_fn;
use crate::options::Options;
use crate::target::MaybeFn;

pub(crate) fn expand(options: &Options, mut block: ItemImpl) -> TokenStream {
    if let Some(span) = options.skip {
        strip_inner_attributes(&mut block);
        return with_error(
            block.into_token_stream(),
            &syn::Error::new(span, "`skip` on an impl block would leave every method out; remove the attribute instead"),
        );
    }
    if let Some(label) = options.dynamic.first() {
        strip_inner_attributes(&mut block);
        return with_error(
            block.into_token_stream(),
            &syn::Error::new(
                label.key_span,
                format!("label `{}` is computed from arguments or a result, which differ from method to method, so it cannot be given for a whole impl block: put it on the method's own `#[instrument_metrics(labels({} = …))]` (constant labels, `labels(team = \"core\")`, can stay here)", label.key, label.key),
            ),
        );
    }
    let type_name = options
        .name
        .as_ref()
        .map_or_else(|| type_label(&block.self_ty), syn::LitStr::value);
    let mut errors = TokenStream::new();
    let items = std::mem::take(&mut block.items);
    for item in items {
        let ImplItem::Fn(mut f) = item else {
            block.items.push(item);
            continue;
        };
        let mut own = None;
        let mut own_error = None;
        f.attrs.retain(|a| {
            if !is_ours(a) {
                return true;
            }
            let parsed = match &a.meta {
                syn::Meta::Path(_) => Ok(Options::default()),
                _ => a.parse_args::<Options>(),
            };
            match parsed {
                Ok(o) if own.is_none() => own = Some(o),
                Ok(_) => {
                    own_error = Some(syn::Error::new_spanned(a, "`#[instrument_metrics]` appears twice on this method; merge the options into one"));
                }
                Err(e) => own_error = Some(e),
            }
            false
        });
        if let Some(e) = own_error {
            errors.extend(e.to_compile_error());
            block.items.push(ImplItem::Fn(f));
            continue;
        }
        let swept = own.is_none();
        let own = own.unwrap_or_default();
        if own.skip.is_some() {
            block.items.push(ImplItem::Fn(f));
            continue;
        }
        let explicit = own.name.is_some();
        let method_options = Options {
            name: None,
            quiet_generic_return: swept,
            ..options.overridden_by(own.clone())
        };
        if f.sig.constness.is_some() && own.buckets.is_none() && own.labels.is_empty() && !explicit
        {
            // A const fn cannot be measured; in a block-wide sweep, leave it as it is.
            block.items.push(ImplItem::Fn(f));
            continue;
        }
        let label = match &own.name {
            Some(n) => n.value(),
            None => format!("{type_name}::{}", syn::ext::IdentExt::unraw(&f.sig.ident)),
        };
        // syn keeps a body's inner attributes with the outer ones; they go back into the body.
        let (outer, inner): (Vec<Attribute>, Vec<Attribute>) = f
            .attrs
            .iter()
            .cloned()
            .partition(|a| matches!(a.style, syn::AttrStyle::Outer));
        let body = syn::parse2::<proc_macro2::Group>(f.block.to_token_stream())
            .ok()
            .map(|g| {
                let mut with_inner = proc_macro2::Group::new(g.delimiter(), quote!(#(#inner)* ));
                let mut stream = with_inner.stream();
                stream.extend(g.stream());
                with_inner = proc_macro2::Group::new(g.delimiter(), stream);
                with_inner.set_span(g.span());
                with_inner
            });
        let maybe = MaybeFn {
            attrs: outer,
            vis: f.vis.clone(),
            defaultness: f.defaultness,
            sig: f.sig.clone(),
            body,
            semi: None,
        };
        match instrument_fn(&method_options, maybe, &label, Some(&block.generics)) {
            Ok(tokens) => block.items.push(ImplItem::Verbatim(tokens)),
            Err(e) => {
                errors.extend(e.to_compile_error());
                block.items.push(ImplItem::Fn(f));
            }
        }
    }
    quote!(#block #errors)
}

/// `Cache<K, V>` -> `Cache`; `&'a str` and other shapes keep their written form.
fn type_label(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p.path.segments.last().map_or_else(String::new, |s| {
            syn::ext::IdentExt::unraw(&s.ident).to_string()
        }),
        Type::Group(g) => type_label(&g.elem),
        Type::Paren(p) => type_label(&p.elem),
        // `&'a str`, `dyn Trait`, `[u8]`: tokens joined, spaces kept only between words.
        other => other
            .to_token_stream()
            .to_string()
            .replace("& ", "&")
            .replace(" <", "<")
            .replace("< ", "<")
            .replace(" >", ">")
            .replace(" ,", ",")
            .replace(" :: ", "::")
            .replace("[ ", "[")
            .replace(" ]", "]")
            .replace(" ;", ";"),
    }
}
