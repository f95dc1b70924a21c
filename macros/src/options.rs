//! The attribute's arguments: `name`, `buckets`, `histogram`, `in_flight`, `ok_if`, `error_if`,
//! `labels`, `error_kind`, `objective`, `polls`, `slow_poll`, `skip`, `crate`. Each at most once, each value checked here so mistakes are compile errors
//! spanned on the offending token.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{parenthesized, Expr, LitStr, Path, Token, Type};

use crate::diagnostic::next_span;
use crate::labels::{DynamicLabel, ErrorKindMode, Source};

/// Every option, in the order error messages list them.
pub(crate) const NAMES: [&str; 13] = [
    "name",
    "buckets",
    "histogram",
    "in_flight",
    "ok_if",
    "error_if",
    "labels",
    "error_kind",
    "objective",
    "polls",
    "slow_poll",
    "skip",
    "crate",
];

/// `` `name`, `buckets`, … `` for error messages.
fn valid_options() -> String {
    NAMES.map(|n| format!("`{n}`")).join(", ")
}

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(buckets);
    syn::custom_keyword!(histogram);
    syn::custom_keyword!(in_flight);
    syn::custom_keyword!(ok_if);
    syn::custom_keyword!(error_if);
    syn::custom_keyword!(labels);
    syn::custom_keyword!(error_kind);
    syn::custom_keyword!(bounded);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(objective);
    syn::custom_keyword!(polls);
    syn::custom_keyword!(slow_poll);
}

/// `polls` / `slow_poll = "…"`: busy time and slow polls of an async function's calls.
#[derive(Clone, Copy)]
pub(crate) struct Polls {
    /// The option's keyword (`polls`, or `slow_poll` without it), for errors.
    pub span: Span,
    /// `slow_poll`, in nanoseconds; `None`: the runtime's default.
    pub slow_nanos: Option<u64>,
    /// Given on the impl block, not on the method: a sync method ignores it.
    pub inherited: bool,
}

/// How many bounds the runtime's default buckets have (Prometheus' defaults, 5 ms to 10 s;
/// the values live in the runtime, `__private::DEFAULT_BOUNDS_SECONDS`, and only there).
pub(crate) const DEFAULT_BUCKET_COUNT: usize = 14;

/// `histogram = classic | native | both`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HistogramKind {
    Classic,
    Native,
    Both,
}

impl HistogramKind {
    /// The runtime's `Histograms` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            HistogramKind::Classic => "Classic",
            HistogramKind::Native => "Native",
            HistogramKind::Both => "Both",
        }
    }

    fn parse(input: ParseStream) -> syn::Result<Self> {
        const HELP: &str =
            "write `histogram = classic`, `histogram = native` or `histogram = both`";
        let span = next_span(input);
        let ident = input
            .call(syn::Ident::parse_any)
            .map_err(|_| syn::Error::new(span, format!("`histogram` takes a kind: {HELP}")))?;
        match ident.to_string().as_str() {
            "classic" => Ok(HistogramKind::Classic),
            "native" => Ok(HistogramKind::Native),
            "both" => Ok(HistogramKind::Both),
            other => Err(syn::Error::new(
                ident.span(),
                format!("unknown histogram kind `{other}`: {HELP}"),
            )),
        }
    }
}

/// How `ok_if` / `error_if` decide.
#[derive(Clone)]
pub(crate) enum Rule {
    OkIf(Expr),
    ErrorIf(Expr),
}

#[derive(Clone, Default)]
pub(crate) struct Options {
    pub name: Option<LitStr>,
    pub buckets: Option<Vec<f64>>,
    pub histogram: Option<HistogramKind>,
    pub in_flight: bool,
    pub rule: Option<Rule>,
    pub labels: Vec<(String, LitStr)>,
    /// Labels computed from the arguments or the result, in declaration order.
    pub dynamic: Vec<DynamicLabel>,
    /// The span of the `labels` keyword, for errors about the whole set.
    pub labels_span: Option<Span>,
    pub error_kind: Option<ErrorKindMode>,
    /// `objective = "…"`: the objective the function serves (a side table, not a label).
    pub objective: Option<LitStr>,
    /// `polls` or `slow_poll = "…"`.
    pub polls: Option<Polls>,
    pub skip: Option<Span>,
    pub krate: Option<Path>,
    /// Set (not parsed) for the methods of an impl block the attribute sweeps without their own
    /// attribute: no warning about generic returns there (a generic container's every `-> T`
    /// accessor would warn, and break `deny(warnings)` crates).
    pub quiet_generic_return: bool,
}

