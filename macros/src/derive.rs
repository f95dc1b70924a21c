//! `#[derive(LabelValue)]`: an enum's variants as label values (their names, or
//! `#[label_value(rename = "…")]`), indexed by declaration order.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Item, ItemEnum, LitStr, Path};

/// Values the runtime uses for its own fallbacks; an enum's value cannot be one of them.
const RESERVED: [&str; 2] = ["_OTHER", "_NONE"];

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<Item>(input).and_then(|i| expand(&i)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

/// `#[label_value(crate = path)]` on the enum, `#[label_value(rename = "…")]` on a variant.
fn parse_attrs(
    attrs: &[syn::Attribute],
    on_variant: bool,
) -> syn::Result<(Option<Path>, Option<LitStr>)> {
    let mut krate = None;
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("label_value")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") && on_variant {
                if rename.is_some() {
                    return Err(meta.error("duplicate `rename`: give one value"));
                }
                let value = meta.value().map_err(|_| {
                    meta.error("`rename` needs a value: write `rename = \"not_found\"`")
                })?;
                let lit: LitStr = value.parse().map_err(|e| {
                    syn::Error::new(e.span(), "`rename` takes a string literal: write `rename = \"not_found\"`")
                })?;
                rename = Some(lit);
                Ok(())
            } else if meta.path.is_ident("crate") && !on_variant {
                if krate.is_some() {
                    return Err(meta.error("duplicate `crate`: give one path"));
                }
                let value = meta.value()?;
                krate = Some(value.call(Path::parse_mod_style).map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`crate` takes a path: write `crate = my_crate::instrument_metrics`",
                    )
                })?);
                Ok(())
            } else if on_variant {
                Err(meta.error(
                    "unknown `label_value` option on a variant; the only one is `rename = \"…\"`",
                ))
            } else {
                Err(meta.error("unknown `label_value` option on the enum; the only one is `crate = path` (`rename = \"…\"` goes on a variant)"))
            }
        })?;
    }
    Ok((krate, rename))
}

fn expand(item: &Item) -> syn::Result<TokenStream> {
    let input: &ItemEnum = match item {
        Item::Enum(e) => e,
        Item::Struct(s) => {
            return Err(syn::Error::new(
                s.struct_token.span,
                "`LabelValue` can only be derived for an enum (its variants are the values); for a struct, derive it on an enum field and label with that field, or implement `LabelValue` by hand",
            ))
        }
        Item::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "`LabelValue` can only be derived for an enum (its variants are the values)",
            ))
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "`LabelValue` can only be derived for an enum",
            ))
        }
    };
    let data = input;
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            "`LabelValue` needs at least one variant: an empty enum has no value to label with",
        ));
    }
    let (krate, _) = parse_attrs(&input.attrs, false)?;
    let krate = krate.map_or_else(|| quote!(::instrument_metrics), ToTokens::into_token_stream);
    let mut values: Vec<(String, proc_macro2::Span)> = Vec::new();
    let mut arms = Vec::new();
    for (i, variant) in data.variants.iter().enumerate() {
        let (_, rename) = parse_attrs(&variant.attrs, true)?;
        let (value, span) = match &rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                syn::ext::IdentExt::unraw(&variant.ident).to_string(),
                variant.ident.span(),
            ),
        };
        if value.is_empty() {
            return Err(syn::Error::new(
                span,
                "a label value cannot be empty: write `rename = \"not_found\"`, or remove `rename`",
            ));
        }
        if RESERVED.contains(&value.as_str()) {
            return Err(syn::Error::new(
                span,
                format!("`{value}` is reserved (`_OTHER` counts overflowing bounded values, `_NONE` a missing result or error kind); rename this variant with `#[label_value(rename = \"…\")]`"),
            ));
        }
        if let Some((_, first)) = values.iter().find(|(v, _)| *v == value) {
            let mut e = syn::Error::new(
                span,
                format!("duplicate label value `{value}`: two variants would share one series; give this one another `#[label_value(rename = \"…\")]`"),
            );
            e.combine(syn::Error::new(
                *first,
                format!("`{value}` first used here"),
            ));
            return Err(e);
        }
        values.push((value, span));
        let ident = &variant.ident;
        arms.push(quote!(Self::#ident { .. } => #i,));
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let values = values.iter().map(|(v, _)| v);
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::LabelValue for #name #ty_generics #where_clause {
            const VALUES: &'static [&'static str] = &[#(#values),*];
            #[inline]
            fn index(&self) -> usize {
                match self {
                    #(#arms)*
                }
            }
        }
    })
}
