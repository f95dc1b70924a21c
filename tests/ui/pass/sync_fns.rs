//! Sync functions and methods: receivers, associated fns, unsafe, recursion, nesting,
//! attributes and doc comments kept.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use instrument_metrics::instrument_metrics;

/// Adds two numbers.
///
/// Doc comments and other attributes stay on the function.
#[instrument_metrics]
#[must_use]
#[inline]
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[instrument_metrics]
pub(crate) fn factorial(n: u64) -> u64 {
    if n <= 1 {
        1
    } else {
        n * factorial(n - 1)
    }
}

#[instrument_metrics]
fn mutable_args(mut total: u32, (a, b): (u32, u32), _: u8) -> u32 {
    total += a;
    total += b;
    total
}

#[instrument_metrics]
fn impl_arg(value: impl std::fmt::Display) -> String {
    value.to_string()
}

#[instrument_metrics]
fn r#type(r#in: u32) -> u32 {
    r#in
}

/// # Safety
/// `p` must be valid for reads.
#[instrument_metrics]
unsafe fn read_unsafe_block(p: *const u32) -> u32 {
    unsafe { *p }
}

/// # Safety
/// `p` must be valid for reads.
#[allow(unsafe_op_in_unsafe_fn)]
#[instrument_metrics]
unsafe fn read_bare(p: *const u32) -> u32 {
    *p
}

#[instrument_metrics]
extern "C" fn c_abi(x: i32) -> i32 {
    x * 2
}

mod nested {
    use instrument_metrics::instrument_metrics;

    #[instrument_metrics]
    pub fn inner() -> &'static str {
        "inner"
    }
}

pub struct Counter {
    n: u64,
    log: Vec<String>,
}

impl Counter {
    #[instrument_metrics]
    #[must_use]
    pub fn new() -> Self {
        Self { n: 0, log: Vec::new() }
    }

    #[instrument_metrics]
    #[must_use]
    pub fn with_start(n: u64) -> Counter {
        Counter { n, log: Vec::new() }
    }

    #[instrument_metrics]
    #[must_use]
    pub fn get(&self) -> u64 {
        self.n
    }

    #[instrument_metrics]
    pub fn bump(&mut self) -> &mut Self {
        self.n += 1;
        self.log.push(format!("bump {}", self.n));
        self
    }

    #[instrument_metrics]
    #[must_use]
    pub fn into_log(self) -> Vec<String> {
        self.log
    }

    #[instrument_metrics]
    #[must_use]
    pub fn boxed(self: Box<Self>) -> u64 {
        self.n
    }

    #[instrument_metrics]
    pub fn reset(&mut self) {
        self.n = 0;
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

fn main() {
    #[instrument_metrics]
    fn local(x: u8) -> u8 {
        x
    }

    assert_eq!(add(1, 2), 3);
    assert_eq!(factorial(5), 120);
    assert_eq!(mutable_args(1, (2, 3), 0), 6);
    assert_eq!(impl_arg(7), "7");
    assert_eq!(r#type(4), 4);
    let x = 9_u32;
    assert_eq!(unsafe { read_unsafe_block(&raw const x) }, 9);
    assert_eq!(unsafe { read_bare(&raw const x) }, 9);
    assert_eq!(c_abi(2), 4);
    assert_eq!(nested::inner(), "inner");
    assert_eq!(local(3), 3);

    let mut c = Counter::new();
    c.bump().bump();
    assert_eq!(c.get(), 2);
    c.reset();
    assert_eq!(c.get(), 0);
    assert_eq!(c.into_log().len(), 2);
    assert_eq!(Box::new(Counter::with_start(5)).boxed(), 5);
    assert_eq!(Counter::default().get(), 0);

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"factorial\""));
    assert!(text.contains("function=\"bump\""));
    assert!(text.contains("function=\"local\""));
    assert!(text.contains("function=\"type\""));
}