impl Options {
    /// `self` refined by a method's own options (inside an instrumented impl block).
    pub(crate) fn overridden_by(&self, inner: Options) -> Options {
        let mut labels = self.labels.clone();
        for (k, v) in inner.labels {
            labels.retain(|(existing, _)| *existing != k);
            labels.push((k, v));
        }
        // A method's dynamic label replaces a block's constant one of the same name.
        labels.retain(|(k, _)| !inner.dynamic.iter().any(|d| d.key == *k));
        // `error_kind` on the method itself is strict; inherited, it applies where it can.
        let error_kind = inner
            .error_kind
            .or(self.error_kind.map(|_| ErrorKindMode::Lenient));
        Options {
            name: inner.name.or_else(|| self.name.clone()),
            buckets: inner.buckets.or_else(|| self.buckets.clone()),
            histogram: inner.histogram.or(self.histogram),
            in_flight: inner.in_flight || self.in_flight,
            rule: inner.rule.or_else(|| self.rule.clone()),
            labels,
            dynamic: inner.dynamic,
            labels_span: inner.labels_span.or(self.labels_span),
            error_kind,
            objective: inner.objective.or_else(|| self.objective.clone()),
            polls: match (inner.polls, self.polls) {
                // The method's own, with the block's threshold unless it gives one.
                (Some(own), block) => Some(Polls {
                    slow_nanos: own.slow_nanos.or(block.and_then(|b| b.slow_nanos)),
                    ..own
                }),
                (None, Some(block)) => Some(Polls {
                    inherited: true,
                    ..block
                }),
                (None, None) => None,
            },
            skip: inner.skip,
            krate: inner.krate.or_else(|| self.krate.clone()),
            quiet_generic_return: inner.quiet_generic_return,
        }
    }

    /// The number of histogram buckets, `+Inf` included.
    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.as_ref().map_or(DEFAULT_BUCKET_COUNT, Vec::len) + 1
    }
}

fn duplicate(span: Span, option: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!("duplicate option `{option}`: each option may appear once; remove this one"),
    )
}

