//! The rewrite of one function.
//!
//! - sync: the body runs in `call_once(move || body)`, so `return`, `?` and references derived
//!   from `&mut` arguments keep working; the guard records the outcome after it;
//! - `async fn`: the body becomes an inner `async move` block awaited under the guard, which
//!   is created at first poll and records `cancelled` if dropped;
//! - a function whose body ends in `async {…}` or `Box::pin(async {…})` (`-> impl Future`,
//!   `#[async_trait]`): that future is instrumented, not its construction.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, PathArguments, ReturnType, Type, TypeParamBound};

use crate::options::Options;
use crate::recording::{labelled_site, outcome, site};
use crate::tail_future::{future_output, tail_future, tail_future_output};
use crate::target::MaybeFn;

/// Instruments one function, labelled `label` unless `name` says otherwise. `outer` are the
/// generics of the enclosing impl block, if the attribute came from there.
pub(crate) fn instrument_fn(
    options: &Options,
    f: MaybeFn,
    label: &str,
    outer: Option<&syn::Generics>,
) -> syn::Result<TokenStream> {
    let MaybeFn {
        attrs,
        vis,
        defaultness,
        mut sig,
        body,
        semi,
    } = f;
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new(
            constness.span,
            "a `const fn` cannot be instrumented: recording needs a clock and atomics at run time; remove `const`, or remove the attribute",
        ));
    }
    if let Some(attr) = attrs.iter().find(|a| a.path().is_ident("track_caller")) {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[track_caller]` functions cannot be instrumented: the body runs in a closure, which would report its own location instead of the caller's; remove one of the two attributes",
        ));
    }
    let Some(body) = body else {
        let span = semi.map_or_else(|| sig.ident.span(), |s| s.span);
        return Err(syn::Error::new(
            span,
            "a trait method without a body has nothing to measure: put `#[instrument_metrics]` on its implementations (or on their impl blocks), or give it a default body",
        ));
    };
    let krate = options
        .krate
        .as_ref()
        .map_or_else(|| quote!(::instrument_metrics), ToTokens::to_token_stream);
    let name = options
        .name
        .as_ref()
        .map_or_else(|| label.to_owned(), syn::LitStr::value);
    let p = quote!(#krate::__private);
    let labelled = !options.dynamic.is_empty() || options.error_kind.is_some();
    // Only labelled fns need the parameters' patterns and the tail parsed for a future's
    // output: a plain fn skips that compile-time work.
    let params = if labelled {
        crate::labels::params(&sig.inputs)
    } else {
        Vec::new()
    };
    let fn_generics = sig.generics.clone();
    let mut generics = vec![&fn_generics];
    generics.extend(outer);
    // The value classified: the fn's output, or the output of the future it returns.
    let (tail_is_future, tail_output) = if labelled {
        tail_future_output(body.stream(), &sig.output)
    } else {
        (false, None)
    };
    let value_ty = if sig.asyncness.is_some() {
        crate::labels::output_type(&sig.output)
    } else if let Some(t) = &tail_output {
        Some(t.clone())
    } else {
        crate::labels::output_type(&sig.output)
    };
    let site_ident = Ident::new("instrument_metrics_site", Span::mixed_site());
    let ctx = crate::labels::Context {
        p: &p,
        krate: &krate,
        params: &params,
        generics: generics.clone(),
        value_ty: value_ty.as_ref(),
        // A body returning a future keeps its signature: parameters keep their patterns.
        rebound: sig.asyncness.is_some() || !tail_is_future,
        site: &site_ident,
    };
    if labelled {
        // The future is measured, so its output is what labels and kinds read; a signature
        // that hides it (a type alias such as `BoxFuture<'_, T>`) gives nothing to read.
        if tail_is_future && sig.asyncness.is_none() && tail_output.is_none() {
            return Err(syn::Error::new_spanned(
                &sig.output,
                "dynamic labels and `error_kind` read the output of the future this fn returns, which this return type does not name: write it as `-> impl Future<Output = T>` or `-> Pin<Box<dyn Future<Output = T> + Send + '_>>`",
            ));
        }
        crate::labels::check(&options.dynamic, &ctx)?;
        if returns_impl_fn(&sig.output) && tail_output.is_none() {
            return Err(syn::Error::new(
                options.labels_span.unwrap_or_else(|| sig.ident.span()),
                "dynamic labels and `error_kind` need the returned value, which a fn returning `impl Fn…` does not give (it is measured in place): use constant labels here, or remove them",
            ));
        }
    }
    let site = if labelled {
        labelled_site(options, &name, &krate, sig.ident.span(), &ctx)
    } else {
        site(options, &name, &krate, sig.ident.span())
    };
    let ret_span = return_span(&sig);
    let label_fns = crate::labels::label_fns(&options.dynamic, &ctx);
    // What a labelled call passes when it starts and when it finishes.
    let enter_args = crate::labels::argument_indices(&options.dynamic, &ctx);
    let finish_extra = |value: &Ident| {
        let value = quote!(#value);
        let results = crate::labels::result_indices(&options.dynamic, &ctx, &value);
        let kind = crate::labels::kind_of(options.error_kind, &ctx, &value, ret_span);
        quote!(, #results, #kind)
    };
    let (inner_attrs, statements) = crate::body::split_inner_attributes(body.stream());
    // The body's own braces (its span carries the user's edition, which decides when tail
    // temporaries drop), evaluated into a local so that those temporaries drop before the
    // rebound parameters, as a function's do.
    let mut user_block = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, statements.clone());
    user_block.set_span(body.span());
    let ret = Ident::new("instrument_metrics_return", Span::mixed_site());
    // Typed, so that a mismatch is reported on the body's tail expression, as without us.
    let body_value = |ty: &TokenStream| {
        // A statement, so the lint attribute is allowed: after a diverging body (`todo!()`),
        // reading the local is unreachable code the user did not write.
        // (clippy sees a diverging body as a diverging sub-expression of that `let`.)
        quote! {
            #[allow(clippy::diverging_sub_expression)]
            let #ret: #ty = #user_block;
            #[allow(unreachable_code, clippy::needless_return)]
            return #ret;
        }
    };

    if sig.asyncness.is_some() {
        let warning = generic_warning_for(&sig, outer, options);
        let mut rebind = crate::body::rebind_parameters(&mut sig);
        rebind.extend(crate::labels::uses(&options.dynamic, &ctx));
        let output = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => erase_impl(ty),
        };
        let edge = fake_return_edge(Some(&output), return_span(&sig));
        let body_value = body_value(&output);
        let guard = Ident::new("instrument_metrics_guard", Span::mixed_site());
        let value = Ident::new("instrument_metrics_value", Span::mixed_site());
        let outcome = if matches!(sig.output, ReturnType::Default) {
            quote!(#p::Outcome::Ok)
        } else {
            outcome(options, &p, &value)
        };
        if labelled {
            let extra = finish_extra(&value);
            let arguments = Ident::new("instrument_metrics_arguments", Span::mixed_site());
            return Ok(quote! {
                #(#attrs)* #vis #defaultness #sig {
                    #inner_attrs
                    #warning
                    #label_fns
                    let #site_ident = #site;
                    let #arguments = #site_ident.arguments(#enter_args);
                    let (#guard, #value) = #p::instrument_labelled(
                        #site_ident,
                        #arguments,
                        async move { #edge #rebind #body_value },
                    ).await;
                    #guard.finish(#outcome #extra);
                    #value
                }
            });
        }
        return Ok(quote! {
            #(#attrs)* #vis #defaultness #sig {
                #inner_attrs
                #warning
                let (#guard, #value) =
                    #p::instrument(#site, async move { #edge #rebind #body_value }).await;
                #guard.finish(#outcome);
                #value
            }
        });
    }

    // A body that builds a future and returns it: measure the future, not its construction.
    // Its own async block keeps capturing what it captured, so nothing else changes.
    if let Ok(mut block) = syn::parse2::<syn::Block>(quote!({ #statements })) {
        let tail = tail_future(&mut block);
        if let Some((Expr::Async(future), tail)) = tail.map(|t| (t.clone(), t)) {
            let output = future_output(&sig.output).map(erase_impl);
            let edge = fake_return_edge(output.as_ref(), return_span(&sig));
            let warning =
                future_output(&sig.output).and_then(|t| generic_warning(t, &sig, outer, options));
            let capture = future.capture;
            let (outer_async, inner_async): (Vec<_>, Vec<_>) = future
                .attrs
                .iter()
                .cloned()
                .partition(|a| matches!(a.style, syn::AttrStyle::Outer));
            let inner_statements = &future.block.stmts;
            let guard = Ident::new("instrument_metrics_guard", Span::mixed_site());
            let value = Ident::new("instrument_metrics_value", Span::mixed_site());
            let outcome = outcome(options, &p, &value);
            if labelled {
                let extra = finish_extra(&value);
                let arguments = Ident::new("instrument_metrics_arguments", Span::mixed_site());
                // `move`: the outer block takes the site and the arguments' indices along.
                let instrumented: Expr = syn::parse_quote! {
                    #(#outer_async)* async move {
                        let (#guard, #value) = #p::instrument_labelled(
                            #site_ident,
                            #arguments,
                            async #capture { #(#inner_async)* #edge #(#inner_statements)* },
                        ).await;
                        #guard.finish(#outcome #extra);
                        #value
                    }
                };
                *tail = instrumented;
                let stmts = &block.stmts;
                return Ok(quote! {
                    #(#attrs)* #vis #defaultness #sig {
                        #inner_attrs
                        #warning
                        #label_fns
                    let #site_ident = #site;
                        let #arguments = #site_ident.arguments(#enter_args);
                        #(#stmts)*
                    }
                });
            }
            let instrumented: Expr = syn::parse_quote! {
                #(#outer_async)* async #capture {
                    let (#guard, #value) = #p::instrument(
                        #site,
                        async #capture { #(#inner_async)* #edge #(#inner_statements)* },
                    ).await;
                    #guard.finish(#outcome);
                    #value
                }
            };
            *tail = instrumented;
            let stmts = &block.stmts;
            return Ok(quote! {
                #(#attrs)* #vis #defaultness #sig { #inner_attrs #warning #(#stmts)* }
            });
        }
    }

    // `-> impl Fn…`: the returned closure gets its signature only from the opaque return type,
    // which a wrapping closure cannot pass on; such a body is measured in place.
    if returns_impl_fn(&sig.output) {
        let scope = Ident::new("instrument_metrics_scope", Span::mixed_site());
        return Ok(quote! {
            #(#attrs)* #vis #defaultness #sig {
                #inner_attrs
                let #scope = #site.scope();
                #statements
            }
        });
    }

    let warning = generic_warning_for(&sig, outer, options);
    let mut rebind = crate::body::rebind_parameters(&mut sig);
    rebind.extend(crate::labels::uses(&options.dynamic, &ctx));

    // Sync bodies: straight-line code around a closure (cheaper to compile than handing both
    // closures to a generic function). The guard records `panic` if the closure unwinds.
    let guard = Ident::new("instrument_metrics_guard", Span::mixed_site());
    let value = Ident::new("instrument_metrics_value", Span::mixed_site());
    if labelled {
        let tail = match &sig.output {
            ReturnType::Default => {
                let extra = finish_extra(&value);
                quote! {
                    #p::call_unit(move || { #rebind #user_block; });
                    let #value = ();
                    #guard.finish(#p::Outcome::Ok #extra);
                }
            }
            ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => quote! {
                match #p::call_once(move || -> ::core::convert::Infallible { #rebind #user_block }) {}
            },
            ReturnType::Type(arrow, ty) => {
                let ty = erase_impl(ty);
                let outcome = outcome(options, &p, &value);
                let body_value = body_value(&ty);
                let extra = finish_extra(&value);
                quote! {
                    let #value = #p::call_once(move || #arrow #ty { #rebind #body_value });
                    #guard.finish(#outcome #extra);
                    #value
                }
            }
        };
        return Ok(quote! {
            #(#attrs)* #vis #defaultness #sig {
                #inner_attrs
                #warning
                #label_fns
                    let #site_ident = #site;
                let #guard = #site_ident.enter(#enter_args);
                #tail
            }
        });
    }
    let tail = match &sig.output {
        // `FnOnce()` gives a diverging body (`loop {}`, `todo!()`) the type `()`, as the fn has.
        ReturnType::Default => quote! {
            #p::call_unit(move || { #rebind #user_block; });
            #guard.finish(#p::Outcome::Ok);
        },
        // Never returns: only a panic can end it, and the guard's drop records that.
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => quote! {
            match #p::call_once(move || -> ::core::convert::Infallible { #rebind #user_block }) {}
        },
        ReturnType::Type(arrow, ty) => {
            let ty = erase_impl(ty);
            let outcome = outcome(options, &p, &value);
            let body_value = body_value(&ty);
            quote! {
                let #value = #p::call_once(move || #arrow #ty { #rebind #body_value });
                #guard.finish(#outcome);
                #value
            }
        }
    };
    Ok(quote! {
        #(#attrs)* #vis #defaultness #sig {
            #inner_attrs
            #warning
            let #guard = #site.enter();
            #tail
        }
    })
}

