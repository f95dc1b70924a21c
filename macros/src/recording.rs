//! How a call is recorded: the statics of its call site (plain, or labelled with dynamic
//! labels and error kinds) and the outcome of the value it returned.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::options::{Options, Rule};

/// The outcome of `&value`, in place: `ok_if`/`error_if`, or the autoref probe on the concrete
/// type.
pub(crate) fn outcome(options: &Options, p: &TokenStream, value: &Ident) -> TokenStream {
    let (ok, err) = (quote!(#p::Outcome::Ok), quote!(#p::Outcome::Error));
    match &options.rule {
        Some(Rule::OkIf(pred)) => quote!(if #p::judge(&#value, #pred) { #ok } else { #err }),
        Some(Rule::ErrorIf(pred)) => quote!(if #p::judge(&#value, #pred) { #err } else { #ok }),
        None => quote! {
            {
                #[allow(unused_imports)]
                use #p::{ViaAnything as _, ViaBoth as _, ViaClassify as _, ViaErr as _, ViaOk as _, ViaResult as _};
                (&&&&&#p::Probe(&#value)).__im_outcome()
            }
        },
    }
}

/// The statics of one call site, registered with the linker, and the call that enters it.
pub(crate) fn site(options: &Options, name: &str, krate: &TokenStream, span: Span) -> TokenStream {
    let b = options.bucket_count();
    let (nanos, seconds) = bounds(options, krate);
    let line = quote_spanned!(span=> ::core::line!());
    let histograms = histograms(options, krate);
    let objective =
        crate::objective::registration(options.objective.as_ref(), &quote!(#krate::__private));
    let meta = if options.buckets.is_none()
        && options.labels.is_empty()
        && !options.in_flight
        && options.histogram.is_none()
    {
        quote! {
            #krate::__private::SiteMeta::plain(#name, ::core::module_path!(), ::core::file!(), #line)
        }
    } else {
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
    };
    quote! {
        {
            static __IM_SITE: #krate::__private::CallSite<#b> = #krate::__private::CallSite::new(#meta);
            #krate::__private::register_site!(__IM_SITE);
            #objective
            &__IM_SITE
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
pub(crate) fn labelled_site(
    options: &Options,
    name: &str,
    krate: &TokenStream,
    span: Span,
    ctx: &crate::labels::Context<'_>,
) -> TokenStream {
    let p = quote!(#krate::__private);
    let b = options.bucket_count();
    let (nanos, seconds) = bounds(options, krate);
    let line = quote_spanned!(span=> ::core::line!());
    let label_keys = options.labels.iter().map(|(k, _)| k);
    let label_values = options.labels.iter().map(|(_, v)| v);
    let in_flight = options.in_flight;
    let histograms = histograms(options, krate);
    let (items, dynamic) =
        crate::labels::statics(&options.dynamic, ctx, options.labels_span.unwrap_or(span));
    let kinds = crate::labels::kinds(options.error_kind, ctx);
    let objective = crate::objective::registration(options.objective.as_ref(), &p);
    quote! {
        {
            #items
            static __IM_SITE: #p::LabelledSite<#b, { __IM_C }> = #p::LabelledSite::new(
                #p::SiteMeta {
                    name: #name,
                    module: ::core::module_path!(),
                    labels: &[#((#label_keys, #label_values)),*],
                    bounds_nanos: #nanos,
                    bounds_seconds: #seconds,
                    in_flight: #in_flight,
                    histograms: #histograms,
                    file: ::core::file!(),
                    line: #line,
                },
                #p::DynMeta { labels: #dynamic, kinds: #kinds },
            );
            #p::register_site!(__IM_SITE);
            #objective
            &__IM_SITE
        }
    }
}
