//! How a call is recorded: the part of a rewrite that differs between a plain call site and a
//! labelled one (dynamic labels, `error_kind`). Each shape of `expand` is written once and
//! plugs in a [`Recording`]: what runs before the body, how the guard starts (for a sync body
//! or a future), and how it finishes with the returned value. Here too: the site's statics and
//! the outcome of the value.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{ReturnType, Signature, Type};

use crate::labels::Context;
use crate::options::{Options, Rule};

/// The recording step of one function, as tokens for the shapes to place.
pub(crate) struct Recording {
    /// `krate::__private`.
    p: TokenStream,
    /// The site's statics in a block (plain), or the local they are bound to (labelled).
    site: TokenStream,
    /// Statements at the top of the function (labelled: the label functions, the site and the
    /// argument labels' part, computed before the body runs).
    prelude: TokenStream,
    /// Statements at the top of a wrapped body: parameters only labels read count as used.
    uses: TokenStream,
    /// The outcome of `value`.
    outcome: TokenStream,
    labelled: Option<Labelled>,
    /// With `polls`: the site's tokens give the call site and its poll site as a pair; when
    /// labelled, the poll site is bound to this local.
    polls: Option<Ident>,
}

/// What a labelled call adds.
struct Labelled {
    /// The local holding the argument labels' part.
    arguments: Ident,
    /// The result labels' indices and the error's kind, read from `&value`.
    results_and_kind: TokenStream,
}

/// What the shape of the function tells the recording.
pub(crate) struct ShapeFacts<'a> {
    /// The body ends in a future it returns, which is measured (not an `async fn`).
    pub tail_future: bool,
    /// That future's output, when the signature names it.
    pub tail_output: Option<&'a Type>,
    /// The generics of the enclosing impl block, if any.
    pub outer: Option<&'a syn::Generics>,
}