fn expect_eq(input: ParseStream, option: &str, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            input.span(),
            format!("`{option}` needs a value: write `{option} = {example}`"),
        ))
    }
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut o = Options::default();
        let mut seen_name = false;
        let mut seen_in_flight = false;
        let mut seen_labels = false;
        let mut seen_polls = false;
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::name) {
                let k: kw::name = input.parse()?;
                if seen_name {
                    return Err(duplicate(k.span, "name"));
                }
                seen_name = true;
                expect_eq(input, "name", "\"fetch_user\"")?;
                if !input.peek(LitStr) {
                    return Err(syn::Error::new(
                        next_span(input),
                        "`name` takes a string literal: write `name = \"fetch_user\"`",
                    ));
                }
                let lit: LitStr = input.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`name` cannot be empty; write `name = \"fetch_user\"`",
                    ));
                }
                o.name = Some(lit);
            } else if lookahead.peek(kw::buckets) {
                let k: kw::buckets = input.parse()?;
                if o.buckets.is_some() {
                    return Err(duplicate(k.span, "buckets"));
                }
                expect_eq(input, "buckets", "[0.01, 0.1, 1.0]")?;
                o.buckets = Some(crate::buckets::parse(input)?);
            } else if lookahead.peek(kw::histogram) {
                let k: kw::histogram = input.parse()?;
                if o.histogram.is_some() {
                    return Err(duplicate(k.span, "histogram"));
                }
                if !input.peek(Token![=]) {
                    return Err(syn::Error::new(
                        k.span,
                        "`histogram` needs a kind: write `histogram = native`, `histogram = both` or `histogram = classic`",
                    ));
                }
                input.parse::<Token![=]>()?;
                o.histogram = Some(HistogramKind::parse(input)?);
            } else if lookahead.peek(kw::in_flight) {
                let k: kw::in_flight = input.parse()?;
                if seen_in_flight {
                    return Err(duplicate(k.span, "in_flight"));
                }
                seen_in_flight = true;
                if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        next_span(input),
                        "`in_flight` is a flag and takes no value: write just `in_flight`",
                    ));
                }
                o.in_flight = true;
            } else if lookahead.peek(kw::ok_if) || lookahead.peek(kw::error_if) {
                let is_ok_if = input.peek(kw::ok_if);
                let option = if is_ok_if { "ok_if" } else { "error_if" };
                let ident: syn::Ident = input.call(syn::Ident::parse_any)?;
                if let Some(previous) = &o.rule {
                    let message = match (previous, is_ok_if) {
                        (Rule::OkIf(_), true) | (Rule::ErrorIf(_), false) => {
                            return Err(duplicate(ident.span(), option))
                        }
                        _ => "`ok_if` and `error_if` cannot be used together: keep one of them (one is the negation of the other)",
                    };
                    return Err(syn::Error::new(ident.span(), message));
                }
                expect_eq(input, option, "|value| value.is_ok()")?;
                let expr: Expr = input.parse()?;
                if !matches!(
                    crate::buckets::ungroup(&expr),
                    Expr::Path(_) | Expr::Closure(_)
                ) {
                    return Err(syn::Error::new(
                        expr.span(),
                        format!("`{option}` takes a function path or a closure taking `&ReturnType`, e.g. `{option} = |value| value.is_ok()` or `{option} = my_check`"),
                    ));
                }
                o.rule = Some(if is_ok_if {
                    Rule::OkIf(expr)
                } else {
                    Rule::ErrorIf(expr)
                });
            } else if lookahead.peek(kw::labels) {
                let k: kw::labels = input.parse()?;
                if seen_labels {
                    return Err(duplicate(k.span, "labels"));
                }
                seen_labels = true;
                if !input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        next_span(input),
                        "`labels` takes a list in parentheses: write `labels(team = \"core\", tier = \"1\")`",
                    ));
                }
                let content;
                parenthesized!(content in input);
                (o.labels, o.dynamic) = parse_labels(&content)?;
                o.labels_span = Some(k.span);
            } else if lookahead.peek(kw::error_kind) {
                let k: kw::error_kind = input.parse()?;
                if o.error_kind.is_some() {
                    return Err(duplicate(k.span, "error_kind"));
                }
                if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        next_span(input),
                        "`error_kind` is a flag and takes no value: write just `error_kind` (the kinds come from the error type's `LabelValue` impl)",
                    ));
                }
                o.error_kind = Some(ErrorKindMode::Strict(k.span));
            } else if lookahead.peek(kw::objective) {
                let k: kw::objective = input.parse()?;
                if o.objective.is_some() {
                    return Err(duplicate(k.span, "objective"));
                }
                o.objective = Some(crate::objective::parse(input, k.span)?);
            } else if lookahead.peek(kw::polls) {
                let k: kw::polls = input.parse()?;
                if seen_polls {
                    return Err(duplicate(k.span, "polls"));
                }
                seen_polls = true;
                if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        next_span(input),
                        "`polls` is a flag and takes no value: write just `polls` (the threshold of a slow poll is `slow_poll = \"10ms\"`)",
                    ));
                }
                let previous = o.polls.take();
                o.polls = Some(Polls {
                    span: k.span,
                    slow_nanos: previous.and_then(|p| p.slow_nanos),
                    inherited: false,
                });
            } else if lookahead.peek(kw::slow_poll) {
                let k: kw::slow_poll = input.parse()?;
                if o.polls.is_some_and(|p| p.slow_nanos.is_some()) {
                    return Err(duplicate(k.span, "slow_poll"));
                }
                expect_eq(input, "slow_poll", "\"10ms\"")?;
                let nanos = parse_slow_poll(input)?;
                o.polls = Some(Polls {
                    span: o.polls.map_or(k.span, |p| p.span),
                    slow_nanos: Some(nanos),
                    inherited: false,
                });
            } else if lookahead.peek(kw::skip) {
                let k: kw::skip = input.parse()?;
                if o.skip.is_some() {
                    return Err(duplicate(k.span, "skip"));
                }
                if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        next_span(input),
                        "`skip` is a flag and takes no value: write just `skip`",
                    ));
                }
                o.skip = Some(k.span);
            } else if lookahead.peek(Token![crate]) {
                let k: Token![crate] = input.parse()?;
                if o.krate.is_some() {
                    return Err(duplicate(k.span, "crate"));
                }
                expect_eq(input, "crate", "my_crate::instrument_metrics")?;
                o.krate = Some(parse_crate_path(input)?);
            } else if input.peek(syn::Ident::peek_any) {
                let ident: syn::Ident = input.call(syn::Ident::parse_any)?;
                let hint = did_you_mean(&ident.to_string())
                    .map_or_else(String::new, |known| format!("did you mean `{known}`? "));
                return Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "unknown option `{ident}`; {hint}valid options are {}",
                        valid_options()
                    ),
                ));
            } else {
                let _ = lookahead;
                return Err(syn::Error::new(
                    next_span(input),
                    format!(
                        "expected an option name; valid options are {}",
                        valid_options()
                    ),
                ));
            }
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![,]) {
                return Err(syn::Error::new(
                    next_span(input),
                    "expected `,` between options",
                ));
            }
            input.parse::<Token![,]>()?;
        }
        Ok(o)
    }
}

