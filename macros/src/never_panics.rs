//! The macro must answer every input with code or a `compile_error!`, never a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use proc_macro2::TokenStream;

use crate::dispatch;

fn has_compile_error(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => i == "compile_error",
        proc_macro2::TokenTree::Group(g) => has_compile_error(&g.stream()),
        _ => false,
    })
}

fn run(attr: &str, item: &str) -> Option<TokenStream> {
    let attr: TokenStream = attr.parse().ok()?;
    let item: TokenStream = item.parse().ok()?;
    Some(
        catch_unwind(AssertUnwindSafe(|| dispatch(attr.clone(), item.clone()))).unwrap_or_else(
            |_| panic!("the macro panicked on #[instrument_metrics({attr})] {item}"),
        ),
    )
}

const ITEM: &str = "fn f(x: u32) -> Result<u32, ()> { Ok(x) }";

/// Values of the wrong kind for each option.
const WRONG_VALUES: [&str; 16] = [
    "5", "-1", "true", "ident", "\"\"", "[]", "(1)", "{}", "= 1", "1.5", "'c'", "b\"x\"", "a::b()",
    "|x| x", "f64::NAN", "",
];

#[test]
fn malformed_options_always_give_a_compile_error() {
    let mut cases: Vec<String> = vec![
        "unknown".into(),
        "unknown = 1".into(),
        "name".into(),
        "name =".into(),
        "name = \"a\", name = \"b\"".into(),
        "in_flight = \"yes\"".into(),
        "in_flight, in_flight".into(),
        "ok_if = a, error_if = b".into(),
        "ok_if = 1".into(),
        "buckets".into(),
        "buckets = []".into(),
        "buckets = [0.5, 0.1]".into(),
        "buckets = [0.1, 0.1]".into(),
        "buckets = [-1.0]".into(),
        "buckets = [0]".into(),
        "buckets = [NaN]".into(),
        "buckets = [1e999]".into(),
        "buckets = [\"a\"]".into(),
        "buckets = linear(0.1, 0.1, 0)".into(),
        "buckets = linear(0.1, -0.1, 3)".into(),
        "buckets = linear(0.1, 0.1)".into(),
        "buckets = linear(0.1, 0.1, 3, 4)".into(),
        "buckets = linear(0.1, 0.1, -3)".into(),
        "buckets = linear(1e308, 1e308, 5)".into(),
        "buckets = exponential(1, 1, 3)".into(),
        "buckets = exponential(1, 0.5, 3)".into(),
        "buckets = exponential(1, 10, 0)".into(),
        "buckets = exponential(1e300, 1e10, 10)".into(),
        "buckets = exponential(0, 2, 3)".into(),
        "buckets = quadratic(1, 2, 3)".into(),
        "buckets = linear(0.1, 0.1, 100000)".into(),
        "labels".into(),
        "labels = 1".into(),
        "labels(a)".into(),
        "labels(a = 1)".into(),
        "labels(a = \"x\", a = \"y\")".into(),
        "labels(function = \"x\")".into(),
        "labels(module = \"x\")".into(),
        "labels(result = \"x\")".into(),
        "labels(le = \"x\")".into(),
        "labels(__x = \"x\")".into(),
        "labels(\"a-b\" = \"x\")".into(),
        "labels(\"1a\" = \"x\")".into(),
        "labels(é = \"x\")".into(),
        "labels(a = \"x\" b = \"y\")".into(),
        "labels(a = bounded(x))".into(),
        "labels(a = bounded(x, 0))".into(),
        "labels(a = bounded(x, 1001))".into(),
        "labels(a = bounded(x, n))".into(),
        "labels(a = bounded(x, -1))".into(),
        "labels(a = bounded)".into(),
        "labels(a: u8 = \"x\")".into(),
        "labels(a: u8 = bounded(x, 2))".into(),
        "labels(error_kind = \"x\")".into(),
        "labels(a = x, a = x)".into(),
        "labels(a = self.tier)".into(),
        "error_kind = true".into(),
        "error_kind(x)".into(),
        "error_kind, error_kind".into(),
        "skip".into(), // on a free function
        "skip = true".into(),
        "crate = \"not a path\"".into(),
        "crate = 5".into(),
        "crate".into(),
        "name = \"a\" in_flight".into(),
        ",".into(),
        "name = \"a\",,".into(),
        "=".into(),
        "#".into(),
        "[name]".into(),
    ];
    for option in crate::options::NAMES {
        for value in WRONG_VALUES {
            let attr = format!("{option} = {value}");
            // A few of these are valid (`ok_if = ident`, `crate = ident`); judged below.
            cases.push(attr);
        }
    }
    // Syntactically fine (a path or a closure); rustc judges their types.
    let valid = [
        "ok_if = ident",
        "error_if = ident",
        "ok_if = |x| x",
        "error_if = |x| x",
        "ok_if = f64::NAN",
        "error_if = f64::NAN",
        "crate = ident",
        "crate = f64::NAN",
        // A dynamic label: rustc judges whether `1` (an `i32`) is a `LabelValue`.
        "labels(a = 1)",
    ];
    let mut checked = 0;
    for case in &cases {
        let Some(out) = run(case, ITEM) else { continue };
        if valid.contains(&case.as_str()) {
            continue;
        }
        assert!(
            has_compile_error(&out),
            "no compile_error! for #[instrument_metrics({case})]: {out}"
        );
        checked += 1;
    }
    assert!(checked > 150, "only {checked} cases checked");
}

