//! Dynamic labels and error kinds: what a labelled site's static holds, and what a call
//! computes for it.
//!
//! A label's values must be known in the site's `static` so every combination is in the
//! exposition from process start. For `key = expr` the static types `expr` from the declared
//! types of the arguments it mentions, in a closure that is never called; the call evaluates
//! the same expression with the same bindings, so both see one type. An argument whose type a
//! `static` cannot name (generic, `Self`, `impl Trait`) or `self` needs the type written:
//! `key: Type = expr`.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, Generics, Pat, ReturnType, Type};

/// Where a dynamic label's value comes from.
#[derive(Clone)]
pub(crate) enum Source {
    /// `key = expr`: from the arguments, by reference, when the call starts.
    Arg(Expr),
    /// `key = |r| expr`: from `&` the returned value.
    Result(Expr),
    /// `key = bounded(expr, N)` or `bounded(|r| …, N)`.
    Bounded { expr: Expr, n: usize, result: bool },
}

#[derive(Clone)]
pub(crate) struct DynamicLabel {
    pub key: String,
    pub key_span: Span,
    /// `key: Type = …`.
    pub ty: Option<Type>,
    pub source: Source,
}

impl DynamicLabel {
    fn reads_result(&self) -> bool {
        matches!(
            self.source,
            Source::Result(_) | Source::Bounded { result: true, .. }
        )
    }
}

/// How `error_kind` was asked for.
#[derive(Clone, Copy)]
pub(crate) enum ErrorKindMode {
    /// On the fn itself: its return value must be a `Result` whose error is a `LabelValue`.
    Strict(Span),
    /// Inherited from an impl block: methods that do not return such a `Result` get none.
    Lenient,
}

/// One typed parameter as the body sees it before being wrapped.
pub(crate) struct Param {
    /// The bindings (`account`, or `x`, `y` of `(x, y)`).
    bindings: Vec<Ident>,
    /// The pattern with `ref`/`mut` removed: bound against a reference, it gives references.
    pattern: Pat,
    ty: Type,
    /// The parameter's name in the signature after rebinding (the ident, or a hidden name).
    rebound: Ident,
}

/// The typed parameters, read before `rebind_parameters` rewrites the signature.
pub(crate) fn params(inputs: &syn::punctuated::Punctuated<FnArg, syn::Token![,]>) -> Vec<Param> {
    let mut out = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else {
            continue;
        };
        let mut pattern = (*typed.pat).clone();
        StripBindingModes.visit_pat_mut(&mut pattern);
        let mut bindings = Vec::new();
        collect_bindings(&pattern, &mut bindings);
        let rebound = match &*typed.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() && p.attrs.is_empty() => {
                p.ident.clone()
            }
            _ => format_ident!("__instrument_metrics_arg{}", i, span = Span::mixed_site()),
        };
        out.push(Param {
            bindings,
            pattern,
            ty: (*typed.ty).clone(),
            rebound,
        });
    }
    out
}

struct StripBindingModes;

impl VisitMut for StripBindingModes {
    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        p.by_ref = None;
        p.mutability = None;
        syn::visit_mut::visit_pat_ident_mut(self, p);
    }
}

fn collect_bindings(pat: &Pat, out: &mut Vec<Ident>) {
    struct Collect<'a>(&'a mut Vec<Ident>);
    impl VisitMut for Collect<'_> {
        fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
            self.0.push(p.ident.clone());
            syn::visit_mut::visit_pat_ident_mut(self, p);
        }
    }
    Collect(out).visit_pat_mut(&mut pat.clone());
}

fn idents_in(tokens: TokenStream, out: &mut Vec<String>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => idents_in(g.stream(), out),
            _ => {}
        }
    }
}

/// Whether a `static` in the function can name `ty`: no generic parameter, `Self` or
/// `impl Trait`. Lifetimes are replaced by `'_` where it is used.
fn nameable(ty: &Type, generics: &[&Generics]) -> bool {
    let params: Vec<String> = generics
        .iter()
        .flat_map(|g| g.type_params().map(|p| p.ident.to_string()))
        .collect();
    let mut idents = Vec::new();
    idents_in(ty.to_token_stream(), &mut idents);
    !idents
        .iter()
        .any(|i| i == "Self" || i == "impl" || params.contains(i))
}