/// `slow_poll = "10ms"`: a whole or decimal number and a unit (`ns`, `us`, `ms`, `s`), above
/// zero, in nanoseconds.
fn parse_slow_poll(input: ParseStream) -> syn::Result<u64> {
    const HELP: &str =
        "write a duration with a unit, e.g. `slow_poll = \"10ms\"` (units: `ns`, `us`, `ms`, `s`)";
    if !input.peek(LitStr) {
        return Err(syn::Error::new(
            next_span(input),
            format!("`slow_poll` takes a string literal: {HELP}"),
        ));
    }
    let lit: LitStr = input.parse()?;
    let text = lit.value();
    let error = |why: &str| syn::Error::new(lit.span(), format!("{why}: {HELP}"));
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| error(&format!("`{text}` has no unit")))?;
    let (number, unit) = trimmed.split_at(split);
    let scale: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        other => return Err(error(&format!("unknown unit `{other}` in `{text}`"))),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| error(&format!("`{text}` does not start with a number")))?;
    let nanos = (value * scale).round();
    // Up to 584 years fits in u64 nanoseconds; nobody means more.
    #[allow(clippy::cast_precision_loss)]
    let max = u64::MAX as f64;
    if nanos.is_nan() || nanos < 1.0 || nanos >= max {
        return Err(error(&format!(
            "`{text}` is not a duration from 1ns to 584 years"
        )));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(nanos as u64)
}

/// The known option closest to a misspelling, if it is close (at most two edits).
fn did_you_mean(unknown: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .map(|known| (edit_distance(unknown, known), *known))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn parse_crate_path(input: ParseStream) -> syn::Result<Path> {
    let example = "write a path such as `crate = my_crate::instrument_metrics`";
    if input.peek(LitStr) {
        // serde style: a path in a string.
        let lit: LitStr = input.parse()?;
        return lit.parse_with(Path::parse_mod_style).map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!("`{}` is not a path; {example}", lit.value()),
            )
        });
    }
    input
        .call(Path::parse_mod_style)
        .map_err(|_| syn::Error::new(next_span(input), format!("`crate` takes a path; {example}")))
}

const RESERVED: [&str; 5] = ["function", "module", "result", "le", "error_kind"];

type Labels = (Vec<(String, LitStr)>, Vec<DynamicLabel>);

