//! The rewrite of one function. Each shape is written once; the recording step (plain or
//! labelled) is plugged in from [`Recording`].
//!
//! - sync: the body runs in `call_once(move || body)`, so `return`, `?` and references derived
//!   from `&mut` arguments keep working; the guard records the outcome after it;
//! - `async fn`: the body becomes an inner `async move` block awaited under the guard, which
//!   is created at first poll and records `cancelled` if dropped;
//! - a function whose body ends in `async {…}` or `Box::pin(async {…})` (`-> impl Future`,
//!   `#[async_trait]`): that future is instrumented, not its construction;
//! - a function returning `impl Fn…`: measured in place (the closure it returns gets its
//!   signature only from that return type, which a wrapping closure cannot pass on).

use proc_macro2::{Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{Expr, ReturnType, Signature, Type};

use crate::options::Options;
use crate::recording::{
    guard_ident, return_span, returns_impl_fn, value_ident, Recording, ShapeFacts,
};
use crate::tail_future::{future_output, tail_future, tail_future_block};
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
        sig,
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
    let name = options
        .name
        .as_ref()
        .map_or_else(|| label.to_owned(), syn::LitStr::value);
    let (inner_attrs, statements) = crate::body::split_inner_attributes(body.stream());
    let shape = if sig.asyncness.is_some() {
        Shape::AsyncFn
    } else if let Some(block) = tail_future_block(&statements) {
        Shape::TailFuture(block)
    } else if returns_impl_fn(&sig.output) {
        Shape::InPlace
    } else {
        Shape::Sync
    };
    // `polls` times a future's polls: a fn that is not one, nor returns one, has none. On an
    // impl block the option is for its async methods, and the others are left without it.
    let without_polls;
    let options = match options.polls {
        Some(polls) if matches!(shape, Shape::InPlace | Shape::Sync) => {
            if !polls.inherited {
                return Err(syn::Error::new(
                    polls.span,
                    "`polls` and `slow_poll` time the polls of a future: they apply to `async fn`s and to fns whose body ends in the future they return (`async move {…}` or `Box::pin(async move {…})`), not to this fn; remove the option",
                ));
            }
            without_polls = Options {
                polls: None,
                ..options.clone()
            };
            &without_polls
        }
        _ => options,
    };
    let tail_output = match shape {
        Shape::TailFuture(_) => future_output(&sig.output),
        _ => None,
    };
    let recording = Recording::new(
        options,
        &name,
        &sig,
        &ShapeFacts {
            tail_future: matches!(shape, Shape::TailFuture(_)),
            tail_output,
            outer,
        },
    )?;
    let rewrite = Rewrite {
        options,
        outer,
        recording,
        // The body's own braces (their span carries the user's edition, which decides when
        // tail temporaries drop).
        user_block: {
            let mut block = Group::new(proc_macro2::Delimiter::Brace, statements.clone());
            block.set_span(body.span());
            block
        },
    };
    let mut sig = sig;
    let inner = match shape {
        Shape::AsyncFn => rewrite.async_fn(&mut sig),
        Shape::TailFuture(block) => rewrite.tail_future(&sig, block),
        Shape::InPlace => rewrite.in_place(&statements),
        Shape::Sync => rewrite.sync(&mut sig),
    };
    Ok(quote! {
        #(#attrs)* #vis #defaultness #sig {
            #inner_attrs
            #inner
        }
    })
}

/// What the function is, for the rewrite.
enum Shape {
    AsyncFn,
    /// Parsed, ending in the future it returns.
    TailFuture(syn::Block),
    /// Returns `impl Fn…`.
    InPlace,
    Sync,
}

/// One function's rewrite: what every shape needs.
struct Rewrite<'a> {
    options: &'a Options,
    outer: Option<&'a syn::Generics>,
    recording: Recording,
    user_block: Group,
}