/// `-> impl Fn(…) -> …` (or `FnMut`, `FnOnce`), with any other bounds.
fn returns_impl_fn(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let Type::ImplTrait(t) = &**ty else {
        return false;
    };
    t.bounds.iter().any(|b| {
        matches!(b, TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| {
            matches!(s.arguments, PathArguments::Parenthesized(_))
        }))
    })
}

/// The warning about a generic return type, for a sync or `async` fn.
fn generic_warning_for(
    sig: &syn::Signature,
    outer: Option<&syn::Generics>,
    options: &Options,
) -> Option<TokenStream> {
    match &sig.output {
        ReturnType::Type(_, ty) => generic_warning(ty, sig, outer, options),
        ReturnType::Default => None,
    }
}

fn generic_warning(
    ty: &Type,
    sig: &syn::Signature,
    outer: Option<&syn::Generics>,
    options: &Options,
) -> Option<TokenStream> {
    // `ok_if` / `error_if` decide from the value whatever its type.
    if options.rule.is_some() || options.quiet_generic_return {
        return None;
    }
    let mut generics = vec![&sig.generics];
    generics.extend(outer);
    crate::generic_return::warning(ty, &generics)
}

/// Pins the type of an async block to the function's output, so `?` and `.into()` infer as
/// they would in the function, and type errors point at the user's return type.
fn fake_return_edge(output: Option<&TokenStream>, span: Span) -> TokenStream {
    let Some(output) = output else {
        return TokenStream::new();
    };
    let fake = Ident::new(
        "instrument_metrics_fake_return",
        Span::mixed_site().located_at(span),
    );
    quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let #fake: #output = loop {};
            return #fake;
        }
    }
}

/// Where "expected because of the return type" should point: the type, as rustc does.
fn return_span(sig: &syn::Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    }
}

/// `impl Trait` cannot be named in a `let` or closure signature: each `impl …` becomes `_`,
/// so the rest of the type (`Result<_, MyError>`) still guides inference.
fn erase_impl(ty: &Type) -> TokenStream {
    struct Erase;
    impl syn::visit_mut::VisitMut for Erase {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(t) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](t.impl_token.span),
                });
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Erase, &mut ty);
    ty.into_token_stream()
}