impl Recording {
    /// The recording of `sig` (read before its parameters are rebound) as `name`; labelled
    /// options are checked here, so the errors come before any code is generated.
    pub(crate) fn new(
        options: &Options,
        name: &str,
        sig: &Signature,
        shape: &ShapeFacts<'_>,
    ) -> syn::Result<Recording> {
        let krate = options
            .krate
            .as_ref()
            .map_or_else(|| quote!(::instrument_metrics), ToTokens::to_token_stream);
        let p = quote!(#krate::__private);
        let value = value_ident();
        let outcome = outcome(options, &p, &value);
        let polls = options
            .polls
            .map(|_| Ident::new("instrument_metrics_polls", Span::mixed_site()));
        if options.dynamic.is_empty() && options.error_kind.is_none() {
            return Ok(Recording {
                site: site(options, name, &krate, sig.ident.span()),
                p,
                prelude: TokenStream::new(),
                uses: TokenStream::new(),
                outcome,
                labelled: None,
                polls,
            });
        }
        // Only labelled fns need the parameters' patterns and the tail's output: a plain fn
        // skips that compile-time work.
        let params = crate::labels::params(&sig.inputs);
        let mut generics = vec![&sig.generics];
        generics.extend(shape.outer);
        // The value classified: the fn's output, or the output of the future it returns.
        let value_ty = match shape.tail_output {
            Some(t) if sig.asyncness.is_none() => Some(t.clone()),
            _ => crate::labels::output_type(&sig.output),
        };
        let site_ident = Ident::new("instrument_metrics_site", Span::mixed_site());
        let ctx = Context {
            p: &p,
            krate: &krate,
            params: &params,
            generics,
            value_ty: value_ty.as_ref(),
            // A body returning a future keeps its signature: parameters keep their patterns.
            rebound: sig.asyncness.is_some() || !shape.tail_future,
            site: &site_ident,
        };
        // The future is measured, so its output is what labels and kinds read; a signature
        // that hides it (a type alias such as `BoxFuture<'_, T>`) gives nothing to read.
        if shape.tail_future && sig.asyncness.is_none() && shape.tail_output.is_none() {
            return Err(syn::Error::new_spanned(
                &sig.output,
                "dynamic labels and `error_kind` read the output of the future this fn returns, which this return type does not name: write it as `-> impl Future<Output = T>` or `-> Pin<Box<dyn Future<Output = T> + Send + '_>>`",
            ));
        }
        crate::labels::check(&options.dynamic, &ctx)?;
        if returns_impl_fn(&sig.output) && shape.tail_output.is_none() {
            return Err(syn::Error::new(
                options.labels_span.unwrap_or_else(|| sig.ident.span()),
                "dynamic labels and `error_kind` need the returned value, which a fn returning `impl Fn…` does not give (it is measured in place): use constant labels here, or remove them",
            ));
        }
        let site = labelled_site(options, name, &krate, sig.ident.span(), &ctx);
        let label_fns = crate::labels::label_fns(&options.dynamic, &ctx);
        let indices = crate::labels::argument_indices(&options.dynamic, &ctx);
        let arguments = Ident::new("instrument_metrics_arguments", Span::mixed_site());
        let value = quote!(#value);
        let results = crate::labels::result_indices(&options.dynamic, &ctx, &value);
        let kind = crate::labels::kind_of(options.error_kind, &ctx, &value, return_span(sig));
        let bind = match &polls {
            None => quote!(#site_ident),
            Some(polls) => quote!((#site_ident, #polls)),
        };
        Ok(Recording {
            prelude: quote! {
                #label_fns
                let #bind = #site;
                let #arguments = #site_ident.arguments(#indices);
            },
            uses: crate::labels::uses(&options.dynamic, &ctx),
            site: site_ident.into_token_stream(),
            p,
            outcome,
            labelled: Some(Labelled {
                arguments,
                results_and_kind: quote!(, #results, #kind),
            }),
            polls,
        })
    }

    /// `krate::__private`, the path of everything generated code names.
    pub(crate) fn p(&self) -> &TokenStream {
        &self.p
    }

    /// Statements at the top of the function, before the body runs.
    pub(crate) fn prelude(&self) -> &TokenStream {
        &self.prelude
    }

    /// Statements at the top of a wrapped body (after its parameters are rebound).
    pub(crate) fn uses(&self) -> &TokenStream {
        &self.uses
    }

    /// Starts a sync call: the guard that `finish` ends.
    pub(crate) fn enter(&self) -> TokenStream {
        let site = &self.site;
        match &self.labelled {
            None => quote!(#site.enter()),
            Some(Labelled { arguments, .. }) => quote!(#site.enter_at(#arguments)),
        }
    }

    /// `future`, measured from its first poll; awaited, it gives `(guard, value)`.
    pub(crate) fn instrument(&self, future: &TokenStream) -> TokenStream {
        let (p, site) = (&self.p, &self.site);
        match (&self.labelled, &self.polls) {
            (None, None) => quote!(#p::instrument(#site, #future)),
            // `site` is the pair of the call site and its poll site.
            (None, Some(_)) => quote!(#p::instrument_polled(#site, #future)),
            (Some(Labelled { arguments, .. }), None) => {
                quote!(#p::instrument_labelled(#site, #arguments, #future))
            }
            (Some(Labelled { arguments, .. }), Some(polls)) => {
                quote!(#p::instrument_labelled(#site, #arguments, #p::polled(#polls, #future)))
            }
        }
    }

    /// How the block around a returned future captures: as the user's own block did, or, when
    /// labelled, by move (it takes the site and the arguments' part along).
    pub(crate) fn capture(&self, own: Option<syn::Token![move]>) -> Option<syn::Token![move]> {
        match self.labelled {
            None => own,
            Some(_) => Some(<syn::Token![move]>::default()),
        }
    }

    /// Ends the call once the body returned `value`: its outcome, and the labels it decides.
    pub(crate) fn finish(&self) -> TokenStream {
        self.finish_with(&self.outcome)
    }

    /// The same for a body returning `()`, which is always ok. `bound`: whether `value` holds
    /// the `()` already (labels may read it).
    pub(crate) fn finish_unit(&self, bound: bool) -> TokenStream {
        let p = &self.p;
        let finish = self.finish_with(&quote!(#p::Outcome::Ok));
        if bound || self.labelled.is_none() {
            return finish;
        }
        let value = value_ident();
        quote!(let #value = (); #finish)
    }

    fn finish_with(&self, outcome: &TokenStream) -> TokenStream {
        let guard = guard_ident();
        let extra = self.labelled.as_ref().map(|l| &l.results_and_kind);
        quote!(#guard.finish(#outcome #extra);)
    }

    /// Starts a call measured in place, without its value (a body returning `impl Fn…`; never
    /// labelled, which `new` refuses for those).
    pub(crate) fn scope(&self) -> TokenStream {
        let site = &self.site;
        quote!(#site.scope())
    }
}

/// The guard of the call, which the shapes bind and `finish` ends.
pub(crate) fn guard_ident() -> Ident {
    Ident::new("instrument_metrics_guard", Span::mixed_site())
}

/// The value the body returned, which the shapes bind and `finish` classifies.
pub(crate) fn value_ident() -> Ident {
    Ident::new("instrument_metrics_value", Span::mixed_site())
}

/// Where "expected because of the return type" should point: the type, as rustc does.
pub(crate) fn return_span(sig: &Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => syn::spanned::Spanned::span(ty),
        ReturnType::Default => sig.ident.span(),
    }
}

/// `-> impl Fn(…) -> …` (or `FnMut`, `FnOnce`), with any other bounds.
pub(crate) fn returns_impl_fn(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let Type::ImplTrait(t) = &**ty else {
        return false;
    };
    t.bounds.iter().any(|b| {
        matches!(b, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| {
            matches!(s.arguments, syn::PathArguments::Parenthesized(_))
        }))
    })
}

/// The outcome of `&value`, in place: `ok_if`/`error_if`, or the autoref probe on the concrete
/// type.
fn outcome(options: &Options, p: &TokenStream, value: &Ident) -> TokenStream {
    let (ok, err) = (quote!(#p::Outcome::Ok), quote!(#p::Outcome::Error));
    match &options.rule {
        Some(Rule::OkIf(pred)) => quote!(if #p::judge(&#value, #pred) { #ok } else { #err }),
        Some(Rule::ErrorIf(pred)) => quote!(if #p::judge(&#value, #pred) { #err } else { #ok }),
        None => quote! {
            {
                use #p::ProbeOutcome as _;
                (&&&&&&#p::Probe(&#value)).__im_outcome()
            }
        },
    }
}

/// The statics of one call site, registered with the linker, and the call that enters it.
fn site(options: &Options, name: &str, krate: &TokenStream, span: Span) -> TokenStream {
    let p = quote!(#krate::__private);
    let line = quote_spanned!(span=> ::core::line!());
    let objective = crate::objective::registration(options.objective.as_ref(), &p);
    let defaults = options.labels.is_empty() && !options.in_flight && options.histogram.is_none();
    // Default buckets: the runtime's `PlainSite`, whose recording the user's crate does not
    // compile again; with every other option at its default too, its shortest constructor.
    let (site_type, value) = match &options.buckets {
        None if defaults => (
            quote!(#p::PlainSite),
            quote!(#p::PlainSite::plain(#name, ::core::module_path!(), ::core::file!(), #line)),
        ),
        None => {
            let meta = site_meta(options, name, krate, &line);
            (quote!(#p::PlainSite), quote!(#p::PlainSite::new(#meta)))
        }
        Some(_) => {
            let b = options.bucket_count();
            let meta = site_meta(options, name, krate, &line);
            (
                quote!(#p::CallSite<#b>),
                quote!(<#p::CallSite<#b>>::new(#meta)),
            )
        }
    };
    let (polls, end) = poll_site(options, krate);
    quote! {
        {
            static __IM_SITE: #site_type = #value;
            #p::register_site!(__IM_SITE);
            #objective
            #polls
            #end
        }
    }
}

/// With `polls`: the poll site static beside `__IM_SITE`, and the block's value, the pair of
/// both; without, nothing and `&__IM_SITE`, as before the option existed.
fn poll_site(options: &Options, krate: &TokenStream) -> (TokenStream, TokenStream) {
    let Some(polls) = options.polls else {
        return (TokenStream::new(), quote!(&__IM_SITE));
    };
    let p = quote!(#krate::__private);
    let b = options.bucket_count();
    let (nanos, _) = bounds(options, krate);
    let slow = polls.slow_nanos.map_or_else(
        || quote!(#p::DEFAULT_SLOW_POLL_NANOS),
        |n| proc_macro2::Literal::u64_suffixed(n).into_token_stream(),
    );
    (
        quote! {
            static __IM_POLLS: #p::PollSite<#b> = #p::PollSite::new(&__IM_SITE, #nanos, #slow);
            #p::register_polls!(__IM_POLLS);
        },
        quote!((&__IM_SITE, &__IM_POLLS)),
    )
}

/// Everything the macro knows about a site, as the runtime's `SiteMeta`.
fn site_meta(
    options: &Options,
    name: &str,
    krate: &TokenStream,
    line: &TokenStream,
) -> TokenStream {
    let (nanos, seconds) = bounds(options, krate);
    let histograms = histograms(options, krate);
    let label_keys = options.labels.iter().map(|(k, _)| k);
    let label_values = options.labels.iter().map(|(_, v)| v);
    let in_flight = options.in_flight;
    quote! {
        #krate::__private::SiteMeta {
            name: #name,
            module: ::core::module_path!(),
            labels: &[#((#label_keys, #label_values)),*],
            bounds_nanos: #nanos,
            bounds_seconds: #seconds,
            in_flight: #in_flight,
            histograms: #histograms,
            file: ::core::file!(),
            line: #line,
        }
    }
}

/// `histogram = …` as the runtime's `Option<Histograms>`.
fn histograms(options: &Options, krate: &TokenStream) -> TokenStream {
    match options.histogram {
        None => quote!(::core::option::Option::None),
        Some(kind) => {
            let variant = proc_macro2::Ident::new(kind.variant(), Span::call_site());
            quote!(::core::option::Option::Some(#krate::__private::Histograms::#variant))
        }
    }
}

/// The bucket bounds in nanoseconds and in seconds.
fn bounds(options: &Options, krate: &TokenStream) -> (TokenStream, TokenStream) {
    // The default bounds are the runtime's constants (a wrong count fails `CallSite::new`'s
    // compile-time check), so the values are written once.
    match &options.buckets {
        None => (
            quote!(#krate::__private::DEFAULT_BOUNDS_NANOS),
            quote!(#krate::__private::DEFAULT_BOUNDS_SECONDS),
        ),
        Some(bounds) => {
            let seconds = bounds
                .iter()
                .map(|s| proc_macro2::Literal::f64_suffixed(*s));
            let nanos = bounds.iter().map(|s| {
                // Saturating: bounds past 584 years all mean "everything".
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = (s * 1e9).round().min(u64::MAX as f64) as u64;
                proc_macro2::Literal::u64_suffixed(n)
            });
            (quote!(&[#(#nanos),*]), quote!(&[#(#seconds),*]))
        }
    }
}

/// The statics of a call site with dynamic labels or error kinds.
fn labelled_site(
    options: &Options,
    name: &str,
    krate: &TokenStream,
    span: Span,
    ctx: &crate::labels::Context<'_>,
) -> TokenStream {
    let p = quote!(#krate::__private);
    let b = options.bucket_count();
    let line = quote_spanned!(span=> ::core::line!());
    let meta = site_meta(options, name, krate, &line);
    let (items, dynamic) =
        crate::labels::statics(&options.dynamic, ctx, options.labels_span.unwrap_or(span));
    let kinds = crate::labels::kinds(options.error_kind, ctx);
    let objective = crate::objective::registration(options.objective.as_ref(), &p);
    let (polls, end) = poll_site(options, krate);
    quote! {
        {
            #items
            static __IM_SITE: #p::LabelledSite<#b, { __IM_C }> = #p::LabelledSite::new(
                #meta,
                #p::DynMeta { labels: #dynamic, kinds: #kinds },
            );
            #p::register_site!(__IM_SITE);
            #objective
            #polls
            #end
        }
    }
}
