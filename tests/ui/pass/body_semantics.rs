//! The body keeps its meaning: `?` with `From` conversions, early `return`, references
//! derived from `&mut` arguments, moved arguments, shadowing, `#[must_use]`, `impl Trait`
//! arguments, `Self` and nested closures.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::num::ParseIntError;

use instrument_metrics::instrument_metrics;

#[derive(Debug, PartialEq)]
pub enum AppError {
    Parse(String),
    Zero,
}

impl From<ParseIntError> for AppError {
    fn from(e: ParseIntError) -> Self {
        AppError::Parse(e.to_string())
    }
}

#[instrument_metrics]
fn parse_nonzero(s: &str) -> Result<u32, AppError> {
    let n: u32 = s.trim().parse()?;
    if n == 0 {
        return Err(AppError::Zero);
    }
    Ok(n)
}

#[instrument_metrics]
fn boxed_error(s: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(s.parse::<u32>()?)
}

#[instrument_metrics]
fn first_even(values: &[u32]) -> Option<u32> {
    for v in values {
        if v % 2 == 0 {
            return Some(*v);
        }
    }
    None
}

#[instrument_metrics]
fn option_try(v: Option<u32>) -> Option<u32> {
    let x = v?;
    Some(x + 1)
}

#[instrument_metrics]
fn push_and_get(v: &mut Vec<u32>, x: u32) -> &u32 {
    v.push(x);
    &v[v.len() - 1]
}

#[instrument_metrics]
fn append<'a>(s: &'a mut String, tail: &str) -> &'a str {
    s.push_str(tail);
    s.as_str()
}

#[instrument_metrics]
fn last_mut(v: &mut [u32]) -> Option<&mut u32> {
    v.last_mut()
}

#[instrument_metrics]
fn consume(items: Vec<String>, sep: String) -> String {
    let joined = items.join(&sep);
    drop(sep);
    joined
}

#[instrument_metrics]
fn shadow(x: u32) -> u32 {
    let x = x + 1;
    let x = x * 2;
    x + 1
}

#[instrument_metrics]
#[must_use = "the sum is the point"]
fn must_use_sum(a: u32, b: u32) -> u32 {
    a + b
}

#[instrument_metrics]
fn closures(v: &[u32]) -> u32 {
    let add = |a: u32, b: &u32| a + b;
    let total = v.iter().fold(0, add);
    let ret = || -> u32 {
        if total > 100 {
            return 100;
        }
        total
    };
    ret()
}

#[instrument_metrics]
fn labelled_loop(limit: u32) -> u32 {
    let mut n = 0;
    'outer: for _ in 0..2 {
        while n < limit {
            n += 1;
            if n == 3 {
                break 'outer;
            }
        }
    }
    n
}

fn main() {
    assert_eq!(parse_nonzero("4"), Ok(4));
    assert_eq!(parse_nonzero("0"), Err(AppError::Zero));
    assert!(matches!(parse_nonzero("x"), Err(AppError::Parse(_))));
    assert!(boxed_error("x").is_err());
    assert_eq!(first_even(&[1, 4, 6]), Some(4));
    assert_eq!(option_try(None), None);
    let mut v = vec![1];
    let r = push_and_get(&mut v, 2);
    assert_eq!(*r, 2);
    let mut s = String::from("a");
    assert_eq!(append(&mut s, "b"), "ab");
    let mut arr = [1, 2];
    if let Some(last) = last_mut(&mut arr) {
        *last = 5;
    }
    assert_eq!(arr, [1, 5]);
    assert_eq!(consume(vec!["a".to_owned(), "b".to_owned()], ",".to_owned()), "a,b");
    assert_eq!(shadow(1), 5);
    assert_eq!(must_use_sum(1, 2), 3);
    assert_eq!(closures(&[1, 2]), 3);
    assert_eq!(labelled_loop(10), 3);
    let text = instrument_metrics::render();
    assert!(text.contains("function=\"append\""));
}