impl Rewrite<'_> {
    /// An `async fn`: its body becomes an `async move` block, awaited under the guard.
    fn async_fn(&self, sig: &mut Signature) -> TokenStream {
        let warning = self.generic_warning_for(sig);
        let output = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => erase_impl(ty),
        };
        let edge = fake_return_edge(Some(&output), return_span(sig));
        let rebind = self.rebind(sig);
        let body_value = self.body_value(&output);
        let r = &self.recording;
        let prelude = r.prelude();
        let measured = r.instrument(&quote!(async move { #edge #rebind #body_value }));
        let finish = if matches!(sig.output, ReturnType::Default) {
            r.finish_unit(true)
        } else {
            r.finish()
        };
        let (guard, value) = (guard_ident(), value_ident());
        quote! {
            #warning
            #prelude
            let (#guard, #value) = #measured.await;
            #finish
            #value
        }
    }

    /// A body that builds a future and returns it: the future is measured, not its
    /// construction. Its own async block keeps capturing what it captured, so nothing else
    /// changes.
    fn tail_future(&self, sig: &Signature, mut block: syn::Block) -> TokenStream {
        let output = future_output(&sig.output);
        let edge = fake_return_edge(output.map(erase_impl).as_ref(), return_span(sig));
        let warning = output.and_then(|t| self.generic_warning(t, sig));
        let r = &self.recording;
        let prelude = r.prelude();
        let Some(tail) = tail_future(&mut block) else {
            // `tail_future_block` only gives blocks that end so.
            return TokenStream::new();
        };
        let Expr::Async(future) = tail else {
            return TokenStream::new();
        };
        let capture = future.capture;
        let (outer_async, inner_async): (Vec<_>, Vec<_>) = future
            .attrs
            .iter()
            .cloned()
            .partition(|a| matches!(a.style, syn::AttrStyle::Outer));
        let inner_statements = &future.block.stmts;
        let measured =
            r.instrument(&quote!(async #capture { #(#inner_async)* #edge #(#inner_statements)* }));
        let outer_capture = r.capture(capture);
        let finish = r.finish();
        let (guard, value) = (guard_ident(), value_ident());
        *tail = Expr::Verbatim(quote! {
            #(#outer_async)* async #outer_capture {
                let (#guard, #value) = #measured.await;
                #finish
                #value
            }
        });
        let stmts = &block.stmts;
        quote! {
            #warning
            #prelude
            #(#stmts)*
        }
    }

    /// A body returning `impl Fn…`, measured in place: its statements stay where they are.
    fn in_place(&self, statements: &TokenStream) -> TokenStream {
        let scope = Ident::new("instrument_metrics_scope", Span::mixed_site());
        let enter = self.recording.scope();
        quote! {
            let #scope = #enter;
            #statements
        }
    }

    /// A sync body: straight-line code around a closure (cheaper to compile than handing both
    /// closures to a generic function). The guard records `panic` if the closure unwinds.
    fn sync(&self, sig: &mut Signature) -> TokenStream {
        let warning = self.generic_warning_for(sig);
        let rebind = self.rebind(sig);
        let r = &self.recording;
        let p = &r.p();
        let user_block = &self.user_block;
        let (guard, value) = (guard_ident(), value_ident());
        let tail = match &sig.output {
            // `FnOnce()` gives a diverging body (`loop {}`, `todo!()`) the type `()`, as the fn
            // has.
            ReturnType::Default => {
                let finish = r.finish_unit(false);
                quote! {
                    #p::call_unit(move || { #rebind #user_block; });
                    #finish
                }
            }
            // Never returns: only a panic can end it, and the guard's drop records that.
            ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => quote! {
                match #p::call_once(move || -> ::core::convert::Infallible { #rebind #user_block }) {}
            },
            ReturnType::Type(arrow, ty) => {
                let ty = erase_impl(ty);
                let body_value = self.body_value(&ty);
                let finish = r.finish();
                quote! {
                    let #value = #p::call_once(move || #arrow #ty { #rebind #body_value });
                    #finish
                    #value
                }
            }
        };
        let prelude = r.prelude();
        let enter = r.enter();
        quote! {
            #warning
            #prelude
            let #guard = #enter;
            #tail
        }
    }

    /// The parameters rebound at the top of the wrapped body (see `body::rebind_parameters`),
    /// and the labels' uses of them.
    fn rebind(&self, sig: &mut Signature) -> TokenStream {
        let mut rebind = crate::body::rebind_parameters(sig);
        rebind.extend(self.recording.uses().clone());
        rebind
    }

    /// The body evaluated into a local, so that its tail temporaries drop before the rebound
    /// parameters, as a function's do; typed, so that a mismatch is reported on the body's
    /// tail expression, as without us.
    fn body_value(&self, ty: &TokenStream) -> TokenStream {
        let ret = Ident::new("instrument_metrics_return", Span::mixed_site());
        let user_block = &self.user_block;
        // A statement, so the lint attribute is allowed: after a diverging body (`todo!()`),
        // reading the local is unreachable code the user did not write.
        // (clippy sees a diverging body as a diverging sub-expression of that `let`.)
        quote! {
            #[allow(clippy::diverging_sub_expression)]
            let #ret: #ty = #user_block;
            #[allow(unreachable_code, clippy::needless_return)]
            return #ret;
        }
    }

    /// The warning about a generic return type, for a sync or `async` fn.
    fn generic_warning_for(&self, sig: &Signature) -> Option<TokenStream> {
        match &sig.output {
            ReturnType::Type(_, ty) => self.generic_warning(ty, sig),
            ReturnType::Default => None,
        }
    }

    fn generic_warning(&self, ty: &Type, sig: &Signature) -> Option<TokenStream> {
        // `ok_if` / `error_if` decide from the value whatever its type.
        if self.options.rule.is_some() || self.options.quiet_generic_return {
            return None;
        }
        let mut generics = vec![&sig.generics];
        generics.extend(self.outer);
        crate::generic_return::warning(ty, &generics)
    }
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