fn parse_labels(input: ParseStream) -> syn::Result<Labels> {
    let mut labels: Vec<(String, LitStr)> = Vec::new();
    let mut dynamic: Vec<DynamicLabel> = Vec::new();
    while !input.is_empty() {
        let (key, key_span) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else if input.peek(syn::Ident::peek_any) {
            let ident: syn::Ident = input.call(syn::Ident::parse_any)?;
            (ident.unraw().to_string(), ident.span())
        } else {
            return Err(syn::Error::new(
                next_span(input),
                "expected a label name: write `labels(team = \"core\")`",
            ));
        };
        if !is_label_name(&key) {
            return Err(syn::Error::new(
                key_span,
                format!("`{key}` is not a valid Prometheus label name: use ASCII letters, digits and `_`, not starting with a digit"),
            ));
        }
        if RESERVED.contains(&key.as_str()) || key.starts_with("__") {
            return Err(syn::Error::new(
                key_span,
                format!("label `{key}` is reserved (`function`, `module`, `result`, `le`, `error_kind` and names starting with `__` are set by instrument-metrics or Prometheus); pick another name"),
            ));
        }
        if labels.iter().any(|(k, _)| *k == key) || dynamic.iter().any(|d| d.key == key) {
            return Err(syn::Error::new(
                key_span,
                format!("duplicate label `{key}`: each label may appear once"),
            ));
        }
        let ty: Option<Type> = if input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                next_span(input),
                format!("label `{key}` needs a value: write `{key} = \"value\"` (a constant), `{key} = expr` (a `LabelValue` computed from the arguments), `{key} = |r| expr` (from the result) or `{key} = bounded(expr, N)` (a string, at most N values)"),
            ));
        }
        input.parse::<Token![=]>()?;
        if input.peek(LitStr)
            && (input.peek2(Token![,])
                || input
                    .cursor()
                    .token_tree()
                    .is_some_and(|(_, rest)| rest.eof()))
        {
            let value: LitStr = input.parse()?;
            if let Some(ty) = ty {
                return Err(syn::Error::new(
                    ty.span(),
                    format!(
                        "a string literal is a constant label and has no type: write `{key} = {}`",
                        quote::ToTokens::to_token_stream(&value)
                    ),
                ));
            }
            labels.push((key, value));
        } else {
            let expr: Expr = input.parse()?;
            let source = label_source(&key, expr, ty.as_ref())?;
            dynamic.push(DynamicLabel {
                key,
                key_span,
                ty,
                source,
            });
        }
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            return Err(syn::Error::new(
                next_span(input),
                "expected `,` between labels",
            ));
        }
        input.parse::<Token![,]>()?;
    }
    Ok((labels, dynamic))
}

/// `bounded(expr, N)`, a closure, or any other expression.
fn label_source(key: &str, expr: Expr, ty: Option<&Type>) -> syn::Result<Source> {
    let expr = match expr {
        Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.qself.is_none() && p.path.is_ident("bounded")) =>
        {
            if let Some(ty) = ty {
                return Err(syn::Error::new(
                    ty.span(),
                    format!("a `bounded` label is a string and takes no type: write `{key} = bounded(expr, N)`"),
                ));
            }
            let example = format!("write `{key} = bounded(expr, 50)`: at most 50 distinct values, every further one counted as `_OTHER`");
            let args: Vec<&Expr> = call.args.iter().collect();
            let [value, n] = args[..] else {
                return Err(syn::Error::new(
                    call.paren_token.span.join(),
                    format!("`bounded` takes a value and a cap: {example}"),
                ));
            };
            let Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(lit),
                ..
            }) = crate::buckets::ungroup(n)
            else {
                return Err(syn::Error::new(
                    n.span(),
                    format!("the cap of `bounded` is an integer literal, checked at compile time: {example}"),
                ));
            };
            let n_value: usize = lit.base10_parse().map_err(|_| {
                syn::Error::new(
                    lit.span(),
                    format!(
                        "the cap of `bounded` is an integer from 1 to {MAX_BOUNDED}: {example}"
                    ),
                )
            })?;
            if n_value == 0 || n_value > MAX_BOUNDED {
                return Err(syn::Error::new(
                    lit.span(),
                    format!("the cap of `bounded` is an integer from 1 to {MAX_BOUNDED} (each value is a series per result and bucket), not {n_value}: {example}"),
                ));
            }
            let result = matches!(crate::buckets::ungroup(value), Expr::Closure(_));
            return Ok(Source::Bounded {
                expr: value.clone(),
                n: n_value,
                result,
            });
        }
        other => other,
    };
    if let Expr::Path(p) = &expr {
        if p.path.is_ident("bounded") {
            return Err(syn::Error::new(
                p.span(),
                format!("`bounded` takes a value and a cap: write `{key} = bounded(expr, 50)`"),
            ));
        }
    }
    Ok(match crate::buckets::ungroup(&expr) {
        Expr::Closure(_) => Source::Result(expr),
        _ => Source::Arg(expr),
    })
}

/// The largest cap of `bounded(expr, N)` (the runtime's `MAX_BOUNDED`).
pub(crate) const MAX_BOUNDED: usize = 1000;

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