#[test]
fn misplaced_attribute_always_gives_a_compile_error() {
    let items = [
        "struct S;",
        "enum E { A }",
        "const C: u8 = 1;",
        "static S: u8 = 1;",
        "mod m {}",
        "use std::fmt;",
        "type T = u8;",
        "trait T { fn f(&self); }",
        "const fn f() {}",
        "fn f(&self);",
        "extern \"C\" { fn f(); }",
        "union U { a: u8 }",
        "macro_rules! m { () => {} }",
    ];
    for item in items {
        let out = run("", item).expect("valid tokens");
        assert!(
            has_compile_error(&out),
            "no compile_error! for {item}: {out}"
        );
    }
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % 1_000_003).unwrap_or(0)
    }
}

#[test]
fn random_token_soup_never_panics() {
    let vocabulary = [
        "name",
        "buckets",
        "in_flight",
        "ok_if",
        "error_if",
        "labels",
        "skip",
        "crate",
        "=",
        ",",
        "\"x\"",
        "1",
        "0.5",
        "-",
        "[",
        "]",
        "(",
        ")",
        "linear",
        "exponential",
        "|",
        "x",
        "::",
        "a",
        "1e999",
        "'a",
        "#",
        "!",
        "{",
        "}",
        "fn",
        "impl",
        "async",
        "move",
        "self",
        ";",
        "<",
        ">",
        "->",
        "&",
        "mut",
        "const",
        "unsafe",
        "Box",
        "pin",
        ".",
        "await",
        "Result",
        "__x",
        "le",
        "?",
    ];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut parsed = 0;
    for _ in 0..4000 {
        let len = rng.next() % 12;
        let attr: Vec<&str> = (0..len)
            .map(|_| vocabulary[rng.next() % vocabulary.len()])
            .collect();
        let item_len = rng.next() % 16;
        let item: Vec<&str> = (0..item_len)
            .map(|_| vocabulary[rng.next() % vocabulary.len()])
            .collect();
        // Unbalanced delimiters do not even lex; everything that lexes must not panic.
        if run(&attr.join(" "), ITEM).is_some() {
            parsed += 1;
        }
        let _ = run(&attr.join(" "), &item.join(" "));
        let _ = run(
            "",
            &format!("fn f() -> {} {{ {} }}", attr.join(" "), item.join(" ")),
        );
        let _ = run(
            "",
            &format!(
                "impl X {{ #[instrument_metrics({})] fn f() {{}} }}",
                attr.join(" ")
            ),
        );
    }
    assert!(
        parsed > 500,
        "the generator produced too few lexable inputs: {parsed}"
    );
}
