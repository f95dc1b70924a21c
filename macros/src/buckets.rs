//! Histogram bucket lists, checked at compile time: finite, greater than zero, strictly
//! increasing, not empty.

use proc_macro2::Span;
use syn::parse::{Parse as _, ParseStream};
use syn::{bracketed, parenthesized, Expr, ExprLit, Lit, Token, UnOp};

/// The most buckets one histogram may have; more is a cardinality mistake.
const MAX_BUCKETS: usize = 200;

const FORMS: &str = "write `buckets = [0.01, 0.1, 1.0]`, `buckets = linear(start, width, count)` \
                     or `buckets = exponential(start, factor, count)`";

/// Parses what follows `buckets =`.
pub(crate) fn parse(input: ParseStream) -> syn::Result<Vec<f64>> {
    if input.peek(syn::token::Bracket) {
        let content;
        let brackets = bracketed!(content in input);
        let items = content.parse_terminated(Expr::parse, Token![,])?;
        if items.is_empty() {
            return Err(syn::Error::new(
                brackets.span.join(),
                "`buckets` needs at least one bound; write e.g. `buckets = [0.01, 0.1, 1.0]`",
            ));
        }
        if items.len() > MAX_BUCKETS {
            return Err(syn::Error::new(
                brackets.span.join(),
                format!("at most {MAX_BUCKETS} buckets; use fewer, wider buckets"),
            ));
        }
        let mut bounds = Vec::with_capacity(items.len());
        for item in &items {
            let value = bound(item)?;
            if let Some(&previous) = bounds.last() {
                if value <= previous {
                    return Err(syn::Error::new_spanned(
                        item,
                        format!(
                            "bucket bounds must be strictly increasing: {value} does not exceed {previous}; sort them and drop duplicates"
                        ),
                    ));
                }
            }
            bounds.push(value);
        }
        return Ok(bounds);
    }
    let lookahead = input.lookahead1();
    if input.peek(syn::Ident) && (input.peek2(syn::token::Paren)) {
        let ident: syn::Ident = input.parse()?;
        let content;
        let parens = parenthesized!(content in input);
        let args = content.parse_terminated(Expr::parse, Token![,])?;
        let kind = ident.to_string();
        if kind != "linear" && kind != "exponential" {
            return Err(syn::Error::new(
                ident.span(),
                format!("unknown bucket generator `{kind}`; {FORMS}"),
            ));
        }
        let names: [&str; 3] = if kind == "linear" {
            ["start", "width", "count"]
        } else {
            ["start", "factor", "count"]
        };
        if args.len() != 3 {
            return Err(syn::Error::new(
                parens.span.join(),
                format!(
                    "`{kind}` takes three arguments: `{kind}({})`",
                    names.join(", ")
                ),
            ));
        }
        let start = bound(&args[0])?;
        let step = number(&args[1], names[1])?;
        let count = count(&args[2])?;
        if kind == "linear" && step <= 0.0 {
            return Err(syn::Error::new_spanned(
                &args[1],
                "the width of `linear` buckets must be greater than 0, e.g. `linear(0.1, 0.1, 10)`",
            ));
        }
        if kind == "exponential" && step <= 1.0 {
            return Err(syn::Error::new_spanned(
                &args[1],
                "the factor of `exponential` buckets must be greater than 1, e.g. `exponential(0.001, 2.0, 12)`",
            ));
        }
        let mut bounds = Vec::with_capacity(count);
        let mut value = start;
        for _ in 0..count {
            if !value.is_finite() {
                return Err(syn::Error::new(
                    parens.span.join(),
                    "these buckets grow past the largest finite number; use a smaller count",
                ));
            }
            let bound = tidy(value);
            if bounds.last().is_some_and(|&last| bound <= last) {
                return Err(syn::Error::new_spanned(
                &args[1],
                    format!("the {} is too small for distinct bounds at 12 significant digits; use a larger one", names[1]),
                ));
            }
            bounds.push(bound);
            value = if kind == "linear" {
                start + step * bounds.len() as f64
            } else {
                start * step.powi(i32::try_from(bounds.len()).unwrap_or(i32::MAX))
            };
        }
        return Ok(bounds);
    }
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("`buckets` needs a value; {FORMS}"),
        ));
    }
    let _ = lookahead;
    let tt: proc_macro2::TokenTree = input.parse()?;
    Err(syn::Error::new(
        tt.span(),
        format!("unexpected bucket specification; {FORMS}"),
    ))
}

/// Rounds away binary noise (`0.060000000000000005` -> `0.06`) at 12 significant digits, so
/// `le` labels read as the user wrote them.
fn tidy(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// Sees through the invisible groups `macro_rules!` puts around `$x:expr` / `$x:literal`,
/// and through parentheses.
pub(crate) fn ungroup(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => ungroup(&g.expr),
        Expr::Paren(p) => ungroup(&p.expr),
        other => other,
    }
}

/// A literal number, possibly negative; anything else is an error spanned on it.
fn number(expr: &Expr, what: &str) -> syn::Result<f64> {
    let (negative, inner) = match ungroup(expr) {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, ungroup(&u.expr)),
        other => (false, other),
    };
    let value = match inner {
        Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => f.base10_parse::<f64>()?,
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<f64>()?,
        _ => {
            return Err(syn::Error::new_spanned(
                expr,
                format!("{what} must be a number literal such as `0.25`, not an expression, a constant or NaN"),
            ))
        }
    };
    if !value.is_finite() {
        return Err(syn::Error::new_spanned(
            expr,
            format!("{what} must be a finite number"),
        ));
    }
    Ok(if negative { -value } else { value })
}

fn bound(expr: &Expr) -> syn::Result<f64> {
    let value = number(expr, "a bucket bound")?;
    if value <= 0.0 {
        return Err(syn::Error::new_spanned(
            expr,
            "bucket bounds are durations in seconds and must be greater than 0, e.g. `0.005`",
        ));
    }
    if value < 1e-9 {
        return Err(syn::Error::new_spanned(
            expr,
            "bucket bounds below one nanosecond cannot be told apart (durations are kept in whole nanoseconds); use `0.000000001` or more",
        ));
    }
    Ok(value)
}

fn count(expr: &Expr) -> syn::Result<usize> {
    let bad = || {
        syn::Error::new_spanned(
            expr,
            format!("the bucket count must be a whole number from 1 to {MAX_BUCKETS}, e.g. `10`"),
        )
    };
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let n: usize = i.base10_parse().map_err(|_| bad())?;
            if n == 0 || n > MAX_BUCKETS {
                Err(bad())
            } else {
                Ok(n)
            }
        }
        _ => Err(bad()),
    }
}