/// `ty` with every lifetime, written or elided in a reference, named `'__im_l{n}`, and the
/// names given (so a label function can say what its result captures, in every edition).
fn name_lifetimes(ty: &Type, names: &mut Vec<syn::Lifetime>) -> Type {
    struct Name<'a>(&'a mut Vec<syn::Lifetime>);
    impl Name<'_> {
        fn fresh(&mut self, span: Span) -> syn::Lifetime {
            let l = syn::Lifetime::new(&format!("'__im_l{}", self.0.len()), span);
            self.0.push(l.clone());
            l
        }
    }
    impl VisitMut for Name<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident != "static" {
                *l = self.fresh(l.span());
            }
        }
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(self.fresh(r.and_token.span));
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let mut ty = ty.clone();
    Name(names).visit_type_mut(&mut ty);
    ty
}

/// `ty` with everything a `static` cannot name replaced: `Self`, the fn's and impl's type
/// parameters and `impl Trait` by `()`, lifetimes by `'static`. Enough to read a `Result`'s
/// error type when it does not depend on them. The bool says whether anything was replaced.
fn for_static(ty: &Type, generics: &[&Generics]) -> (Type, bool) {
    struct Replace {
        params: Vec<String>,
        changed: bool,
    }
    impl VisitMut for Replace {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            let replace = match ty {
                Type::ImplTrait(_) | Type::Infer(_) => true,
                Type::Path(p) if p.qself.is_none() => p.path.segments.first().is_some_and(|s| {
                    s.ident == "Self"
                        || (p.path.segments.len() == 1
                            && self.params.contains(&s.ident.to_string()))
                        || (p.path.segments.len() > 1 && self.params.contains(&s.ident.to_string()))
                }),
                _ => false,
            };
            if replace {
                *ty = syn::parse_quote!(());
                self.changed = true;
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident != "static" {
                *l = syn::Lifetime::new("'static", l.span());
            }
        }
    }
    let mut r = Replace {
        params: generics
            .iter()
            .flat_map(|g| g.type_params().map(|p| p.ident.to_string()))
            .collect(),
        changed: false,
    };
    let mut ty = ty.clone();
    r.visit_type_mut(&mut ty);
    (ty, r.changed)
}

/// What a labelled site needs from the function around it.
pub(crate) struct Context<'a> {
    pub p: &'a TokenStream,
    pub krate: &'a TokenStream,
    pub params: &'a [Param],
    pub generics: Vec<&'a Generics>,
    /// The type of the value classified (the fn's output, or its future's), if written.
    pub value_ty: Option<&'a Type>,
    /// Whether the parameters are behind their rebound names (sync and `async fn` bodies) or
    /// bound by their own patterns (a body returning a future).
    pub rebound: bool,
    pub site: &'a Ident,
}

/// The parameters `expr` mentions, as `(param, position)`.
fn used<'a>(ctx: &'a Context<'_>, expr: &Expr) -> Vec<&'a Param> {
    let mut idents = Vec::new();
    idents_in(expr.to_token_stream(), &mut idents);
    ctx.params
        .iter()
        .filter(|p| p.bindings.iter().any(|b| idents.contains(&b.to_string())))
        .collect()
}

/// An expression as it would be written: `Self::TIER`, `self.tier`, not `Self :: TIER`.
fn shown(expr: &Expr) -> String {
    let mut s = expr.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (" . ", "."),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn mentions_self(expr: &Expr) -> bool {
    let mut idents = Vec::new();
    idents_in(expr.to_token_stream(), &mut idents);
    idents.iter().any(|i| i == "self" || i == "Self")
}

/// `let account = &account;`…: the parameters `expr` uses, by reference.
fn views(ctx: &Context<'_>, expr: &Expr) -> TokenStream {
    let mut out = TokenStream::new();
    for param in used(ctx, expr) {
        if ctx.rebound {
            let (pat, name) = (&param.pattern, &param.rebound);
            out.extend(quote!(#[allow(unused_variables)] let #pat = &#name;));
        } else {
            for b in &param.bindings {
                out.extend(quote!(#[allow(unused_variables)] let #b = &#b;));
            }
        }
    }
    out
}

/// `let _ = &account;` for every binding a label reads, after the parameters are rebound in
/// the wrapped body: a parameter used only by a label is used, as the user wrote it.
pub(crate) fn uses(labels: &[DynamicLabel], ctx: &Context<'_>) -> TokenStream {
    let mut out = TokenStream::new();
    for label in labels {
        let (Source::Arg(expr)
        | Source::Bounded {
            expr,
            result: false,
            ..
        }) = &label.source
        else {
            continue;
        };
        for param in used(ctx, expr) {
            for b in &param.bindings {
                out.extend(quote!(let _ = &#b;));
            }
        }
    }
    out
}

/// The checks the macro can make itself, before any code is generated.
pub(crate) fn check(labels: &[DynamicLabel], ctx: &Context<'_>) -> syn::Result<()> {
    for label in labels {
        if label.ty.is_some() {
            continue;
        }
        match &label.source {
            Source::Arg(expr) => {
                let key = &label.key;
                if mentions_self(expr) {
                    return Err(syn::Error::new(
                        expr.span(),
                        format!("a label computed from `self` (or `Self`) needs its type written, so it can be known before the first call: write `{key}: Type = {}` (`Type` implementing `LabelValue`)", shown(expr)),
                    ));
                }
                if !ctx.rebound {
                    if let Some(p) = used(ctx, expr)
                        .into_iter()
                        .find(|p| !matches!(p.pattern, Pat::Ident(_)))
                    {
                        return Err(syn::Error::new(
                            expr.span(),
                            format!("this label reads `{}`, bound by a pattern, in a fn returning a future: give the parameter a name (`arg: Type`) and destructure it in the body, or write the label's type, `{key}: Type = …`", p.bindings.first().map(ToString::to_string).unwrap_or_default()),
                        ));
                    }
                }
                if let Some(p) = used(ctx, expr)
                    .into_iter()
                    .find(|p| !nameable(&p.ty, &ctx.generics))
                {
                    return Err(syn::Error::new(
                        expr.span(),
                        format!("this label reads `{}`, whose type is generic (or `Self`, or `impl Trait`), so its values cannot be known before the first call: write the label's type, `{key}: Type = {}`", p.bindings.first().map(ToString::to_string).unwrap_or_default(), shown(expr)),
                    ));
                }
            }
            Source::Result(expr) => {
                let key = &label.key;
                let ok = ctx
                    .value_ty
                    .is_some_and(|t| !for_static(t, &ctx.generics).1);
                if !ok {
                    return Err(syn::Error::new(
                        expr.span(),
                        format!("the return type is generic (or `Self`, or `impl Trait`), so this label's values cannot be known before the first call: write the label's type, `{key}: Type = |r| …` (`Type` implementing `LabelValue`)"),
                    ));
                }
            }
            Source::Bounded { .. } => {}
        }
    }
    Ok(())
}

/// The items of the site's block: one `const` of values per enum label, one `static` of
/// strings per bounded label, the labels, and the combination count `__IM_C`.
pub(crate) fn statics(
    labels: &[DynamicLabel],
    ctx: &Context<'_>,
    labels_span: Span,
) -> (TokenStream, TokenStream) {
    let (p, krate) = (ctx.p, ctx.krate);
    let mut items = TokenStream::new();
    let mut dyn_labels = Vec::new();
    let mut product = Vec::new();
    for (k, label) in labels.iter().enumerate() {
        let values = format_ident!("__IM_V{}", k);
        let key = &label.key;
        let lints = quote!(#[allow(unused_variables, unused_mut, unused_imports, clippy::all, clippy::pedantic)]);
        match &label.source {
            Source::Bounded { n, result, .. } => {
                let strings = format_ident!("__IM_B{}", k);
                items.extend(quote! {
                    static #strings: #p::BoundedStrings = #p::BoundedStrings::new(#n);
                });
                let (variant, extra) = if *result {
                    (quote!(BoundedResult), 2usize)
                } else {
                    (quote!(Bounded), 1usize)
                };
                dyn_labels.push(quote! {
                    #p::DynLabel { key: #key, values: #p::Values::#variant(&#strings, #n) }
                });
                product.push(quote!((#n + #extra)));
                continue;
            }
            Source::Arg(_) => {
                let value = match &label.ty {
                    Some(ty) => quote_spanned!(ty.span()=> <#ty as #krate::LabelValue>::VALUES),
                    None => {
                        let f = label_fn_name(k);
                        quote!(#p::values_of(#f))
                    }
                };
                items.extend(quote!(#lints const #values: &[&str] = #value;));
                dyn_labels.push(quote! {
                    #p::DynLabel { key: #key, values: #p::Values::Fixed(#values) }
                });
                product.push(quote!(#values.len()));
            }
            Source::Result(_) => {
                let value = match &label.ty {
                    Some(ty) => quote_spanned!(ty.span()=> <#ty as #krate::LabelValue>::VALUES),
                    None => {
                        let f = label_fn_name(k);
                        quote!(#p::values_of(#f))
                    }
                };
                items.extend(quote!(#lints const #values: &[&str] = #value;));
                dyn_labels.push(quote! {
                    #p::DynLabel { key: #key, values: #p::Values::Result(#values) }
                });
                product.push(quote!((#values.len() + 1)));
            }
        }
    }
    let count = labels.len();
    let message = "too many label combinations: the product of the dynamic labels' value counts (bounded(expr, N) counts N + 1) is above instrument_metrics' limit of 1024; use fewer labels, a smaller N, or an enum with fewer values";
    let product = product
        .into_iter()
        .reduce(|a, b| quote!(#a * #b))
        .unwrap_or_else(|| quote!(1));
    let assert = quote_spanned! {labels_span=>
        const _: () = ::core::assert!(__IM_C <= #p::MAX_COMBINATIONS, #message);
    };
    items.extend(quote! {
        const __IM_C: usize = #product;
        #assert
        static __IM_DYN: [#p::DynLabel; #count] = [#(#dyn_labels),*];
    });
    (items, quote!(&__IM_DYN))
}

fn label_fn_name(k: usize) -> Ident {
    format_ident!("__instrument_metrics_label{}", k)
}

/// One function per label written without a type: it computes the label from the declared
/// types of the arguments it reads (or of the result), so the site's static can read its
/// values from its return type, and the call runs it. Items, so both can name them.
pub(crate) fn label_fns(labels: &[DynamicLabel], ctx: &Context<'_>) -> TokenStream {
    let p = ctx.p;
    let mut out = TokenStream::new();
    let lints = quote!(#[allow(unused_variables, unused_mut, clippy::all, clippy::pedantic)]);
    for (k, label) in labels.iter().enumerate() {
        if label.ty.is_some() {
            continue;
        }
        let f = label_fn_name(k);
        match &label.source {
            Source::Arg(expr) => {
                let used = used(ctx, expr);
                let mut lifetimes = Vec::new();
                let tys: Vec<Type> = used
                    .iter()
                    .map(|u| {
                        let t = &u.ty;
                        let r: Type = syn::parse_quote!(&#t);
                        name_lifetimes(&r, &mut lifetimes)
                    })
                    .collect();
                let lets = used.iter().enumerate().map(|(i, u)| {
                    let i = syn::Index::from(i);
                    let pat = &u.pattern;
                    quote!(let #pat = __im_a.#i;)
                });
                let span = expr.span();
                let ret = quote_spanned!(span=> impl #p::Indexed + use<#(#lifetimes),*>);
                let typed = quote_spanned!(span=> #p::typed(&(#expr)));
                out.extend(quote! {
                    #lints
                    #[inline(always)]
                    fn #f<#(#lifetimes),*>(__im_a: (#(#tys,)*)) -> #ret { #(#lints #lets)* #typed }
                });
            }
            Source::Result(closure) => {
                let ty = ctx.value_ty.map(|t| for_static(t, &ctx.generics).0);
                let span = closure.span();
                let ret = quote_spanned!(span=> impl #p::Indexed + use<'__im_r>);
                let v = Ident::new("__im_v", span);
                let typed = quote_spanned! {span=>
                    let #v = #p::apply(__im_r, #closure);
                    #p::typed(&#v)
                };
                out.extend(quote! {
                    #lints
                    #[inline(always)]
                    fn #f<'__im_r>(__im_r: &'__im_r #ty) -> #ret { #typed }
                });
            }
            Source::Bounded { .. } => {}
        }
    }
    out
}

/// The argument labels' indices, in declaration order: `[i0, i1, …]`.
pub(crate) fn argument_indices(labels: &[DynamicLabel], ctx: &Context<'_>) -> TokenStream {
    let (p, site) = (ctx.p, ctx.site);
    let indices = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.reads_result())
        .map(|(k, label)| match &label.source {
            Source::Arg(expr) => match &label.ty {
                Some(ty) => {
                    let views = views(ctx, expr);
                    let index = quote_spanned!(expr.span()=> #p::label_index::<#ty>(&(#expr)));
                    quote!({ #views #index })
                }
                None => {
                    let f = label_fn_name(k);
                    let args = used(ctx, expr).into_iter().map(|u| {
                        if ctx.rebound {
                            u.rebound.to_token_stream()
                        } else {
                            u.bindings[0].to_token_stream()
                        }
                    });
                    quote!(#p::Indexed::get(&#f((#(&#args,)*))))
                }
            },
            Source::Bounded { expr, .. } => {
                let views = views(ctx, expr);
                let s = quote_spanned!(expr.span()=> #p::bounded_str(&(#expr)));
                quote!({ #views #site.bounded_index(#k, #s) })
            }
            Source::Result(_) => unreachable!("filtered"),
        });
    quote!(&[#(#indices),*])
}

/// The result labels' indices, from `&value`.
pub(crate) fn result_indices(
    labels: &[DynamicLabel],
    ctx: &Context<'_>,
    value: &TokenStream,
) -> TokenStream {
    let (p, site) = (ctx.p, ctx.site);
    let indices = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.reads_result())
        .map(|(k, label)| match (&label.source, &label.ty) {
            (Source::Result(closure), Some(ty)) => {
                quote_spanned!(closure.span()=> #p::label_index::<#ty>(&#p::apply(&#value, #closure)))
            }
            (Source::Result(_), None) => {
                let f = label_fn_name(k);
                quote!(#p::Indexed::get(&#f(&#value)))
            }
            (Source::Bounded { expr, .. }, _) => {
                let s = quote_spanned!(expr.span()=> #p::apply(&#value, #expr));
                quote!(#site.bounded_index(#k, #p::bounded_str(&#s)))
            }
            (Source::Arg(_), _) => unreachable!("filtered"),
        });
    quote!(&[#(#indices),*])
}

/// The error kinds in the site's static.
pub(crate) fn kinds(mode: Option<ErrorKindMode>, ctx: &Context<'_>) -> TokenStream {
    let p = ctx.p;
    let (Some(mode), Some(ty)) = (mode, ctx.value_ty) else {
        return quote!(::core::option::Option::None);
    };
    let (ty, changed) = for_static(ty, &ctx.generics);
    let kinds = quote! {
        {
            #[allow(unused_imports)]
            use #p::NoErrorKinds as _;
            <#p::KindsOf<#ty>>::KINDS
        }
    };
    match mode {
        // Only where the macro had to rewrite the type can its own static see no kinds
        // while the call's value has them (an error type generic over the fn's parameters).
        ErrorKindMode::Strict(span) if changed => {
            let assert = quote_spanned! {span=>
                const _: () = ::core::assert!(__IM_KINDS.is_some(), "`error_kind` needs an error type that does not depend on the function's generic parameters (or `Self`): its kinds must be known before the first call; remove `error_kind`, or make the error type concrete");
            };
            quote!({ const __IM_KINDS: ::core::option::Option<&[&str]> = #kinds; #assert __IM_KINDS })
        }
        _ => kinds,
    }
}

/// The kind of `&value` at the end of a call.
pub(crate) fn kind_of(
    mode: Option<ErrorKindMode>,
    ctx: &Context<'_>,
    value: &TokenStream,
    ret_span: Span,
) -> TokenStream {
    let p = ctx.p;
    match mode {
        None => quote!(::core::option::Option::None),
        Some(ErrorKindMode::Strict(_)) => {
            let e = Ident::new("__im_e", ret_span);
            quote_spanned!(ret_span=> { let #e = &#value; #p::error_kind_of(#e) })
        }
        Some(ErrorKindMode::Lenient) => quote! {
            {
                #[allow(unused_imports)]
                use #p::{ViaKind as _, ViaNoKind as _};
                (&&#p::KindProbe(&#value)).__im_error_kind()
            }
        },
    }
}

/// The type of the value classified, when written: the fn's output (`()` for none).
pub(crate) fn output_type(output: &ReturnType) -> Option<Type> {
    match output {
        ReturnType::Default => Some(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    }
}
